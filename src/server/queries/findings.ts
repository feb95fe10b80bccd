// Read side for findings: the filtered query behind the findings pages, which list exposures (the
// counting unit: one vulnerability in one source package of a host, its binary packages listed),
// and the CSV/JSON/NDJSON export, which lists the finding of every binary package.
import type { SQLInputValue } from 'node:sqlite';
import type { z } from 'zod';
import {
  FINDING_STATUSES,
  SEVERITIES,
  type FindingStatus,
  type PriorityLevel,
  type Severity,
} from '../../core/types.ts';
import type { ExportQuerySchema, FindingRowSchema, FindingSchema, FindingsQuerySchema } from '../api/schemas.ts';
import { DAY_MS } from '../clock.ts';
import { levelRank, SQL_EPSS, SQL_KEV, SQL_PRIORITY, type ServerEnrichment } from '../enrichment.ts';
import type { LifecycleColumns } from '../store/finding-identity.ts';
import type { Store } from '../store/store.ts';
import { COUNT_CAP, iso, type Page } from './common.ts';

export type FindingItem = z.infer<typeof FindingSchema>;
export type FindingRowItem = z.infer<typeof FindingRowSchema>;
type Filters = Omit<z.infer<typeof FindingsQuerySchema>, 'page' | 'per_page' | 'sort' | 'order'>;

/** What an exposure row and a finding row share, as the queries read them. */
interface Lifecycle extends LifecycleColumns {
  host_id: number;
  vuln_id: number;
  src_id: number;
  detail_id: number;
  severity: number;
  status: number;
  open: number;
  hostname: string;
  grp: string;
  host_last_seen: number | null;
  /** The exception rule holding the exposure (store/exceptions-apply.ts), or null. */
  exception_id: number | null;
}

interface Row extends Lifecycle {
  lead_name_id: number;
  lead_pkg_id: number;
}

interface BinaryRow extends Lifecycle {
  name_id: number;
  pkg_id: number;
}

/** The exception rule holding a row's exposure (a binary finding's is its exposure's). */
const exceptionOf = (t: 'e' | 'f'): string =>
  t === 'e'
    ? 'e.exception_id'
    : '(SELECT x.exception_id FROM exposures x WHERE x.host_id = f.host_id AND x.vuln_id = f.vuln_id AND x.src_id = f.src_id)';

const LIFECYCLE = (t: 'e' | 'f'): string =>
  `${t}.host_id, ${t}.vuln_id, ${t}.src_id, ${t}.detail_id, ${t}.severity, ${t}.status, ${t}.open, ${t}.first_seen, ${t}.opened_at, ${t}.last_seen,
  ${t}.resolved_at, ${t}.resolved_scan, ${t}.resolved_cause, ${t}.reopened, h.hostname, h.grp, h.last_seen AS host_last_seen,
  ${exceptionOf(t)} AS exception_id`;

const SELECT = `SELECT ${LIFECYCLE('e')}, e.lead_name_id, e.lead_pkg_id FROM exposures e JOIN hosts h ON h.id = e.host_id`;
const SELECT_BINARY = `SELECT ${LIFECYCLE('f')}, f.name_id, f.pkg_id FROM findings f JOIN hosts h ON h.id = f.host_id`;

/**
 * SQL conditions for the filters, except state, severity and overdue (see stateConditions);
 * null when they can match nothing (an unknown id). `t` is the table filtered: `e` (exposures)
 * or `f` (binary findings).
 */
interface Conditions {
  where: string[];
  params: SQLInputValue[];
  /** The interned ids of the vulnerabilities filtered on, if any. */
  vulnIds?: number[];
}

