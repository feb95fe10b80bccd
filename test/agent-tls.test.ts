// The agent and the server over TLS with a private CA: the agent trusts the server through its
// ca_file, refuses it without; and the vulnerability DB it downloads lets `patchloop scan`
// work on the host with no other source.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { enroll, runOnce } from '../src/agent/agent.ts';
import { resolveAgentConfig } from '../src/agent/config.ts';
import { createEnrollmentToken } from '../src/server/store/credentials.ts';
import { BOOKWORM_ROOT, trackerFeedV1 } from './support/fixtures.ts';
import { startTestServer } from './support/server.ts';
import { runCliFromSources } from './support/cli.ts';

function privateCa(dir: string): { ca: string; cert: string; key: string } {
  const ssl = (...args: string[]): void => void execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  ssl('req', '-x509', ...ec, '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2', '-subj', '/CN=patchloop test CA');
  ssl('req', ...ec, '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=127.0.0.1');
  writeFileSync(join(dir, 'ext.cnf'), 'subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\n');
  ssl(
    'x509',
    '-req',
    '-in',
    'server.csr',
    '-CA',
    'ca.pem',
    '-CAkey',
    'ca.key',
    '-CAcreateserial',
    '-out',
    'server.pem',
    '-days',
    '2',
    '-extfile',
    'ext.cnf',
  );
  return { ca: join(dir, 'ca.pem'), cert: join(dir, 'server.pem'), key: join(dir, 'server.key') };
}

test('over TLS with a private CA, and the vulnerability DB copy makes an offline scan work', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'patchloop-tls-'));
  const pki = privateCa(dir);
  const s = await startTestServer(trackerFeedV1(), { tls: { cert: pki.cert, key: pki.key } });
  t.after(() => s.close());
  assert.match(s.url, /^https:\/\/127\.0\.0\.1:\d+$/);
  const deps = { log: pino({ level: 'silent' }), version: 'test', sleep: async () => {} };
  const token = () => createEnrollmentToken(s.running.ctx.store, { name: 'tls', uses: 1, ttlMs: 60_000 }).token;

  const untrusting = resolveAgentConfig({ state_dir: join(dir, 'a0'), root: BOOKWORM_ROOT, kernel: '6.1.0-40-amd64' });
  await assert.rejects(
    enroll(untrusting, { server: s.url, token: token() }, deps),
    /TLS certificate not trusted .*ca_file/,
  );

  const config = resolveAgentConfig({
    state_dir: join(dir, 'agent'),
    data_dir: join(dir, 'agent-data'),
    root: BOOKWORM_ROOT,
    kernel: '6.1.0-40-amd64',
    ca_file: pki.ca,
    vulndb_sync: true,
  });
  await enroll(config, { server: s.url, token: token() }, deps);
  const run = await runOnce(config, deps);
  assert.deepEqual([run.sent, run.pending], [1, 0]);
  assert.ok(existsSync(join(dir, 'agent-data', 'vulndb', 'debian.sqlite')));

  const scan = await runCliFromSources([
    'scan',
    '--root',
    BOOKWORM_ROOT,
    '--kernel',
    '6.1.0-40-amd64',
    '--data-dir',
    join(dir, 'agent-data'),
    '--format',
    'json',
  ]);
  assert.equal(scan.code, 0, scan.stderr);
  const findings = (JSON.parse(scan.stdout) as { findings: { id: string; package: { name: string } }[] }).findings
    .map((f) => `${f.package.name} ${f.id}`)
    .sort();
  const server = s.running.ctx.store
    .all<{ name_id: number; vuln_id: number }>('SELECT name_id, vuln_id FROM findings WHERE open = 1')
    .map((r) => `${s.running.ctx.store.interner.name(r.name_id).name} ${s.running.ctx.store.interner.vuln(r.vuln_id)}`)
    .sort();
  assert.deepEqual(findings, server);
});
