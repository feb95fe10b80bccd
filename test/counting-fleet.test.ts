// One count everywhere, on a mixed fleet of real data: the bookworm host (Debian tracker feed in
// the real schema), an AlmaLinux 9.4 root whose rpm database rpm wrote, booted into its newer
// kernel, against the complete AlmaLinux 9 OSV database, and an Alpine 3.15 root against the
// real secdb. Each root is scanned by `patchloop scan` and reported by the agent's own collector
// to a real server that exports to the real OpenSearch node; the scan's summary, the server's
// host counters, overview, trends and findings totals, and the state index all count the same
// exposures (one vulnerability in one source package of a host). With CISA's real KEV catalogue
// and an EPSS file imported, the known exploited and P1 counts agree too: the scan's summary, the
// API's filters and overview tiles (which the dashboard shows, test/dashboard-remediation.test.ts)
// and the state index's documents. A CVE that only an ALSA advisory carries is found by the
// advisory's id through the API and the CLI.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PRIORITY_LEVELS, SEVERITIES } from '../src/core/types.ts';
import { SearchClient } from '../src/export/client.ts';
import { OPEN_FINDINGS } from '../src/export/dashboards/panels.ts';
import { panelRequest, panelRows } from '../src/export/dashboards/request.ts';
import { savedObjects } from '../src/export/dashboards/saved-objects.ts';
import { exportNames, type ExportNames } from '../src/export/names.ts';
import { StoreExporter } from '../src/server/export/exporter.ts';
import { runCli } from './support/cli.ts';
import { writeEpssFile } from './support/epss-generator.ts';
import { FEEDS, removeTemporaries, temporary, type Report } from './support/estate.ts';
import { ALMA_KERNEL, startMixedFleet, type FleetHost } from './support/mixed-fleet.ts';
import { countDocs, removeExport, testClusterUrl, uniquePrefix } from './support/opensearch.ts';
import { REPO_ROOT } from './support/paths.ts';
import { api, type TestServer } from './support/server.ts';

const DAY = 86_400_000;

type Counts = Record<string, number> & { total: number };
interface HostDetail {
  open: Counts;
  fixable: Counts;
  kernel_not_running_findings: number;
}
interface Page<T> {
  total: number;
  total_exact: boolean;
  items: T[];
}
/** The scan summary with what enrichment adds (KEV, priority). */
type Summary = Report['summary'] & { by_priority: Record<string, number>; known_exploited: number };

let server: TestServer;
let dataDir: string;
let client: SearchClient;
let names: ExportNames;
let hosts: FleetHost[] = [];
let exporter: StoreExporter;
let kevCopy: string;
const KEV_FILE = join(FEEDS, 'kev/known_exploited_vulnerabilities.json');

async function get<T>(path: string): Promise<T> {
  const r = await api(server.url, path, { token: server.adminToken });
  assert.equal(r.status, 200, `${path}: ${r.text}`);
  return r.body as T;
}

/**
 * An EPSS file scoring the Debian host's CVEs (from its tracker feed) across the range, so that
 * EPSS raises some priorities; the real KEV catalogue names some of the fleet's CVEs.
 */
function epssFile(): string {
  const tracker = JSON.parse(
    readFileSync(join(REPO_ROOT, 'test/fixtures/debian/bookworm-host-tracker.json'), 'utf8'),
  ) as Record<string, Record<string, unknown>>;
  const cves = [...new Set(Object.values(tracker).flatMap((byCve) => Object.keys(byCve)))]
    .filter((id) => id.startsWith('CVE-'))
    .sort();
  const scores = [0.93, 0.3, 0.05, 0.001];
  return writeEpssFile(join(temporary('epss'), 'epss_scores-current.csv.gz'), {
    rows: 2000,
    known: cves.map((cve, i) => ({ cve, score: scores[i % 4], percentile: 1 - (i % 4) / 10 })),
  });
}

before(async () => {
  // The catalogue the server refreshes (changed by the last test): the real one to begin with.
  kevCopy = join(temporary('kev'), 'known_exploited_vulnerabilities.json');
  writeFileSync(kevCopy, readFileSync(KEV_FILE));
  const fleet = await startMixedFleet(
    [
      ['kev', [KEV_FILE]],
      ['epss', [epssFile()]],
    ],
    { feeds: { refresh_interval: 0, sources: [{ name: 'kev', from: [kevCopy] }] } },
  );
  ({ server, dataDir, hosts } = fleet);
  client = new SearchClient({ url: await testClusterUrl(), bulk: { maxDocs: 500 } });
  names = exportNames(uniquePrefix('counting'));
});

