// Read side for remediation: what to upgrade, and what each upgrade closes. "Upgrade openssl to
// 3.0.17-1~deb12u3 on 212 hosts: closes 9 CVEs (2 known exploited)". Counted in exposures (the
// counting unit, core/exposure.ts): one per host, vulnerability and source package.
//
// A host's upgrade of one source package goes to the highest fixed version among its open
// fixable exposures of that source (in its distribution's version order): that one version
// closes all of them. Fleet-wide, hosts going to the same version of the same source are one
// line of the roll-up.
import type { z } from 'zod';
import { distroProfile } from '../../core/distros.ts';
import { SEVERITIES, type Severity } from '../../core/types.ts';
import { compareVersions } from '../../core/version/index.ts';
import type { HostRemediationSchema, RemediationQuerySchema, RemediationSchema } from '../api/remediation-schemas.ts';
import type { Store } from '../store/store.ts';
import { COUNT_CAP, type Page } from './common.ts';
import { Derived, yieldToEventLoop } from './derived.ts';

export type Remediation = z.infer<typeof RemediationSchema>;
export type HostRemediation = z.infer<typeof HostRemediationSchema>;
type Query = z.infer<typeof RemediationQuerySchema>;

/** What the roll-up needs to know of a vulnerability beyond the store: whether it is known exploited. */
export interface VulnFacts {
  knownExploited(vulnId: number): boolean;
  /** Changes when what knownExploited says may have changed (a refresh). */
  readonly generation: number;
}

/** One source package's upgrade on one host, while its exposures are read. */
interface HostUpgrade {
  srcId: number;
  version: string;
  scheme: string | undefined;
  vulnIds: number[];
  severity: number;
}

/** One line of the fleet roll-up, while it is built. */
interface Line {
  srcId: number;
  version: string;
  releases: Set<string>;
  hosts: number;
  exposures: number;
  vulnIds: Set<number>;
  severity: number;
}

// Comparisons remembered: a fleet compares the same few fixed versions of a source over and over.
const compared = new Map<string, boolean>();

/** Whether `a` is newer than `b` in the host's scheme; text order when a version does not parse. */
function newer(scheme: string | undefined, a: string, b: string): boolean {
  const key = `${scheme}\u0000${a}\u0000${b}`;
  let out = compared.get(key);
  if (out === undefined) {
    out = a > b;
    if (scheme === 'deb' || scheme === 'rpm' || scheme === 'apk') {
      try {
        out = compareVersions(scheme, a, b) > 0;
      } catch {
        // An unparsable version from a feed: text order keeps the choice stable.
      }
    }
    if (compared.size >= 100_000) compared.clear();
    compared.set(key, out);
  }
  return out;
}

interface HostInfo {
  scheme: string | undefined;
  release: string;
}

function hostInfos(store: Store, group: string | undefined): Map<number, HostInfo> {
  const rows = store.all<{ id: number; distro: string | null; release: string | null }>(
    `SELECT id, distro, release FROM hosts${group === undefined ? '' : ' WHERE grp = ?'}`,
    ...(group === undefined ? [] : [group]),
  );
  return new Map(
    rows.map((r) => [
      r.id,
      {
        scheme: r.distro ? distroProfile(r.distro)?.scheme : undefined,
        release: [r.distro, r.release].filter(Boolean).join(' '),
      },
    ]),
  );
}

/**
 * Folds one host's open fixable exposures (host_id, src_id, vuln_id, fixed version, severity)
 * into upgrades per source package.
 */
function upgradesOf(
  scheme: string | undefined,
  rows: Iterable<{ src_id: number; vuln_id: number; fixed: string; severity: number }>,
): Map<number, HostUpgrade> {
  const out = new Map<number, HostUpgrade>();
  for (const r of rows) {
    const u = out.get(r.src_id);
    if (!u) {
      out.set(r.src_id, { srcId: r.src_id, version: r.fixed, scheme, vulnIds: [r.vuln_id], severity: r.severity });
      continue;
    }
    u.vulnIds.push(r.vuln_id);
    if (r.severity < u.severity) u.severity = r.severity;
    if (newer(scheme, r.fixed, u.version)) u.version = r.fixed;
  }
  return out;
}

/** Hosts whose exposures are read at once (one query, rows in memory only for them). */
const HOSTS_PER_READ = 200;

// The fleet-wide roll-up (derived.ts: read in pieces, kept while the store is unchanged).
const fleetRollUp = new WeakMap<Store, Derived<Line[]>>();

/** The roll-up of every host (or of one group's hosts), one line per source package and version. */
function rollUp(store: Store, group: string | undefined): Promise<Line[]> {
  if (group !== undefined) return deriveRollUp(store, group);
  let d = fleetRollUp.get(store);
  if (!d) fleetRollUp.set(store, (d = new Derived(store, () => deriveRollUp(store, undefined))));
  return d.get();
}

