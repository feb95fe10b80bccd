// What to fix first, on the server: the mixed fleet of real data (Debian bookworm, AlmaLinux 9.4,
// Alpine 3.15) with CISA's real KEV catalogue, through the real server on loopback. Every open
// exposure carries KEV, EPSS and the priority `patchloop scan` gives the same root; the filters
// (kev, priority, min_epss), the sort by priority, the vulnerabilities list and the overview's
// known-exploited tile count the same exposures. A feed refresh that brings new EPSS scores and a
// KEV catalogue naming one more of the fleet's CVEs ranks the fleet again with no agent
// reporting; and the rule's thresholds come from the server's configuration.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { groupExposures } from '../src/core/exposure.ts';
import type { Finding } from '../src/core/types.ts';
import { writeEpssFile } from './support/epss-generator.ts';
import { FEEDS, removeTemporaries, scanJson, temporary, type Report } from './support/estate.ts';
import { startMixedFleet, type MixedFleet } from './support/mixed-fleet.ts';
import { api, startTestServer, type TestServer } from './support/server.ts';

const KEV_FILE = join(FEEDS, 'kev/known_exploited_vulnerabilities.json');

interface ApiFinding {
  vulnerability: string;
  package: { source: string };
  severity: string;
  kev: { date_added: string } | null;
  epss: { score: number } | null;
  priority: { level: string; reason: string };
}
interface Page<T> {
  total: number;
  total_exact: boolean;
  items: T[];
}
interface Overview {
  open: { total: number };
  known_exploited: {
    open: number;
    vulnerabilities: number;
    hosts: number;
    host_list: { id: number; hostname: string }[];
  };
  priority: Record<'P1' | 'P2' | 'P3' | 'P4', number>;
}
type Scanned = Finding & { priority: { level: string; reason: string } };

let fleet: MixedFleet;
let server: TestServer;
let kevCopy: string;
let epssPath: string;

before(async () => {
  const dir = temporary('priority-feeds');
  // The feeds the server refreshes: the real catalogue now, changed below; EPSS written below.
  kevCopy = join(dir, 'known_exploited_vulnerabilities.json');
  writeFileSync(kevCopy, readFileSync(KEV_FILE));
  epssPath = join(dir, 'epss_scores-current.csv.gz');
  writeEpssFile(epssPath, { rows: 1000, seed: 7 });
  fleet = await startMixedFleet([['kev', [KEV_FILE]]], {
    feeds: {
      refresh_interval: 0,
      sources: [
        { name: 'kev', from: [kevCopy] },
        { name: 'epss', from: [epssPath] },
      ],
    },
  });
  server = fleet.server;
});
after(async () => {
  await server?.close();
  removeTemporaries();
});

async function get<T>(path: string): Promise<T> {
  const r = await api(server.url, path, { token: server.adminToken });
  assert.equal(r.status, 200, `${path}: ${r.text}`);
  return r.body as T;
}

async function all<T>(path: string): Promise<T[]> {
  const out: T[] = [];
  for (let page = 1; ; page++) {
    const p = await get<Page<T>>(`${path}${path.includes('?') ? '&' : '?'}per_page=500&page=${page}`);
    out.push(...p.items);
    if (p.items.length < 500) return out;
  }
}

/** The scan's open exposures (core's counting unit) as `source|vulnerability` → what the lead says. */
function scanExposures(scan: Report): Map<string, string> {
  const out = new Map<string, string>();
  for (const e of groupExposures(scan.findings as unknown as Finding[])) {
    if (e.dormant) continue;
    const lead = e.lead as Scanned;
    out.set(`${e.source}|${e.id}`, `${lead.priority.level} kev=${lead.kev ? 1 : 0} epss=${lead.epss?.score ?? '-'}`);
  }
  return out;
}

