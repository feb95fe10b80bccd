// Open exposures by priority, fleet-wide and per vulnerability. An exposure's priority follows
// from its vulnerability (KEV, EPSS) and its lead's severity and status, so the open exposures
// are counted once per (vulnerability, severity, status) — fleet-wide, or for one group's hosts —
// read again only when the store changed, and ranked from those classes with the enrichment of
// the moment: a new KEV catalogue or EPSS file ranks them again without reading the store.
import { FINDING_STATUSES, PRIORITY_LEVELS, SEVERITIES, type Priority, type PriorityLevel } from '../../core/types.ts';
import type { ServerEnrichment } from '../enrichment.ts';
import type { Store } from '../store/store.ts';
import { storeVersion } from './common.ts';

/** Open exposures of one vulnerability with one severity and status. */
interface Class {
  vulnId: number;
  severity: number;
  status: number;
  n: number;
}

interface Classes {
  version: number;
  classes: Class[];
  byVuln: Map<number, Class[]>;
}

// Fleet-wide (key ''), and the last group asked for.
const cache = new WeakMap<Store, Map<string, Classes>>();

function classes(store: Store, group?: string): Classes {
  let byGroup = cache.get(store);
  if (!byGroup) cache.set(store, (byGroup = new Map()));
  const key = group === undefined ? '' : `g:${group}`;
  const hit = byGroup.get(key);
  const version = storeVersion(store);
  if (hit && hit.version === version) return hit;
  // Exposures an exception holds are out of the open counts.
  const rows = store.all<{ vuln_id: number; severity: number; status: number; n: number }>(
    group === undefined
      ? `SELECT vuln_id, severity, status, count(*) AS n FROM exposures WHERE +open = 1 AND exception_id IS NULL
         GROUP BY vuln_id, severity, status`
      : `SELECT e.vuln_id, e.severity, e.status, count(*) AS n FROM hosts h JOIN exposures e ON e.host_id = h.id
         WHERE h.grp = ? AND +e.open = 1 AND e.exception_id IS NULL GROUP BY e.vuln_id, e.severity, e.status`,
    ...(group === undefined ? [] : [group]),
  );
  const out: Class[] = rows.map((r) => ({ vulnId: r.vuln_id, severity: r.severity, status: r.status, n: r.n }));
  const byVuln = new Map<number, Class[]>();
  for (const c of out) {
    const list = byVuln.get(c.vulnId);
    if (list) list.push(c);
    else byVuln.set(c.vulnId, [c]);
  }
  const entry = { version, classes: out, byVuln };
  for (const k of byGroup.keys()) if (k !== '') byGroup.delete(k);
  byGroup.set(key, entry);
  return entry;
}

export type PriorityCounts = Record<PriorityLevel, number>;

const zero = (): PriorityCounts => ({ P1: 0, P2: 0, P3: 0, P4: 0 });

/** Open exposures per priority (of one group's hosts, when given). */
export function priorityCounts(store: Store, x: ServerEnrichment, group?: string): PriorityCounts {
  const out = zero();
  for (const c of classes(store, group).classes) {
    out[PRIORITY_LEVELS[x.rank(c.vulnId, c.severity, c.status) - 1]] += c.n;
  }
  return out;
}

/** The most urgent rank (1 = P1) among a vulnerability's open exposures; 5 when it has none. */
export function vulnRank(store: Store, x: ServerEnrichment, vulnId: number): number {
  let best = 5;
  for (const c of classes(store).byVuln.get(vulnId) ?? [])
    best = Math.min(best, x.rank(c.vulnId, c.severity, c.status));
  return best;
}

/**
 * Known exploited vulnerabilities open in the fleet (or one group): their open exposures and the
 * hosts they are on.
 */
export function knownExploitedOpen(store: Store, x: ServerEnrichment, group?: string): KnownExploitedOpen {
  const key = `${storeVersion(store)} ${x.generation} ${group ?? ''}`;
  const hit = kevCache.get(store);
  if (hit?.key === key) return hit.value;
  const value = countKnownExploited(store, x, group);
  kevCache.set(store, { key, value });
  return value;
}

interface KnownExploitedOpen {
  exposures: number;
  vulnerabilities: number;
  hostIds: number[];
}

// The last answer, while neither the store nor the enrichment changed.
const kevCache = new WeakMap<Store, { key: string; value: KnownExploitedOpen }>();

function countKnownExploited(store: Store, x: ServerEnrichment, group?: string): KnownExploitedOpen {
  let exposures = 0;
  let vulnerabilities = 0;
  const hosts = new Set<number>();
  const inGroup =
    group === undefined
      ? null
      : new Set(store.all<{ id: number }>('SELECT id FROM hosts WHERE grp = ?', group).map((r) => r.id));
  for (const [vulnId, v] of store.vulns.entries()) {
    if (v.findings <= 0 || !x.knownExploited(vulnId)) continue;
    let n = 0;
    for (const c of classes(store, group).byVuln.get(vulnId) ?? []) n += c.n;
    if (n === 0) continue;
    exposures += n;
    vulnerabilities++;
    // Its hosts, but those where an exception holds every exposure of it.
    const candidates = v.hosts.sorted().filter((h) => !inGroup || inGroup.has(h));
    for (const r of store.all<{ host_id: number }>(
      `SELECT DISTINCT host_id FROM exposures WHERE host_id IN (SELECT value FROM json_each(?)) AND vuln_id = ?
         AND +open = 1 AND exception_id IS NULL`,
      JSON.stringify(candidates),
      vulnId,
    ))
      hosts.add(r.host_id);
  }
  return { exposures, vulnerabilities, hostIds: [...hosts].sort((a, b) => a - b) };
}

/**
 * A vulnerability's priority: that of its most urgent open exposure (with its reason), and its
 * open exposures per priority. With none open, the rule on its rating (`severity`) alone.
 */
export function vulnPriority(
  store: Store,
  x: ServerEnrichment,
  vulnId: number,
  severity: number,
): { priority: Priority; counts: PriorityCounts } {
  const counts = zero();
  let best: Class | null = null;
  let bestRank = 5;
  for (const c of classes(store).byVuln.get(vulnId) ?? []) {
    const r = x.rank(c.vulnId, c.severity, c.status);
    counts[PRIORITY_LEVELS[r - 1]] += c.n;
    if (r < bestRank || (r === bestRank && best && c.severity < best.severity)) {
      best = c;
      bestRank = r;
    }
  }
  const priority = best
    ? x.priority(vulnId, best.severity, best.status)
    : x.priority(vulnId, Math.min(severity, SEVERITIES.length - 1), FINDING_STATUSES.indexOf('affected'));
  return { priority, counts };
}

/** The overview's part from enrichment: known exploited open (with the first hosts) and exposures per priority. */
export function exploitOverview(store: Store, x: ServerEnrichment, group?: string) {
  const kev = knownExploitedOpen(store, x, group);
  const first = kev.hostIds.slice(0, 20);
  const names = new Map(
    first.length
      ? store
          .all<{ id: number; hostname: string }>(`SELECT id, hostname FROM hosts WHERE id IN (${first.join(', ')})`)
          .map((r) => [r.id, r.hostname])
      : [],
  );
  return {
    known_exploited: {
      open: kev.exposures,
      vulnerabilities: kev.vulnerabilities,
      hosts: kev.hostIds.length,
      host_list: first.map((id) => ({ id, hostname: names.get(id) ?? '' })),
    },
    priority: priorityCounts(store, x, group),
  };
}
