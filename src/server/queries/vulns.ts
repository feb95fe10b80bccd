// Read side for vulnerabilities: the fleet-wide list (most widespread, most severe, search by
// id or any other name) from the in-memory index of open exposures, and one vulnerability with
// its data, found by its id or by one of its other names (an alias, an advisory that names it).
import type { z } from 'zod';
import type { AdvisoryLookup } from '../../core/lookup.ts';
import { leadingCvss } from '../../core/severity.ts';
import { PRIORITY_LEVELS, SEVERITIES, type PriorityLevel, type Severity } from '../../core/types.ts';
import { normaliseVulnId } from '../../core/vuln-id.ts';
import type { VulnDetailSchema, VulnsQuerySchema, VulnSummarySchema } from '../api/schemas.ts';
import type { ServerEnrichment } from '../enrichment.ts';
import type { Store } from '../store/store.ts';
import { openCounts, type VulnStats } from '../store/vuln-index.ts';
import { COUNT_CAP, type Page } from './common.ts';
import { classesOf, vulnPriority, vulnRank, type Classes } from './priorities.ts';

type VulnSummary = z.infer<typeof VulnSummarySchema>;

// Fixed versions per vulnerability, remembered for a minute: lists show them for every row.
const FIXED_TTL_MS = 60_000;
const fixedCache = new WeakMap<Store, Map<number, { at: number; versions: string[] }>>();

/**
 * The fixed versions the open findings of one vulnerability point to. A sample of its hosts is
 * enough: fixed versions differ per release, not per host.
 */
function fixedVersions(store: Store, vulnId: number): string[] {
  let cache = fixedCache.get(store);
  if (!cache) {
    cache = new Map();
    fixedCache.set(store, cache);
  }
  const now = store.clock.now();
  const hit = cache.get(vulnId);
  if (hit && now - hit.at < FIXED_TTL_MS) return hit.versions;
  const hosts = store.vulns.get(vulnId)?.hosts.sorted() ?? [];
  const step = Math.max(1, Math.floor(hosts.length / 40));
  const out = new Set<string>();
  for (let i = 0; i < hosts.length; i += step) {
    for (const d of store.all<{ detail_id: number }>(
      'SELECT detail_id FROM findings WHERE host_id = ? AND vuln_id = ? AND +open = 1',
      hosts[i],
      vulnId,
    )) {
      const fv = store.interner.detail(d.detail_id).fixed_version;
      if (fv) out.add(fv);
    }
  }
  const versions = [...out].sort();
  if (cache.size > 50_000) cache.clear();
  cache.set(vulnId, { at: now, versions });
  return versions;
}

/** KEV, EPSS, CVSS of a vulnerability, and its priority from its open exposures. */
function enrichmentOf(classes: Classes, x: ServerEnrichment, vulnId: number | undefined, severity: number) {
  const e = vulnId === undefined ? {} : x.of(vulnId);
  const lead = leadingCvss(e.cvss);
  const p =
    vulnId === undefined
      ? { priority: { level: 'P4' as const, reason: 'not found in the fleet' }, counts: { P1: 0, P2: 0, P3: 0, P4: 0 } }
      : vulnPriority(classes, x, vulnId, severity);
  return {
    kev: e.kev ?? null,
    epss: e.epss ?? null,
    cvss: e.cvss ?? [],
    cvss_score: lead ? lead.score : null,
    priority: p.priority,
    priority_findings: p.counts,
  };
}

function toSummary(store: Store, x: ServerEnrichment, classes: Classes, vulnId: number, v: VulnStats): VulnSummary {
  const open = openCounts(v);
  return {
    title: x.title(vulnId),
    ...enrichmentOf(classes, x, vulnId, v.severity),
    id: store.interner.vuln(vulnId),
    aliases: [...store.interner.aliases.of(vulnId)],
    severity: SEVERITIES[Math.min(v.severity, SEVERITIES.length - 1)],
    open_hosts: open.hosts,
    open_findings: open.findings,
    fixable_findings: open.fixable,
    excepted_findings: open.excepted,
    fixed_versions: fixedVersions(store, vulnId),
  };
}

