// Memory follows the fleet, not every package ever reported: packages no host holds and no
// finding or event names are collected (store rows and memory: interner, matcher cache); the
// ones history names stay readable. Large reports go through the prepared path, which must
// give the same results and leave nothing held behind. The server's own ingest path (group
// commit queue, collector) on the real bookworm inventory and a tracker feed imported by `db update`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { packageDelta, packageDigest, REPORT_SCHEMA, type Report, type WirePackage } from '../src/core/protocol.ts';
import type { Inventory } from '../src/core/types.ts';
import { readInventory } from '../src/inventory/index.ts';
import { ManualClock, DAY_MS } from '../src/server/clock.ts';
import { FleetMatcher } from '../src/server/fleet-matcher.ts';
import { IngestQueue, MAX_LARGE_REPORTS } from '../src/server/ingest-queue.ts';
import { readEvents } from '../src/server/queries/events.ts';
import { createEnrollmentToken, enrollHost } from '../src/server/store/credentials.ts';
import { removeHost } from '../src/server/store/hosts.ts';
import { ingestReport, ReportError, type IngestOutcome } from '../src/server/store/ingest.ts';
import { decodeIds } from '../src/server/store/package-set.ts';
import { PREPARE_ABOVE } from '../src/server/store/prepare.ts';
import { STORE_SCHEMA_VERSION } from '../src/server/store/schema.ts';
import { Store } from '../src/server/store/store.ts';
import { unpackItems } from '../src/server/store/history.ts';
import { BOOKWORM_ROOT, copyBookwormRoot, trackerFeedV1, upgradeSource } from './support/fixtures.ts';
import { importDebianFeed } from './support/vulndb.ts';
import { VulnDb } from '../src/vulndb/reader.ts';
import { fullReport, largeInventory } from './support/large-report.ts';
import { backToSchema3 } from './support/store-schema.ts';

const KERNEL = '6.1.0-40-amd64';

function open(dataDir: string) {
  const clock = new ManualClock('2026-11-01T00:00:00Z');
  const store = Store.open(join(dataDir, 'server.sqlite'), clock);
  const db = VulnDb.open(dataDir);
  const matcher = new FleetMatcher(db, store.interner, store.matchGeneration(), { today: () => '2026-11-01' });
  store.onInternRollback = () => matcher.reset(db, matcher.generation);
  const queue = new IngestQueue(store, matcher);
  const enrol = (hostname: string) =>
    enrollHost(store, { token: createEnrollmentToken(store, { name: 't', uses: 1, ttlMs: null }).token, hostname })!
      .host_id;
  /** Until the collector has taken every unreferenced package. */
  const collected = async () => {
    while (store.interner.garbageCount > 0) {
      if (queue.collector.lastError) throw queue.collector.lastError;
      await new Promise((r) => setImmediate(r));
    }
  };
  const submit = async (hostId: number, report: Report): Promise<IngestOutcome> => {
    const out = await queue.submit(hostId, report);
    await collected();
    return out;
  };
  return { store, matcher, queue, enrol, collected, submit, clock, close: () => (store.close(), db.close()) };
}

function setup() {
  const dataDir = mkdtempSync(join(tmpdir(), 'patchloop-ingest-mem-'));
  importDebianFeed(dataDir, trackerFeedV1());
  return { dataDir, ...open(dataDir) };
}

