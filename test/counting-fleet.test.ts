// One count everywhere, on a mixed fleet of real data: the bookworm host (Debian tracker feed in
// the real schema), an AlmaLinux 9.4 root whose rpm database rpm wrote, booted into its newer
// kernel, against the complete AlmaLinux 9 OSV database, and an Alpine 3.15 root against the
// real secdb. Each root is scanned by `patchloop scan` and reported by the agent's own collector
// to a real server that exports to the real OpenSearch node; the scan's summary, the server's
// host counters, overview, trends and findings totals, and the state index all count the same
// exposures (one vulnerability in one source package of a host). A CVE that only an ALSA
// advisory carries is found by the advisory's id through the API and the CLI.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { cpSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { collectSnapshot } from '../src/agent/collect.ts';
import { packageDigest, REPORT_SCHEMA } from '../src/core/protocol.ts';
import { SEVERITIES } from '../src/core/types.ts';
import { SearchClient } from '../src/export/client.ts';
import { exportNames, type ExportNames } from '../src/export/names.ts';
import { StoreExporter } from '../src/server/export/exporter.ts';
import { runCli } from './support/cli.ts';
import { ESTATE, FEEDS, removeTemporaries, rpmRoot, scanJson, temporary, type Report } from './support/estate.ts';
import { countDocs, removeExport, testClusterUrl, uniquePrefix } from './support/opensearch.ts';
import { REPO_ROOT, SHARED_DATA } from './support/paths.ts';
import { api, enrollTestHost, startTestServer, type TestServer } from './support/server.ts';

const DAY = 86_400_000;
/** The AlmaLinux root runs its newer kernel: the older one's CVEs that the newer fixes are dormant. */
const ALMA_KERNEL = '5.14.0-427.18.1.el9_4.x86_64';

interface FleetHost {
  name: string;
  root: string;
  kernel?: string;
  scan: Report;
  id: number;
}

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

let server: TestServer;
let dataDir: string;
let client: SearchClient;
let names: ExportNames;
const hosts: FleetHost[] = [];

async function get<T>(path: string): Promise<T> {
  const r = await api(server.url, path, { token: server.adminToken });
  assert.equal(r.status, 200, `${path}: ${r.text}`);
  return r.body as T;
}

/** The AlmaLinux root of the estate tests; the Alpine 3.15 root of the Alpine scan tests. */
function alpineRoot(): string {
  const root = temporary('alpine-3.15');
  cpSync(join(ESTATE, 'alpine/etc-3.15'), join(root, 'etc'), { recursive: true });
  mkdirSync(join(root, 'lib/apk/db'), { recursive: true });
  cpSync(join(ESTATE, 'alpine/installed-3.15'), join(root, 'lib/apk/db/installed'));
  return root;
}

before(async () => {
  dataDir = temporary('data-fleet');
  const feeds: [string, string[]][] = [
    ['debian', [join(REPO_ROOT, 'test/fixtures/debian/bookworm-host-tracker.json')]],
    ['almalinux', [join(FEEDS, 'almalinux/osv/almalinux9')]],
    ['alpine', [join(FEEDS, 'alpine/secdb-json'), join(FEEDS, 'alpine/secdb-yaml')]],
  ];
  for (const [source, inputs] of feeds) {
    const r = await runCli([
      'db',
      'update',
      '--source',
      source,
      ...inputs.flatMap((i) => ['--from', i]),
      '--data-dir',
      dataDir,
    ]);
    assert.equal(r.code, 0, r.stderr);
  }
  const roots: Omit<FleetHost, 'scan' | 'id'>[] = [
    { name: 'debian-1', root: join(SHARED_DATA, 'pkgdb/dpkg/bookworm-host'), kernel: '6.1.0-40-amd64' },
    { name: 'alma-1', root: rpmRoot('almalinux-9.4.tsv', 'almalinux-9.4'), kernel: ALMA_KERNEL },
    { name: 'alpine-1', root: alpineRoot() },
  ];
  server = await startTestServer(null, {}, { dataDir });
  for (const r of roots) {
    const scan = await scanJson(r.root, dataDir, r.kernel ? ['--kernel', r.kernel] : []);
    const token = await enrollTestHost(server, r.name, 'fleet');
    // What the agent sends: its own collector's snapshot of the root, as a full report.
    const snap = await collectSnapshot({ root: r.root, kernel: r.kernel, hostname: r.name });
    const body = {
      schema: REPORT_SCHEMA,
      report_id: randomUUID(),
      kind: 'full',
      collected_at: snap.collected_at,
      agent: { version: 'test' },
      host: snap.host,
      digest: packageDigest(snap.packages),
      packages: snap.packages,
      warnings: snap.warnings,
    };
    const sent = await api(server.url, '/api/v1/reports', { token, body, gzip: true });
    assert.equal(sent.status, 200, sent.text);
    const list = await get<Page<{ id: number; hostname: string }>>(`/api/v1/hosts?search=${r.name}`);
    hosts.push({ ...r, scan, id: list.items.find((h) => h.hostname === r.name)!.id });
  }
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
  const exporter = new StoreExporter(server.running.ctx.store, client, {
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
