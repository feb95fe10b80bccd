// The server's exporter against the real OpenSearch node: a real server (store, feeds,
// re-match) with real hosts — the bookworm host on the Debian test feed, an AlmaLinux 9.4
// rpm database on the complete AlmaLinux 9 OSV data — going through an upgrade that fixes
// findings, a feed refresh that adds an advisory and publishes a fix, a host that stops
// reporting and a removed host. Checked: what lands in the indices matches the store,
// exporting again writes nothing, resolved events exist once, and a rebuild from scratch
// gives the same documents.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { SearchClient } from '../src/export/client.ts';
import { exportNames, type ExportNames } from '../src/export/names.ts';
import { StoreExporter } from '../src/server/export/exporter.ts';
import { TestFleet, BOOKWORM_KERNEL } from './support/export-fleet.ts';
import { trackerFeedV3, copyBookwormRoot, trackerFeedV1, upgradeSource } from './support/fixtures.ts';
import { readInventory } from '../src/inventory/index.ts';
import { exportStatus } from '../src/server/export/local.ts';
import { daySummaries, readHosts } from '../src/server/export/source.ts';
import { dayOf } from '../src/server/clock.ts';
import { allDocs, testClusterUrl, uniquePrefix, type StoredDoc } from './support/opensearch.ts';

const DAY = 86_400_000;

let fleet: TestFleet;
let client: SearchClient;
let names: ExportNames;
let exporter: StoreExporter;

async function removeAll(c: SearchClient, n: ExportNames): Promise<void> {
  const accept = [404];
  for (const stream of [n.vulnerabilityEvents, n.patchEvents, n.hostSummaries, n.audit])
    await c.request({ method: 'DELETE', path: `/_data_stream/${stream}`, accept });
  for (const index of [n.findings, n.hosts]) await c.request({ method: 'DELETE', path: `/${index}`, accept });
  for (const t of Object.values(n.templates))
    await c.request({ method: 'DELETE', path: `/_index_template/${t}`, accept });
  for (const t of Object.values(n.components))
    await c.request({ method: 'DELETE', path: `/_component_template/${t}`, accept });
}

before(async () => {
  const url = await testClusterUrl();
  fleet = await TestFleet.start(trackerFeedV1());
  client = new SearchClient({
    url,
    bulk: { maxDocs: 300 },
    retry: { maxRetries: 2, baseDelayMs: 50, maxDelayMs: 200 },
  });
  names = exportNames(uniquePrefix('exporter'));
  exporter = new StoreExporter(fleet.store, client, {
    names,
    target: `${client.url}|${names.prefix}`,
    retention: { resolved: 30 * DAY, stale: 30 * DAY },
    batch: 500,
    hostsPerStep: 2,
    refresh: true,
  });
});

after(async () => {
  if (client) {
    await removeAll(client, names);
    await client.close();
  }
  await fleet?.close();
});

interface StoreFinding {
  host: string;
  pkg: string;
  arch: string;
  vuln: string;
  open: number;
  severity: number;
}

/** The store's findings, by identity (host id, package, arch, vulnerability). */
function storeFindings(): StoreFinding[] {
  const s = fleet.store;
  return s
    .all<{ host_id: number; name_id: number; vuln_id: number; open: number; severity: number }>(
      'SELECT host_id, name_id, vuln_id, open, severity FROM findings',
    )
    .map((r) => ({
      host: String(r.host_id),
      pkg: s.interner.name(r.name_id).name,
      arch: s.interner.name(r.name_id).arch,
      vuln: s.interner.vuln(r.vuln_id),
      open: r.open,
      severity: r.severity,
    }));
}

function storeFindingEvents(): number {
  return (
    fleet.store.get<{ n: number | null }>(
      "SELECT sum(count) AS n FROM events WHERE type IN ('detected', 'reopened', 'resolved')",
    )!.n ?? 0
  );
}

const sourceOf = (d: StoredDoc) =>
  d._source as {
    host: { id: string; name: string };
    package: { name: string; architecture: string };
    vulnerability: { id: string; severity: string };
    event: { action?: string };
    patchloop: { state: string; status: string; fixed_at?: string; host?: { state: string; reboot_pending: boolean } };
  };

const identity = (d: StoredDoc) => {
  const s = sourceOf(d);
  return `${s.host.id}|${s.package.name}|${s.package.architecture}|${s.vulnerability.id}`;
};