function conditions(store: Store, q: Filters, t: 'e' | 'f'): Conditions | null {
  const where: string[] = [];
  const params: SQLInputValue[] = [];
  let vulnIds: number[] | undefined;
  const now = store.clock.now();
  if (q.status)
    where.push(`${t}.status IN (${q.status.map((s) => FINDING_STATUSES.indexOf(s as FindingStatus)).join(', ')})`);
  if (q.fixable !== undefined) where.push(`${t}.fixable = ${q.fixable ? 1 : 0}`);
  if (q.group !== undefined) {
    where.push('h.grp = ?');
    params.push(q.group);
  }
  if (q.host !== undefined) {
    where.push(`${t}.host_id = ?`);
    params.push(q.host);
  }
  if (q.vulnerability) {
    // The id itself, or every vulnerability it is an alias or an advisory of.
    vulnIds = store.interner.vulnsNamed(q.vulnerability.trim());
    if (vulnIds.length === 0) return null;
    where.push(`${t}.vuln_id IN (${vulnIds.join(', ')})`);
  }
  if (q.package) {
    // A binary package name, or a source package name.
    const names = store.all<{ id: number }>('SELECT id FROM pkg_names WHERE name = ?', q.package).map((r) => r.id);
    const src = store.interner.knownSrc(q.package);
    if (names.length === 0 && src === undefined) return null;
    const bySource = src === undefined ? [] : [`${t}.src_id = ${src}`];
    const byName =
      names.length === 0
        ? []
        : t === 'f'
          ? [`f.name_id IN (${names.join(', ')})`]
          : [
              `EXISTS (SELECT 1 FROM findings b WHERE b.host_id = e.host_id AND b.vuln_id = e.vuln_id AND b.src_id = e.src_id AND b.name_id IN (${names.join(', ')}))`,
            ];
    where.push(`(${[...bySource, ...byName].join(' OR ')})`);
  }
  if (q.min_age_days !== undefined) {
    where.push(`${t}.opened_at <= ?`);
    params.push(now - q.min_age_days * DAY_MS);
  }
  if (q.max_age_days !== undefined) {
    where.push(`${t}.opened_at >= ?`);
    params.push(now - q.max_age_days * DAY_MS);
  }
  // What the vulnerability DB knows (KEV, EPSS) and the priority from it: SQL functions over the
  // memo of enrichment.ts, so a refreshed catalogue applies at once.
  if (q.kev !== undefined) where.push(`${SQL_KEV}(${t}.vuln_id) = ${q.kev ? 1 : 0}`);
  if (q.min_epss !== undefined) {
    where.push(`${SQL_EPSS}(${t}.vuln_id) >= ?`);
    params.push(q.min_epss);
  }
  if (q.priority) {
    const ranks = [...new Set(q.priority.map((p) => levelRank(p as PriorityLevel)))].sort();
    where.push(`${SQL_PRIORITY}(${t}.vuln_id, ${t}.severity, ${t}.status) IN (${ranks.join(', ')})`);
  }
  return { where, params, vulnIds };
}

/** The severities asked for, as indexes. */
function severities(q: Filters): number[] {
  return q.severity
    ? [...new Set(q.severity.map((s) => SEVERITIES.indexOf(s as Severity)))].sort()
    : SEVERITIES.map((_, i) => i);
}

/**
 * Conditions on state, severity and SLA for the general path. `plain` keeps the planner off the
 * (open, severity, opened_at) index: used when a host, vulnerability or package filter makes
 * another index the selective one.
 */
function stateConditions(store: Store, q: Filters, plain: boolean, t: 'e' | 'f'): string[] {
  const col = (c: string): string => (plain ? `+${t}.${c}` : `${t}.${c}`);
  const out: string[] = [];
  // Excepted exposures are open (still there) but held by a rule: out of the open ones.
  if (q.state === 'open') out.push(`${col('open')} = 1`, `${exceptionOf(t)} IS NULL`);
  else if (q.state === 'excepted') out.push(`${col('open')} = 1`, `${exceptionOf(t)} IS NOT NULL`);
  else if (q.state === 'resolved') out.push(`${col('open')} = 0`);
  if (q.severity) out.push(`${col('severity')} IN (${severities(q).join(', ')})`);
  if (q.overdue !== undefined) {
    const now = store.clock.now();
    const due = SEVERITIES.map(
      (_, i) => `(${col('severity')} = ${i} AND ${col('opened_at')} < ${now - store.slaMs(i)})`,
    ).join(' OR ');
    out.push(q.overdue ? `(${col('open')} = 1 AND (${due}))` : `NOT (${col('open')} = 1 AND (${due}))`);
  }
  return out;
}

