// Open exposures by priority, fleet-wide and per vulnerability. An exposure's priority follows
// from its vulnerability (KEV, EPSS) and its lead's severity and status, so the open exposures
// are counted once per (vulnerability, severity, status) — fleet-wide, or for one group's hosts —
// derived from the store in pieces (derived.ts), and ranked from those classes with the
// enrichment of the moment: a new KEV catalogue or EPSS file ranks them again without reading
// the store.
import { FINDING_STATUSES, PRIORITY_LEVELS, SEVERITIES, type Priority, type PriorityLevel } from '../../core/types.ts';
import type { ServerEnrichment } from '../enrichment.ts';
import type { Store } from '../store/store.ts';
import { Derived, yieldToEventLoop } from './derived.ts';

/** Open exposures of one vulnerability with one severity and status. */
interface Class {
  vulnId: number;
  severity: number;
  status: number;
  n: number;
}

export interface Classes {
  classes: Class[];
  byVuln: Map<number, Class[]>;
}

/** Hosts whose exposures are counted in one query. */
const HOSTS_PER_READ = 500;

/** The hosts of the fleet, or of one group, in id order. */
export function hostIds(store: Store, group?: string): number[] {
  return store
    .all<{ id: number }>(
      `SELECT id FROM hosts${group === undefined ? '' : ' WHERE grp = ?'} ORDER BY id`,
      ...(group === undefined ? [] : [group]),
    )
    .map((r) => r.id);
}

async function deriveClasses(store: Store, group?: string): Promise<Classes> {
  // Exposures an exception holds are out of the open counts.
  // A range of the primary key per piece (a list of ids would make SQLite scan the table for
  // each); one group's hosts are those of the range in the group.
  const stmt = store.stmt(
    group === undefined
      ? `SELECT vuln_id, severity, status, count(*) FROM exposures
         WHERE host_id BETWEEN ? AND ? AND +open = 1 AND exception_id IS NULL GROUP BY vuln_id, severity, status`
      : `SELECT e.vuln_id, e.severity, e.status, count(*) FROM exposures e JOIN hosts h ON h.id = e.host_id
         WHERE e.host_id BETWEEN ? AND ? AND h.grp = ? AND +e.open = 1 AND e.exception_id IS NULL
         GROUP BY e.vuln_id, e.severity, e.status`,
  );
  stmt.setReturnArrays(true);
  const counts = new Map<number, number>();
  const ids = hostIds(store, group);
  for (let i = 0; i < ids.length; i += HOSTS_PER_READ) {
    const last = ids[Math.min(i + HOSTS_PER_READ, ids.length) - 1];
    const params = group === undefined ? [ids[i], last] : [ids[i], last, group];
    for (const [vulnId, severity, status, n] of stmt.all(...params) as unknown as number[][]) {
      const key = (vulnId * 8 + severity) * 8 + status;
      counts.set(key, (counts.get(key) ?? 0) + n);
    }
    await yieldToEventLoop();
  }
  const classes: Class[] = [];
  const byVuln = new Map<number, Class[]>();
  for (const [key, n] of counts) {
    const c = { vulnId: Math.floor(key / 64), severity: Math.floor(key / 8) % 8, status: key % 8, n };
    classes.push(c);
    const list = byVuln.get(c.vulnId);
    if (list) list.push(c);
    else byVuln.set(c.vulnId, [c]);
  }
  return { classes, byVuln };
}

// Fleet-wide (key ''), and the groups asked for (a few).
const classCache = new WeakMap<Store, Map<string, Derived<Classes>>>();

/** The open exposures' classes of the fleet, or of one group's hosts. */
export function classesOf(store: Store, group?: string): Promise<Classes> {
  let byGroup = classCache.get(store);
  if (!byGroup) classCache.set(store, (byGroup = new Map()));
  const key = group ?? '';
  let d = byGroup.get(key);
  if (!d) {
    if (byGroup.size > 16) for (const k of byGroup.keys()) if (k !== '') byGroup.delete(k);
    d = new Derived(store, () => deriveClasses(store, group));
    byGroup.set(key, d);
  }
  return d.get();
}

