// Finding history: the diff between what a host's findings were and what the latest match
// says, written as row changes, events (detected / resolved / reopened) and aggregate deltas.
import { splitIdentity, findingIdentity, type StoredFinding } from './finding-identity.ts';
import type { AggregateBatch } from './aggregates.ts';
import { BatchInsert } from './batch.ts';
import type { Store } from './store.ts';

export interface DiffContext {
  hostId: number;
  grp: string;
  now: number;
  cause: 'scan' | 'feed';
  scanId: number | null;
  refreshId: number | null;
  /** When findings that disappear now were last present (the previous report's time). */
  lastSeen: number;
  agg: AggregateBatch;
}

export interface DiffCounts {
  detected: number;
  resolved: number;
  reopened: number;
  /** Per severity index: change in open findings, and in open fixable findings. */
  open: number[];
  fixable: number[];
}

interface Row {
  name_id: number;
  vuln_id: number;
  pkg_id: number;
  detail_id: number;
  severity: number;
  status: number;
  fixable: number;
  open: number;
  opened_at: number;
}

const COLUMNS = 'name_id, vuln_id, pkg_id, detail_id, severity, status, fixable, open, opened_at';

/**
 * Brings the stored findings of one host in line with `next` (all its current exposure
 * findings). `scope` limits the comparison to some package names (a delta report); 'all'
 * compares everything (a full report, a re-match after a feed refresh).
 */
