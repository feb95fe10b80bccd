// Read side for vulnerabilities: the fleet-wide list (most widespread, most severe, search by
// id) from the maintained per-vulnerability counts, and one vulnerability with its data.
import type { SQLInputValue } from 'node:sqlite';
import type { z } from 'zod';
import type { AdvisoryLookup } from '../../core/lookup.ts';
import { SEVERITIES, type Severity } from '../../core/types.ts';
import type { VulnDetailSchema, VulnsQuerySchema, VulnSummarySchema } from '../api/schemas.ts';
import type { Store } from '../store/store.ts';
import { COUNT_CAP, likeText, type Page } from './common.ts';

type VulnSummary = z.infer<typeof VulnSummarySchema>;

interface CountRow {
  vuln_id: number;
  name: string;
  severity: number;
  open_findings: number;
  open_hosts: number;
  fixable: number;
}

// Fixed versions per vulnerability, remembered for a minute: lists show them for every row.
const FIXED_TTL_MS = 60_000;
const fixedCache = new WeakMap<Store, Map<number, { at: number; versions: string[] }>>();

/**
 * The fixed versions the open findings of one vulnerability point to. A sample of its open
 * findings is enough: fixed versions differ per release, not per host.
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
  const details = store.all<{ detail_id: number }>('SELECT DISTINCT detail_id FROM (SELECT detail_id FROM findings WHERE vuln_id = ? AND open = 1 LIMIT 300)', vulnId);
  const out = new Set<string>();
  for (const d of details) {
    const fv = store.interner.detail(d.detail_id).fixed_version;
    if (fv) out.add(fv);
  }
  const versions = [...out].sort();
  if (cache.size > 50_000) cache.clear();
  cache.set(vulnId, { at: now, versions });
  return versions;
}

function toSummary(store: Store, r: CountRow): VulnSummary {
  return {
    id: r.name,
    severity: SEVERITIES[Math.min(r.severity, SEVERITIES.length - 1)],
    open_hosts: r.open_hosts,
    open_findings: r.open_findings,
    fixable_findings: r.fixable,
    fixed_versions: fixedVersions(store, r.vuln_id),
  };
}

const SORTS: Record<z.infer<typeof VulnsQuerySchema>['sort'], { sql: string; natural: 'ASC' | 'DESC' }> = {
  hosts: { sql: 'c.open_hosts {o}, c.severity ASC', natural: 'DESC' },
  severity: { sql: 'c.severity {r}, c.open_hosts DESC', natural: 'ASC' },
  findings: { sql: 'c.open_findings {o}', natural: 'DESC' },
  id: { sql: 'v.name {o}', natural: 'DESC' },
};

export function listVulns(store: Store, q: z.infer<typeof VulnsQuerySchema>): Page<VulnSummary> {
  const where = ['c.open_findings > 0'];
  const params: SQLInputValue[] = [];
  if (q.search) {
    where.push("v.name LIKE ? ESCAPE '\\'");
    params.push(`%${likeText(q.search.trim())}%`);
  }
  if (q.min_severity) where.push(`c.severity <= ${SEVERITIES.indexOf(q.min_severity as Severity)}`);
  if (q.fixable !== undefined) where.push(q.fixable ? 'c.fixable > 0' : 'c.fixable = 0');
  const w = `WHERE ${where.join(' AND ')}`;
  const counted = store.get<{ n: number }>(
    `SELECT count(*) AS n FROM (SELECT 1 FROM vuln_counts c JOIN vulns v ON v.id = c.vuln_id ${w} LIMIT ${COUNT_CAP + 1})`,
    ...params,
  )!.n;
  const sort = SORTS[q.sort];
  const dir = q.order ? q.order.toUpperCase() : sort.natural;
  const orderBy = sort.sql.replace('{o}', dir).replace('{r}', dir);
  const rows = store.all<CountRow>(
    `SELECT c.vuln_id, v.name, c.severity, c.open_findings, c.open_hosts, c.fixable FROM vuln_counts c JOIN vulns v ON v.id = c.vuln_id
     ${w} ORDER BY ${orderBy}, v.name LIMIT ? OFFSET ?`,
    ...params, q.per_page, (q.page - 1) * q.per_page,
  );
  return { total: Math.min(counted, COUNT_CAP), total_exact: counted <= COUNT_CAP, page: q.page, per_page: q.per_page, items: rows.map((r) => toSummary(store, r)) };
}

export function vulnDetail(store: Store, lookup: AdvisoryLookup, id: string): z.infer<typeof VulnDetailSchema> | null {
  const vulnId = store.interner.knownVuln(id) ?? store.interner.knownVuln(id.toUpperCase());
  const info = lookup.vulnerability(id) ?? lookup.vulnerability(id.toUpperCase());
  if (vulnId === undefined && !info) return null;
  const c = vulnId === undefined
    ? undefined
    : store.get<CountRow>('SELECT c.vuln_id, v.name, c.severity, c.open_findings, c.open_hosts, c.fixable FROM vuln_counts c JOIN vulns v ON v.id = c.vuln_id WHERE c.vuln_id = ?', vulnId);
  const resolved = vulnId === undefined ? 0 : store.get<{ n: number }>('SELECT count(*) AS n FROM findings WHERE vuln_id = ? AND open = 0', vulnId)!.n;
  const summary = c && c.open_findings > 0
    ? toSummary(store, c)
    : { id: info?.id ?? id, severity: 'unknown' as Severity, open_hosts: 0, open_findings: 0, fixable_findings: 0, fixed_versions: [] };
  return {
    ...summary,
    aliases: info?.aliases ?? [],
    description: info?.description ?? '',
    published: info?.published ?? null,
    modified: info?.modified ?? null,
    references: info?.references ?? [],
    resolved_findings: resolved,
  };
}