async function deriveRollUp(store: Store, group: string | undefined): Promise<Line[]> {
  const hosts = hostInfos(store, group);
  const lines = new Map<string, Line>();
  const fold = (hostId: number, rows: { src_id: number; vuln_id: number; fixed: string; severity: number }[]): void => {
    const host = hosts.get(hostId);
    if (!host) return;
    for (const u of upgradesOf(host.scheme, rows).values()) {
      const key = `${u.srcId}\u0000${u.version}`;
      let line = lines.get(key);
      if (!line) {
        line = {
          srcId: u.srcId,
          version: u.version,
          releases: new Set(),
          hosts: 0,
          exposures: 0,
          vulnIds: new Set(),
          severity: 99,
        };
        lines.set(key, line);
      }
      line.hosts++;
      line.exposures += u.vulnIds.length;
      line.releases.add(host.release);
      for (const v of u.vulnIds) line.vulnIds.add(v);
      if (u.severity < line.severity) line.severity = u.severity;
    }
  };
  // Hosts in pieces along the primary key (host, vulnerability, source): a host's exposures are
  // adjacent, folded when the next host starts. Exposures an exception holds are out of the open
  // counts, and out of what there is to do.
  // A range of the primary key per piece (a list of ids would make SQLite scan the table for each).
  // One group's hosts through the hosts' group index, each host's exposures by the primary key.
  const stmt = store.stmt(
    group === undefined
      ? `SELECT host_id, src_id, vuln_id, detail_id, severity FROM exposures
         WHERE host_id BETWEEN ? AND ? AND +open = 1 AND +fixable = 1 AND exception_id IS NULL`
      : `SELECT e.host_id, e.src_id, e.vuln_id, e.detail_id, e.severity FROM hosts h JOIN exposures e ON e.host_id = h.id
         WHERE h.id BETWEEN ? AND ? AND h.grp = ? AND +e.open = 1 AND +e.fixable = 1 AND e.exception_id IS NULL`,
  );
  stmt.setReturnArrays(true);
  const ids = [...hosts.keys()].sort((a, b) => a - b);
  for (let i = 0; i < ids.length; i += HOSTS_PER_READ) {
    let current = -1;
    let rows: { src_id: number; vuln_id: number; fixed: string; severity: number }[] = [];
    const last = ids[Math.min(i + HOSTS_PER_READ, ids.length) - 1];
    const params = group === undefined ? [ids[i], last] : [ids[i], last, group];
    for (const r of stmt.all(...params) as unknown as number[][]) {
      const [hostId, srcId, vulnId, detailId, severity] = r;
      if (hostId !== current) {
        if (rows.length) fold(current, rows);
        current = hostId;
        rows = [];
      }
      const fixed = store.interner.detail(detailId).fixed_version;
      if (fixed) rows.push({ src_id: srcId, vuln_id: vulnId, fixed, severity });
    }
    if (rows.length) fold(current, rows);
    await yieldToEventLoop();
  }
  return [...lines.values()];
}

const severityOf = (i: number): Severity => SEVERITIES[Math.min(i, SEVERITIES.length - 1)];

/** The line in words, as management reads it. */
export function remediationSummary(r: {
  source: string;
  fixed_version: string;
  hosts?: number;
  vulnerabilities: number;
  known_exploited: number;
}): string {
  const on = r.hosts === undefined ? '' : ` on ${r.hosts} host${r.hosts === 1 ? '' : 's'}`;
  const vulns = `${r.vulnerabilities} vulnerabilit${r.vulnerabilities === 1 ? 'y' : 'ies'}`;
  const kev = r.known_exploited ? ` (${r.known_exploited} known exploited)` : '';
  return `upgrade ${r.source} to ${r.fixed_version}${on}: closes ${vulns}${kev}`;
}

function toRemediation(store: Store, facts: VulnFacts, line: Line): Remediation {
  const ids = [...line.vulnIds].map((id) => store.interner.vuln(id)).sort();
  const source = store.interner.source(line.srcId);
  const kev = [...line.vulnIds].filter((id) => facts.knownExploited(id)).length;
  const base = {
    source,
    fixed_version: line.version,
    releases: [...line.releases].filter(Boolean).sort(),
    hosts: line.hosts,
    exposures: line.exposures,
    vulnerabilities: ids.length,
    known_exploited: kev,
    severity: severityOf(line.severity),
    vulnerability_ids: ids,
  };
  return { ...base, summary: remediationSummary(base) };
}

const SORTS: Record<Query['sort'], (a: Remediation, b: Remediation) => number> = {
  // What closes the most that matters: known exploited first, then exposures closed, hosts.
  impact: (a, b) =>
    b.known_exploited - a.known_exploited ||
    b.exposures - a.exposures ||
    b.hosts - a.hosts ||
    bySource(a, b) ||
    byVersion(a, b),
  hosts: (a, b) => b.hosts - a.hosts || b.exposures - a.exposures || bySource(a, b) || byVersion(a, b),
  exposures: (a, b) => b.exposures - a.exposures || b.hosts - a.hosts || bySource(a, b) || byVersion(a, b),
  known_exploited: (a, b) => b.known_exploited - a.known_exploited || b.exposures - a.exposures || bySource(a, b),
  severity: (a, b) =>
    SEVERITIES.indexOf(a.severity as Severity) - SEVERITIES.indexOf(b.severity as Severity) ||
    b.exposures - a.exposures ||
    bySource(a, b),
  source: (a, b) => bySource(a, b) || byVersion(a, b),
};

