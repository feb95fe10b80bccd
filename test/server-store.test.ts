// The server store on real data: the real bookworm host inventory, a tracker feed imported by
// the real `db update`, ingest of full and delta reports, finding history, re-match.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compareLead, groupExposures } from '../src/core/exposure.ts';
import { matchInventory } from '../src/core/match.ts';
import { SEVERITIES } from '../src/core/types.ts';
import { summarise } from '../src/scan/report.ts';
import { packageDelta, packageDigest, REPORT_SCHEMA, type Report } from '../src/core/protocol.ts';
import type { Inventory } from '../src/core/types.ts';
import { readInventory } from '../src/inventory/index.ts';
import { VulnDb } from '../src/vulndb/reader.ts';
import { ManualClock, DAY_MS } from '../src/server/clock.ts';
import { FleetMatcher } from '../src/server/fleet-matcher.ts';
import { Store } from '../src/server/store/store.ts';
import { ingestReport, ReportError } from '../src/server/store/ingest.ts';
import { rematchFleet } from '../src/server/store/rematch.ts';
import { createEnrollmentToken, enrollHost } from '../src/server/store/credentials.ts';
import { readEvents } from '../src/server/queries/events.ts';
import { VulnIndex } from '../src/server/store/vuln-index.ts';
import { BOOKWORM_ROOT, copyBookwormRoot, trackerFeedV1, trackerFeedV2, upgradeSource } from './support/fixtures.ts';
import { storedReportOf } from './support/server.ts';
import { importDebianFeed } from './support/vulndb.ts';

const KERNEL = '6.1.0-40-amd64';

function deltaReport(before: Inventory, after: Inventory): Report {
  const { added, removed } = packageDelta(before.packages, after.packages);
  return {
    schema: REPORT_SCHEMA,
    report_id: randomUUID(),
    kind: 'delta',
    collected_at: new Date().toISOString(),
    agent: { version: 'test' },
    host: { hostname: 'bookworm-1', os: after.os, kernel: after.kernel, reboot_required: false },
    base: packageDigest(before.packages),
    digest: packageDigest(after.packages),
    warnings: [],
    skipped_reports: 0,
    added,
    removed,
  };
}

function setup(feed: unknown) {
  const dataDir = mkdtempSync(join(tmpdir(), 'patchloop-store-'));
  importDebianFeed(dataDir, feed);
  const clock = new ManualClock('2026-11-01T00:00:00Z');
  const store = Store.open(join(dataDir, 'server.sqlite'), clock);
  let db = VulnDb.open(dataDir);
  const matcher = new FleetMatcher(db, store.interner, store.matchGeneration(), {
    today: () => new Date(clock.now()).toISOString().slice(0, 10),
  });
  store.onInternRollback = () => matcher.reset(db, matcher.generation);
  const enrol = (hostname: string) => {
    const { token } = createEnrollmentToken(store, { name: 't', uses: 1, ttlMs: null });
    return enrollHost(store, { token, hostname })!.host_id;
  };
  const refresh = async (next: unknown) => {
    importDebianFeed(dataDir, next, 'debian-next.json');
    db.close();
    db = VulnDb.open(dataDir);
    store.setMeta('match_gen', String(matcher.generation + 1));
    matcher.reset(db, matcher.generation + 1);
    return rematchFleet(store, matcher, { refreshId: null });
  };
  return { dataDir, clock, store, matcher, enrol, refresh, lookup: () => db };
}

/** The in-memory index kept up by ingest equals the one built from the rows. */
function assertVulnIndexMatchesRows(store: Store): void {
  const flat = (index: VulnIndex) =>
    Object.fromEntries(
      [...index.entries()].map(([id, v]) => [store.interner.vuln(id), [v.findings, v.fixable, v.hosts.sorted()]]),
    );
  assert.deepEqual(flat(store.vulns), flat(VulnIndex.load(store)));
}

/**
 * The exposures of a host are what its open finding rows make up (one per source package and
 * vulnerability, led as core/exposure.ts says), and its counters count them.
 */