export type PriorityCounts = Record<PriorityLevel, number>;

const zero = (): PriorityCounts => ({ P1: 0, P2: 0, P3: 0, P4: 0 });

/** Open exposures per priority. */
export function priorityCounts(classes: Classes, x: ServerEnrichment): PriorityCounts {
  const out = zero();
  for (const c of classes.classes) out[PRIORITY_LEVELS[x.rank(c.vulnId, c.severity, c.status) - 1]] += c.n;
  return out;
}

/** The most urgent rank (1 = P1) among a vulnerability's open exposures; 5 when it has none. */
export function vulnRank(classes: Classes, x: ServerEnrichment, vulnId: number): number {
  let best = 5;
  for (const c of classes.byVuln.get(vulnId) ?? []) best = Math.min(best, x.rank(c.vulnId, c.severity, c.status));
  return best;
}

interface KnownExploitedOpen {
  exposures: number;
  vulnerabilities: number;
  hostIds: number[];
}

async function deriveKnownExploited(store: Store, x: ServerEnrichment, group?: string): Promise<KnownExploitedOpen> {
  const classes = await classesOf(store, group);
  let exposures = 0;
  let vulnerabilities = 0;
  const hosts = new Set<number>();
  const inGroup = group === undefined ? null : new Set(hostIds(store, group));
  for (const [vulnId, v] of store.vulns.entries()) {
    if (v.findings <= 0 || !x.knownExploited(vulnId)) continue;
    let n = 0;
    for (const c of classes.byVuln.get(vulnId) ?? []) n += c.n;
    if (n === 0) continue;
    exposures += n;
    vulnerabilities++;
    // Its hosts, but those where an exception holds every exposure of it.
    const candidates = v.hosts.sorted().filter((h) => !inGroup || inGroup.has(h));
    for (let i = 0; i < candidates.length; i += 2000) {
      for (const r of store.all<{ host_id: number }>(
        `SELECT DISTINCT host_id FROM exposures WHERE host_id IN (SELECT value FROM json_each(?)) AND vuln_id = ?
           AND +open = 1 AND exception_id IS NULL`,
        JSON.stringify(candidates.slice(i, i + 2000)),
        vulnId,
      ))
        hosts.add(r.host_id);
      await yieldToEventLoop();
    }
  }
  return { exposures, vulnerabilities, hostIds: [...hosts].sort((a, b) => a - b) };
}

const kevCache = new WeakMap<Store, Map<string, Derived<KnownExploitedOpen>>>();

/**
 * Known exploited vulnerabilities open in the fleet (or one group): their open exposures and the
 * hosts they are on (derived again when the store or the enrichment changed).
 */
export function knownExploitedOpen(store: Store, x: ServerEnrichment, group?: string): Promise<KnownExploitedOpen> {
  let byGroup = kevCache.get(store);
  if (!byGroup) kevCache.set(store, (byGroup = new Map()));
  const key = group ?? '';
  let d = byGroup.get(key);
  if (!d) {
    if (byGroup.size > 16) for (const k of byGroup.keys()) if (k !== '') byGroup.delete(k);
    d = new Derived(store, () => deriveKnownExploited(store, x, group));
    byGroup.set(key, d);
  }
  return d.get(String(x.generation));
}

/**
 * A vulnerability's priority: that of its most urgent open exposure (with its reason), and its
 * open exposures per priority. With none open, the rule on its rating (`severity`) alone.
 */
export function vulnPriority(
  classes: Classes,
  x: ServerEnrichment,
  vulnId: number,
  severity: number,
): { priority: Priority; counts: PriorityCounts } {
  const counts = zero();
  let best: Class | null = null;
  let bestRank = 5;
  for (const c of classes.byVuln.get(vulnId) ?? []) {
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
export async function exploitOverview(store: Store, x: ServerEnrichment, group?: string) {
  const kev = await knownExploitedOpen(store, x, group);
  const classes = await classesOf(store, group);
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
    priority: priorityCounts(classes, x),
  };
}
