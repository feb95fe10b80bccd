// One legal report must not freeze the server: while a 100,000-package inventory is being
// ingested, /api/v1/health and the dashboard's reads are answered — before the report is.
// A real `patchloop server run` process on loopback; the report is the real bookworm host's
// packages padded with made-up ones, gzip, as an agent sends it.
//
// No clock is read: the test waits until the server is provably inside the report (the
// packages it interns piece by piece appear in the store, which the test reads through its
// own read-only connection) and then asks; the answers must come before the acknowledgement.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { gzipSync } from 'node:zlib';
import { readInventory } from '../src/inventory/index.ts';
import { systemClock } from '../src/server/clock.ts';
import { createApiToken, createEnrollmentToken } from '../src/server/store/credentials.ts';
import { Store } from '../src/server/store/store.ts';
import { BOOKWORM_ROOT, trackerFeedV1 } from './support/fixtures.ts';
import { startServerProcess } from './support/server-process.ts';
import { importDebianFeed } from './support/vulndb.ts';
import { fullReport, largeInventory } from './support/large-report.ts';

async function call(
  url: string,
  path: string,
  init: { token?: string; body?: Buffer; gzip?: boolean } = {},
): Promise<{ status: number; text: string }> {
  const headers: Record<string, string> = {};
  if (init.token) headers.authorization = `Bearer ${init.token}`;
  if (init.body) headers['content-type'] = 'application/json';
  if (init.gzip) headers['content-encoding'] = 'gzip';
  const res = await fetch(`${url}${path}`, {
    method: init.body ? 'POST' : 'GET',
    headers,
    body: init.body ? new Uint8Array(init.body) : undefined,
  });
  return { status: res.status, text: await res.text() };
}

test('health and dashboard reads are answered while a 100,000-package report is ingested, before its acknowledgement', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'patchloop-ingest-live-'));
  importDebianFeed(dataDir, trackerFeedV1());
  const storeFile = join(dataDir, 'server.sqlite');
  const setup = Store.open(storeFile, systemClock);
  const enrolment = createEnrollmentToken(setup, { name: 'test', uses: null, ttlMs: 3_600_000 }).token;
  const admin = createApiToken(setup, 'test').token;
  setup.close();
  const inv = await readInventory(BOOKWORM_ROOT, { kernel: '6.1.0-40-amd64' });
  const server = await startServerProcess(['--data-dir', dataDir]);
  const reader = new DatabaseSync(storeFile, { readOnly: true });
  try {
    const enrol = async (hostname: string) =>
      JSON.parse(
        (
          await call(server.url, '/api/v1/enroll', {
            body: Buffer.from(JSON.stringify({ token: enrolment, hostname })),
          })
        ).text,
      ) as { host_id: number; host_token: string };
    // A host of normal size whose findings the dashboard shows meanwhile.
    const small = await enrol('small');
    const first = await call(server.url, '/api/v1/reports', {
      token: small.host_token,
      body: Buffer.from(JSON.stringify(fullReport(inv, inv.packages, 'small'))),
    });
    assert.equal(first.status, 200, first.text);

    const big = await enrol('big');
    const body = gzipSync(JSON.stringify(fullReport(inv, largeInventory(inv, 100_000, 'live'), 'big')));
    const interned = () => (reader.prepare('SELECT count(*) AS n FROM pkgs').get() as { n: number }).n;
    const before = interned();

    const order: string[] = [];
    let acked = false;
    const report = call(server.url, '/api/v1/reports', { token: big.host_token, body, gzip: true }).then((r) => {
      acked = true;
      order.push('ack');
      return r;
    });
    // Inside the report: its first packages are interned (committed), most of the work is ahead.
    while (!acked && interned() === before) await new Promise((r) => setTimeout(r, 10));
    const health = await call(server.url, '/api/v1/health');
    order.push(`health ${health.status}`);
    const findings = await call(server.url, `/api/v1/hosts/${small.host_id}/findings`, { token: admin });
    order.push(`dashboard ${findings.status}`);
    const ack = await report;
    assert.equal(ack.status, 200, ack.text);
    assert.deepEqual(order, ['health 200', 'dashboard 200', 'ack']);

    const host = JSON.parse((await call(server.url, `/api/v1/hosts/${big.host_id}`, { token: admin })).text) as {
      package_count: number;
    };
    assert.equal(host.package_count, 100_000);
  } finally {
    reader.close();
    await server.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
});