/** Holders are exactly the host sets having each package; pins cover every finding and event; nothing else is kept. */
function assertReferences(store: Store): void {
  const holders = new Map<number, number>();
  for (const r of store.all<{ ids: Uint8Array }>('SELECT ids FROM host_packages'))
    for (const id of decodeIds(r.ids)) holders.set(id, (holders.get(id) ?? 0) + 1);
  const named = new Set<number>(
    store.all<{ pkg_id: number }>('SELECT DISTINCT pkg_id FROM findings').map((r) => r.pkg_id),
  );
  for (const r of store.all<{ items: Uint8Array }>('SELECT items FROM events WHERE items IS NOT NULL')) {
    const items = unpackItems(r.items);
    for (let i = 2; i < items.length; i += 4) named.add(items[i]);
  }
  const rows = store.all<{ id: number; pinned: number }>('SELECT id, pinned FROM pkgs');
  assert.equal(store.interner.packageCount, rows.length, 'memory and store hold the same packages');
  for (const r of rows) {
    const ip = store.interner.pkg(r.id);
    assert.equal(ip.holders, holders.get(r.id) ?? 0, `holders of package ${r.id}`);
    assert.equal(ip.pinned, r.pinned === 1);
    if (named.has(r.id)) assert.ok(ip.pinned, `package ${r.id} is named by history but not pinned`);
    assert.ok(ip.holders > 0 || ip.pinned, `package ${r.id} is kept although nothing references it`);
  }
  for (const id of [...holders.keys(), ...named])
    assert.ok(store.interner.pkg(id), `package ${id} is referenced but gone`);
}

/** A host's findings by what they say (ids differ between stores). */
const findingsOf = (store: Store, hostId: number) =>
  store
    .all<{ name_id: number; vuln_id: number; pkg_id: number; open: number }>(
      'SELECT name_id, vuln_id, pkg_id, open FROM findings WHERE host_id = ?',
      hostId,
    )
    .map(
      (r) =>
        `${store.interner.name(r.name_id).name} ${store.interner.pkg(r.pkg_id).pkg.version} ${store.interner.vuln(r.vuln_id)} ${r.open}`,
    )
    .sort();

const rowsLike = (store: Store, tag: string) =>
  store.get<{ n: number }>('SELECT count(*) AS n FROM pkgs WHERE key LIKE ?', `%"bulk-${tag}-%`)!.n;

function deltaOf(inv: Inventory, before: WirePackage[], after: WirePackage[], hostname: string): Report {
  return {
    schema: REPORT_SCHEMA,
    report_id: crypto.randomUUID(),
    kind: 'delta',
    collected_at: new Date().toISOString(),
    agent: { version: 'test' },
    host: { hostname, os: inv.os, kernel: inv.kernel, reboot_required: false },
    base: packageDigest(before),
    digest: packageDigest(after),
    warnings: [],
    skipped_reports: 0,
    ...packageDelta(before, after),
  };
}