/** The order each sort lists in unless `order` says otherwise. */
const NATURAL: Record<Query['sort'], 'asc' | 'desc'> = {
  impact: 'desc',
  hosts: 'desc',
  exposures: 'desc',
  known_exploited: 'desc',
  severity: 'asc',
  source: 'asc',
};

function bySource(a: Remediation, b: Remediation): number {
  return a.source < b.source ? -1 : a.source > b.source ? 1 : 0;
}
function byVersion(a: Remediation, b: Remediation): number {
  return a.fixed_version < b.fixed_version ? -1 : a.fixed_version > b.fixed_version ? 1 : 0;
}

/** The fleet's remediation roll-up: filtered, sorted, paged. */
// The lines as the API gives them, while neither the roll-up nor the enrichment changed.
const described = new WeakMap<Store, { lines: Line[]; generation: number; items: Remediation[] }>();

async function remediations(store: Store, facts: VulnFacts, group: string | undefined): Promise<Remediation[]> {
  const lines = await rollUp(store, group);
  const hit = described.get(store);
  if (hit && hit.lines === lines && hit.generation === facts.generation) return hit.items;
  const items = lines.map((l) => toRemediation(store, facts, l));
  if (group === undefined) described.set(store, { lines, generation: facts.generation, items });
  return items;
}

export async function listRemediation(store: Store, facts: VulnFacts, q: Query): Promise<Page<Remediation>> {
  const needle = q.search?.trim().toLowerCase();
  let items = (await remediations(store, facts, q.group)).filter(
    (r) => !needle || r.source.toLowerCase().includes(needle),
  );
  if (q.kev) items = items.filter((r) => r.known_exploited > 0);
  items.sort(SORTS[q.sort]);
  if (q.order && q.order !== NATURAL[q.sort]) items.reverse();
  return {
    total: Math.min(items.length, COUNT_CAP),
    total_exact: items.length <= COUNT_CAP,
    page: q.page,
    per_page: q.per_page,
    items: items.slice((q.page - 1) * q.per_page, q.page * q.per_page),
  };
}

/**
 * One host's upgrades: per source package, the version that closes its open fixable exposures,
 * the versions installed, and what stays open in that package without a fix. Null: no such host.
 */
export function hostRemediation(store: Store, facts: VulnFacts, hostId: number): HostRemediation[] | null {
  const host = hostInfos(store, undefined).get(hostId);
  if (!host) return null;
  const rows = store.all<{
    src_id: number;
    vuln_id: number;
    detail_id: number;
    severity: number;
    fixable: number;
    lead_pkg_id: number;
  }>(
    'SELECT src_id, vuln_id, detail_id, severity, fixable, lead_pkg_id FROM exposures WHERE host_id = ? AND +open = 1 AND exception_id IS NULL',
    hostId,
  );
  const fixable: { src_id: number; vuln_id: number; fixed: string; severity: number }[] = [];
  const installed = new Map<number, Set<string>>();
  const unfixed = new Map<number, number>();
  for (const r of rows) {
    const fixed = store.interner.detail(r.detail_id).fixed_version;
    if (r.fixable !== 1 || !fixed) {
      unfixed.set(r.src_id, (unfixed.get(r.src_id) ?? 0) + 1);
      continue;
    }
    fixable.push({ src_id: r.src_id, vuln_id: r.vuln_id, fixed, severity: r.severity });
    const set = installed.get(r.src_id) ?? new Set();
    set.add(store.interner.pkg(r.lead_pkg_id).pkg.source_version);
    installed.set(r.src_id, set);
  }
  const out: HostRemediation[] = [];
  for (const u of upgradesOf(host.scheme, fixable).values()) {
    const ids = u.vulnIds.map((id) => store.interner.vuln(id)).sort();
    const base = {
      source: store.interner.source(u.srcId),
      fixed_version: u.version,
      installed_versions: [...(installed.get(u.srcId) ?? [])].sort(),
      exposures: u.vulnIds.length,
      vulnerabilities: ids.length,
      known_exploited: u.vulnIds.filter((id) => facts.knownExploited(id)).length,
      severity: severityOf(u.severity),
      vulnerability_ids: ids,
      still_open_without_fix: unfixed.get(u.srcId) ?? 0,
    };
    out.push({ ...base, summary: remediationSummary(base) });
  }
  return out.sort(
    (a, b) =>
      b.known_exploited - a.known_exploited ||
      b.exposures - a.exposures ||
      (a.source < b.source ? -1 : a.source > b.source ? 1 : 0),
  );
}
