// Read side for hosts: the filtered, sorted, paged list; one host with its details, packages
// and history.
import type { z } from 'zod';
import { distroProfile, supportState, type SupportState } from '../../core/distros.ts';
import { SEVERITIES, type OsInfo } from '../../core/types.ts';
import type {
  HostDetailSchema,
  HostsQuerySchema,
  HostSummarySchema,
  PackagesQuerySchema,
  ScanSchema,
  HostHistoryQuerySchema,
} from '../api/schemas.ts';
import { decodeIds } from '../store/package-set.ts';
import type { InventoryShrunk } from '../store/shrink.ts';
import type { Store } from '../store/store.ts';
import { iso, likeText, severityCounts, type Page } from './common.ts';
import { parseCursor, readEvents } from './events.ts';

type HostSummary = z.infer<typeof HostSummarySchema>;
type HostDetail = z.infer<typeof HostDetailSchema>;

const OPEN_SUM = SEVERITIES.map((s) => `open_${s}`).join(' + ');
const FIX_SUM = SEVERITIES.map((s) => `fix_${s}`).join(' + ');

const SORTS: Record<z.infer<typeof HostsQuerySchema>['sort'], string> = {
  hostname: 'hostname',
  last_seen: 'last_seen',
  open: `(${OPEN_SUM})`,
  ...(Object.fromEntries(SEVERITIES.map((s) => [s, `open_${s}`])) as Record<(typeof SEVERITIES)[number], string>),
  fixable: `(${FIX_SUM})`,
  group: 'grp',
  release: 'distro, release',
  reboot_pending: '(reboot_required OR kernel_newer)',
};

const SUMMARY_COLUMNS = `id, hostname, grp, tags, os, distro, release, kernel, last_seen, reboot_required, kernel_newer, package_count,
  match_error, agent_version, ${SEVERITIES.map((s) => `open_${s}, fix_${s}`).join(', ')}`;

export interface HostRowFull extends Record<string, unknown> {
  id: number;
  hostname: string;
  grp: string;
  tags: string;
  os: string | null;
  distro: string | null;
  release: string | null;
  kernel: string | null;
  last_seen: number | null;
  reboot_required: number;
  kernel_newer: number;
  package_count: number;
  match_error: string | null;
  agent_version: string | null;
}

export function toHostSummary(store: Store, r: HostRowFull): HostSummary {
  const os = r.os ? (JSON.parse(r.os) as OsInfo) : null;
  return {
    id: r.id,
    hostname: r.hostname,
    group: r.grp,
    tags: JSON.parse(r.tags) as string[],
    os: os ? { id: os.id, version_id: os.version_id, codename: os.codename, pretty_name: os.pretty_name } : null,
    distro: r.distro,
    release: r.release,
    kernel: r.kernel,
    last_seen: iso(r.last_seen),
    stale: r.last_seen === null || r.last_seen < store.clock.now() - store.settings.staleAfterMs,
    reboot_pending: r.reboot_required === 1 || r.kernel_newer === 1,
    package_count: r.package_count,
    open: severityCounts(r, 'open'),
    fixable: severityCounts(r, 'fix'),
    match_error: r.match_error,
    agent_version: r.agent_version,
    support: releaseSupport(r.distro, r.release, store.clock.now()),
  };
}

export function listHosts(store: Store, q: z.infer<typeof HostsQuerySchema>): Page<HostSummary> {
  const where: string[] = [];
  const params: (string | number)[] = [];
  if (q.search) {
    where.push("(hostname LIKE ? ESCAPE '\\' OR kernel LIKE ? ESCAPE '\\' OR os LIKE ? ESCAPE '\\')");
    const like = `%${likeText(q.search)}%`;
    params.push(like, like, like);
  }
  if (q.group !== undefined) {
    where.push('grp = ?');
    params.push(q.group);
  }
  if (q.tag) {
    where.push('EXISTS (SELECT 1 FROM json_each(hosts.tags) WHERE value = ?)');
    params.push(q.tag);
  }
  if (q.distro) {
    where.push('distro = ?');
    params.push(q.distro);
  }
  if (q.release) {
    where.push('release = ?');
    params.push(q.release);
  }
  const staleBefore = store.clock.now() - store.settings.staleAfterMs;
  if (q.state === 'never') where.push('last_seen IS NULL');
  else if (q.state === 'stale') {
    where.push('last_seen IS NOT NULL AND last_seen < ?');
    params.push(staleBefore);
  } else if (q.state === 'reporting') {
    where.push('last_seen >= ?');
    params.push(staleBefore);
  }
  if (q.reboot_pending !== undefined)
    where.push(
      q.reboot_pending ? '(reboot_required = 1 OR kernel_newer = 1)' : '(reboot_required = 0 AND kernel_newer = 0)',
    );
  if (q.min_severity) {
    const upto = SEVERITIES.slice(0, SEVERITIES.indexOf(q.min_severity as (typeof SEVERITIES)[number]) + 1);
    where.push(`(${upto.map((s) => `open_${s}`).join(' + ')}) > 0`);
  }
  const w = where.length ? `WHERE ${where.join(' AND ')}` : '';
  const order = q.order ?? (q.sort === 'hostname' || q.sort === 'group' || q.sort === 'release' ? 'asc' : 'desc');
  const sort = SORTS[q.sort]
    .split(', ')
    .map((c) => `${c} ${order.toUpperCase()}`)
    .join(', ');
  const total = store.get<{ n: number }>(`SELECT count(*) AS n FROM hosts ${w}`, ...params)!.n;
  const rows = store.all<HostRowFull>(
    `SELECT ${SUMMARY_COLUMNS} FROM hosts ${w} ORDER BY ${sort}, id LIMIT ? OFFSET ?`,
    ...params,
    q.per_page,
    (q.page - 1) * q.per_page,
  );
  return {
    total,
    total_exact: true,
    page: q.page,
    per_page: q.per_page,
    items: rows.map((r) => toHostSummary(store, r)),
  };
}

