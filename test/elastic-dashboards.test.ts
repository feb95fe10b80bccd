// Every panel of the shipped dashboards (deploy/elastic/opensearch-dashboards.ndjson) runs
// its own aggregation — the search OpenSearch Dashboards builds from the visualization's
// visState and saved search — against the real node after the server's exporter wrote the
// fleet there, and must show the numbers the server's own statistics API gives for the same
// fleet: open and fixable by severity, most vulnerable hosts, most widespread
// vulnerabilities, new vs resolved per day, mean time to remediate, SLA, hosts not
// reporting, reboots pending, open per day, patch runs by outcome and failed runs by host
// (runs the agents reported to the server, and one shipped straight from a host).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SEVERITIES } from '../src/core/types.ts';
import { shipPatchRun } from '../src/export/agent-ship.ts';
import { SearchClient } from '../src/export/client.ts';
import { panelRequest, panelRows, type PanelRow, type RequestOptions } from '../src/export/dashboards/request.ts';
import type { SavedObject } from '../src/export/dashboards/saved-objects.ts';
import { exportNames, type ExportNames } from '../src/export/names.ts';
import { Spool } from '../src/export/spool.ts';
import { readInventory } from '../src/inventory/index.ts';
import { PATCH_RUN_SCHEMA, PatchRunSchema, type PatchRun } from '../src/patch/types.ts';
import { StoreExporter } from '../src/server/export/exporter.ts';
import { BOOKWORM_KERNEL, TestFleet } from './support/export-fleet.ts';
import { trackerFeedV3, copyBookwormRoot, trackerFeedV1, upgradeSource } from './support/fixtures.ts';
import { REPO_ROOT } from './support/paths.ts';
import { api } from './support/server.ts';
import { testClusterUrl, uniquePrefix } from './support/opensearch.ts';

const DAY = 86_400_000;

let fleet: TestFleet;
let client: SearchClient;
let names: ExportNames;
let work: string;
let objects: SavedObject[];
let patterns: Map<string, SavedObject>;
const shippedDirectly: { host: string; outcome: string; day: string }[] = [];
const checked = new Set<string>();

interface Overview {
  hosts: { total: number; reporting: number; stale: number; never_reported: number; reboot_pending: number };
  open: Record<string, number>;
  fixable: Record<string, number>;
  sla: {
    by_severity: Record<string, { open: number; overdue: number; resolved_90d: number; resolved_in_sla_90d: number }>;
  };
  mttr_days: Record<string, number | null>;
  known_exploited: { open: number; hosts: number };
  priority: Record<'P1' | 'P2' | 'P3' | 'P4', number>;
}

function patchRun(id: string, hostname: string, outcome: PatchRun['outcome'], finished: string): PatchRun {
  const failed = outcome === 'failed' || outcome === 'partial';
  return PatchRunSchema.parse({
    schema: PATCH_RUN_SCHEMA,
    id,
    host: { hostname, machine_id: null, root: '/', os: { id: 'debian', version_id: '12', codename: 'bookworm' } },
    policy: { name: 'default', version: 1, group: 'web' },
    backend: 'unattended-upgrades',
    mode: 'collect',
    started_at: new Date(Date.parse(finished) - 90_000).toISOString(),
    finished_at: finished,
    outcome,
    skip_reason: null,
    exit_code: failed ? 1 : 0,
    changes: [
      {
        name: 'libssl3',
        arch: 'amd64',
        action: 'upgrade',
        from: '3.0.19-1~deb12u2',
        to: '3.0.19-1~deb12u3',
        automatic: false,
        ok: !failed,
      },
    ],
    held_back: [],
    errors: failed
      ? [
          {
            kind: 'dpkg',
            where: '/var/log/unattended-upgrades/unattended-upgrades-dpkg.log:12',
            package: 'libssl3',
            message: 'subprocess installed post-installation script returned error exit status 1',
          },
        ]
      : [],
    reboot: {
      required: false,
      because: [],
      packages: [],
      kernel: {
        running: BOOKWORM_KERNEL,
        newest_installed: BOOKWORM_KERNEL,
        installed: [BOOKWORM_KERNEL],
        needrestart_status: 1,
        reboot_needed: false,
      },
      status: 'not_required',
    },
    restarts: { needed: [], restarted: [], failed: [], skipped: [] },
    cves_closed: null,
    findings_before: null,
    findings_after: null,
    warnings: [],
  });
}