test(
  'the first export builds the indices: every stored finding, every host, every finding event',
  { timeout: 600_000 },
  async () => {
    await fleet.enroll('bookworm-1', 'web', fleet.bookworm);
    await fleet.enroll('bookworm-2', 'web', fleet.bookworm);
    await fleet.enroll('bookworm-3', 'db', fleet.bookworm, true);
    await fleet.enroll('alma-1', 'db', fleet.alma);
    await fleet.enroll('alma-2', '', fleet.alma);
    await fleet.enroll('never-1', 'web', null);
    for (const h of ['bookworm-1', 'bookworm-2', 'bookworm-3', 'alma-1', 'alma-2']) await fleet.report(h);

    const report = await exporter.runOnce();
    assert.equal(report.rebuilt, true);
    assert.equal(report.unavailable, null);
    assert.equal(report.bulk.rejected, 0);

    const findings = storeFindings();
    assert.ok(
      findings.filter((f) => f.host === findings.find((x) => x.pkg === 'kernel-core')?.host).length > 100,
      'the AlmaLinux host has hundreds of findings',
    );
    const docs = await allDocs(client, names.findings);
    assert.deepEqual(docs.map(identity).sort(), findings.map((f) => `${f.host}|${f.pkg}|${f.arch}|${f.vuln}`).sort());
    assert.ok(docs.every((d) => sourceOf(d).patchloop.state === 'open'));

    const hosts = await allDocs(client, names.hosts);
    assert.deepEqual(hosts.map((d) => sourceOf(d).host.name).sort(), [
      'alma-1',
      'alma-2',
      'bookworm-1',
      'bookworm-2',
      'bookworm-3',
      'never-1',
    ]);
    const byName = new Map(hosts.map((d) => [sourceOf(d).host.name, sourceOf(d).patchloop.host]));
    assert.equal(byName.get('never-1')?.state, 'never');
    assert.equal(byName.get('bookworm-3')?.reboot_pending, true);
    assert.equal(byName.get('bookworm-1')?.reboot_pending, false);

    const events = await allDocs(client, names.vulnerabilityEvents);
    assert.equal(events.length, storeFindingEvents());
    assert.ok(events.every((d) => sourceOf(d).event.action === 'vulnerability-detected'));
  },
);

test('exporting again without changes writes nothing, and the documents keep their versions', async () => {
  const before = await allDocs(client, names.findings);
  const report = await exporter.runOnce();
  assert.equal(report.rebuilt, false);
  assert.deepEqual(report.sent, {
    hosts: 0,
    findings: 0,
    events: 0,
    patchRuns: 0,
    summaries: 0,
    audit: 0,
    removedHosts: 0,
    purged: 0,
  });
  assert.equal(report.bulk.requests, 0);
  const afterDocs = await allDocs(client, names.findings);
  assert.deepEqual(
    afterDocs.map((d) => [d._id, d._seq_no, d._version]),
    before.map((d) => [d._id, d._seq_no, d._version]),
  );
});

test(
  'an upgrade resolves findings, a feed refresh adds one and publishes a fix: resolved events once, documents follow',
  { timeout: 300_000 },
  async () => {
    fleet.advance(1);
    const root = copyBookwormRoot();
    assert.equal(upgradeSource(root, 'openssl', '3.0.19-1~deb12u3'), 3);
    await fleet.report('bookworm-2', await readInventory(root, { kernel: BOOKWORM_KERNEL }));
    // V3: a new advisory for bash (detected by the re-match, no report) and a fix for zlib's
    // open CVE-2099-1002 (the finding stays open: the fixed version is not installed).
    fleet.advance(0.25);
    await fleet.refresh(trackerFeedV3());
    const updates = fleet.store.get<{ n: number }>('SELECT count(*) AS n FROM export_changes')!.n;
    assert.ok(updates >= 2 * 3, `the fix published for zlib updates its open findings in place (${updates} logged)`);

    const report = await exporter.runOnce();
    assert.equal(report.unavailable, null);
    const docs = await allDocs(client, names.findings);
    const find = (host: string, pkg: string, vuln: string) =>
      docs.map(sourceOf).filter((d) => d.host.name === host && d.package.name === pkg && d.vulnerability.id === vuln);
    const resolved = find('bookworm-2', 'libssl3', 'CVE-2099-1001');
    assert.equal(resolved.length, 1);
    assert.equal(resolved[0].patchloop.state, 'resolved');
    assert.equal(resolved[0].patchloop.fixed_at, new Date(Date.parse('2026-11-02T00:00:00Z')).toISOString());
    assert.equal(find('bookworm-1', 'libssl3', 'CVE-2099-1001')[0].patchloop.state, 'open');
    for (const host of ['bookworm-1', 'bookworm-2', 'bookworm-3']) {
      assert.equal(find(host, 'bash', 'CVE-2099-1003')[0]?.patchloop.state, 'open', `${host}: new advisory`);
      assert.equal(find(host, 'zlib1g', 'CVE-2099-1002')[0]?.patchloop.status, 'fixed', `${host}: fix published`);
    }
    assert.equal(exportStatus(fleet.store).backlog.updates, 0, 'consumed in-place updates are dropped');

    const events = (await allDocs(client, names.vulnerabilityEvents)).map(sourceOf);
    assert.equal(events.length, storeFindingEvents());
    const resolvedEvents = events.filter((e) => e.event.action === 'vulnerability-resolved');
    // One event per exposure: openssl's three binaries resolve as one, named by its lead package.
    assert.deepEqual(resolvedEvents.map((e) => `${e.host.name} ${e.package.name}`).sort(), ['bookworm-2 libssl-dev']);

    // Again, and once more after a second rebuild-free run: still exactly once.
    await exporter.runOnce();
    assert.equal(
      (await allDocs(client, names.vulnerabilityEvents)).filter(
        (d) => sourceOf(d).event.action === 'vulnerability-resolved',
      ).length,
      1,
    );
  },
);

