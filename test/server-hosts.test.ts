// Host removal through the real server API (loopback, real store, the real bookworm inventory
// on the Debian test feed): a removed host's id is never given to another host, and stores
// made when ids were reused are upgraded so they are not from then on; a removed host's open
// findings are resolved (cause host_removed) in the event stream and in every statistic.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { readInventory } from '../src/inventory/index.ts';
import { DAY_MS, ManualClock } from '../src/server/clock.ts';
import { createEnrollmentToken, enrollHost } from '../src/server/store/credentials.ts';
import { STORE_SCHEMA_VERSION } from '../src/server/store/schema.ts';
import { Store } from '../src/server/store/store.ts';
import { api, enrollTestHost, fullReportOf, startTestServer, type TestServer } from './support/server.ts';
import { BOOKWORM_ROOT, trackerFeedV1 } from './support/fixtures.ts';
import { samplePatchRun } from './support/patch-run.ts';
import { REPO_ROOT } from './support/paths.ts';

const KERNEL = '6.1.0-40-amd64';

interface EventItem {
  id: string;
  type: string;
  host: { id: number; hostname: string };
  vulnerability: string | null;
  package: { name: string } | null;
  severity: string | null;
  cause: string | null;
}

type Counts = Record<string, number> & { total: number };
interface Overview {
  open: Counts;
  sla: {
    by_severity: Record<string, { open: number; overdue: number; resolved_90d: number; resolved_in_sla_90d: number }>;
    compliance: number;
  };
  mttr_days: Record<string, number | null>;
}
interface Trends {
  days: { date: string; open: Counts; new: Counts; resolved: Counts }[];
}

interface Host {
  id: number;
  token: string;
}

/** Enrols a bookworm host and sends its first report. */
async function reportingHost(s: TestServer, hostname: string, group = ''): Promise<Host> {
  const token = await enrollTestHost(s, hostname, group);
  const inv = await readInventory(BOOKWORM_ROOT, { kernel: KERNEL });
  const r = await api(s.url, '/api/v1/reports', { token, body: fullReportOf(inv, hostname) });
  assert.equal(r.status, 200, r.text);
  const list = (await api(s.url, `/api/v1/hosts?search=${hostname}`, { token: s.adminToken })).body as {
    items: { id: number; hostname: string }[];
  };
  return { id: list.items.find((h) => h.hostname === hostname)!.id, token };
}

async function get<T>(s: TestServer, path: string): Promise<T> {
  const r = await api(s.url, path, { token: s.adminToken });
  assert.equal(r.status, 200, `${path}: ${r.text}`);
  return r.body as T;
}

const eventsOf = async (s: TestServer, hostId: number) =>
  (await get<{ items: EventItem[] }>(s, `/api/v1/events?host=${hostId}&limit=5000`)).items;

test(
  "a removed host's id is never given again: the next host has a new id and none of the removed host's events, scans or patch runs",
  { timeout: 120_000 },
  async (t) => {
    const s = await startTestServer(trackerFeedV1());
    t.after(() => s.close());
    await reportingHost(s, 'first');
    const old = await reportingHost(s, 'old');
    const run = samplePatchRun({
      id: 'run-of-old',
      hostname: 'old',
      finishedAt: new Date(s.clock.now()).toISOString(),
    });
    assert.equal((await api(s.url, '/api/v1/agent/patch-runs', { token: old.token, body: run })).status, 201);
    assert.equal((await get<{ total: number }>(s, `/api/v1/patch-runs?host=${old.id}`)).total, 1);
    const oldEvents = (await eventsOf(s, old.id)).length;

    // The newest host is removed; the next one enrolled used to take its id.
    assert.equal((await api(s.url, `/api/v1/hosts/${old.id}`, { token: s.adminToken, method: 'DELETE' })).status, 204);
    const fresh = await reportingHost(s, 'fresh');
    assert.ok(fresh.id > old.id, `new host id ${fresh.id} after removed ${old.id}`);

    const history = await get<{ events: EventItem[]; scans: unknown[] }>(
      s,
      `/api/v1/hosts/${fresh.id}/history?limit=1000`,
    );
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
    assert.equal(
      s.running.ctx.store.get<{ host_id: number }>("SELECT host_id FROM patch_runs WHERE id = 'run-of-old'")?.host_id,
      old.id,
    );
  },
);