before(async () => {
  const url = await testClusterUrl();
  work = mkdtempSync(join(tmpdir(), 'patchloop-dashboards-'));
  // SLA targets short enough for ten days to see findings go overdue and resolutions run late.
  fleet = await TestFleet.start(trackerFeedV1(), { sla_days: { critical: 3, high: 7, medium: 30, low: 60 } });
  client = new SearchClient({ url, retry: { maxRetries: 2, baseDelayMs: 50, maxDelayMs: 200 } });
  names = exportNames(uniquePrefix('panels'));

  // The shipped saved objects, their index patterns pointed at this test's prefix.
  objects = readFileSync(join(REPO_ROOT, 'deploy/elastic/opensearch-dashboards.ndjson'), 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as SavedObject);
  patterns = new Map(
    objects
      .filter((o) => o.type === 'index-pattern')
      .map((o) => [
        o.id,
        {
          ...o,
          attributes: { ...o.attributes, title: String(o.attributes.title).replace(/^patchloop-/, `${names.prefix}-`) },
        },
      ]),
  );

  // Ten days of a small fleet. Day 0: everyone reports.
  await fleet.enroll('bookworm-1', 'web', fleet.bookworm);
  await fleet.enroll('bookworm-2', 'web', fleet.bookworm);
  await fleet.enroll('bookworm-3', 'db', fleet.bookworm, true);
  await fleet.enroll('alma-1', 'db', fleet.alma);
  await fleet.enroll('alma-2', '', fleet.alma, true);
  await fleet.enroll('never-1', 'web', null);
  for (const h of ['bookworm-1', 'bookworm-2', 'bookworm-3', 'alma-1', 'alma-2']) await fleet.report(h);
  const root = copyBookwormRoot();
  upgradeSource(root, 'openssl', '3.0.19-1~deb12u3');
  const upgraded = await readInventory(root, { kernel: BOOKWORM_KERNEL });
  // Day 1: bookworm-2 upgrades openssl (3 resolved); the feed adds bash's CVE and a zlib fix.
  fleet.advance(1.25);
  await fleet.report('bookworm-2', upgraded);
  await fleet.refresh(trackerFeedV3());
  // Day 2: bookworm-2 is rolled back (3 reopened); day 5 it upgrades again (3 resolved).
  fleet.advance(1);
  await fleet.report('bookworm-2', fleet.bookworm);
  fleet.advance(3);
  await fleet.report('bookworm-2', upgraded);
  // Day 10: everyone but bookworm-3 reports; bookworm-1 upgrades openssl at last (resolved
  // after its 7-day SLA); the high findings still open are overdue.
  fleet.advance(5);
  await fleet.report('bookworm-1', upgraded);
  for (const h of ['bookworm-2', 'alma-1', 'alma-2']) await fleet.report(h);
  fleet.advance(0.1);

  const exporter = new StoreExporter(fleet.store, client, {
    names,
    target: `${client.url}|${names.prefix}`,
    retention: { resolved: 30 * DAY, stale: 30 * DAY },
    refresh: true,
  });
  const report = await exporter.runOnce();
  assert.equal(report.unavailable, null);
  assert.equal(report.bulk.rejected, 0);
  assert.ok(report.sent.summaries > 0, "yesterday's host summaries are written");

  // Patch runs the agents report to the server (the exporter takes them from its store).
  const runs: [string, PatchRun['outcome'], string][] = [
    ['bookworm-1', 'success', '2026-11-09T02:10:00.000Z'],
    ['bookworm-1', 'nothing_to_do', '2026-11-10T02:10:00.000Z'],
    ['bookworm-2', 'failed', '2026-11-09T02:20:00.000Z'],
    ['bookworm-2', 'partial', '2026-11-10T02:20:00.000Z'],
    ['alma-1', 'failed', '2026-11-10T03:00:00.000Z'],
    ['alma-1', 'skipped', '2026-11-10T04:00:00.000Z'],
    ['alma-1', 'dry_run', '2026-11-10T03:30:00.000Z'],
  ];
  for (const [i, [host, outcome, at]] of runs.entries()) {
    const r = await api(fleet.server.url, '/api/v1/agent/patch-runs', {
      token: fleet.hosts.get(host)!.token,
      body: patchRun(`run-${i}`, host, outcome, at),
    });
    assert.equal(r.status, 201, r.text);
  }
  const again = await exporter.runOnce();
  assert.equal(again.sent.patchRuns, runs.length - 1, 'every run but the dry run');

  // And one shipped straight from a host (no server), into the same stream.
  const spool = new Spool(join(work, 'spool'));
  const direct = await shipPatchRun(
    client,
    spool,
    names,
    patchRun('direct-1', 'edge-1', 'failed', '2026-11-10T05:00:00.000Z'),
    {
      id: 'edge-1',
      name: 'edge-1',
      os: { id: 'debian', version_id: '12', codename: 'bookworm', pretty_name: 'Debian GNU/Linux 12 (bookworm)' },
      kernel: null,
    },
  );
  assert.equal(direct?.spoolRemaining, 0);
  shippedDirectly.push({ host: 'edge-1', outcome: 'failure', day: '2026-11-10' });
  await client.request({ method: 'POST', path: `/${names.patchEvents}/_refresh` });
});

