// The agent against a real server on loopback: enrolment, full then delta reports, the spool
// while the server is down, resends after a lost answer (no duplicates), a server that asks
// for a full report, a refused report, a revoked credential.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { enroll, flushSpool, runOnce, type AgentDeps } from '../src/agent/agent.ts';
import { resolveAgentConfig, type AgentConfig } from '../src/agent/config.ts';
import { loadAcked, saveAcked } from '../src/agent/acked.ts';
import { CredentialRefusedError } from '../src/agent/send.ts';
import { api, startTestServer, type TestServer } from './support/server.ts';
import { BOOKWORM_ROOT, copyBookwormRoot, trackerFeedV1, upgradeSource } from './support/fixtures.ts';

const KERNEL = '6.1.0-40-amd64';

function agentConfig(extra: Record<string, unknown> = {}): AgentConfig {
  return resolveAgentConfig({
    state_dir: mkdtempSync(join(tmpdir(), 'patchloop-agent-')),
    data_dir: mkdtempSync(join(tmpdir(), 'patchloop-agent-data-')),
    root: BOOKWORM_ROOT,
    kernel: KERNEL,
    hostname: 'agent-test',
    retry: { attempts: 3, base_delay: 1, max_delay: 5 },
    timeout: '10s',
    ...extra,
  });
}

function deps(): AgentDeps & { sleeps: number[] } {
  const sleeps: number[] = [];
  return {
    log: pino({ level: 'silent' }),
    version: 'test',
    sleep: async (ms) => void sleeps.push(ms),
    random: () => 0.5,
    sleeps,
  };
}

async function enrolmentToken(s: TestServer, uses: number | null = 1): Promise<string> {
  const t = await api(s.url, '/api/v1/enrollment-tokens', {
    token: s.adminToken,
    body: { name: 't', uses, ttl_seconds: 3600 },
  });
  return (t.body as { token: string }).token;
}

const count = (s: TestServer, sql: string): number => s.running.ctx.store.get<{ n: number }>(sql)!.n;

test('enrol, a full report, then deltas; the credential file is private', async (t) => {
  const s = await startTestServer(trackerFeedV1());
  t.after(() => s.close());
  const config = agentConfig();
  const d = deps();
  const cred = await enroll(config, { server: s.url, token: await enrolmentToken(s) }, d);
  assert.equal(statSync(cred.file).mode & 0o777, 0o600);
  assert.ok(!JSON.stringify(readdirSync(config.state_dir)).includes(cred.host_token));

  const first = await runOnce(config, d);
  assert.deepEqual([first.sent, first.pending, first.packages], [1, 0, 729]);
  const acked = loadAcked(config.state_dir)!;
  assert.equal(acked.packages.length, 729);

  // An upgrade: the next report is a delta of three packages, and the fixed finding resolves.
  const root = copyBookwormRoot();
  upgradeSource(root, 'openssl', '3.0.19-1~deb12u3');
  const second = await runOnce({ ...config, root }, d);
  assert.equal(second.sent, 1);
  const scans = s.running.ctx.store.all<{ kind: string; added: number; removed: number; resolved: number }>(
    'SELECT kind, added, removed, resolved FROM scans ORDER BY id',
  );
  assert.deepEqual(
    scans.map((x) => ({ ...x })),
    [
      { kind: 'full', added: 729, removed: 0, resolved: 0 },
      // openssl's three binaries: one exposure resolved.
      { kind: 'delta', added: 3, removed: 3, resolved: 1 },
    ],
  );
});

test('server down: the report is spooled with backoff, and sent when the server is back', async (t) => {
  let s = await startTestServer(trackerFeedV1());
  const config = agentConfig();
  const d = deps();
  await enroll(config, { server: s.url, token: await enrolmentToken(s) }, d);
  const { port } = new URL(s.url);
  await s.close();

  const down = await runOnce(config, d);
  assert.deepEqual([down.sent, down.pending, down.stoppedBy], [0, 1, 'unreachable']);
  // Three attempts, two waits, doubling from the 1 s base: full jitter with random() = 0.5
  // waits half the ceiling.
  assert.deepEqual(d.sleeps, [500, 1000]);
  const spooled = readdirSync(join(config.state_dir, 'spool')).filter((f) => f.endsWith('.json.gz'));
  assert.equal(spooled.length, 1);

  s = await startTestServer(null, {}, { dataDir: s.dataDir, port: Number(port) });
  t.after(() => s.close());
  const later = await flushSpool(config, d, true);
  assert.deepEqual([later.sent, later.pending], [1, 0]);
  assert.equal(readdirSync(join(config.state_dir, 'spool')).filter((f) => f.endsWith('.json.gz')).length, 0);
  assert.equal(count(s, 'SELECT count(*) AS n FROM scans'), 1);
});