test('replaced and removed packages are collected from store and memory; shared and history-named ones stay; history stays readable', async () => {
  const s = setup();
  const inv = await readInventory(BOOKWORM_ROOT, { kernel: KERNEL });
  const a = s.enrol('a');
  const b = s.enrol('b');
  const first = largeInventory(inv, inv.packages.length + 3000, 'first');
  assert.equal((await s.submit(a, fullReport(inv, first, 'a'))).kind, 'ack');
  assert.equal((await s.submit(b, fullReport(inv, inv.packages, 'b'))).kind, 'ack');
  assert.equal(rowsLike(s.store, 'first'), 3000);
  const cachedWithFirst = s.matcher.cachedPackages;

  // Host a replaces its made-up packages: the old ones go, from the table, the interner and the matcher's cache.
  assert.equal(
    (await s.submit(a, fullReport(inv, largeInventory(inv, inv.packages.length + 3000, 'second'), 'a'))).kind,
    'ack',
  );
  assert.equal(rowsLike(s.store, 'first'), 0);
  assert.equal(rowsLike(s.store, 'second'), 3000);
  assert.equal(s.store.interner.find(first[first.length - 1]), undefined);
  assert.equal(s.matcher.cachedPackages, cachedWithFirst);
  assertReferences(s.store);

  // An upgrade on host b: the old openssl packages carried findings, so history still names them.
  const root = copyBookwormRoot();
  upgradeSource(root, 'openssl', '3.0.19-1~deb12u3');
  const upgraded = await readInventory(root, { kernel: KERNEL });
  s.clock.advance(DAY_MS);
  const up = await s.submit(b, deltaOf(inv, inv.packages, upgraded.packages, 'b'));
  // openssl's three binaries: one exposure resolved.
  assert.equal(up.kind === 'ack' && up.ack.changes.resolved, 1);
  assertReferences(s.store);

  // Removing host a frees its made-up packages, but not the ones host b still has.
  assert.ok(removeHost(s.store, a));
  await s.collected();
  assert.equal(rowsLike(s.store, 'second'), 0);
  assert.equal(s.store.get<{ n: number }>('SELECT count(*) AS n FROM host_packages')!.n, 1);
  assertReferences(s.store);
  const onlyB = s.store.interner.packageCount;
  assert.ok(
    onlyB >= upgraded.packages.length && onlyB <= upgraded.packages.length + 20,
    `${onlyB} packages kept for one host of ${upgraded.packages.length}`,
  );

  // History of both hosts reads back with package names (nothing it names was collected).
  for (const hostId of [a, b]) {
    const events = readEvents(s.store, { hostId }, null, 'ASC', 10_000).items.filter((e) => e.package);
    assert.ok(events.length > 0);
    for (const e of events) assert.ok(e.package!.name && e.package!.version);
  }
  const resolvedOpenssl = readEvents(s.store, { hostId: b, type: 'resolved' }, null, 'ASC', 100).items.map(
    (e) => `${e.package?.name} ${e.package?.version}`,
  );
  // One resolved exposure for openssl's three binaries, naming its lead at the version it had.
  assert.deepEqual(resolvedOpenssl, ['libssl-dev 3.0.19-1~deb12u2']);

  // After a restart: the same packages, the same counts, nothing left to collect.
  s.close();
  const again = open(s.dataDir);
  assert.equal(again.store.interner.packageCount, onlyB);
  assert.equal(again.store.interner.garbageCount, 0);
  assertReferences(again.store);
  again.close();
});

test('a large report is prepared piece by piece with the same result as in one go; a failing one leaves nothing behind', async () => {
  const s = setup();
  const inv = await readInventory(BOOKWORM_ROOT, { kernel: KERNEL });
  const big = largeInventory(inv, PREPARE_ABOVE + 3000, 'big');
  const prepared = s.enrol('prepared');
  const viaQueue = await s.submit(prepared, fullReport(inv, big, 'prepared'));
  // The same report in one go (no preparation), into a store of its own: the same outcome.
  const other = setup();
  const direct = other.enrol('prepared');
  const inOneGo = ingestReport(other.store, other.matcher, direct, fullReport(inv, big, 'prepared'));
  assert.ok(inOneGo.kind === 'ack' && viaQueue.kind === 'ack');
  assert.deepEqual(inOneGo.ack.changes, viaQueue.ack.changes);
  assert.equal(inOneGo.ack.digest, viaQueue.ack.digest);
  assert.ok(viaQueue.ack.changes.open > 0);
  assert.deepEqual(findingsOf(s.store, prepared), findingsOf(other.store, direct));
  other.close();

  // A large delta (prepared too): most made-up packages replaced.
  const next = [
    ...inv.packages.map((p) => ({ ...p })),
    ...largeInventory(inv, inv.packages.length + 6000, 'next').slice(inv.packages.length),
  ];
  const delta = deltaOf(inv, big, next, 'prepared');
  assert.ok(delta.kind === 'delta' && delta.added.length + delta.removed.length > PREPARE_ABOVE);
  const d = await s.submit(prepared, delta);
  assert.equal(d.kind === 'ack' && d.ack.digest, packageDigest(next));
  assert.equal(
    s.store.get<{ package_count: number }>('SELECT package_count FROM hosts WHERE id = ?', prepared)!.package_count,
    next.length,
  );
  assertReferences(s.store);

  // A wrong digest: rejected, nothing interned.
  const rows = s.store.interner.packageCount;
  const forged = fullReport(inv, largeInventory(inv, PREPARE_ABOVE + 100, 'forged'), 'prepared');
  forged.digest = packageDigest(inv.packages);
  await assert.rejects(s.queue.submit(prepared, forged), ReportError);
  await s.collected();
  assert.equal(s.store.interner.packageCount, rows);

  // The host is removed while its large report is prepared: refused, and what the preparation
  // interned is collected.
  const gone = s.enrol('gone');
  const pending = s.queue.submit(gone, fullReport(inv, largeInventory(inv, PREPARE_ABOVE + 2000, 'orphan'), 'gone'));
  await new Promise((r) => setImmediate(r));
  assert.ok(removeHost(s.store, gone));
  const out = await pending;
  assert.equal(out.kind, 'rejected');
  await s.collected();
  assert.equal(rowsLike(s.store, 'orphan'), 0);
  assertReferences(s.store);

  // A large delta whose base moves on while it is prepared (a smaller report of the same host
  // commits first) is answered with a request for a full report, and holds nothing.
  const last = next.map((p) => ({ ...p }));
  last.pop();
  const slow = deltaOf(inv, next, largeInventory(inv, inv.packages.length + 7000, 'slow'), 'prepared');
  const fast = deltaOf(inv, next, last, 'prepared');
  const [slowOut, fastOut] = await Promise.all([s.queue.submit(prepared, slow), s.queue.submit(prepared, fast)]);
  await s.collected();
  assert.equal(fastOut.kind, 'ack');
  assert.equal(slowOut.kind, 'resend');
  assert.equal(rowsLike(s.store, 'slow'), 0);
  assertReferences(s.store);
  s.close();
});