after(async () => {
  if (client) {
    const accept = [404];
    for (const s of [names.vulnerabilityEvents, names.patchEvents, names.hostSummaries, names.audit])
      await client.request({ method: 'DELETE', path: `/_data_stream/${s}`, accept });
    for (const i of [names.findings, names.hosts]) await client.request({ method: 'DELETE', path: `/${i}`, accept });
    for (const t of Object.values(names.templates))
      await client.request({ method: 'DELETE', path: `/_index_template/${t}`, accept });
    for (const t of Object.values(names.components))
      await client.request({ method: 'DELETE', path: `/_component_template/${t}`, accept });
    await client.close();
  }
  await fleet?.close();
  if (work) rmSync(work, { recursive: true, force: true });
});

const now = (): string => new Date(fleet.server.clock.now()).toISOString();

/** The rows a shipped panel shows, by running its saved object's own search. */
async function panel(id: string, options: Omit<RequestOptions, 'now' | 'timeZone'> = {}): Promise<PanelRow[]> {
  const vis = objects.find((o) => o.type === 'visualization' && o.id === `patchloop-${id}`);
  assert.ok(vis, `no visualization patchloop-${id} in the shipped saved objects`);
  const pattern = patterns.get(vis.references[0].id);
  assert.ok(pattern);
  const request = panelRequest(vis, pattern, { ...options, now: now(), timeZone: 'UTC' });
  const response = await client.request<Record<string, unknown>>({
    method: 'POST',
    path: `/${encodeURIComponent(request.index)}/_search`,
    body: request.body,
  });
  checked.add(vis.id);
  return panelRows(request, response.body);
}

const bySeverity = (rows: PanelRow[], metric = '1'): Record<string, number> =>
  Object.fromEntries(rows.map((r) => [r.keys[0], r.values[metric] as number]));
const nonZero = (counts: Record<string, number>): Record<string, number> =>
  Object.fromEntries(SEVERITIES.filter((s) => counts[s] > 0).map((s) => [s, counts[s]]));

test('open findings by severity and fixable now match the overview', async () => {
  const o = await fleet.get<Overview>('/api/v1/stats/overview');
  assert.ok(o.open.high > 0 && o.open.medium > 0 && o.open.low > 0, JSON.stringify(o.open));
  assert.deepEqual(bySeverity(await panel('open-by-severity')), nonZero(o.open));
  assert.deepEqual(bySeverity(await panel('fixable-now')), nonZero(o.fixable));
});

test('most vulnerable hosts match the hosts list sorted by open findings', async () => {
  const hosts = await fleet.get<{ items: { hostname: string; open: { total: number } }[] }>(
    '/api/v1/hosts?sort=open&per_page=100',
  );
  const expected = hosts.items.filter((h) => h.open.total > 0).map((h) => [h.hostname, h.open.total]);
  const rows = (await panel('most-vulnerable-hosts')).map((r) => [r.keys[0], r.values['1']]);
  assert.equal(rows.length, Math.min(10, expected.length));
  assert.deepEqual(
    rows,
    expected.slice(0, 10).sort((a, b) => Number(b[1]) - Number(a[1]) || String(a[0]).localeCompare(String(b[0]))),
  );
});