/** What an exposure and a binary finding both say: host, vulnerability, advisory data, lifecycle. */
function common(store: Store, x: ServerEnrichment, r: Lifecycle, pkgId: number) {
  const now = store.clock.now();
  const p = store.interner.pkg(pkgId).pkg;
  const d = store.interner.detail(r.detail_id);
  const end = r.open === 1 ? now : (r.resolved_at ?? now);
  const due = r.opened_at + store.slaMs(r.severity);
  return {
    host: { id: r.host_id, hostname: r.hostname, group: r.grp },
    vulnerability: store.interner.vuln(r.vuln_id),
    aliases: [...store.interner.aliases.of(r.vuln_id)],
    package: { name: p.name, version: p.version, arch: p.arch, source: p.source, source_version: p.source_version },
    severity: d.severity,
    status: d.status,
    fixable: d.status === 'fixed',
    fixed_version: d.fixed_version,
    raw_status: d.raw_status,
    raw_severity: d.raw_severity,
    feed: d.feed,
    advisory_ids: d.advisory_ids,
    ...x.fields(r.vuln_id, r.severity, r.status),
    state: r.open === 0 ? ('resolved' as const) : r.exception_id === null ? ('open' as const) : ('excepted' as const),
    exception_id: r.exception_id,
    first_seen: iso(r.first_seen),
    opened_at: iso(r.opened_at),
    last_seen: iso(r.open === 1 ? r.host_last_seen : r.last_seen),
    resolved_at: iso(r.resolved_at),
    resolved_scan: r.resolved_scan,
    resolved_cause: r.resolved_cause,
    reopened: r.reopened,
    age_days: Math.round(((end - r.opened_at) / DAY_MS) * 10) / 10,
    sla_due: iso(due),
    overdue: r.open === 1 && r.exception_id === null && now > due,
  };
}

const exposureId = (r: { host_id: number; src_id: number; vuln_id: number }): string =>
  `${r.host_id}-s${r.src_id}-${r.vuln_id}`;

function toItem(store: Store, x: ServerEnrichment, r: Row): FindingItem {
  // Its binaries: the open ones while it is open; else those that went with it.
  const binaries = store.all<{ pkg_id: number; resolved_at: number | null }>(
    'SELECT pkg_id, resolved_at FROM findings WHERE host_id = ? AND vuln_id = ? AND src_id = ? AND open = ?',
    r.host_id,
    r.vuln_id,
    r.src_id,
    r.open,
  );
  const last = r.open === 1 ? binaries : binaries.filter((b) => b.resolved_at === r.resolved_at);
  const packages = (last.length ? last.map((b) => b.pkg_id) : [r.lead_pkg_id])
    .map((id) => store.interner.pkg(id).pkg)
    .map((p) => ({ name: p.name, version: p.version, arch: p.arch }))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : a.arch < b.arch ? -1 : a.arch > b.arch ? 1 : 0));
  return { id: exposureId(r), ...common(store, x, r, r.lead_pkg_id), packages };
}

function toRowItem(store: Store, x: ServerEnrichment, r: BinaryRow): FindingRowItem {
  return { id: `${r.host_id}-${r.name_id}-${r.vuln_id}`, exposure: exposureId(r), ...common(store, x, r, r.pkg_id) };
}