test('a report whose answer was lost is resent with the same id and changes nothing twice', async (t) => {
  const s = await startTestServer(trackerFeedV1());
  t.after(() => s.close());
  // A proxy that forwards the first report to the server, then cuts the connection instead of
  // passing the answer back: the server has stored it, the agent does not know.
  let cut = 1;
  const proxy = http.createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const upstream = await fetch(`${s.url}${req.url}`, {
      method: req.method,
      headers: Object.fromEntries(
        Object.entries(req.headers).filter(([k]) => !['host', 'connection'].includes(k)),
      ) as Record<string, string>,
      body: chunks.length ? Buffer.concat(chunks) : undefined,
    });
    const body = Buffer.from(await upstream.arrayBuffer());
    if (req.url === '/api/v1/reports' && cut > 0) {
      cut--;
      req.socket.destroy();
      return;
    }
    res.writeHead(upstream.status, { 'content-type': upstream.headers.get('content-type') ?? 'application/json' });
    res.end(body);
  });
  await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
  t.after(() => proxy.close());
  const config = agentConfig({ server: `http://127.0.0.1:${(proxy.address() as { port: number }).port}` });
  const d = deps();
  await enroll(config, { server: config.server!, token: await enrolmentToken(s) }, d);
  const r = await runOnce(config, d);
  assert.deepEqual([r.sent, r.pending], [1, 0]);
  assert.equal(d.sleeps.length, 1, 'one retry');
  assert.equal(count(s, 'SELECT count(*) AS n FROM scans'), 1);
  // One detection per exposure: openssl, zlib and curl.
  assert.equal(count(s, "SELECT sum(count) AS n FROM events WHERE type = 'detected'"), 3);
  assert.equal(loadAcked(config.state_dir)!.report_id, r.report_id);
});

test('the spool is bounded: the oldest reports are dropped, counted and reported', async (t) => {
  const s = await startTestServer(trackerFeedV1());
  t.after(() => s.close());
  const config = agentConfig({ spool: { max_reports: 2 } });
  const d = deps();
  await enroll(config, { server: s.url, token: await enrolmentToken(s) }, d);
  const offline = { ...config, server: 'http://127.0.0.1:9' };
  for (let i = 0; i < 4; i++) await runOnce(offline, d);
  assert.equal(readdirSync(join(config.state_dir, 'spool')).filter((f) => f.endsWith('.json.gz')).length, 2);
  const sent = await flushSpool(config, d, true);
  assert.equal(sent.sent, 2);
  // Four reports, two kept: each kept one tells the server about the one dropped before it.
  const skipped = s.running.ctx.store
    .all<{ skipped_reports: number }>('SELECT skipped_reports FROM scans ORDER BY id')
    .map((x) => x.skipped_reports);
  assert.deepEqual(skipped, [1, 1]);
});

test('when the server no longer holds the delta base, the agent sends a full report', async (t) => {
  const s = await startTestServer(trackerFeedV1());
  t.after(() => s.close());
  const config = agentConfig();
  const d = deps();
  await enroll(config, { server: s.url, token: await enrolmentToken(s) }, d);
  await runOnce(config, d);
  const acked = loadAcked(config.state_dir)!;
  // The agent's idea of what the server holds is now wrong (as after a server restore).
  saveAcked(config.state_dir, { ...acked, packages: acked.packages.slice(10), digest: 'f'.repeat(64) });
  const r = await runOnce(config, d);
  assert.equal(r.sent, 1);
  const kinds = s.running.ctx.store.all<{ kind: string }>('SELECT kind FROM scans ORDER BY id').map((x) => x.kind);
  assert.deepEqual(kinds, ['full', 'full']);
});

test('a report the server refuses is set aside with the reason; a revoked credential stops the agent', async (t) => {
  const s = await startTestServer(trackerFeedV1(), { limits: { body: 20_000 } });
  t.after(() => s.close());
  const config = agentConfig();
  const d = deps();
  const cred = await enroll(config, { server: s.url, token: await enrolmentToken(s) }, d);
  const r = await runOnce(config, d);
  assert.deepEqual([r.sent, r.rejected], [0, 1]);
  const rejectedDir = join(config.state_dir, 'spool', 'rejected');
  const reason = readdirSync(rejectedDir).find((f) => f.endsWith('.reason'))!;
  assert.match(readFileSync(join(rejectedDir, reason), 'utf8'), /413/);

  await api(s.url, `/api/v1/hosts/${cred.host_id}/revoke`, { token: s.adminToken, method: 'POST' });
  await assert.rejects(runOnce(config, d), CredentialRefusedError);
  assert.equal(
    readdirSync(join(config.state_dir, 'spool')).filter((f) => f.endsWith('.json.gz')).length,
    1,
    'the report stays spooled',
  );
});