after(async () => {
  if (client) {
    await removeExport(client, names);
    await client.close();
  }
  await server?.close();
  removeTemporaries();
});

test('the fleet has exposures of every kind: binaries of one source, dormant kernels, an ALSA-carried CVE', () => {
  const [debian, alma, alpine] = hosts;
  assert.ok(debian.scan.summary.findings > debian.scan.summary.total, 'Debian: several binaries of one source');
  assert.ok(
    alma.scan.summary.findings > alma.scan.summary.total,
    'AlmaLinux: kernel, kernel-core, kernel-modules-core',
  );
  assert.ok(alma.scan.summary.kernel_not_running > 0, 'AlmaLinux: CVEs only in the kernel that is not running');
  assert.ok(alpine.scan.summary.findings > alpine.scan.summary.total, 'Alpine: xz and xz-libs');
  assert.ok(alma.scan.findings.some((f) => f.id.startsWith('CVE-') && f.advisory_ids.includes('ALSA-2024:2779')));
  assert.ok(
    !alma.scan.findings.some((f) => f.id.startsWith('ALSA-')),
    'no finding is named by an advisory that names CVEs',
  );
});

test('the scan summary and the server agree host by host: counters, findings totals, the export, dormant kernels', async () => {
  for (const h of hosts) {
    const s = h.scan.summary;
    const detail = await get<HostDetail>(`/api/v1/hosts/${h.id}`);
    for (const sev of SEVERITIES) assert.equal(detail.open[sev], s.by_severity[sev], `${h.name} ${sev}`);
    assert.deepEqual(
      [detail.open.total, detail.fixable.total, detail.kernel_not_running_findings],
      [s.total, s.by_status.fixed, s.kernel_not_running],
      h.name,
    );
    const listed = await get<Page<unknown>>(`/api/v1/findings?host=${h.id}&per_page=1`);
    assert.deepEqual([listed.total, listed.total_exact], [s.total, true], h.name);
    for (const sev of SEVERITIES.filter((x) => s.by_severity[x] > 0)) {
      assert.equal(
        (await get<Page<unknown>>(`/api/v1/findings?host=${h.id}&severity=${sev}&per_page=1`)).total,
        s.by_severity[sev],
        `${h.name} ${sev}`,
      );
    }
    // The export: a row per binary package, as many as the scan's findings behind its count.
    const rows = (
      await api(server.url, `/api/v1/findings/export?format=ndjson&host=${h.id}`, { token: server.adminToken })
    ).text
      .trim()
      .split('\n')
      .filter(Boolean);
    const exposures = new Set(rows.map((l) => (JSON.parse(l) as { exposure: string }).exposure));
    assert.deepEqual([rows.length, exposures.size], [s.findings, s.total], h.name);
  }
});

test('fleet-wide: overview, findings totals (both query paths) and trends count what the scans count', async () => {
  const sum = (f: (r: Report) => number) => hosts.reduce((n, h) => n + f(h.scan), 0);
  const overview = await get<{ open: Counts; fixable: Counts; sla: { by_severity: Record<string, { open: number }> } }>(
    '/api/v1/stats/overview',
  );
  assert.equal(
    overview.open.total,
    sum((r) => r.summary.total),
  );
  assert.equal(
    overview.fixable.total,
    sum((r) => r.summary.by_status.fixed),
  );
  for (const sev of SEVERITIES) {
    assert.equal(
      overview.open[sev],
      sum((r) => r.summary.by_severity[sev]),
      sev,
    );
    assert.equal(overview.sla.by_severity[sev].open, overview.open[sev], sev);
  }
  // Counted from the host counters (the default page), and from the rows (sorted by host).
  assert.equal((await get<Page<unknown>>('/api/v1/findings?per_page=1')).total, overview.open.total);
  assert.equal((await get<Page<unknown>>('/api/v1/findings?per_page=1&sort=host')).total, overview.open.total);
  const trends = await get<{ days: { open: Counts }[] }>('/api/v1/stats/trends?days=2');
  assert.equal(trends.days.at(-1)!.open.total, overview.open.total);
  let listed = 0;
  for (let page = 1; ; page++) {
    const vulns = await get<Page<{ open_findings: number }>>(`/api/v1/vulnerabilities?per_page=500&page=${page}`);
    listed += vulns.items.reduce((n, v) => n + v.open_findings, 0);
    if (vulns.items.length < 500) break;
  }
  assert.equal(listed, overview.open.total, 'the vulnerabilities list counts the same exposures');
});