/** The store's finding events of a host id, counted by the host that held the id then, and action. */
function eventsOfHolders(hostId: number): Record<string, number> {
  const out: Record<string, number> = {};
  let holder: string | null = null;
  const rows = fleet.store.all<{ id: number; type: string; cause: string | null; count: number }>(
    'SELECT id, type, cause, count FROM events WHERE host_id = ? ORDER BY id DESC',
    hostId,
  );
  for (const r of rows) {
    // Walking back in time: a removal names the host that held the id until then.
    if (r.type === 'removed') holder = r.cause?.replace(/^hostname /, '') ?? null;
    else if (r.type === 'detected' || r.type === 'resolved' || r.type === 'reopened') {
      const key = `${holder ?? fleet.store.get<{ hostname: string }>('SELECT hostname FROM hosts WHERE id = ?', hostId)?.hostname} ${r.type}`;
      out[key] = (out[key] ?? 0) + r.count;
    }
  }
  return out;
}

/** Exported vulnerability events of one host id, counted by host name and action. */
async function exportedEventsByName(hostId: string): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const d of await allDocs(client, names.vulnerabilityEvents)) {
    const e = sourceOf(d);
    if (e.host.id !== hostId) continue;
    const key = `${e.host.name} ${e.event.action?.replace('vulnerability-', '')}`;
    out[key] = (out[key] ?? 0) + 1;
  }
  return out;
}

test(
  'a host that stops reporting is marked stale with its findings; a removed host disappears',
  { timeout: 300_000 },
  async () => {
    fleet.advance(2);
    for (const h of ['bookworm-1', 'bookworm-2', 'alma-1', 'alma-2']) await fleet.report(h);
    await exporter.runOnce();
    let hosts = new Map(
      (await allDocs(client, names.hosts)).map((d) => [sourceOf(d).host.name, sourceOf(d).patchloop.host]),
    );
    assert.equal(hosts.get('bookworm-3')?.state, 'stale');
    assert.equal(hosts.get('bookworm-1')?.state, 'reporting');
    const docs = (await allDocs(client, names.findings)).map(sourceOf);
    const stale = docs.filter((d) => d.host.name === 'bookworm-3');
    assert.ok(stale.length > 0 && stale.every((d) => d.patchloop.state === 'stale'));
    assert.ok(docs.filter((d) => d.host.name === 'bookworm-1').every((d) => d.patchloop.state !== 'stale'));

    // alma-2 and never-1, the last two hosts enrolled, are removed, and a host is enrolled: it
    // gets an id of its own (host ids are never reused). Its documents must not be mistaken for
    // alma-2's, nor alma-2's hundreds of findings be left under alma-2's id.
    const hostId = (name: string) =>
      fleet.store.get<{ id: number }>('SELECT id FROM hosts WHERE hostname = ?', name)?.id;
    const almaId = hostId('alma-2');
    // alma-2 first loses three packages with findings: resolutions on the day of its removal.
    const gone = new Set(
      fleet.store
        .all<{ name: string }>(
          'SELECT DISTINCT n.name FROM findings f JOIN pkg_names n ON n.id = f.name_id WHERE f.host_id = ? AND f.open = 1 AND n.name NOT LIKE ? ORDER BY n.name LIMIT 3',
          almaId!,
          'kernel%',
        )
        .map((r) => r.name),
    );
    await fleet.report('alma-2', { ...fleet.alma, packages: fleet.alma.packages.filter((p) => !gone.has(p.name)) });
    await fleet.removeHost('alma-2');
    await fleet.removeHost('never-1');
    await fleet.enroll('fresh-1', 'web', fleet.bookworm);
    await fleet.report('fresh-1');
    const freshId = hostId('fresh-1')!;
    assert.ok(freshId > almaId!, 'a new id');
    await exporter.runOnce();
    hosts = new Map(
      (await allDocs(client, names.hosts)).map((d) => [sourceOf(d).host.name, sourceOf(d).patchloop.host]),
    );
    assert.equal(hosts.has('alma-2'), false);
    assert.equal(hosts.has('never-1'), false);
    assert.equal(hosts.get('fresh-1')?.state, 'reporting');
    assert.ok((await allDocs(client, names.findings)).some((d) => sourceOf(d).host.name === 'fresh-1'));
    // Events under alma-2's id are alma-2's, those under fresh-1's are fresh-1's.
    const holders = eventsOfHolders(almaId as number);
    assert.deepEqual(Object.keys(holders).sort(), ['alma-2 detected', 'alma-2 resolved']);
    assert.deepEqual(await exportedEventsByName(String(almaId)), holders);
    const freshHolders = eventsOfHolders(freshId);
    assert.deepEqual(Object.keys(freshHolders), ['fresh-1 detected']);
    assert.deepEqual(await exportedEventsByName(String(freshId)), freshHolders);
    // fresh-1's summary of the day counts its own detections, not alma-2's resolutions.
    const now = fleet.server.clock.now();
    const summary = daySummaries(fleet.store, dayOf(now), readHosts(fleet.store, now), now).find(
      (h) => h.host.name === 'fresh-1',
    );
    assert.deepEqual([summary?.detected, summary?.resolved], [freshHolders['fresh-1 detected'], 0]);
    assert.equal((await allDocs(client, names.findings)).filter((d) => sourceOf(d).host.name === 'alma-2').length, 0);
    assert.deepEqual(
      (await allDocs(client, names.findings)).map(identity).sort(),
      storeFindings()
        .map((f) => `${f.host}|${f.pkg}|${f.arch}|${f.vuln}`)
        .sort(),
    );
  },
);