test('large reports wait their turn, a bounded number of them: one more is answered 503 and taken later', async () => {
  const s = setup();
  const inv = await readInventory(BOOKWORM_ROOT, { kernel: KERNEL });
  const packages = largeInventory(inv, PREPARE_ABOVE + 100, 'turn');
  const hosts = Array.from({ length: MAX_LARGE_REPORTS + 1 }, (_, i) => s.enrol(`turn-${i}`));
  const outs = await Promise.all(hosts.map((h, i) => s.queue.submit(h, fullReport(inv, packages, `turn-${i}`))));
  assert.deepEqual(
    outs.map((o) => (o.kind === 'rejected' ? `${o.status} ${o.error}` : o.kind)),
    [...Array(MAX_LARGE_REPORTS).fill('ack'), '503 busy'],
  );
  const later = await s.submit(hosts[MAX_LARGE_REPORTS], fullReport(inv, packages, `turn-${MAX_LARGE_REPORTS}`));
  assert.equal(later.kind, 'ack');
  assertReferences(s.store);
  s.close();
});

test('a store of schema 1 is upgraded on open: packages named by findings and events are pinned', async () => {
  const s = setup();
  const inv = await readInventory(BOOKWORM_ROOT, { kernel: KERNEL });
  const h = s.enrol('old');
  await s.submit(h, fullReport(inv, inv.packages, 'old'));
  const pinned = s.store.all<{ id: number }>('SELECT id FROM pkgs WHERE pinned = 1').map((r) => r.id);
  assert.ok(pinned.length > 0);
  // Back to what schema 1 had.
  backToSchema3(s.store.db);
  s.store.db.exec(
    "ALTER TABLE pkgs DROP COLUMN pinned; ALTER TABLE hosts DROP COLUMN inventory_shrunk; UPDATE meta SET value = '1' WHERE key = 'schema_version'",
  );
  s.close();
  const upgraded = open(s.dataDir);
  assert.equal(upgraded.store.meta('schema_version'), String(STORE_SCHEMA_VERSION));
  assert.deepEqual(
    upgraded.store.all<{ id: number }>('SELECT id FROM pkgs WHERE pinned = 1').map((r) => r.id),
    pinned,
  );
  assertReferences(upgraded.store);
  upgraded.close();
});