/** Everything the server says must agree with `patchloop scan` of each root, now. */
async function assertAgreement(scans: Report[]): Promise<{ p1: number; kev: number }> {
  let p1 = 0;
  let kev = 0;
  const kevHosts: number[] = [];
  for (const [i, h] of fleet.hosts.entries()) {
    const expected = scanExposures(scans[i]);
    const listed = await all<ApiFinding>(`/api/v1/findings?host=${h.id}`);
    const got = new Map(
      listed.map((f) => [
        `${f.package.source}|${f.vulnerability}`,
        `${f.priority.level} kev=${f.kev ? 1 : 0} epss=${f.epss?.score ?? '-'}`,
      ]),
    );
    assert.deepEqual(got, expected, h.name);
    const hostP1 = [...expected.values()].filter((v) => v.startsWith('P1')).length;
    const hostKev = [...expected.values()].filter((v) => v.includes('kev=1')).length;
    assert.equal((await get<Page<unknown>>(`/api/v1/findings?host=${h.id}&priority=P1&per_page=1`)).total, hostP1);
    assert.equal((await get<Page<unknown>>(`/api/v1/findings?host=${h.id}&kev=true&per_page=1`)).total, hostKev);
    p1 += hostP1;
    kev += hostKev;
    if (hostKev > 0) kevHosts.push(h.id);
  }
  const overview = await get<Overview>('/api/v1/stats/overview');
  assert.equal(overview.priority.P1, p1);
  assert.equal(
    overview.priority.P1 + overview.priority.P2 + overview.priority.P3 + overview.priority.P4,
    overview.open.total,
  );
  assert.equal(overview.known_exploited.open, kev);
  assert.equal(overview.known_exploited.hosts, kevHosts.length);
  assert.deepEqual(
    overview.known_exploited.host_list.map((x) => x.id),
    kevHosts,
  );
  // Fleet-wide filters, through both query paths (open by severity, and sorted by host).
  assert.equal((await get<Page<unknown>>('/api/v1/findings?priority=P1&per_page=1')).total, p1);
  assert.equal((await get<Page<unknown>>('/api/v1/findings?kev=true&per_page=1&sort=host')).total, kev);
  // The vulnerabilities list: its P1 exposures add up to the same.
  const vulns = await all<{ id: string; kev: unknown; priority_findings: { P1: number }; open_findings: number }>(
    '/api/v1/vulnerabilities?sort=priority',
  );
  assert.equal(
    vulns.reduce((n, v) => n + v.priority_findings.P1, 0),
    p1,
  );
  assert.equal(
    vulns.filter((v) => v.kev).reduce((n, v) => n + v.open_findings, 0),
    kev,
  );
  return { p1, kev };
}

test('every exposure carries the KEV entry and priority patchloop scan gives it; filters and overview count them', async () => {
  const { p1, kev } = await assertAgreement(fleet.hosts.map((h) => h.scan));
  assert.ok(kev > 0, 'the real catalogue names some of the fleet’s CVEs');
  assert.ok(p1 >= kev, 'known exploited exposures are P1');
  const one = (await get<Page<ApiFinding>>('/api/v1/findings?kev=true&per_page=1')).items[0];
  assert.equal(one.priority.level, 'P1');
  assert.match(one.priority.reason, /^known exploited/);
  assert.match(one.kev!.date_added, /^\d{4}-\d{2}-\d{2}$/);
});

test('sorted by priority: P1 first, in order; the vulnerabilities list by priority with KEV badges', async () => {
  const sorted = await get<Page<ApiFinding>>('/api/v1/findings?sort=priority&per_page=500');
  const levels = sorted.items.map((f) => f.priority.level);
  assert.deepEqual(levels, [...levels].sort());
  assert.equal(levels[0], 'P1');
  const vulns = await get<Page<{ id: string; kev: unknown; priority: { level: string } }>>(
    '/api/v1/vulnerabilities?sort=priority&per_page=500',
  );
  const vl = vulns.items.map((v) => v.priority.level);
  assert.deepEqual(vl, [...vl].sort());
  const kevOnly = await all<{ kev: unknown }>('/api/v1/vulnerabilities?kev=true');
  assert.ok(kevOnly.length > 0 && kevOnly.every((v) => v.kev !== null));
  const detail = await get<{ kev: unknown; priority: { level: string } }>(
    `/api/v1/vulnerabilities/${encodeURIComponent((kevOnly[0] as unknown as { id: string }).id)}`,
  );
  assert.deepEqual([detail.kev !== null, detail.priority.level], [true, 'P1']);
  for (const bad of ['priority=P5', 'min_epss=2', 'min_epss=abc', 'kev=yes', 'sort=nonsense']) {
    const r = await api(server.url, `/api/v1/findings?${bad}`, { token: server.adminToken });
    assert.equal(r.status, 400, bad);
  }
});