test('the OpenSearch state index: one counted document per exposure, as the dashboards count them', async () => {
  exporter = new StoreExporter(server.running.ctx.store, client, {
    names,
    target: `${client.url}|${names.prefix}`,
    retention: { resolved: 30 * DAY, stale: 30 * DAY },
    batch: 1000,
    hostsPerStep: 10,
    refresh: true,
  });
  const run = await exporter.runOnce();
  assert.equal(run.unavailable, null);
  const { COUNTED, OPEN_FINDINGS } = await import('../src/export/dashboards/panels.ts');
  const count = (q: string) => countDocs(client, names.findings, { query_string: { query: q } });
  for (const h of hosts) {
    const s = h.scan.summary;
    assert.equal(await count(`host.id:"${h.id}" AND ${OPEN_FINDINGS}`), s.total, h.name);
    assert.equal(
      await count(`host.id:"${h.id}" AND patchloop.state:(open OR reopened)`),
      s.findings,
      `${h.name}: a document per binary package`,
    );
    for (const sev of SEVERITIES.filter((x) => s.by_severity[x] > 0)) {
      assert.equal(
        await count(`host.id:"${h.id}" AND vulnerability.severity:${sev} AND ${OPEN_FINDINGS}`),
        s.by_severity[sev],
        `${h.name} ${sev}`,
      );
    }
    assert.equal(
      await count(`host.id:"${h.id}" AND patchloop.status:fixed AND ${OPEN_FINDINGS}`),
      s.by_status.fixed,
      h.name,
    );
  }
  // The event stream: one detection per exposure, as the server's history counts them.
  const detected = await countDocs(client, names.vulnerabilityEvents, {
    query_string: { query: `event.action:"vulnerability-detected" AND ${COUNTED}` },
  });
  assert.equal(
    detected,
    hosts.reduce((n, h) => n + h.scan.summary.total, 0),
  );
});

test('known exploited and by priority: the scan summary, the API and the state index count the same exposures', async () => {
  const sum = (f: (s: Summary) => number) => hosts.reduce((n, h) => n + f(h.scan.summary as Summary), 0);
  const kev = sum((s) => s.known_exploited);
  assert.ok(kev > 0, 'the real catalogue names some of the fleet’s CVEs');
  assert.ok(sum((s) => s.by_priority.P1) > kev, 'EPSS and severities make more P1 than the KEV ones');
  const overview = await get<{
    known_exploited: { open: number; hosts: number };
    priority: Record<string, number>;
  }>('/api/v1/stats/overview');
  assert.equal(overview.known_exploited.open, kev);
  assert.equal(
    overview.known_exploited.hosts,
    hosts.filter((h) => (h.scan.summary as Summary).known_exploited > 0).length,
  );
  const count = (q: string) => countDocs(client, names.findings, { query_string: { query: q } });
  for (const p of PRIORITY_LEVELS) {
    assert.equal(
      overview.priority[p],
      sum((s) => s.by_priority[p]),
      p,
    );
    assert.equal(
      await count(`patchloop.priority.level:${p} AND ${OPEN_FINDINGS}`),
      overview.priority[p],
      `state index ${p}`,
    );
  }
  assert.equal(await count(`patchloop.known_exploited:true AND ${OPEN_FINDINGS}`), kev, 'state index KEV');
  for (const h of hosts) {
    const s = h.scan.summary as Summary;
    assert.equal(
      (await get<Page<unknown>>(`/api/v1/findings?host=${h.id}&kev=true&per_page=1`)).total,
      s.known_exploited,
    );
    assert.equal(
      await count(`host.id:"${h.id}" AND patchloop.known_exploited:true AND ${OPEN_FINDINGS}`),
      s.known_exploited,
      h.name,
    );
    for (const p of PRIORITY_LEVELS) {
      assert.equal(
        (await get<Page<unknown>>(`/api/v1/findings?host=${h.id}&priority=${p}&per_page=1`)).total,
        s.by_priority[p],
        `${h.name} ${p}`,
      );
      assert.equal(
        await count(`host.id:"${h.id}" AND patchloop.priority.level:${p} AND ${OPEN_FINDINGS}`),
        s.by_priority[p],
        `${h.name} ${p} in the state index`,
      );
    }
  }
  // The dashboards' known exploited and priority panel, its own search run on the node.
  const objects = savedObjects('opensearch-dashboards', names);
  const vis = objects.find((o) => o.type === 'visualization' && o.id.endsWith('-exploitation-priority'))!;
  const pattern = objects.find((o) => o.id === vis.references[0].id)!;
  const request = panelRequest(vis, pattern, { timeZone: 'UTC' });
  const response = await client.request<Record<string, unknown>>({
    method: 'POST',
    path: `/${encodeURIComponent(request.index)}/_search`,
    body: request.body,
  });
  const rows = panelRows(request, response.body);
  assert.deepEqual(
    Object.fromEntries(rows.filter((r) => r.keys[0] !== 'EPSS 10 % or more').map((r) => [r.keys[0], r.values['1']])),
    { 'Known exploited (KEV)': kev, ...overview.priority },
  );
  assert.equal(rows[0].values['2'], overview.known_exploited.hosts);
  assert.equal(
    rows.find((r) => r.keys[0] === 'EPSS 10 % or more')!.values['1'],
    (await get<Page<unknown>>('/api/v1/findings?min_epss=0.1&per_page=1')).total,
  );
  // The remediation roll-up closes every fixable exposure once.
  let closed = 0;
  for (let page = 1; ; page++) {
    const lines = await get<Page<{ exposures: number }>>(`/api/v1/remediation?per_page=500&page=${page}`);
    closed += lines.items.reduce((n, l) => n + l.exposures, 0);
    if (lines.items.length < 500) break;
  }
  assert.equal(
    closed,
    sum((s) => s.by_status.fixed),
  );
});