test('a store of schema 2 is upgraded: host ids continue after the highest one any host had, removed hosts included', () => {
  const file = join(mkdtempSync(join(tmpdir(), 'patchloop-host-ids-')), 'server.sqlite');
  // A schema 2 store (hosts without AUTOINCREMENT) whose newest host, 3, was removed.
  const old = new DatabaseSync(file);
  old.exec(
    readFileSync(join(REPO_ROOT, 'test/fixtures/store/schema-3.sql'), 'utf8').replace(
      'id INTEGER PRIMARY KEY AUTOINCREMENT',
      'id INTEGER PRIMARY KEY',
    ),
  );
  old.exec(`INSERT INTO meta (key, value) VALUES ('schema_version', '2'), ('match_gen', '1');
    INSERT INTO hosts (id, hostname, grp, enrolled_at) VALUES (1, 'a', 'web', 0), (2, 'b', 'db', 0);
    INSERT INTO events (at, type, host_id, cause) VALUES (0, 'enrolled', 1, NULL), (0, 'enrolled', 2, NULL), (0, 'enrolled', 3, NULL),
      (1, 'removed', 3, 'hostname c');`);
  // What that schema does: the next host takes the removed one's id.
  const reused = old.prepare("INSERT INTO hosts (hostname, enrolled_at) VALUES ('x', 2) RETURNING id").get() as {
    id: number;
  };
  assert.equal(reused.id, 3);
  old.exec('DELETE FROM hosts WHERE id = 3');
  old.close();

  const store = Store.open(file, new ManualClock('2026-11-01T00:00:00Z'));
  assert.equal(store.meta('schema_version'), String(STORE_SCHEMA_VERSION));
  assert.match(
    store.get<{ sql: string }>("SELECT sql FROM sqlite_master WHERE name = 'hosts'")!.sql,
    /id INTEGER PRIMARY KEY AUTOINCREMENT/,
  );
  assert.deepEqual(
    store
      .all<{ name: string }>(
        "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'hosts' AND sql IS NOT NULL ORDER BY name",
      )
      .map((r) => r.name),
    ['hosts_by_group', 'hosts_by_last_seen', 'hosts_by_release'],
  );
  assert.deepEqual(
    store
      .all<{ id: number; hostname: string; grp: string }>('SELECT id, hostname, grp FROM hosts ORDER BY id')
      .map((r) => ({ ...r })),
    [
      { id: 1, hostname: 'a', grp: 'web' },
      { id: 2, hostname: 'b', grp: 'db' },
    ],
  );
  const { token } = createEnrollmentToken(store, { name: 't', uses: 1, ttlMs: null });
  assert.equal(enrollHost(store, { token, hostname: 'd' })!.host_id, 4);
  store.close();
});

test(
  'removing a host resolves its open findings (cause host_removed): the event stream, open counts, trends and resolution statistics agree',
  { timeout: 120_000 },
  async (t) => {
    const s = await startTestServer(trackerFeedV1());
    t.after(() => s.close());
    await reportingHost(s, 'web-1', 'web');
    const gone = await reportingHost(s, 'db-1', 'db');
    // 40 days on: its high findings are past their 30-day SLA, the others are not.
    s.clock.advance(40 * DAY_MS);
    const open = (
      await get<{ items: { vulnerability: string; package: { name: string }; severity: string }[] }>(
        s,
        `/api/v1/hosts/${gone.id}/findings?per_page=100`,
      )
    ).items;
    assert.ok(open.length > 0 && open.some((f) => f.severity === 'high') && open.some((f) => f.severity !== 'high'));
    const before = await get<Overview>(s, '/api/v1/stats/overview');
    assert.deepEqual(
      [before.sla.by_severity.high.overdue, before.open.total],
      [2 * open.filter((f) => f.severity === 'high').length, 2 * open.length],
    );

    assert.equal((await api(s.url, `/api/v1/hosts/${gone.id}`, { token: s.adminToken, method: 'DELETE' })).status, 204);

    // The event stream: each finding that was open is resolved, before the removal itself.
    const events = await eventsOf(s, gone.id);
    const resolved = events.filter((e) => e.type === 'resolved');
    const key = (f: { vulnerability: string | null; package: { name: string } | null }) =>
      `${f.package?.name} ${f.vulnerability}`;
    assert.deepEqual(resolved.map(key).sort(), open.map(key).sort());
    assert.ok(resolved.every((e) => e.cause === 'host_removed' && e.host.hostname === '(removed)'));
    assert.deepEqual(
      events.slice(-resolved.length - 1).map((e) => e.type),
      [...resolved.map(() => 'resolved'), 'removed'],
    );

    // Nowhere open any more: fleet and group counts, findings, vulnerabilities.
    const after = await get<Overview>(s, '/api/v1/stats/overview');
    assert.equal(after.open.total, open.length);
    assert.equal((await get<Overview>(s, '/api/v1/stats/overview?group=db')).open.total, 0);
    assert.equal((await get<{ total: number }>(s, '/api/v1/findings?per_page=1')).total, open.length);
    const vuln = open.find((f) => f.severity === 'high')!.vulnerability;
    assert.equal((await get<{ open_hosts: number }>(s, `/api/v1/vulnerabilities/${vuln}`)).open_hosts, 1);

    // Resolved now, 40 days after detection: the high ones outside their SLA, the rest within.
    // Compliance counts them as it did while they were open (overdue or not).
    for (const sev of new Set(open.map((f) => f.severity))) {
      const n = open.filter((f) => f.severity === sev).length;
      assert.deepEqual(
        [after.sla.by_severity[sev].resolved_90d, after.sla.by_severity[sev].resolved_in_sla_90d, after.mttr_days[sev]],
        [n, sev === 'high' ? 0 : n, 40],
        sev,
      );
    }
    assert.equal(after.sla.compliance, before.sla.compliance);

    // Trends: today's resolved flow explains the drop, so the days before still show both hosts' findings.
    for (const group of ['', '?group=db']) {
      const days = (await get<Trends>(s, `/api/v1/stats/trends${group}`)).days;
      const [yesterday, today] = days.slice(-2);
      assert.deepEqual(
        [today.resolved.total, today.open.total, yesterday.open.total],
        group ? [open.length, 0, open.length] : [open.length, open.length, 2 * open.length],
        group,
      );
    }
  },
);
