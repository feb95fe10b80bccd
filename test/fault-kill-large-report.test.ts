// A fault injected where ingest is most exposed: the server killed (SIGKILL) while a
// 100,000-package report is being prepared piece by piece, its new packages already interned
// in their own small transactions. After a restart the store passes its integrity check, the
// report was not applied (it was never acknowledged), the packages it left behind are
// collected, and the same report sent again is applied whole.
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

async function post(
  url: string,
  path: string,
  body: Buffer,
  headers: Record<string, string> = {},
): Promise<{ status: number; text: string }> {
  const res = await fetch(`${url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: new Uint8Array(body),
  });
  return { status: res.status, text: await res.text() };
}

test(
  'killed while preparing a 100,000-package report: nothing half-applied, leftovers collected, the resend is applied whole',
  { timeout: 300_000 },
  async (t) => {
    const dataDir = mkdtempSync(join(tmpdir(), 'patchloop-fault-large-'));
    t.after(() => rmSync(dataDir, { recursive: true, force: true }));
    importDebianFeed(dataDir, trackerFeedV1());
    const storeFile = join(dataDir, 'server.sqlite');
    const setup = Store.open(storeFile, systemClock);
    const enrolment = createEnrollmentToken(setup, { name: 'test', uses: null, ttlMs: 3_600_000 }).token;
    const admin = createApiToken(setup, 'test').token;
    setup.close();
    const inv = await readInventory(BOOKWORM_ROOT, { kernel: '6.1.0-40-amd64' });

    let server = await startServerProcess(['--data-dir', dataDir]);
    t.after(() => server.stop('SIGKILL'));
    const enrolled = JSON.parse(
      (await post(server.url, '/api/v1/enroll', Buffer.from(JSON.stringify({ token: enrolment, hostname: 'big' }))))
        .text,
    ) as { host_id: number; host_token: string };
    const auth = { authorization: `Bearer ${enrolled.host_token}`, 'content-encoding': 'gzip' };
    const body = gzipSync(JSON.stringify(fullReport(inv, largeInventory(inv, 100_000, 'fault'), 'big')));

    const reader = new DatabaseSync(storeFile, { readOnly: true });
    const interned = (): number => (reader.prepare('SELECT count(*) AS n FROM pkgs').get() as { n: number }).n;
    const before = interned();
    let answered: number | null = null;
    const inFlight = post(server.url, '/api/v1/reports', body, auth).then(
      (r) => (answered = r.status),
      () => (answered = -1),
    );
    // Wait until the report is provably half-way: some of its packages are committed.
    while (answered === null && interned() === before) await new Promise((r) => setTimeout(r, 5));
    await server.stop('SIGKILL');
    await inFlight;
    const leftovers = interned() - before;
    reader.close();
    assert.equal(answered, -1, 'the killed server never acknowledged the report');
    assert.ok(leftovers > 0, 'the kill came while packages were being interned');

    const check = new DatabaseSync(storeFile);
    assert.equal((check.prepare('PRAGMA integrity_check').get() as { integrity_check: string }).integrity_check, 'ok');
    check.close();

    server = await startServerProcess(['--data-dir', dataDir]);
    const get = async (path: string): Promise<Record<string, unknown>> =>
      (await (await fetch(`${server.url}${path}`, { headers: { authorization: `Bearer ${admin}` } })).json()) as Record<
        string,
        unknown
      >;
    assert.equal((await get(`/api/v1/hosts/${enrolled.host_id}`)).package_count, 0, 'the report was not applied');
    // The packages the killed ingest interned are held by no host: the restarted server collects them.
    const count = (): number => {
      const db = new DatabaseSync(storeFile, { readOnly: true });
      try {
        return (db.prepare('SELECT count(*) AS n FROM pkgs').get() as { n: number }).n;
      } finally {
        db.close();
      }
    };
    for (let i = 0; i < 600 && count() > before; i++) await new Promise((r) => setTimeout(r, 50));
    assert.equal(count(), before, 'the leftovers were collected');

    const resent = await post(server.url, '/api/v1/reports', body, auth);
    assert.equal(resent.status, 200, resent.text);
    assert.equal((await get(`/api/v1/hosts/${enrolled.host_id}`)).package_count, 100_000);
    assert.equal(await server.stop(), 0);
  },
);