const SORTS: Record<z.infer<typeof FindingsQuerySchema>['sort'], { sql: string; natural: 'ASC' | 'DESC' }> = {
  severity: { sql: '+e.severity {o}, +e.opened_at {o}', natural: 'ASC' },
  age: { sql: '+e.opened_at {o}', natural: 'ASC' },
  host: { sql: 'h.hostname {o}, e.severity ASC', natural: 'ASC' },
  vulnerability: { sql: '(SELECT name FROM vulns WHERE id = e.vuln_id) {o}', natural: 'DESC' },
  priority: {
    sql: `${SQL_PRIORITY}(e.vuln_id, e.severity, e.status) {o}, +e.severity {o}, +e.opened_at ASC`,
    natural: 'ASC',
  },
};

type Query = z.infer<typeof FindingsQuerySchema>;

export function queryFindings(store: Store, x: ServerEnrichment, q: Query): Page<FindingItem> {
  const c = conditions(store, q, 'e');
  if (!c) return { total: 0, total_exact: true, page: q.page, per_page: q.per_page, items: [] };
  const selective = q.host !== undefined || q.vulnerability !== undefined || q.package !== undefined;
  const r =
    q.vulnerability !== undefined && q.host === undefined
      ? byVulnerability(store, x, q, c)
      : q.state === 'open' && !selective && (q.sort === 'severity' || q.sort === 'age')
        ? bySeverityRanges(store, q, c)
        : q.state === 'open' && !selective && q.sort === 'priority'
          ? byPriority(store, q, c)
          : general(store, q, c, selective);
  return {
    total: Math.min(r.counted, COUNT_CAP),
    total_exact: r.counted <= COUNT_CAP,
    page: q.page,
    per_page: q.per_page,
    items: r.rows.map((row) => toItem(store, x, row)),
  };
}

/**
 * Open exposures by priority, P1 first (then by severity and age): the severity ranges of
 * bySeverityRanges read once per priority with the priority as a condition, until the page is
 * full — a first page of a fleet's millions of exposures costs about its own size while P1 has
 * as many. The total is that of the same filters without the order.
 */
function byPriority(store: Store, q: Query, c: Conditions): { counted: number; rows: Row[] } {
  const need = q.page * q.per_page;
  const ranks = q.order === 'desc' ? [4, 3, 2, 1] : [1, 2, 3, 4];
  const bySeverity: Query = { ...q, sort: 'severity', order: q.order === 'desc' ? 'desc' : 'asc' };
  const counted = bySeverityRanges(store, { ...bySeverity, page: 1, per_page: 1 }, c).counted;
  const rows: Row[] = [];
  for (const rank of ranks) {
    if (rows.length >= need) break;
    const ranked: Conditions = {
      ...c,
      where: [...c.where, `${SQL_PRIORITY}(e.vuln_id, e.severity, e.status) = ${rank}`],
    };
    // The total of this call is not used: counted above.
    const part = bySeverityRanges(
      store,
      { ...bySeverity, page: 1, per_page: need - rows.length, overdue: q.overdue },
      ranked,
    );
    rows.push(...part.rows);
  }
  return { counted, rows: rows.slice((q.page - 1) * q.per_page, need) };
}

function general(store: Store, q: Query, c: Conditions, selective: boolean): { counted: number; rows: Row[] } {
  const where = [...c.where, ...stateConditions(store, q, selective, 'e')];
  const w = where.length ? `WHERE ${where.join(' AND ')}` : '';
  const counted = store.get<{ n: number }>(
    `SELECT count(*) AS n FROM (SELECT 1 FROM exposures e JOIN hosts h ON h.id = e.host_id ${w} LIMIT ${COUNT_CAP + 1})`,
    ...c.params,
  )!.n;
  const sort = SORTS[q.sort];
  const dir = q.order ? q.order.toUpperCase() : sort.natural;
  const rows = store.all<Row>(
    `${SELECT} ${w} ORDER BY ${sort.sql.replaceAll('{o}', dir)}, e.host_id, e.vuln_id, e.src_id LIMIT ? OFFSET ?`,
    ...c.params,
    q.per_page,
    (q.page - 1) * q.per_page,
  );
  return { counted, rows };
}