export function applyFindings(store: Store, ctx: DiffContext, next: Map<number, StoredFinding>, scope: 'all' | Set<number>): DiffCounts {
  const counts: DiffCounts = { detected: 0, resolved: 0, reopened: 0, open: [0, 0, 0, 0, 0, 0], fixable: [0, 0, 0, 0, 0, 0] };
  const old = new Map<number, Row>();
  const rows =
    scope === 'all'
      ? store.all<Row>(`SELECT ${COLUMNS} FROM findings WHERE host_id = ?`, ctx.hostId)
      : store.all<Row>(`SELECT ${COLUMNS} FROM findings WHERE host_id = ? AND name_id IN (${[...scope].join(', ')})`, ctx.hostId);
  for (const r of rows) old.set(findingIdentity(r.name_id, r.vuln_id), r);
  const { agg } = ctx;
  // Per vulnerability: this host's open findings before the diff (known completely only for
  // scope 'all') and the change the diff makes, for the affected-host counts.
  const openBefore = new Map<number, number>();
  if (scope === 'all') for (const r of old.values()) if (r.open === 1) openBefore.set(r.vuln_id, (openBefore.get(r.vuln_id) ?? 0) + 1);
  const vulnDelta = new Map<number, number>();
  const bump = (vulnId: number, d: number): void => {
    vulnDelta.set(vulnId, (vulnDelta.get(vulnId) ?? 0) + d);
  };
  const events: Record<'detected' | 'resolved' | 'reopened', number[]> = { detected: [], resolved: [], reopened: [] };
  const inserts = new BatchInsert(store, 'findings', [
    'host_id', 'name_id', 'vuln_id', 'pkg_id', 'detail_id', 'severity', 'status', 'fixable', 'open', 'first_seen', 'opened_at',
  ]);
  const event = (type: keyof typeof events, f: { nameId: number; vulnId: number; pkgId: number; severity: number }): void => {
    events[type].push(f.nameId, f.vulnId, f.pkgId, f.severity);
  };
  // Every package a finding row or an event names (history keeps naming it).
  const named = new Set<number>();

  for (const [identity, f] of next) {
    if (scope !== 'all' && !scope.has(f.nameId)) continue;
    const fix = f.fixable ? 1 : 0;
    const r = old.get(identity);
    if (!r || r.open === 0 || r.pkg_id !== f.pkgId) named.add(f.pkgId);
    if (!r) {
      inserts.add([ctx.hostId, f.nameId, f.vulnId, f.pkgId, f.detailId, f.severity, f.status, fix, 1, ctx.now, ctx.now]);
      event('detected', f);
      counts.detected++;
      counts.open[f.severity]++;
      counts.fixable[f.severity] += fix;
      agg.detected(ctx.grp, f.severity, ctx.now);
      agg.openAgeChange(ctx.grp, f.severity, ctx.now, 1);
      agg.vuln(f.vulnId, { findings: 1, fixable: fix, severity: f.severity });
      bump(f.vulnId, 1);
      continue;
    }
    old.delete(identity);
    if (r.open === 0) {
      store.run(
        `UPDATE findings SET open = 1, opened_at = ?, pkg_id = ?, detail_id = ?, severity = ?, status = ?, fixable = ?, last_seen = NULL,
           resolved_at = NULL, resolved_scan = NULL, resolved_cause = NULL, reopened = reopened + 1
         WHERE host_id = ? AND name_id = ? AND vuln_id = ?`,
        ctx.now, f.pkgId, f.detailId, f.severity, f.status, fix, ctx.hostId, f.nameId, f.vulnId,
      );
      event('reopened', f);
      counts.reopened++;
      counts.open[f.severity]++;
      counts.fixable[f.severity] += fix;
      agg.reopened(ctx.grp, f.severity, ctx.now);
      agg.openAgeChange(ctx.grp, f.severity, ctx.now, 1);
      agg.vuln(f.vulnId, { findings: 1, fixable: fix, severity: f.severity });
      bump(f.vulnId, 1);
      continue;
    }
    if (r.pkg_id === f.pkgId && r.detail_id === f.detailId) continue;
    // Still open, but on another version or with other advisory data (a fix was published,
    // the rating changed): the same finding, updated in place.
    store.run(
      'UPDATE findings SET pkg_id = ?, detail_id = ?, severity = ?, status = ?, fixable = ? WHERE host_id = ? AND name_id = ? AND vuln_id = ?',
      f.pkgId, f.detailId, f.severity, f.status, fix, ctx.hostId, f.nameId, f.vulnId,
    );
    counts.open[r.severity]--;
    counts.fixable[r.severity] -= r.fixable;
    counts.open[f.severity]++;
    counts.fixable[f.severity] += fix;
    if (r.severity !== f.severity) {
      agg.openAgeChange(ctx.grp, r.severity, r.opened_at, -1);
      agg.openAgeChange(ctx.grp, f.severity, r.opened_at, 1);
    }
    agg.vuln(f.vulnId, { fixable: fix - r.fixable, severity: f.severity });
  }

  for (const [identity, r] of old) {
    if (r.open === 0) continue;
    const { nameId, vulnId } = splitIdentity(identity);
    store.run(
      `UPDATE findings SET open = 0, last_seen = ?, resolved_at = ?, resolved_scan = ?, resolved_cause = ?
       WHERE host_id = ? AND name_id = ? AND vuln_id = ?`,
      ctx.cause === 'scan' ? ctx.lastSeen : ctx.now, ctx.now, ctx.scanId, ctx.cause, ctx.hostId, nameId, vulnId,
    );
    event('resolved', { nameId, vulnId, pkgId: r.pkg_id, severity: r.severity });
    counts.resolved++;
    counts.open[r.severity]--;
    counts.fixable[r.severity] -= r.fixable;
    agg.resolved(ctx.grp, r.severity, ctx.now, r.opened_at);
    agg.openAgeChange(ctx.grp, r.severity, r.opened_at, -1);
    agg.vuln(vulnId, { findings: -1, fixable: -r.fixable });
    bump(vulnId, -1);
  }

  inserts.flush();
  pinPackages(store, named);
  for (const type of ['detected', 'reopened', 'resolved'] as const) insertFindingEvent(store, ctx, type, events[type]);
  // Affected-host counts: a host counts once per vulnerability, whatever the package count.
  for (const [vulnId, d] of vulnDelta) {
    if (d === 0) continue;
    const before =
      scope === 'all'
        ? (openBefore.get(vulnId) ?? 0)
        : store.get<{ n: number }>('SELECT count(*) AS n FROM findings WHERE host_id = ? AND vuln_id = ? AND +open = 1', ctx.hostId, vulnId)!.n - d;
    const after = before + d;
    const hosts = (after > 0 ? 1 : 0) - (before > 0 ? 1 : 0);
    if (hosts !== 0) agg.vuln(vulnId, { host: { id: ctx.hostId, delta: hosts } });
  }
  return counts;
}