test('a rebuild from scratch gives the same state documents and the same events', { timeout: 300_000 }, async () => {
  const strip = (docs: StoredDoc[]) => docs.map((d) => [d._id, d._source]);
  const findings = strip(await allDocs(client, names.findings));
  const hosts = strip(await allDocs(client, names.hosts));
  const events = (await allDocs(client, names.vulnerabilityEvents)).map((d) => d._id).sort();
  const report = await exporter.rebuild();
  assert.equal(report.rebuilt, true);
  assert.equal(report.unavailable, null);
  assert.deepEqual(strip(await allDocs(client, names.findings)), findings);
  assert.deepEqual(strip(await allDocs(client, names.hosts)), hosts);
  assert.deepEqual((await allDocs(client, names.vulnerabilityEvents)).map((d) => d._id).sort(), events);
  // The rebuilt event stream from nothing: the same ids again.
  const fresh = await exporter.rebuild({ dropEvents: true });
  assert.equal(fresh.bulk.rejected, 0);
  assert.deepEqual((await allDocs(client, names.vulnerabilityEvents)).map((d) => d._id).sort(), events);
  // The rebuilt history gives a removed host's events and a later host's each to their own
  // host, as the incremental export did.
  const almaId = fleet.store.get<{ host_id: number }>(
    "SELECT host_id FROM events WHERE type = 'removed' AND cause = 'hostname alma-2'",
  )!.host_id;
  const freshId = fleet.store.get<{ id: number }>("SELECT id FROM hosts WHERE hostname = 'fresh-1'")!.id;
  for (const id of [almaId, freshId]) assert.deepEqual(await exportedEventsByName(String(id)), eventsOfHolders(id));
});

test(
  'past their retention, resolved findings and those of a host silent too long leave the state index; a rebuild agrees',
  { timeout: 300_000 },
  async () => {
    // 31 days on: everyone reports again but bookworm-3 (silent since day 0).
    fleet.advance(31);
    for (const h of ['bookworm-1', 'bookworm-2', 'alma-1', 'fresh-1']) await fleet.report(h);
    const report = await exporter.runOnce();
    assert.equal(report.unavailable, null);
    assert.ok(report.sent.purged > 0, 'documents were purged');
    const docs = (await allDocs(client, names.findings)).map(sourceOf);
    assert.equal(docs.filter((d) => d.host.name === 'bookworm-3').length, 0, "the silent host's findings are gone");
    assert.equal(
      docs.filter((d) => d.patchloop.state === 'resolved').length,
      0,
      'findings resolved a month ago are gone',
    );
    assert.ok(docs.length > 0 && docs.every((d) => d.patchloop.state === 'open' || d.patchloop.state === 'reopened'));
    // The host document stays (stale) until the host is removed.
    const hosts = new Map(
      (await allDocs(client, names.hosts)).map((d) => [sourceOf(d).host.name, sourceOf(d).patchloop.host]),
    );
    assert.equal(hosts.get('bookworm-3')?.state, 'stale');
    const before = (await allDocs(client, names.findings)).map((d) => [d._id, d._source]);
    await exporter.rebuild();
    assert.deepEqual(
      (await allDocs(client, names.findings)).map((d) => [d._id, d._source]),
      before,
    );
  },
);