interface Listed {
  id: number;
  name: string;
  v: VulnStats;
  /** Its counts with the exposures exception rules hold left out. */
  open: ReturnType<typeof openCounts>;
  /** 1 (P1) to 4: its most urgent open exposure's priority. */
  rank: number;
  epss: number;
  cvss: number;
}

const byName = (a: Listed, b: Listed): number => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);

const ORDERS: Record<
  z.infer<typeof VulnsQuerySchema>['sort'],
  { compare: (a: Listed, b: Listed) => number; natural: 'asc' | 'desc' }
> = {
  hosts: {
    compare: (a, b) => b.open.hosts - a.open.hosts || a.v.severity - b.v.severity || byName(a, b),
    natural: 'desc',
  },
  severity: {
    compare: (a, b) => a.v.severity - b.v.severity || b.open.hosts - a.open.hosts || byName(a, b),
    natural: 'asc',
  },
  findings: { compare: (a, b) => b.open.findings - a.open.findings || byName(a, b), natural: 'desc' },
  id: { compare: (a, b) => byName(b, a), natural: 'desc' },
  // What to fix first: the priority, then the likelier to be exploited, the more widespread.
  priority: {
    compare: (a, b) =>
      a.rank - b.rank || b.epss - a.epss || b.open.hosts - a.open.hosts || a.v.severity - b.v.severity || byName(a, b),
    natural: 'asc',
  },
  epss: { compare: (a, b) => b.epss - a.epss || b.open.hosts - a.open.hosts || byName(a, b), natural: 'desc' },
  cvss: { compare: (a, b) => b.cvss - a.cvss || b.open.hosts - a.open.hosts || byName(a, b), natural: 'desc' },
};

export async function listVulns(
  store: Store,
  x: ServerEnrichment,
  q: z.infer<typeof VulnsQuerySchema>,
): Promise<Page<VulnSummary>> {
  const classes = await classesOf(store);
  const needle = q.search?.trim().toUpperCase();
  const worst = q.min_severity ? SEVERITIES.indexOf(q.min_severity as Severity) : SEVERITIES.length;
  const rows: Listed[] = [];
  for (const [id, v] of store.vulns.entries()) {
    // Listed while open: a vulnerability whose every exposure a rule holds is on the Exceptions page.
    const open = openCounts(v);
    if (open.findings <= 0 || v.severity > worst) continue;
    if (q.fixable !== undefined && open.fixable > 0 !== q.fixable) continue;
    const name = store.interner.vuln(id);
    if (
      needle &&
      !name.toUpperCase().includes(needle) &&
      !store.interner.aliases.of(id).some((a) => a.toUpperCase().includes(needle))
    )
      continue;
    if (q.kev !== undefined && x.knownExploited(id) !== q.kev) continue;
    const e = x.of(id);
    const epss = e.epss?.score ?? -1;
    if (q.min_epss !== undefined && epss < q.min_epss) continue;
    const rank = vulnRank(classes, x, id);
    if (q.priority && !q.priority.includes(PRIORITY_LEVELS[rank - 1] as PriorityLevel)) continue;
    rows.push({ id, name, v, open, rank, epss, cvss: leadingCvss(e.cvss)?.score ?? -1 });
  }
  const order = ORDERS[q.sort];
  rows.sort(order.compare);
  if (q.order && q.order !== order.natural) rows.reverse();
  return {
    total: Math.min(rows.length, COUNT_CAP),
    total_exact: rows.length <= COUNT_CAP,
    page: q.page,
    per_page: q.per_page,
    items: rows
      .slice((q.page - 1) * q.per_page, q.page * q.per_page)
      .map((r) => toSummary(store, x, classes, r.id, r.v)),
  };
}