/**
 * Marks packages named by finding rows or events as pinned: the package collector never
 * deletes them, so the history can always say which version a finding was on.
 */
export function pinPackages(store: Store, ids: Iterable<number>): void {
  const fresh: number[] = [];
  for (const id of ids) if (!store.interner.pkg(id).pinned) fresh.push(id);
  if (fresh.length === 0) return;
  // Rare after a fleet's first reports: only versions that carry a finding for the first time.
  for (const id of fresh) store.run('UPDATE pkgs SET pinned = 1 WHERE id = ?', id);
  store.afterCommit(() => store.interner.markPinned(fresh));
}

/**
 * One grouped event row of a host's finding events (none for no items): `items` are
 * quadruples (name_id, vuln_id, pkg_id, severity).
 */
function insertFindingEvent(
  store: Store,
  ctx: { now: number; hostId: number; scanId: number | null; refreshId: number | null; cause: string },
  type: 'detected' | 'reopened' | 'resolved',
  items: number[],
): void {
  if (items.length === 0) return;
  store.run(
    'INSERT INTO events (at, type, host_id, scan_id, refresh_id, cause, count, items) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
    ctx.now, type, ctx.hostId, ctx.scanId, ctx.refreshId, ctx.cause, items.length / 4, packItems(items),
  );
}

/**
 * Resolves every open finding of a host that is being removed: its exposure ends with it. One
 * `resolved` event with cause 'host_removed' names them (the exporter's and the history's
 * record of their end), and the aggregates count them as resolved now, like any resolution:
 * open counts, trends, time to resolve and SLA compliance stay consistent with the fleet
 * that remains. The caller deletes the rows.
 */
export function closeAllFindings(store: Store, ctx: { hostId: number; grp: string; now: number; agg: AggregateBatch }): number {
  const rows = store.all<Row>(`SELECT ${COLUMNS} FROM findings WHERE host_id = ? AND +open = 1`, ctx.hostId);
  const vulns = new Set<number>();
  const items: number[] = [];
  for (const r of rows) {
    ctx.agg.resolved(ctx.grp, r.severity, ctx.now, r.opened_at);
    ctx.agg.openAgeChange(ctx.grp, r.severity, r.opened_at, -1);
    ctx.agg.vuln(r.vuln_id, { findings: -1, fixable: -r.fixable });
    vulns.add(r.vuln_id);
    items.push(r.name_id, r.vuln_id, r.pkg_id, r.severity);
  }
  for (const v of vulns) ctx.agg.vuln(v, { host: { id: ctx.hostId, delta: -1 } });
  // A finding row pins its package already; the event keeps naming it once the row is gone.
  pinPackages(store, rows.map((r) => r.pkg_id));
  insertFindingEvent(store, { ...ctx, scanId: null, refreshId: null, cause: 'host_removed' }, 'resolved', items);
  return rows.length;
}

/** Event items as stored: uint32 quadruples (name_id, vuln_id, pkg_id, severity). */
export function packItems(items: number[]): Uint8Array {
  const a = Uint32Array.from(items);
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

export function unpackItems(blob: Uint8Array): Uint32Array {
  const copy = new Uint8Array(blob);
  return new Uint32Array(copy.buffer, 0, copy.byteLength / 4);
}