function assertExposuresMatchRows(store: Store, hostId: number): void {
  const groups = new Map<string, { severity: number; fixable: number; name: string; arch: string; nameId: number }[]>();
  for (const r of store.all<{ name_id: number; vuln_id: number; src_id: number; severity: number; fixable: number }>(
    'SELECT name_id, vuln_id, src_id, severity, fixable FROM findings WHERE host_id = ? AND open = 1',
    hostId,
  )) {
    const key = `${store.interner.vuln(r.vuln_id)} ${store.interner.source(r.src_id)}`;
    groups.set(key, [
      ...(groups.get(key) ?? []),
      { severity: r.severity, fixable: r.fixable, ...store.interner.name(r.name_id), nameId: r.name_id },
    ]);
  }
  const derived = [...groups].map(([key, m]) => {
    const lead = m.reduce((a, b) =>
      compareLead({ ...b, fixable: b.fixable === 1 }, { ...a, fixable: a.fixable === 1 }) < 0 ? b : a,
    );
    return `${key} ${lead.name} ${lead.severity} ${lead.fixable} ${m.length}`;
  });
  const stored = store
    .all<{
      vuln_id: number;
      src_id: number;
      lead_name_id: number;
      severity: number;
      fixable: number;
      binaries: number;
    }>(
      'SELECT vuln_id, src_id, lead_name_id, severity, fixable, binaries FROM exposures WHERE host_id = ? AND open = 1',
      hostId,
    )
    .map(
      (e) =>
        `${store.interner.vuln(e.vuln_id)} ${store.interner.source(e.src_id)} ${store.interner.name(e.lead_name_id).name} ${e.severity} ${e.fixable} ${e.binaries}`,
    );
  assert.deepEqual(stored.sort(), derived.sort());
  const h = store.get<Record<string, number>>(
    `SELECT ${SEVERITIES.map((sev) => `open_${sev}, fix_${sev}`).join(', ')} FROM hosts WHERE id = ?`,
    hostId,
  )!;
  for (const [i, sev] of SEVERITIES.entries()) {
    const rows = store.all<{ fixable: number }>(
      'SELECT fixable FROM exposures WHERE host_id = ? AND open = 1 AND severity = ?',
      hostId,
      i,
    );
    assert.deepEqual(
      [h[`open_${sev}`], h[`fix_${sev}`]],
      [rows.length, rows.filter((r) => r.fixable === 1).length],
      sev,
    );
  }
}

const openFindings = (store: Store, hostId: number) =>
  store
    .all<{ name_id: number; vuln_id: number }>(
      'SELECT name_id, vuln_id FROM findings WHERE host_id = ? AND open = 1',
      hostId,
    )
    .map((r) => `${store.interner.name(r.name_id).name} ${store.interner.vuln(r.vuln_id)}`)
    .sort();

test('a full report of the real bookworm host gives exactly the findings the standalone matcher gives', async () => {
  const s = setup(trackerFeedV1());
  const inv = await readInventory(BOOKWORM_ROOT, { kernel: KERNEL });
  assert.equal(inv.packages.length, 729);
  const hostId = s.enrol('bookworm-1');
  const out = ingestReport(s.store, s.matcher, hostId, storedReportOf(inv, 'bookworm-1'));
  assert.equal(out.kind, 'ack');
  const matched = matchInventory(inv, s.lookup(), {}).findings;
  const direct = matched
    .filter((f) => !f.kernel_not_running)
    .map((f) => `${f.package.name} ${f.id}`)
    .sort();
  assert.ok(direct.length >= 7, `expected the feed to give findings, got ${direct.length}`);
  // A row per binary package; the counts, per vulnerability and source package, as the scan's summary.
  assert.deepEqual(openFindings(s.store, hostId), direct);
  const exposures = groupExposures(matched).filter((e) => !e.dormant);
  assert.equal(exposures.length, summarise(matched).total);
  if (out.kind === 'ack') {
    assert.equal(out.ack.status, 'accepted');
    assert.equal(out.ack.changes.detected, exposures.length);
    assert.equal(out.ack.changes.open, exposures.length);
    assert.equal(out.ack.digest, packageDigest(inv.packages));
  }
  const host = s.store.get<{
    open_high: number;
    fix_high: number;
    open_medium: number;
    distro: string;
    release: string;
  }>('SELECT open_high, fix_high, open_medium, distro, release FROM hosts WHERE id = ?', hostId)!;
  assert.deepEqual({ ...host }, { open_high: 1, fix_high: 1, open_medium: 1, distro: 'debian', release: 'bookworm' });
  assertExposuresMatchRows(s.store, hostId);
  // An event per exposure, naming its lead package.
  const events = readEvents(s.store, { hostId, type: 'detected' }, null, 'ASC', 10_000).items;
  assert.deepEqual(
    events.map((e) => `${e.package?.name} ${e.vulnerability}`).sort(),
    exposures.map((e) => `${e.lead.package.name} ${e.id}`).sort(),
  );
});

