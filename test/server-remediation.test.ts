// The remediation roll-up through the real server on the mixed fleet of real data (Debian bookworm,
// AlmaLinux 9.4, Alpine 3.15): per host, the upgrade of each source package to the highest fixed
// version among its open fixable exposures, as `patchloop scan` of the same root says; fleet-wide,
// one line per source package and version that together close every fixable exposure the overview
// counts; and a report that installs the fixed version closes the line.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { groupExposures } from '../src/core/exposure.ts';
import { distroProfile } from '../src/core/distros.ts';
import type { Finding } from '../src/core/types.ts';
import { compareVersions } from '../src/core/version/index.ts';
import { removeTemporaries, type Report } from './support/estate.ts';
import { sendFullReport, startMixedFleet, type MixedFleet } from './support/mixed-fleet.ts';
import { api } from './support/server.ts';

interface Upgrade {
  source: string;
  fixed_version: string;
  exposures: number;
  vulnerabilities: number;
  known_exploited: number;
  vulnerability_ids: string[];
  summary: string;
}
interface HostUpgrade extends Upgrade {
  installed_versions: string[];
  still_open_without_fix: number;
}
interface Line extends Upgrade {
  hosts: number;
  releases: string[];
}
interface Page<T> {
  total: number;
  total_exact: boolean;
  items: T[];
}

let fleet: MixedFleet;

before(async () => {
  fleet = await startMixedFleet();
});
after(async () => {
  await fleet?.server.close();
  removeTemporaries();
});

async function get<T>(path: string): Promise<T> {
  const r = await api(fleet.server.url, path, { token: fleet.server.adminToken });
  assert.equal(r.status, 200, `${path}: ${r.text}`);
  return r.body as T;
}

async function allLines(query = ''): Promise<Line[]> {
  const out: Line[] = [];
  for (let page = 1; ; page++) {
    const p = await get<Page<Line>>(`/api/v1/remediation?per_page=500&page=${page}${query}`);
    out.push(...p.items);
    if (p.items.length < 500) return out;
  }
}

/**
 * What the scan says each source package must be upgraded to: its exposures (core's counting
 * unit) that are open and fixable, and the highest of their fixed versions in the distribution's order.
 */
function expectedUpgrades(scan: Report): Map<string, { version: string; ids: string[] }> {
  const scheme = distroProfile(scan.host.distro)!.scheme;
  const out = new Map<string, { version: string; ids: string[] }>();
  for (const e of groupExposures(scan.findings as unknown as Finding[])) {
    if (e.dormant || e.lead.status !== 'fixed' || !e.lead.fixed_version) continue;
    const u = out.get(e.source);
    if (!u) out.set(e.source, { version: e.lead.fixed_version, ids: [e.id] });
    else {
      u.ids.push(e.id);
      if (compareVersions(scheme, e.lead.fixed_version, u.version) > 0) u.version = e.lead.fixed_version;
    }
  }
  return out;
}

test('per host: each source package to the version that closes its fixable exposures, as the scan says', async () => {
  for (const h of fleet.hosts) {
    const expected = expectedUpgrades(h.scan);
    assert.ok(expected.size > 0, `${h.name} has fixable exposures`);
    const { items } = await get<{ items: HostUpgrade[] }>(`/api/v1/hosts/${h.id}/remediation`);
    assert.deepEqual(
      items.map((u) => [u.source, u.fixed_version, u.vulnerability_ids]).sort(),
      [...expected].map(([source, u]) => [source, u.version, [...u.ids].sort()]).sort(),
      h.name,
    );
    const fixable = (await get<{ fixable: { total: number } }>(`/api/v1/hosts/${h.id}`)).fixable.total;
    assert.equal(
      items.reduce((n, u) => n + u.exposures, 0),
      fixable,
      `${h.name}: the upgrades close every fixable exposure the host counts`,
    );
    for (const u of items) {
      assert.equal(u.vulnerabilities, u.vulnerability_ids.length);
      assert.equal(u.exposures, u.vulnerabilities, 'one exposure per vulnerability of a source on one host');
      assert.ok(u.installed_versions.length > 0, `${u.source}: the installed version is shown`);
    }
  }
});