/**
 * Open exposures sorted by severity or age, the dashboard's usual views: one index range of
 * (open, severity, fixable, opened_at) per severity and fixability, read in opened_at order and
 * merged here, so a page costs about its own size whatever the fleet's size. With no other
 * filter than severity, fixability and group, the total comes from the per-host counters.
 */
function bySeverityRanges(store: Store, q: Query, c: Conditions): { counted: number; rows: Row[] } {
  const now = store.clock.now();
  const dir = q.order ? q.order.toUpperCase() : 'ASC';
  const need = q.page * q.per_page;
  const byAge = (a: Row, b: Row): number =>
    (dir === 'ASC' ? a.opened_at - b.opened_at : b.opened_at - a.opened_at) ||
    a.host_id - b.host_id ||
    a.vuln_id - b.vuln_id ||
    a.src_id - b.src_id;
  const simple =
    !q.status &&
    !q.package &&
    q.min_age_days === undefined &&
    q.max_age_days === undefined &&
    q.overdue === undefined &&
    q.kev === undefined &&
    q.min_epss === undefined &&
    !q.priority;
  const fixables = q.fixable === undefined ? [0, 1] : [q.fixable ? 1 : 0];
  let counted = simple ? countFromHosts(store, q) : 0;
  const lists: Row[][] = [];
  for (const sev of severities(q)) {
    const parts: Row[][] = [];
    for (const fx of fixables) {
      const where = [...c.where, 'e.open = 1', `e.severity = ${sev}`, `e.fixable = ${fx}`, 'e.exception_id IS NULL'];
      const cutoff = now - store.slaMs(sev);
      if (q.overdue === true) where.push(`e.opened_at < ${cutoff}`);
      if (q.overdue === false) where.push(`e.opened_at >= ${cutoff}`);
      const w = `WHERE ${where.join(' AND ')}`;
      // Counting stops at the cap across all ranges; hosts are joined only when filtered on.
      if (!simple && counted <= COUNT_CAP) {
        const join = where.some((x) => x.includes('h.')) ? 'JOIN hosts h ON h.id = e.host_id' : '';
        counted += store.get<{ n: number }>(
          `SELECT count(*) AS n FROM (SELECT 1 FROM exposures e ${join} ${w} LIMIT ${COUNT_CAP + 1 - counted})`,
          ...c.params,
        )!.n;
      }
      parts.push(
        store.all<Row>(
          `${SELECT} ${w} ORDER BY e.opened_at ${dir}, e.host_id, e.vuln_id, e.src_id LIMIT ?`,
          ...c.params,
          need,
        ),
      );
    }
    lists.push(parts.length === 1 ? parts[0] : parts.flat().sort(byAge));
  }
  const merged =
    q.sort === 'severity' ? (dir === 'ASC' ? lists : [...lists].reverse()).flat() : lists.flat().sort(byAge);
  return { counted, rows: merged.slice((q.page - 1) * q.per_page, need) };
}

/** Open exposures by severity (and fixability, group) from the per-host counters: exact and cheap. */
function countFromHosts(store: Store, q: Query): number {
  const cols = severities(q).map((i) => {
    const sev = SEVERITIES[i];
    return q.fixable === undefined ? `open_${sev}` : q.fixable ? `fix_${sev}` : `open_${sev} - fix_${sev}`;
  });
  const where = q.group === undefined ? '' : 'WHERE grp = ?';
  const params = q.group === undefined ? [] : [q.group];
  return store.get<{ n: number | null }>(`SELECT sum(${cols.join(' + ')}) AS n FROM hosts ${where}`, ...params)!.n ?? 0;
}

