// The server's refresh scheduler through a real in-process server (real `db update` child
// processes, real store, real HTTP): a refresh with new data makes a new generation and
// re-matches the fleet without any report; feed files replaced while the server was down do
// the same at the next start; the schedule follows the last refresh.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readInventory } from '../src/inventory/index.ts';
import { api, enrollTestHost, fullReportOf, startTestServer, type TestServer } from './support/server.ts';
import { BOOKWORM_ROOT, trackerFeedV1, trackerFeedV2, writeFeedFile } from './support/fixtures.ts';
import { importDebianFeed } from './support/vulndb.ts';

const KERNEL = '6.1.0-40-amd64';
const HOUR_MS = 3_600_000;

interface EventItem {
  type: string;
  vulnerability: string | null;
  cause: string | null;
  refresh_id: number | null;
  scan_id: number | null;
}

/** Enrols a bookworm host and sends its first report; returns its id. */
async function reportingHost(s: TestServer, hostname: string): Promise<number> {
  const token = await enrollTestHost(s, hostname);
  const inv = await readInventory(BOOKWORM_ROOT, { kernel: KERNEL });
  const r = await api(s.url, '/api/v1/reports', { token, body: fullReportOf(inv, hostname) });
  assert.equal(r.status, 200, r.text);
  const list = (await api(s.url, `/api/v1/hosts?search=${hostname}`, { token: s.adminToken })).body as {
    items: { id: number }[];
  };
  return list.items[0].id;
}

async function eventsOf(s: TestServer, hostId: number): Promise<EventItem[]> {
  return ((await api(s.url, `/api/v1/events?host=${hostId}`, { token: s.adminToken })).body as { items: EventItem[] })
    .items;
}

const hostRow = (s: TestServer, id: number) =>
  s.running.ctx.store.get<{ match_gen: number }>('SELECT match_gen FROM hosts WHERE id = ?', id)!;

test(
  'a refresh with new data: a new generation, the fleet re-matched without a report, the next refresh one interval later',
  { timeout: 120_000 },
  async (t) => {
    const feedDir = mkdtempSync(join(tmpdir(), 'patchloop-refresh-feed-'));
    const feed = writeFeedFile(feedDir, 'debian.json', trackerFeedV2());
    const s = await startTestServer(trackerFeedV1(), {
      feeds: { refresh_interval: '1h', sources: [{ name: 'debian', from: [feed] }] },
    });
    t.after(() => s.close());
    const store = s.running.ctx.store;
    const now = s.clock.now();
    type Feeds = {
      next_refresh: string | null;
      recent: { id: number; outcome: string | null; hosts: number | null; detected: number | null }[];
    };
    // Never refreshed: the first one is due at once (after the start's short delay).
    const planned = (await api(s.url, '/api/v1/feeds', { token: s.adminToken })).body as Feeds;
    assert.equal(planned.next_refresh, new Date(now + 5_000).toISOString());

    const hostId = await reportingHost(s, 'bookworm-1');
    const generation = store.matchGeneration();
    assert.equal(hostRow(s, hostId).match_gen, generation);

    const r = await s.running.refreshNow();
    assert.ok(r);
    assert.equal(r.outcome, 'updated');
    assert.deepEqual([r.rematch?.hosts, r.rematch?.detected, r.rematch?.resolved], [1, 1, 0]);
    assert.equal(store.matchGeneration(), generation + 1);
    assert.equal(store.meta('vulndb_fingerprint'), s.running.ctx.vulndb.fingerprint());
    assert.equal(hostRow(s, hostId).match_gen, generation + 1);
    const bash = (await eventsOf(s, hostId)).filter((e) => e.vulnerability === 'CVE-2099-1003');
    assert.deepEqual(
      bash.map((e) => [e.type, e.cause, e.refresh_id, e.scan_id]),
      [['detected', 'feed', r.id, null]],
    );

    const after = (await api(s.url, '/api/v1/feeds', { token: s.adminToken })).body as Feeds;
    assert.deepEqual(after.recent[0], { ...after.recent[0], id: r.id, outcome: 'updated', hosts: 1, detected: 1 });
    assert.equal(after.next_refresh, new Date(now + HOUR_MS).toISOString());
  },
);

test(
  'feed files replaced while the server was down: the next start makes a new generation and re-matches; a start without new files does not',
  { timeout: 120_000 },
  async (t) => {
    // Each server is closed once: by the test, or afterwards when an assertion failed.
    const running = new Set<TestServer>();
    t.after(async () => {
      for (const s of running) await s.close();
    });
    const start = async (dataDir?: string): Promise<TestServer> => {
      const s = dataDir ? await startTestServer(null, {}, { dataDir }) : await startTestServer(trackerFeedV1());
      running.add(s);
      return s;
    };
    const stop = async (s: TestServer): Promise<void> => {
      running.delete(s);
      await s.close();
    };

    const first = await start();
    const hostId = await reportingHost(first, 'bookworm-1');
    const generation = first.running.ctx.store.matchGeneration();
    await stop(first);

    importDebianFeed(first.dataDir, trackerFeedV2(), 'debian-next.json');
    const second = await start(first.dataDir);
    await second.running.idle();
    assert.equal(second.running.ctx.store.matchGeneration(), generation + 1);
    assert.equal(hostRow(second, hostId).match_gen, generation + 1);
    const bash = (await eventsOf(second, hostId)).filter((e) => e.vulnerability === 'CVE-2099-1003');
    assert.deepEqual(
      bash.map((e) => [e.type, e.cause, e.refresh_id, e.scan_id]),
      [['detected', 'feed', null, null]],
    );
    const events = (await eventsOf(second, hostId)).length;
    await stop(second);

    const third = await start(first.dataDir);
    await third.running.idle();
    assert.equal(third.running.ctx.store.matchGeneration(), generation + 1);
    assert.equal((await eventsOf(third, hostId)).length, events, 'nothing re-matched');
  },
);