test('fleet-wide: one line per source package and version, with its hosts, closing what the overview counts fixable', async () => {
  const lines = await allLines();
  const expected = new Map<string, { hosts: number; ids: Set<string>; exposures: number }>();
  for (const h of fleet.hosts) {
    for (const [source, u] of expectedUpgrades(h.scan)) {
      const key = `${source} ${u.version}`;
      const e = expected.get(key) ?? { hosts: 0, ids: new Set(), exposures: 0 };
      e.hosts++;
      e.exposures += u.ids.length;
      for (const id of u.ids) e.ids.add(id);
      expected.set(key, e);
    }
  }
  assert.deepEqual(
    lines.map((l) => [`${l.source} ${l.fixed_version}`, l.hosts, l.exposures, l.vulnerability_ids]).sort(),
    [...expected].map(([k, e]) => [k, e.hosts, e.exposures, [...e.ids].sort()]).sort(),
  );
  const overview = await get<{ fixable: { total: number } }>('/api/v1/stats/overview');
  assert.equal(
    lines.reduce((n, l) => n + l.exposures, 0),
    overview.fixable.total,
  );
  // Most exposures closed first (no known exploited vulnerability in this DB: KEV is not imported).
  for (let i = 1; i < lines.length; i++) assert.ok(lines[i - 1].exposures >= lines[i].exposures);
  const first = lines[0];
  assert.equal(
    first.summary,
    `upgrade ${first.source} to ${first.fixed_version} on ${first.hosts} host${first.hosts === 1 ? '' : 's'}: closes ${first.vulnerabilities} vulnerabilities`,
  );
  const releases = new Set(lines.flatMap((l) => l.releases));
  assert.deepEqual([...releases].sort(), ['almalinux 9', 'alpine 3.15', 'debian bookworm']);
});

test('filters and sorts: by source name, group, source order; an unknown host is 404', async () => {
  const openssl = await allLines('&search=OPENSSL');
  assert.ok(openssl.length >= 2, 'openssl on Debian and on AlmaLinux');
  assert.ok(openssl.every((l) => l.source.includes('openssl')));
  assert.equal((await allLines('&group=nobody')).length, 0);
  assert.equal((await allLines('&group=fleet')).length, (await allLines()).length);
  const bySource = await allLines('&sort=source&order=asc');
  const names = bySource.map((l) => l.source);
  assert.deepEqual(names, [...names].sort());
  const paged = await get<Page<Line>>('/api/v1/remediation?per_page=2&page=2');
  assert.deepEqual(
    paged.items.map((l) => l.source + l.fixed_version),
    (await allLines()).slice(2, 4).map((l) => l.source + l.fixed_version),
  );
  assert.equal((await get<Page<Line>>('/api/v1/remediation?kev=true')).total, 0);
  const missing = await api(fleet.server.url, '/api/v1/hosts/999999/remediation', { token: fleet.server.adminToken });
  assert.equal(missing.status, 404);
  assert.equal(
    (await api(fleet.server.url, '/api/v1/remediation?sort=nonsense', { token: fleet.server.adminToken })).status,
    400,
  );
});

test('installing the fixed version closes the upgrade: the line goes, the host and the fleet count fewer', async () => {
  const debian = fleet.hosts[0];
  const before = await get<{ items: HostUpgrade[] }>(`/api/v1/hosts/${debian.id}/remediation`);
  const target = before.items[0];
  const linesBefore = await allLines();
  const fixableBefore = (await get<{ fixable: { total: number } }>('/api/v1/stats/overview')).fixable.total;
  // The binaries of that source upgraded to the fixed version, as apt would leave them.
  const packages = debian.snap.packages.map((p) =>
    p.source === target.source ? { ...p, version: target.fixed_version, source_version: target.fixed_version } : p,
  );
  await sendFullReport(fleet.server, debian.token, debian.snap, packages);
  const afterHost = await get<{ items: HostUpgrade[] }>(`/api/v1/hosts/${debian.id}/remediation`);
  assert.ok(!afterHost.items.some((u) => u.source === target.source), `${target.source} needs no upgrade any more`);
  assert.equal(afterHost.items.length, before.items.length - 1);
  const linesAfter = await allLines();
  const key = (l: Line): string => `${l.source} ${l.fixed_version}`;
  assert.deepEqual(
    linesBefore
      .filter((l) => !(l.source === target.source && l.fixed_version === target.fixed_version))
      .map(key)
      .sort(),
    linesAfter.map(key).sort(),
  );
  const fixableAfter = (await get<{ fixable: { total: number } }>('/api/v1/stats/overview')).fixable.total;
  assert.equal(fixableAfter, fixableBefore - target.exposures);
  assert.equal(
    linesAfter.reduce((n, l) => n + l.exposures, 0),
    fixableAfter,
  );
  // Back as it was: the line is there again.
  await sendFullReport(fleet.server, debian.token, debian.snap, debian.snap.packages);
  assert.deepEqual((await allLines()).map(key).sort(), linesBefore.map(key).sort());
});