/**
 * Exposures of the vulnerabilities a name names. Their open ones are found through the
 * in-memory index of the hosts each affects (the store keeps no SQL index of open exposures by
 * vulnerability), their resolved ones through the partial index; the rows are sorted here.
 */
function byVulnerability(store: Store, x: ServerEnrichment, q: Query, c: Conditions): { counted: number; rows: Row[] } {
  // Sort keys first (a widespread vulnerability has a row on every host), full rows for the page.
  type Key = [
    hostId: number,
    vulnId: number,
    srcId: number,
    severity: number,
    openedAt: number,
    hostname: string,
    status: number,
  ];
  const keys: Key[] = [];
  const others = stateConditions(store, { ...q, state: 'all' }, false, 'e');
  const columns =
    'e.host_id, e.vuln_id, e.src_id, e.severity, e.opened_at, h.hostname, e.status FROM exposures e JOIN hosts h ON h.id = e.host_id';
  const read = (sql: string, ...params: SQLInputValue[]): void => {
    const stmt = store.stmt(sql);
    stmt.setReturnArrays(true);
    keys.push(...(stmt.all(...params) as unknown as Key[]));
  };
  if (q.state !== 'resolved') {
    const affected = new Set<number>();
    for (const id of c.vulnIds!) for (const h of store.vulns.get(id)?.hosts.sorted() ?? []) affected.add(h);
    const hosts = [...affected].sort((a, b) => a - b);
    const held =
      q.state === 'open' ? ['e.exception_id IS NULL'] : q.state === 'excepted' ? ['e.exception_id IS NOT NULL'] : [];
    const where = [...c.where, 'e.host_id IN (SELECT value FROM json_each(?))', '+e.open = 1', ...held, ...others];
    for (let i = 0; i < hosts.length && keys.length <= COUNT_CAP * 2; i += 2000) {
      read(`SELECT ${columns} WHERE ${where.join(' AND ')}`, ...c.params, JSON.stringify(hosts.slice(i, i + 2000)));
    }
  }
  if (q.state !== 'open' && q.state !== 'excepted')
    read(
      `SELECT ${columns} WHERE ${[...c.where, 'e.open = 0', ...others].join(' AND ')} LIMIT ${COUNT_CAP * 2}`,
      ...c.params,
    );
  const dir = q.order === 'desc' ? -1 : q.order === 'asc' ? 1 : q.sort === 'vulnerability' ? -1 : 1;
  const rank = (k: Key): number => x.rank(k[1], k[3], k[6]);
  const tie = (a: Key, b: Key): number => a[0] - b[0] || a[1] - b[1] || a[2] - b[2];
  const name = (k: Key): string => store.interner.vuln(k[1]);
  const compare: Record<Query['sort'], (a: Key, b: Key) => number> = {
    severity: (a, b) => dir * (a[3] - b[3] || a[4] - b[4]) || tie(a, b),
    age: (a, b) => dir * (a[4] - b[4]) || tie(a, b),
    host: (a, b) => dir * (a[5] < b[5] ? -1 : a[5] > b[5] ? 1 : 0) || a[3] - b[3] || tie(a, b),
    vulnerability: (a, b) => dir * (name(a) < name(b) ? -1 : name(a) > name(b) ? 1 : 0) || tie(a, b),
    priority: (a, b) => dir * (rank(a) - rank(b) || a[3] - b[3]) || a[4] - b[4] || tie(a, b),
  };
  keys.sort(compare[q.sort]);
  const rows = keys
    .slice((q.page - 1) * q.per_page, q.page * q.per_page)
    .map((k) => store.get<Row>(`${SELECT} WHERE e.host_id = ? AND e.vuln_id = ? AND e.src_id = ?`, k[0], k[1], k[2])!);
  return { counted: keys.length, rows };
}