test('most widespread vulnerabilities: hosts and findings per vulnerability as the server counts them', async () => {
  const vulns = await fleet.get<{ items: { id: string; open_hosts: number; open_findings: number }[] }>(
    '/api/v1/vulnerabilities?sort=hosts&per_page=500',
  );
  const server = new Map(vulns.items.map((v) => [v.id, v]));
  const rows = await panel('most-widespread-vulnerabilities');
  assert.equal(rows.length, 10);
  for (const r of rows) {
    const v = server.get(r.keys[0]);
    assert.ok(v, r.keys[0]);
    assert.deepEqual([r.values['1'], r.values['2']], [v.open_hosts, v.open_findings], r.keys[0]);
  }
  // The ten shown are the ten most widespread (ties broken either way).
  assert.deepEqual(
    rows.map((r) => r.values['1']),
    vulns.items.slice(0, 10).map((v) => v.open_hosts),
  );
});

test("new vs resolved per day matches the server's trends", async () => {
  const trends = await fleet.get<{ days: { date: string; new: { total: number }; resolved: { total: number } }[] }>(
    '/api/v1/stats/trends?days=14',
  );
  const expected: string[] = [];
  for (const d of trends.days) {
    if (d.new.total > 0) expected.push(`${d.date} new ${d.new.total}`);
    if (d.resolved.total > 0) expected.push(`${d.date} resolved ${d.resolved.total}`);
  }
  assert.ok(expected.some((e) => e.includes('resolved')) && expected.length >= 4, expected.join('\n'));
  const rows = await panel('new-vs-resolved', { timeRange: { from: 'now-13d/d', to: 'now' } });
  const got = rows
    .filter((r) => (r.values['1'] as number) > 0)
    .map((r) => `${r.keys[0].slice(0, 10)} ${r.keys[1]} ${r.values['1']}`);
  assert.deepEqual(got.sort(), expected.sort());
});

test('mean time to remediate and resolutions within SLA (90 days) match the overview', async () => {
  const o = await fleet.get<Overview>('/api/v1/stats/overview');
  const mttr = await panel('mttr-by-severity');
  const resolvedSeverities = SEVERITIES.filter((s) => o.sla.by_severity[s].resolved_90d > 0);
  assert.ok(resolvedSeverities.length > 0);
  assert.deepEqual(mttr.map((r) => r.keys[0]).sort(), [...resolvedSeverities].sort());
  for (const r of mttr) {
    const sev = r.keys[0];
    const days = Math.round(((r.values['1'] as number) / 1e6 / DAY) * 1000) / 1000;
    assert.equal(days, o.mttr_days[sev], `MTTR ${sev}`);
    assert.equal(r.values['2'], o.sla.by_severity[sev].resolved_90d, `resolved ${sev}`);
  }
  const sla = await panel('sla-resolved');
  for (const sev of resolvedSeverities) {
    const s = o.sla.by_severity[sev];
    const cell = (label: string) => sla.find((r) => r.keys[0] === sev && r.keys[1] === label)?.values['1'];
    assert.equal(cell('within SLA'), s.resolved_in_sla_90d, `${sev} within SLA`);
    assert.equal(cell('late'), s.resolved_90d - s.resolved_in_sla_90d, `${sev} late`);
  }
  assert.ok(
    o.sla.by_severity.high.resolved_90d > o.sla.by_severity.high.resolved_in_sla_90d,
    'a late resolution is counted',
  );
});

test('open findings within SLA and overdue match the overview', async () => {
  const o = await fleet.get<Overview>('/api/v1/stats/overview');
  const rows = await panel('sla-open');
  assert.ok(
    SEVERITIES.some((s) => o.sla.by_severity[s].overdue > 0),
    'some findings are overdue',
  );
  for (const sev of SEVERITIES) {
    const s = o.sla.by_severity[sev];
    if (s.open === 0) continue;
    const cell = (label: string) => rows.find((r) => r.keys[0] === sev && r.keys[1] === label)?.values['1'];
    assert.deepEqual([cell('within SLA'), cell('overdue')], [s.open - s.overdue, s.overdue], sev);
  }
});

