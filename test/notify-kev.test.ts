// Rules on enrichment: with a KEV catalogue in the vulnerability DB (the real catalogue's first
// entry, naming a vulnerability of the test feed), a rule for known-exploited findings takes that
// one only, marked KEV and P1; a rule on priority P2 takes the high one with a fix.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readInventory } from '../src/inventory/index.ts';
import { WebhookPayloadSchema } from '../src/server/api/notification-schemas.ts';
import { BOOKWORM_ROOT, trackerFeedV1 } from './support/fixtures.ts';
import { secretFile, startHttpReceiver, type HttpReceiver } from './support/notify-receivers.ts';
import { CLI, SHARED_DATA } from './support/paths.ts';
import { api, enrollTestHost, fullReportOf, startTestServer, type TestServer } from './support/server.ts';
import { importDebianFeed } from './support/vulndb.ts';

let s: TestServer | undefined;
let hooks: HttpReceiver | undefined;
after(async () => {
  await s?.close();
  await hooks?.close();
});

test('a KEV rule takes the known-exploited finding only; a priority rule its own', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'patchloop-notify-kev-'));
  importDebianFeed(dir, trackerFeedV1());
  const real = JSON.parse(
    readFileSync(join(SHARED_DATA, 'feeds/kev/known_exploited_vulnerabilities.json'), 'utf8'),
  ) as {
    vulnerabilities: Record<string, unknown>[];
  };
  const catalogue = join(dir, 'kev.json');
  writeFileSync(
    catalogue,
    JSON.stringify({ ...real, count: 1, vulnerabilities: [{ ...real.vulnerabilities[0], cveID: 'CVE-2099-1002' }] }),
  );
  execFileSync(process.execPath, [CLI, 'db', 'update', '--source', 'kev', '--from', catalogue, '--data-dir', dir], {
    stdio: 'pipe',
  });
  hooks = await startHttpReceiver();
  s = await startTestServer(
    null,
    {
      notifications: {
        interval: '1h',
        channels: [
          {
            name: 'hook',
            type: 'webhook',
            url_file: secretFile(dir, 'url', `${hooks.url}/hook`),
            secret_file: secretFile(dir, 'secret', 'kev test key'),
          },
        ],
      },
    },
    { dataDir: dir },
  );
  for (const body of [
    { name: 'kev', trigger: 'new_finding', filter: { kev: true }, channels: ['hook'] },
    { name: 'p2', trigger: 'new_finding', filter: { priorities: ['P2'] }, channels: ['hook'] },
  ]) {
    const r = await api(s.url, '/api/v1/notifications/rules', { token: s.adminToken, body });
    assert.equal(r.status, 201, r.text);
  }
  const token = await enrollTestHost(s, 'kev-1', 'web');
  const inv = await readInventory(BOOKWORM_ROOT, { kernel: '6.1.0-40-amd64' });
  assert.equal((await api(s.url, '/api/v1/reports', { token, body: fullReportOf(inv, 'kev-1') })).status, 200);
  await s.running.ctx.notify.runOnce();

  const byRule = new Map(
    hooks.received.map((r) => {
      const p = WebhookPayloadSchema.parse(JSON.parse(r.body));
      return [p.rule?.name, p.events.map((e) => [e.vulnerability, e.kev, e.priority])];
    }),
  );
  assert.deepEqual(byRule.get('kev'), [['CVE-2099-1002', true, 'P1']]);
  assert.deepEqual(byRule.get('p2'), [['CVE-2099-1001', false, 'P2']]);
  assert.equal(hooks.received.length, 2);
});