test('remediation: each upgrade the CLI names (scan --group-by fix) is the server’s for the host, with what it closes', async () => {
  for (const h of hosts) {
    const cli = await runCli([
      'scan',
      '--root',
      h.root,
      ...(h.kernel ? ['--kernel', h.kernel] : []),
      '--data-dir',
      dataDir,
      '--format',
      'table',
      '--group-by',
      'fix',
    ]);
    assert.equal(cli.code, 0, cli.stderr);
    // The first line of each source: its highest fixed version, which closes all the others do.
    const fromCli = [
      ...cli.stdout.matchAll(/upgrade (\S+) to (\S+): closes (\d+) CVEs?(?: \((\d+) known exploited\))?/g),
    ]
      .map((m) => `${m[1]} ${m[2]} ${m[3]} ${m[4] ?? 0}`)
      .sort();
    const api = await get<{
      items: { source: string; fixed_version: string; vulnerabilities: number; known_exploited: number }[];
    }>(`/api/v1/hosts/${h.id}/remediation`);
    assert.ok(fromCli.length > 0, h.name);
    assert.deepEqual(
      fromCli,
      api.items.map((u) => `${u.source} ${u.fixed_version} ${u.vulnerabilities} ${u.known_exploited}`).sort(),
      h.name,
    );
  }
});