test('a retried report changes nothing and is acknowledged as a duplicate', async () => {
  const s = setup(trackerFeedV1());
  const inv = await readInventory(BOOKWORM_ROOT, { kernel: KERNEL });
  const hostId = s.enrol('bookworm-1');
  const report = storedReportOf(inv, 'bookworm-1');
  const first = ingestReport(s.store, s.matcher, hostId, report);
  const counts = () =>
    s.store.get<{ e: number; s: number; f: number }>(
      'SELECT (SELECT sum(count) FROM events) AS e, (SELECT count(*) FROM scans) AS s, (SELECT count(*) FROM findings) AS f',
    )!;
  const before = counts();
  const again = ingestReport(s.store, s.matcher, hostId, report);
  assert.equal(again.kind, 'ack');
  if (again.kind === 'ack' && first.kind === 'ack') {
    assert.equal(again.ack.status, 'duplicate');
    assert.equal(again.ack.scan_id, first.ack.scan_id);
    assert.equal(again.ack.digest, first.ack.digest);
  }
  assert.deepEqual({ ...counts() }, { ...before });
  const other = s.enrol('bookworm-2');
  const stolen = ingestReport(s.store, s.matcher, other, report);
  assert.equal(stolen.kind, 'rejected');
});

test('a full report whose digest does not match its packages is rejected and writes nothing', async () => {
  const s = setup(trackerFeedV1());
  const inv = await readInventory(BOOKWORM_ROOT, { kernel: KERNEL });
  const hostId = s.enrol('bookworm-1');
  const report = storedReportOf(inv, 'bookworm-1');
  (report as { packages: unknown[] }).packages = report.kind === 'full' ? report.packages.slice(1) : [];
  assert.throws(() => ingestReport(s.store, s.matcher, hostId, report), ReportError);
  assert.equal(s.store.get<{ n: number }>('SELECT count(*) AS n FROM scans')!.n, 0);
  assert.equal(s.store.get<{ n: number }>('SELECT count(*) AS n FROM findings')!.n, 0);
});

test('an upgrade reported as a delta resolves the finding it fixes, with the scan it disappeared in', async () => {
  const s = setup(trackerFeedV1());
  const before = await readInventory(BOOKWORM_ROOT, { kernel: KERNEL });
  const hostId = s.enrol('bookworm-1');
  ingestReport(s.store, s.matcher, hostId, storedReportOf(before, 'bookworm-1'));
  const firstSeen = s.clock.now();

  const root = copyBookwormRoot();
  assert.equal(upgradeSource(root, 'openssl', '3.0.19-1~deb12u3'), 3);
  const after = await readInventory(root, { kernel: KERNEL });
  s.clock.advance(3 * DAY_MS);
  const delta = deltaReport(before, after);
  assert.equal(delta.kind === 'delta' && delta.added.length, 3);
  const out = ingestReport(s.store, s.matcher, hostId, delta);
  assert.equal(out.kind, 'ack');
  if (out.kind !== 'ack') return;
  // openssl's three binaries are one exposure: it resolves once; zlib's and curl's stay open.
  assert.deepEqual(out.ack.changes, { detected: 0, resolved: 1, reopened: 0, open: 2 });
  assertExposuresMatchRows(s.store, hostId);
  assert.ok(!openFindings(s.store, hostId).some((f) => f.includes('CVE-2099-1001')));
  const fixed = s.store.all<{
    resolved_at: number;
    resolved_scan: number;
    last_seen: number;
    first_seen: number;
    resolved_cause: string;
  }>(
    "SELECT resolved_at, resolved_scan, last_seen, first_seen, resolved_cause FROM findings WHERE open = 0 AND vuln_id = (SELECT id FROM vulns WHERE name = 'CVE-2099-1001')",
  );
  assert.equal(fixed.length, 3);
  for (const f of fixed) {
    assert.equal(f.resolved_scan, out.ack.scan_id);
    assert.equal(f.resolved_at, s.clock.now());
    assert.equal(f.first_seen, firstSeen);
    assert.equal(f.last_seen, firstSeen);
    assert.equal(f.resolved_cause, 'scan');
  }
  // MTTR material: one high exposure resolved after three days, within the 30-day SLA.
  const daily = s.store.get<{ resolved: number; resolved_ms: number; resolved_in_sla: number }>(
    'SELECT sum(resolved) AS resolved, sum(resolved_ms) AS resolved_ms, sum(resolved_in_sla) AS resolved_in_sla FROM daily',
  )!;
  assert.deepEqual({ ...daily }, { resolved: 1, resolved_ms: 3 * DAY_MS, resolved_in_sla: 1 });

  assertVulnIndexMatchesRows(s.store);
  // Downgrading again reopens the same findings: same rows, reopened counted.
  s.clock.advance(DAY_MS);
  const back = ingestReport(s.store, s.matcher, hostId, deltaReport(after, before));
  assert.equal(back.kind === 'ack' && back.ack.changes.reopened, 1);
  assert.equal(s.store.get<{ n: number }>('SELECT count(*) AS n FROM findings WHERE reopened = 1 AND open = 1')!.n, 3);
  assert.equal(s.store.get<{ n: number }>('SELECT count(*) AS n FROM exposures WHERE reopened = 1 AND open = 1')!.n, 1);
  assertVulnIndexMatchesRows(s.store);
  assertExposuresMatchRows(s.store, hostId);
});