test('a feed refresh with new EPSS scores and a KEV entry for one more CVE ranks the fleet again, no agent reporting', async () => {
  const scansBefore = await Promise.all(
    fleet.hosts.map(async (h) => (await get<{ recent_scans?: unknown[] }>(`/api/v1/hosts/${h.id}`)).recent_scans),
  );
  // P3/P4 CVEs of the AlmaLinux host with a fix: one the catalogue will name, two EPSS will score.
  const alma = fleet.hosts[1];
  const plain = await all<ApiFinding>(
    `/api/v1/findings?host=${alma.id}&kev=false&fixable=true&priority=P3,P4&sort=vulnerability&order=asc`,
  );
  assert.ok(plain.length >= 3, 'the AlmaLinux host has low-priority CVEs with a fix');
  const [named, likely, somewhat] = plain;
  const catalogue = JSON.parse(readFileSync(KEV_FILE, 'utf8')) as { count: number; vulnerabilities: object[] };
  catalogue.vulnerabilities.push({
    cveID: named.vulnerability,
    vendorProject: 'AlmaLinux',
    product: named.package.source,
    vulnerabilityName: 'test entry',
    dateAdded: '2026-11-01',
    shortDescription: 'added for the re-rank test',
    requiredAction: 'Apply updates per vendor instructions.',
    dueDate: '2026-11-22',
    knownRansomwareCampaignUse: 'Known',
    notes: '',
  });
  catalogue.count++;
  writeFileSync(kevCopy, JSON.stringify(catalogue));
  writeEpssFile(epssPath, {
    rows: 1000,
    seed: 7,
    known: [
      { cve: likely.vulnerability, score: 0.93, percentile: 0.999 },
      { cve: somewhat.vulnerability, score: 0.2, percentile: 0.95 },
    ],
  });
  const refresh = await api(server.url, '/api/v1/feeds/refresh', { method: 'POST', token: server.adminToken });
  assert.equal(refresh.status, 202, refresh.text);
  await server.running.idle();
  const feeds = await get<{ recent: { outcome: string }[] }>('/api/v1/feeds');
  assert.equal(feeds.recent[0].outcome, 'updated');

  const now = async (id: string): Promise<ApiFinding> =>
    (await get<Page<ApiFinding>>(`/api/v1/findings?host=${alma.id}&vulnerability=${id}`)).items[0];
  const n = await now(named.vulnerability);
  assert.deepEqual([n.priority.level, n.kev !== null], ['P1', true]);
  assert.match(n.priority.reason, /known exploited \(ransomware\)/);
  assert.equal((await now(likely.vulnerability)).epss!.score, 0.93);
  // EPSS ≥ 0.5 raises a level, ≥ 0.1 makes it P2 at least: from P3 or P4, both are P2 now.
  assert.equal((await now(likely.vulnerability)).priority.level, 'P2');
  assert.match((await now(likely.vulnerability)).priority.reason, /EPSS 0\.93 \(top 0\.1 %\)/);
  assert.equal((await now(somewhat.vulnerability)).priority.level, 'P2');

  // No agent reported: the hosts' scans are those from before.
  for (const [i, h] of fleet.hosts.entries())
    assert.deepEqual((await get<{ recent_scans?: unknown[] }>(`/api/v1/hosts/${h.id}`)).recent_scans, scansBefore[i]);
  // And the CLI, scanning the same roots with the DB the server refreshed, agrees again.
  const rescans = await Promise.all(
    fleet.hosts.map((h) => scanJson(h.root, fleet.dataDir, h.kernel ? ['--kernel', h.kernel] : [])),
  );
  await assertAgreement(rescans);
});

test('the rule is configured in server.yaml: a medium exposure as P1 when the configuration says so', async () => {
  await server.close();
  server = await startTestServer(
    null,
    { priority: { severity: { medium: 'P1' }, no_fix_lowers: false } },
    { dataDir: fleet.dataDir },
  );
  const medium = await get<Page<unknown>>('/api/v1/findings?severity=medium&per_page=1');
  assert.ok(medium.total > 0);
  assert.equal(
    (await get<Page<unknown>>('/api/v1/findings?severity=medium&priority=P1&per_page=1')).total,
    medium.total,
  );
  await assert.rejects(
    startTestServer(null, { priority: { kev: 'P9' as 'P1' } }, { dataDir: temporary('bad-rule') }),
    /kev/,
  );
});