const CSV_COLUMNS = [
  'host_id',
  'hostname',
  'group',
  'vulnerability',
  'aliases',
  'severity',
  'status',
  'fixable',
  'package',
  'version',
  'arch',
  'source',
  'source_version',
  'fixed_version',
  'state',
  'first_seen',
  'opened_at',
  'last_seen',
  'resolved_at',
  'age_days',
  'overdue',
  'feed',
  'advisory_ids',
  'kev_date_added',
  'kev_due_date',
  'epss',
  'epss_percentile',
  'cvss',
  'priority',
  'priority_reason',
  'exposure',
  'exception_id',
] as const;

function csvCell(v: unknown): string {
  const s = v === null || v === undefined ? '' : String(v);
  // Quote when needed; a leading = + - @ is prefixed so spreadsheets do not run it as a formula.
  const safe = /^[=+\-@\t\r]/.test(s) ? `'${s}` : s;
  return /[",\n\r]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

function csvLine(f: FindingRowItem): string {
  const values: Record<(typeof CSV_COLUMNS)[number], unknown> = {
    host_id: f.host.id,
    hostname: f.host.hostname,
    group: f.host.group,
    vulnerability: f.vulnerability,
    aliases: f.aliases.join(' '),
    severity: f.severity,
    status: f.status,
    fixable: f.fixable,
    package: f.package.name,
    version: f.package.version,
    arch: f.package.arch,
    source: f.package.source,
    source_version: f.package.source_version,
    fixed_version: f.fixed_version,
    state: f.state,
    first_seen: f.first_seen,
    opened_at: f.opened_at,
    last_seen: f.last_seen,
    resolved_at: f.resolved_at,
    age_days: f.age_days,
    overdue: f.overdue,
    feed: f.feed,
    advisory_ids: f.advisory_ids.join(' '),
    kev_date_added: f.kev?.date_added,
    kev_due_date: f.kev?.due_date,
    epss: f.epss?.score,
    epss_percentile: f.epss?.percentile,
    cvss: f.cvss_score,
    priority: f.priority.level,
    priority_reason: f.priority.reason,
    exposure: f.exposure,
    exception_id: f.exception_id,
  };
  return `${CSV_COLUMNS.map((c) => csvCell(values[c])).join(',')}\r\n`;
}

/**
 * The export: the finding of every binary package (the same filters; a package filter names a
 * binary or a source package), in chunks of text. Rows are read in primary-key batches (no
 * statement stays open between chunks), so a long download never holds the database.
 */
export function* exportFindings(
  store: Store,
  x: ServerEnrichment,
  q: z.infer<typeof ExportQuerySchema>,
  batch = 2000,
): Generator<string> {
  const c = conditions(store, q, 'f');
  if (q.format === 'csv') yield `${CSV_COLUMNS.join(',')}\r\n`;
  if (q.format === 'json') yield '[';
  if (!c) {
    if (q.format === 'json') yield ']\n';
    return;
  }
  let after: [number, number, number] = [-1, -1, -1];
  let first = true;
  const filters = [...c.where, ...stateConditions(store, q, true, 'f')];
  for (;;) {
    const where = [...filters, '(f.host_id, f.vuln_id, f.name_id) > (?, ?, ?)'];
    const rows = store.all<BinaryRow>(
      `${SELECT_BINARY} WHERE ${where.join(' AND ')} ORDER BY f.host_id, f.vuln_id, f.name_id LIMIT ?`,
      ...c.params,
      ...after,
      batch,
    );
    if (rows.length === 0) break;
    let out = '';
    for (const r of rows) {
      const item = toRowItem(store, x, r);
      if (q.format === 'csv') out += csvLine(item);
      else if (q.format === 'ndjson') out += `${JSON.stringify(item)}\n`;
      else {
        out += `${first ? '' : ','}\n${JSON.stringify(item)}`;
        first = false;
      }
    }
    yield out;
    const last = rows[rows.length - 1];
    after = [last.host_id, last.vuln_id, last.name_id];
    if (rows.length < batch) break;
  }
  if (q.format === 'json') yield '\n]\n';
}