export async function vulnDetail(
  store: Store,
  x: ServerEnrichment,
  lookup: AdvisoryLookup,
  id: string,
): Promise<z.infer<typeof VulnDetailSchema> | null> {
  const classes = await classesOf(store);
  const asked = normaliseVulnId(id);
  const vulnId = store.interner.knownVuln(asked) ?? store.interner.knownVuln(asked.toUpperCase());
  const info = lookup.vulnerability(asked) ?? lookup.vulnerability(asked.toUpperCase());
  if (vulnId === undefined && !info) {
    // Another name: of one vulnerability, its page; of several (an advisory), theirs together.
    const named = store.interner.vulnsNamed(asked);
    if (named.length === 1) return vulnDetail(store, x, lookup, store.interner.vuln(named[0]));
    return named.length > 1 ? namedTogether(store, x, classes, lookup, asked, named) : null;
  }
  const v = vulnId === undefined ? undefined : store.vulns.get(vulnId);
  const summary =
    vulnId !== undefined && v && v.findings > 0
      ? toSummary(store, x, classes, vulnId, v)
      : {
          ...enrichmentOf(classes, x, vulnId, SEVERITIES.indexOf('unknown')),
          title: '',
          id: info?.id ?? asked,
          aliases: [],
          severity: 'unknown' as Severity,
          open_hosts: 0,
          open_findings: 0,
          fixable_findings: 0,
          excepted_findings: 0,
          fixed_versions: [],
        };
  const aliases = [
    ...new Set([...(info?.aliases ?? []), ...(vulnId === undefined ? [] : store.interner.aliases.of(vulnId))]),
  ];
  return {
    ...summary,
    aliases,
    vulnerabilities: [],
    description: info?.description ?? '',
    published: info?.published ?? null,
    modified: info?.modified ?? null,
    references: info?.references ?? [],
    resolved_findings: vulnId === undefined ? 0 : resolvedCount(store, [vulnId]),
  };
}

/** Resolved exposures of these vulnerabilities. */
function resolvedCount(store: Store, vulnIds: readonly number[]): number {
  return store.get<{ n: number }>(
    `SELECT count(*) AS n FROM exposures WHERE vuln_id IN (${vulnIds.join(', ')}) AND open = 0`,
  )!.n;
}

/** The vulnerabilities one name is shared by (an advisory's CVEs), as one: counts together, each named. */
function namedTogether(
  store: Store,
  x: ServerEnrichment,
  classes: Classes,
  lookup: AdvisoryLookup,
  name: string,
  vulnIds: number[],
): z.infer<typeof VulnDetailSchema> {
  const hosts = new Set<number>();
  let findings = 0;
  let fixable = 0;
  let excepted = 0;
  let severity = 99;
  const fixed = new Set<string>();
  for (const id of vulnIds) {
    const v = store.vulns.get(id);
    if (!v || v.findings <= 0) continue;
    for (const h of v.hosts.sorted()) if (!v.exceptedHosts.has(h)) hosts.add(h);
    const open = openCounts(v);
    findings += open.findings;
    fixable += open.fixable;
    excepted += open.excepted;
    severity = Math.min(severity, v.severity);
    for (const f of fixedVersions(store, id)) fixed.add(f);
  }
  const names = vulnIds.map((id) => store.interner.vuln(id)).sort();
  const first = lookup.vulnerability(names[0]);
  // The advisory's most urgent vulnerability speaks for it (KEV, EPSS, CVSS and priority).
  const urgent = [...vulnIds].sort((a, b) => vulnRank(classes, x, a) - vulnRank(classes, x, b))[0];
  return {
    ...enrichmentOf(classes, x, urgent, severity === 99 ? SEVERITIES.indexOf('unknown') : severity),
    title: x.title(urgent),
    id: name,
    aliases: [],
    vulnerabilities: names,
    severity: severity === 99 ? 'unknown' : SEVERITIES[Math.min(severity, SEVERITIES.length - 1)],
    open_hosts: hosts.size,
    open_findings: findings,
    fixable_findings: fixable,
    excepted_findings: excepted,
    fixed_versions: [...fixed].sort(),
    // Names shared this way are advisories: what one of them says describes the advisory.
    description: first?.description ?? '',
    published: null,
    modified: null,
    references: [],
    resolved_findings: resolvedCount(store, vulnIds),
  };
}