test('a CVE an ALSA advisory carries is found by its CVE and by the advisory, through the API and the CLI', async () => {
  const alma = hosts[1];
  const carried = [
    ...new Set(alma.scan.findings.filter((f) => f.advisory_ids.includes('ALSA-2024:2779')).map((f) => f.id)),
  ].sort();
  assert.ok(carried.includes('CVE-2024-27983'), carried.join(' '));

  const cli = await runCli([
    'scan',
    '--root',
    alma.root,
    '--kernel',
    ALMA_KERNEL,
    '--data-dir',
    dataDir,
    '--format',
    'json',
    '--vuln',
    'ALSA-2024:2779',
  ]);
  assert.equal(cli.code, 0, cli.stderr);
  const byAdvisory = JSON.parse(cli.stdout) as Report;
  assert.deepEqual([...new Set(byAdvisory.findings.map((f) => f.id))].sort(), carried);

  type F = {
    vulnerability: string;
    aliases: string[];
    advisory_ids: string[];
    host: { id: number };
    packages: { name: string }[];
  };
  const byCve = await get<Page<F>>('/api/v1/findings?vulnerability=CVE-2024-27983');
  assert.deepEqual(
    byCve.items.map((f) => [f.host.id, f.vulnerability, f.packages.map((p) => p.name)]),
    [[alma.id, 'CVE-2024-27983', ['nodejs', 'npm']]],
  );
  assert.ok(
    byCve.items[0].aliases.includes('ALSA-2024:2779') && byCve.items[0].advisory_ids.includes('ALSA-2024:2779'),
  );
  const viaAdvisory = await get<Page<F>>('/api/v1/findings?vulnerability=alsa-2024:2779&per_page=100');
  assert.deepEqual([...new Set(viaAdvisory.items.map((f) => f.vulnerability))].sort(), carried);
  assert.equal(viaAdvisory.total, byAdvisory.summary.total);

  const search = await get<Page<{ id: string; aliases: string[] }>>(
    '/api/v1/vulnerabilities?search=ALSA-2024:2779&per_page=100',
  );
  assert.deepEqual(search.items.map((v) => v.id).sort(), carried);
  const detail = await get<{ id: string; vulnerabilities: string[]; open_hosts: number; open_findings: number }>(
    '/api/v1/vulnerabilities/ALSA-2024:2779',
  );
  assert.deepEqual(
    [detail.id, detail.vulnerabilities, detail.open_hosts, detail.open_findings],
    ['ALSA-2024:2779', carried, 1, carried.length],
  );
  const one = await get<{ id: string; aliases: string[] }>('/api/v1/vulnerabilities/CVE-2024-27983');
  assert.ok(one.aliases.includes('ALSA-2024:2779'), one.aliases.join(' '));

  const csv = (
    await api(server.url, '/api/v1/findings/export?format=csv&vulnerability=CVE-2024-27983', {
      token: server.adminToken,
    })
  ).text
    .trim()
    .split('\r\n');
  const header = csv[0].split(',');
  assert.deepEqual(
    csv
      .slice(1)
      .map((l) => l.split(',')[header.indexOf('package')])
      .sort(),
    ['nodejs', 'npm'],
  );
  assert.ok(csv.slice(1).every((l) => l.split(',')[header.indexOf('aliases')].split(' ').includes('ALSA-2024:2779')));
});

test('a KEV refresh on the server re-ranks the state index with no report: the next export writes the findings again', async () => {
  // A CVE of the Debian host's that the catalogue does not name, added to it.
  const debian = hosts[0];
  const plain = (await get<Page<{ vulnerability: string }>>(`/api/v1/findings?host=${debian.id}&kev=false&per_page=1`))
    .items[0];
  const catalogue = JSON.parse(readFileSync(KEV_FILE, 'utf8')) as { count: number; vulnerabilities: object[] };
  catalogue.vulnerabilities.push({
    cveID: plain.vulnerability,
    vendorProject: 'Debian',
    product: 'test',
    vulnerabilityName: 'test entry',
    dateAdded: '2026-11-01',
    shortDescription: 'added for the re-export test',
    requiredAction: 'Apply updates per vendor instructions.',
    dueDate: '2026-11-22',
    knownRansomwareCampaignUse: 'Unknown',
    notes: '',
  });
  catalogue.count++;
  writeFileSync(kevCopy, JSON.stringify(catalogue));
  const before = await get<{ known_exploited: { open: number }; priority: Record<string, number> }>(
    '/api/v1/stats/overview',
  );
  const refresh = await api(server.url, '/api/v1/feeds/refresh', { method: 'POST', token: server.adminToken });
  assert.equal(refresh.status, 202, refresh.text);
  await server.running.idle();
  const after = await get<{ known_exploited: { open: number }; priority: Record<string, number> }>(
    '/api/v1/stats/overview',
  );
  assert.ok(after.known_exploited.open > before.known_exploited.open, 'the new entry counts');
  const run = await exporter.runOnce();
  assert.equal(run.unavailable, null);
  const count = (q: string) => countDocs(client, names.findings, { query_string: { query: q } });
  assert.equal(await count(`patchloop.known_exploited:true AND ${OPEN_FINDINGS}`), after.known_exploited.open);
  for (const p of PRIORITY_LEVELS)
    assert.equal(await count(`patchloop.priority.level:${p} AND ${OPEN_FINDINGS}`), after.priority[p], p);
  assert.equal(
    await count(`vulnerability.id:"${plain.vulnerability}" AND patchloop.known_exploited:true AND ${OPEN_FINDINGS}`),
    (await get<Page<unknown>>(`/api/v1/findings?vulnerability=${plain.vulnerability}&per_page=1`)).total,
  );
});