test('hosts reporting, not reporting and with a reboot pending match the server', async () => {
  const o = await fleet.get<Overview>('/api/v1/stats/overview');
  assert.deepEqual(
    Object.fromEntries((await panel('hosts-reporting')).map((r) => [r.keys[0], r.values['1']])),
    Object.fromEntries(
      [
        ['never', o.hosts.never_reported],
        ['reporting', o.hosts.reporting],
        ['stale', o.hosts.stale],
      ].filter(([, n]) => Number(n) > 0),
    ),
  );
  const stale = await fleet.get<{ items: { hostname: string; last_seen: string }[] }>(
    '/api/v1/hosts?state=stale&per_page=100',
  );
  assert.deepEqual(
    (await panel('hosts-not-reporting')).map((r) => [r.keys[0], new Date(r.values['1'] as number).toISOString()]),
    stale.items.map((h) => [h.hostname, h.last_seen]).sort(),
  );
  const reboot = await fleet.get<{ items: { hostname: string }[] }>('/api/v1/hosts?reboot_pending=true&per_page=100');
  // bookworm-3 and alma-2 said so; the AlmaLinux hosts also run an older kernel than installed.
  assert.ok(o.hosts.reboot_pending >= 2);
  assert.deepEqual(
    (await panel('reboots-pending')).map((r) => r.keys[0]),
    reboot.items.map((h) => h.hostname).sort(),
  );
});

test('open findings per day from the host summaries match the open count the day ended with', async () => {
  const o = await fleet.get<Overview>('/api/v1/stats/overview');
  const total = SEVERITIES.reduce((n, s) => n + o.open[s], 0);
  const yesterday = new Date(fleet.server.clock.now() - DAY).toISOString().slice(0, 10);
  const rows = await panel('open-trend', { timeRange: { from: 'now-13d/d', to: 'now' } });
  assert.deepEqual(
    rows.map((r) => [r.keys[0].slice(0, 10), r.values['1']]),
    [[yesterday, total]],
  );
});

test("patch runs by outcome and failed runs by host match the server's patch-run summary and list", async () => {
  const summary = await fleet.get<{ by_outcome: Record<string, number> }>('/api/v1/patch-runs/summary?days=7');
  const o = summary.by_outcome;
  const expected: Record<string, number> = {
    success: o.success + o.nothing_to_do,
    failure: o.failed + o.partial,
    unknown: o.skipped,
  };
  for (const r of shippedDirectly) expected[r.outcome]++;
  const rows = await panel('patch-runs', { timeRange: { from: 'now-7d', to: 'now' } });
  const got: Record<string, number> = { success: 0, failure: 0, unknown: 0 };
  for (const r of rows) got[r.keys[1]] += r.values['1'] as number;
  assert.deepEqual(got, expected);
  assert.ok(expected.success > 0 && expected.failure > 0 && expected.unknown > 0);

  const failed = await fleet.get<{ items: { host: { hostname: string } }[] }>(
    '/api/v1/patch-runs?outcome=failed,partial&per_page=100',
  );
  const perHost = new Map<string, number>();
  for (const r of [
    ...failed.items.map((x) => x.host.hostname),
    ...shippedDirectly.filter((x) => x.outcome === 'failure').map((x) => x.host),
  ])
    perHost.set(r, (perHost.get(r) ?? 0) + 1);
  assert.deepEqual(
    (await panel('patch-failures')).map((r) => [r.keys[0], r.values['1']]),
    [...perHost].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])),
  );
});

test('excepted findings per exception rule are what the API says each rule holds', async () => {
  const rules = await fleet.get<{ items: { id: number; held: number }[] }>('/api/v1/exceptions');
  assert.deepEqual(
    Object.fromEntries((await panel('excepted')).map((r) => [r.keys[0], r.values['1']])),
    Object.fromEntries(rules.items.filter((r) => r.held > 0).map((r) => [String(r.id), r.held])),
  );
});

test('known exploited, EPSS and priority: the panel counts what the API counts', async () => {
  const o = await fleet.get<Overview>('/api/v1/stats/overview');
  const epss = await fleet.get<{ total: number }>('/api/v1/findings?min_epss=0.1&per_page=1');
  const rows = await panel('exploitation-priority');
  assert.deepEqual(Object.fromEntries(rows.map((r) => [r.keys[0], r.values['1']])), {
    'Known exploited (KEV)': o.known_exploited.open,
    'EPSS 10 % or more': epss.total,
    ...o.priority,
  });
  // Hosts: those with a known exploited finding, as the overview's tile says.
  assert.equal(rows[0].values['2'], o.known_exploited.hosts);
  assert.ok(o.priority.P2 + o.priority.P3 > 0, 'the fleet has findings of several priorities');
});

test('every visualization of the dashboard was checked against the node', () => {
  const all = objects
    .filter((o) => o.type === 'visualization')
    .map((o) => o.id)
    .sort();
  assert.deepEqual([...checked].sort(), all);
});
