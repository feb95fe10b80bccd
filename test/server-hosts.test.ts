// Host removal through the real server API (loopback, real store, the real bookworm inventory
// on the Debian test feed): a removed host's id is never given to another host, and stores
// made when ids were reused are upgraded so they are not from then on.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { readInventory } from '../src/inventory/index.ts';
import { ManualClock } from '../src/server/clock.ts';
import { createEnrollmentToken, enrollHost } from '../src/server/store/credentials.ts';
import { SCHEMA, STORE_SCHEMA_VERSION } from '../src/server/store/schema.ts';
import { Store } from '../src/server/store/store.ts';
import { api, enrollTestHost, fullReportOf, startTestServer, type TestServer } from '../src/server/testing/harness.ts';
import { BOOKWORM_ROOT, trackerFeedV1 } from '../src/server/testing/fixtures.ts';
import { samplePatchRun } from '../src/server/testing/patch-run.ts';

const KERNEL = '6.1.0-40-amd64';

interface EventItem {
  type: string;
  host: { id: number; hostname: string };
  vulnerability: string | null;
  cause: string | null;
}

interface Host {
  id: number;
  token: string;
}

/** Enrols a bookworm host and sends its first report. */
async function reportingHost(s: TestServer, hostname: string): Promise<Host> {
  const token = await enrollTestHost(s, hostname);
  const inv = await readInventory(BOOKWORM_ROOT, { kernel: KERNEL });
  const r = await api(s.url, '/api/v1/reports', { token, body: fullReportOf(inv, hostname) });
  assert.equal(r.status, 200, r.text);
  const list = (await api(s.url, `/api/v1/hosts?search=${hostname}`, { token: s.adminToken })).body as { items: { id: number; hostname: string }[] };
  return { id: list.items.find((h) => h.hostname === hostname)!.id, token };
}

async function get<T>(s: TestServer, path: string): Promise<T> {
  const r = await api(s.url, path, { token: s.adminToken });
  assert.equal(r.status, 200, `${path}: ${r.text}`);
  return r.body as T;
}

const eventsOf = async (s: TestServer, hostId: number) => (await get<{ items: EventItem[] }>(s, `/api/v1/events?host=${hostId}&limit=5000`)).items;

test("a removed host's id is never given again: the next host has a new id and none of the removed host's events, scans or patch runs", { timeout: 120_000 }, async (t) => {
  const s = await startTestServer(trackerFeedV1());
  t.after(() => s.close());
  await reportingHost(s, 'first');
  const old = await reportingHost(s, 'old');
  const run = samplePatchRun({ id: 'run-of-old', hostname: 'old', finishedAt: new Date(s.clock.now()).toISOString() });
  assert.equal((await api(s.url, '/api/v1/agent/patch-runs', { token: old.token, body: run })).status, 201);
  assert.equal((await get<{ total: number }>(s, `/api/v1/patch-runs?host=${old.id}`)).total, 1);
  const oldEvents = (await eventsOf(s, old.id)).length;

  // The newest host is removed; the next one enrolled used to take its id.
  assert.equal((await api(s.url, `/api/v1/hosts/${old.id}`, { token: s.adminToken, method: 'DELETE' })).status, 204);
  const fresh = await reportingHost(s, 'fresh');
  assert.ok(fresh.id > old.id, `new host id ${fresh.id} after removed ${old.id}`);

  const history = await get<{ events: EventItem[]; scans: unknown[] }>(s, `/api/v1/hosts/${fresh.id}/history?limit=1000`);
  assert.equal(history.scans.length, 1);
  assert.deepEqual([...new Set(history.events.map((e) => e.type))].sort(), ['detected', 'enrolled']);
  const events = await eventsOf(s, fresh.id);
  assert.ok(events.length > 1 && events.every((e) => e.host.hostname === 'fresh'));
  assert.equal((await get<{ total: number }>(s, `/api/v1/patch-runs?host=${fresh.id}`)).total, 0);

  // The removed host's record stays its own: its events (removal included), and its patch run
  // kept in the store under its id (runs are listed for hosts in the fleet only).
  const kept = await eventsOf(s, old.id);
  assert.ok(kept.length > oldEvents && kept.every((e) => e.host.hostname === '(removed)'));
  assert.equal(kept.at(-1)?.type, 'removed');
  assert.equal(s.running.ctx.store.get<{ host_id: number }>("SELECT host_id FROM patch_runs WHERE id = 'run-of-old'")?.host_id, old.id);
});

test('a store of schema 2 is upgraded: host ids continue after the highest one any host had, removed hosts included', () => {
  const file = join(mkdtempSync(join(tmpdir(), 'patchloop-host-ids-')), 'server.sqlite');
  // A schema 2 store (hosts without AUTOINCREMENT) whose newest host, 3, was removed.
  const old = new DatabaseSync(file);
  old.exec(SCHEMA.replace('id INTEGER PRIMARY KEY AUTOINCREMENT', 'id INTEGER PRIMARY KEY'));
  old.exec(`INSERT INTO meta (key, value) VALUES ('schema_version', '2'), ('match_gen', '1');
    INSERT INTO hosts (id, hostname, grp, enrolled_at) VALUES (1, 'a', 'web', 0), (2, 'b', 'db', 0);
    INSERT INTO events (at, type, host_id, cause) VALUES (0, 'enrolled', 1, NULL), (0, 'enrolled', 2, NULL), (0, 'enrolled', 3, NULL),
      (1, 'removed', 3, 'hostname c');`);
  // What that schema does: the next host takes the removed one's id.
  const reused = old.prepare("INSERT INTO hosts (hostname, enrolled_at) VALUES ('x', 2) RETURNING id").get() as { id: number };
  assert.equal(reused.id, 3);
  old.exec('DELETE FROM hosts WHERE id = 3');
  old.close();

  const store = Store.open(file, new ManualClock('2026-11-01T00:00:00Z'));
  assert.equal(store.meta('schema_version'), String(STORE_SCHEMA_VERSION));
  assert.match(store.get<{ sql: string }>("SELECT sql FROM sqlite_master WHERE name = 'hosts'")!.sql, /id INTEGER PRIMARY KEY AUTOINCREMENT/);
  assert.deepEqual(
    store.all<{ name: string }>("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'hosts' AND sql IS NOT NULL ORDER BY name").map((r) => r.name),
    ['hosts_by_group', 'hosts_by_last_seen', 'hosts_by_release'],
  );
  assert.deepEqual(store.all<{ id: number; hostname: string; grp: string }>('SELECT id, hostname, grp FROM hosts ORDER BY id').map((r) => ({ ...r })), [
    { id: 1, hostname: 'a', grp: 'web' },
    { id: 2, hostname: 'b', grp: 'db' },
  ]);
  const { token } = createEnrollmentToken(store, { name: 't', uses: 1, ttlMs: null });
  assert.equal(enrollHost(store, { token, hostname: 'd' })!.host_id, 4);
  store.close();
});