test('a delta on a base the server does not hold asks for a full report and writes nothing', async () => {
  const s = setup(trackerFeedV1());
  const inv = await readInventory(BOOKWORM_ROOT, { kernel: KERNEL });
  const hostId = s.enrol('bookworm-1');
  const root = copyBookwormRoot();
  upgradeSource(root, 'openssl', '3.0.19-1~deb12u3');
  const after = await readInventory(root, { kernel: KERNEL });
  const noBase = ingestReport(s.store, s.matcher, hostId, deltaReport(inv, after));
  assert.equal(noBase.kind, 'resend');
  ingestReport(s.store, s.matcher, hostId, storedReportOf(inv, 'bookworm-1'));
  const wrong = deltaReport(inv, after);
  if (wrong.kind === 'delta') wrong.removed = wrong.removed.slice(1);
  const before = s.store.get<{ n: number }>('SELECT count(*) AS n FROM scans')!.n;
  assert.equal(ingestReport(s.store, s.matcher, hostId, wrong).kind, 'resend');
  assert.equal(s.store.get<{ n: number }>('SELECT count(*) AS n FROM scans')!.n, before);
});

test('a feed refresh re-matches stored inventories: a new advisory becomes a finding without a report', async () => {
  const s = setup(trackerFeedV1());
  const inv = await readInventory(BOOKWORM_ROOT, { kernel: KERNEL });
  const hostId = s.enrol('bookworm-1');
  ingestReport(s.store, s.matcher, hostId, storedReportOf(inv, 'bookworm-1'));
  const scans = s.store.get<{ n: number }>('SELECT count(*) AS n FROM scans')!.n;
  s.clock.advance(DAY_MS);
  const summary = await s.refresh(trackerFeedV2());
  assert.equal(summary.hosts, 1);
  assert.equal(summary.unchanged, 0);
  assert.equal(summary.detected, 1);
  assert.ok(openFindings(s.store, hostId).includes('bash CVE-2099-1003'));
  assertVulnIndexMatchesRows(s.store);
  const ev = readEvents(s.store, { hostId }, null, 'ASC', 100).items.filter((e) => e.vulnerability === 'CVE-2099-1003');
  assert.deepEqual(
    ev.map((e) => [e.type, e.cause, e.scan_id]),
    [['detected', 'feed', null]],
  );
  assert.equal(s.store.get<{ n: number }>('SELECT count(*) AS n FROM scans')!.n, scans);
  // A second re-match with the same data changes nothing.
  s.store.setMeta('match_gen', String(s.matcher.generation + 1));
  s.matcher.reset(s.lookup(), s.matcher.generation + 1);
  const progress: [number, number][] = [];
  const again = await rematchFleet(s.store, s.matcher, {
    refreshId: null,
    onProgress: (done, total) => progress.push([done, total]),
  });
  assert.deepEqual(progress, [[1, 1]]);
  assert.deepEqual([again.detected, again.resolved, again.reopened], [0, 0, 0]);
  // Same data again: every package's result is unchanged, so the host is not even compared.
  assert.equal(again.unchanged, 1);
});
