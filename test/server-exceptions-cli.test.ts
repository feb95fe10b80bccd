// `patchloop exceptions …` through ./bin/patchloop against the real server on loopback (the real
// bookworm host's packages, a Debian tracker feed): add, list, show, revoke, OpenVEX import and
// export; the token comes from the environment or a file, and the server's refusals are shown.
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OpenVexSchema } from '../src/core/exceptions-openvex.ts';
import { readInventory } from '../src/inventory/index.ts';
import { runCli } from './support/cli.ts';
import { BOOKWORM_ROOT, trackerFeedV1 } from './support/fixtures.ts';
import { api, enrollTestHost, fullReportOf, startTestServer, type TestServer } from './support/server.ts';

let s: TestServer;
let dir: string;
let env: NodeJS.ProcessEnv;

before(async () => {
  s = await startTestServer(trackerFeedV1());
  dir = mkdtempSync(join(tmpdir(), 'patchloop-exc-cli-'));
  const inv = await readInventory(BOOKWORM_ROOT, { kernel: '6.1.0-40-amd64' });
  const host = await enrollTestHost(s, 'cli-1', 'web');
  assert.equal((await api(s.url, '/api/v1/reports', { token: host, body: fullReportOf(inv, 'cli-1') })).status, 200);
  env = { PATCHLOOP_SERVER: s.url, PATCHLOOP_TOKEN: s.adminToken };
});
after(() => s.close());

test('add, list, show and revoke a rule from the command line', async () => {
  const add = await runCli(
    [
      'exceptions',
      'add',
      '--vulnerability',
      'CVE-2099-1002',
      '--group',
      'web',
      '--kind',
      'accepted_risk',
      '--justification',
      'zlib only reads trusted input here',
      '--owner',
      'web-team',
      '--expires',
      '2026-12-31',
      '--format',
      'json',
    ],
    { env },
  );
  assert.equal(add.code, 0, add.stderr);
  const rule = JSON.parse(add.stdout) as { id: number; held: number; expires_at: string };
  assert.equal(rule.held, 1);
  assert.equal(rule.expires_at, '2026-12-31T23:59:59.999Z');

  const list = await runCli(['exceptions', 'list', '--state', 'active'], { env });
  assert.equal(list.code, 0, list.stderr);
  assert.match(list.stdout, /^ID\s+STATE\s+KIND\s+SCOPE\s+HELD\s+EXPIRES\s+OWNER$/m);
  assert.match(
    list.stdout,
    new RegExp(
      `^${rule.id}\\s+active\\s+accepted_risk\\s+vulnerability=CVE-2099-1002 group=web\\s+1\\s+2026-12-31\\s+web-team$`,
      'm',
    ),
  );
  assert.match(list.stdout, /excepted: 1 open finding, 0 expiring within a week/);

  const update = await runCli(
    ['exceptions', 'update', String(rule.id), '--owner', 'platform-team', '--expires', '2026-12-15'],
    {
      env,
    },
  );
  assert.equal(update.code, 0, update.stderr);
  assert.equal(update.stdout.trim(), `exception ${rule.id} is at version 2`);
  const revoke = await runCli(['exceptions', 'revoke', String(rule.id), '--reason', 'patched instead'], { env });
  assert.equal(revoke.code, 0, revoke.stderr);
  assert.equal(revoke.stdout.trim(), `revoked exception ${rule.id}`);
  const show = await runCli(['exceptions', 'show', String(rule.id)], { env });
  assert.equal(show.code, 0, show.stderr);
  assert.match(show.stdout, new RegExp(`exception ${rule.id} \\(version 3\\): revoked`));
  assert.match(show.stdout, /revoked: .* \(patched instead\)/);
  assert.match(show.stdout, /owner: {9}platform-team/);
  assert.match(show.stdout, /v1 created at .* by admin\n {2}v2 updated at .* by admin\n {2}v3 revoked at .* by admin/);
});

test('refusals: no token, a role too low, a rule the server rejects', async () => {
  const none = await runCli(['exceptions', 'list'], { env: { PATCHLOOP_SERVER: s.url, PATCHLOOP_TOKEN: '' } });
  assert.equal(none.code, 2);
  assert.match(none.stderr, /PATCHLOOP_TOKEN or give --token-file/);

  const viewer = await api(s.url, '/api/v1/api-tokens', { token: s.adminToken, body: { name: 'ro', role: 'viewer' } });
  const tokenFile = join(dir, 'viewer.token');
  writeFileSync(tokenFile, `${(viewer.body as { token: string }).token}\n`, { mode: 0o600 });
  const asViewer = [
    'exceptions',
    'add',
    '--package',
    'curl',
    '--kind',
    'mitigated',
    '--justification',
    'x',
    '--token-file',
    tokenFile,
  ];
  const refused = await runCli(asViewer, { env: { PATCHLOOP_SERVER: s.url } });
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /POST \/api\/v1\/exceptions: not allowed with these credentials/);
  const read = await runCli(['exceptions', 'list', '--token-file', tokenFile], { env: { PATCHLOOP_SERVER: s.url } });
  assert.equal(read.code, 0, read.stderr);

  const noExpiry = await runCli(
    ['exceptions', 'add', '--package', 'curl', '--kind', 'accepted_risk', '--justification', 'x'],
    { env },
  );
  assert.equal(noExpiry.code, 2);
  assert.match(noExpiry.stderr, /an accepted risk needs an expiry/);
});

test('OpenVEX import and export from the command line', async () => {
  const file = join(dir, 'in.vex.json');
  writeFileSync(
    file,
    JSON.stringify({
      '@context': 'https://openvex.dev/ns/v0.2.0',
      '@id': 'https://example.org/vex/cli',
      author: 'Security team',
      timestamp: '2026-11-01T00:00:00Z',
      version: 1,
      statements: [
        {
          vulnerability: { name: 'CVE-2099-1005' },
          products: [{ '@id': 'pkg:deb/debian/curl' }],
          status: 'not_affected',
          justification: 'component_not_present',
        },
        { vulnerability: { name: 'CVE-2099-1001' }, status: 'affected', action_statement: 'upgrade openssl' },
      ],
    }),
  );
  const imported = await runCli(['exceptions', 'import-vex', file], { env });
  assert.equal(imported.code, 0, imported.stderr);
  assert.match(imported.stdout, /^created 1 rule: \d+$/m);
  assert.match(imported.stdout, /skipped CVE-2099-1001 \(affected\): only not_affected statements become rules/);

  const out = join(dir, 'out.vex.json');
  const exported = await runCli(['exceptions', 'export-vex', '--output', out], { env });
  assert.equal(exported.code, 0, exported.stderr);
  const doc = OpenVexSchema.parse(JSON.parse(readFileSync(out, 'utf8')));
  assert.deepEqual(
    doc.statements.map((st) => [st.vulnerability.name, st.status, st.justification, st.products?.[0]?.['@id']]),
    [['CVE-2099-1005', 'not_affected', 'component_not_present', 'pkg:generic/curl']],
  );
});