export function releaseSupport(distro: string | null, release: string | null, now: number): SupportState {
  const profile = distro ? distroProfile(distro) : undefined;
  if (!profile || !release) return { state: 'unknown' };
  return supportState(profile, release, new Date(now).toISOString().slice(0, 10));
}

export function hostDetail(store: Store, id: number): HostDetail | null {
  const r = store.get<
    HostRowFull & {
      machine_id: string | null;
      enrolled_at: number;
      dormant: number;
      unsupported: string;
      warnings: string;
      match_warnings: string;
      inventory_shrunk: string | null;
    }
  >(
    `SELECT ${SUMMARY_COLUMNS}, machine_id, enrolled_at, dormant, unsupported, warnings, match_warnings, inventory_shrunk FROM hosts WHERE id = ?`,
    id,
  );
  if (!r) return null;
  const revoked =
    store.get<{ n: number }>('SELECT count(*) AS n FROM host_tokens WHERE host_id = ? AND revoked_at IS NULL', id)!
      .n === 0;
  const scans = store.all<ScanRow>('SELECT * FROM scans WHERE host_id = ? ORDER BY id DESC LIMIT 10', id);
  return {
    ...toHostSummary(store, r),
    machine_id: r.machine_id,
    enrolled_at: iso(r.enrolled_at),
    reboot_required: r.reboot_required === 1,
    kernel_newer_installed: r.kernel_newer === 1,
    kernel_not_running_findings: r.dormant,
    support: releaseSupport(r.distro, r.release, store.clock.now()),
    unsupported_packages: JSON.parse(r.unsupported) as HostDetail['unsupported_packages'],
    warnings: JSON.parse(r.warnings) as string[],
    match_warnings: JSON.parse(r.match_warnings) as string[],
    inventory_shrunk: inventoryShrunk(r.inventory_shrunk),
    credential_revoked: revoked,
    recent_scans: scans.map(toScan),
  };
}

function inventoryShrunk(json: string | null): HostDetail['inventory_shrunk'] {
  if (!json) return null;
  const s = JSON.parse(json) as InventoryShrunk;
  return { at: iso(s.at), scan_id: s.scan_id, before: s.before, after: s.after };
}

interface ScanRow {
  id: number;
  kind: string;
  at: number;
  collected_at: string | null;
  package_count: number;
  added: number;
  removed: number;
  detected: number;
  resolved: number;
  reopened: number;
  open: number;
  skipped_reports: number;
}

function toScan(s: ScanRow): z.infer<typeof ScanSchema> {
  return {
    id: s.id,
    kind: s.kind,
    at: iso(s.at),
    collected_at: s.collected_at,
    package_count: s.package_count,
    added: s.added,
    removed: s.removed,
    detected: s.detected,
    resolved: s.resolved,
    reopened: s.reopened,
    open: s.open,
    skipped_reports: s.skipped_reports,
  };
}

/** The host's installed packages, each with its own open findings: the per-binary view of its exposures. */
export function hostPackages(store: Store, id: number, q: z.infer<typeof PackagesQuerySchema>) {
  const row = store.get<{ ids: Uint8Array }>('SELECT ids FROM host_packages WHERE host_id = ?', id);
  const open = new Map<number, number>();
  for (const r of store.all<{ pkg_id: number; n: number }>(
    'SELECT pkg_id, count(*) AS n FROM findings WHERE host_id = ? AND +open = 1 GROUP BY pkg_id',
    id,
  )) {
    open.set(r.pkg_id, r.n);
  }
  const all = row
    ? [...decodeIds(row.ids)].map((pid) => ({ ...store.interner.pkg(pid).pkg, open_findings: open.get(pid) ?? 0 }))
    : [];
  const needle = q.search?.toLowerCase();
  const matching = (
    needle ? all.filter((p) => p.name.toLowerCase().includes(needle) || p.source.toLowerCase().includes(needle)) : all
  ).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : a.arch < b.arch ? -1 : a.arch > b.arch ? 1 : 0));
  if (q.order === 'desc') matching.reverse();
  const items = matching.slice((q.page - 1) * q.per_page, q.page * q.per_page).map((p) => ({
    name: p.name,
    version: p.version,
    arch: p.arch,
    source: p.source,
    source_version: p.source_version,
    format: p.format,
    open_findings: p.open_findings,
  }));
  return { total: matching.length, total_exact: true, page: q.page, per_page: q.per_page, items };
}

export function hostHistory(store: Store, id: number, q: z.infer<typeof HostHistoryQuerySchema>) {
  const events = readEvents(store, { hostId: id }, parseCursor(q.before), 'DESC', q.limit);
  const scans = store
    .all<ScanRow>('SELECT * FROM scans WHERE host_id = ? ORDER BY id DESC LIMIT ?', id, Math.min(q.limit, 100))
    .map(toScan);
  return { events: events.items, next_before: events.cursor, scans };
}
