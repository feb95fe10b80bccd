// Finding history: the diff between what a host's findings were and what the latest match
// says. Finding rows (one per binary package and vulnerability) are brought in line first; the
// exposures they make up (one per source package and vulnerability, the counting unit) then
// open, change, reopen or resolve, and those changes are what events (detected / resolved /
// reopened) and aggregate deltas record.
import { compareLead } from '../../core/exposure.ts';
import {
  exposureIdentity,
  findingIdentity,
  splitExposure,
  splitIdentity,
  type StoredFinding,
} from './finding-identity.ts';
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

/** Changes in exposures (not in binary findings): what a scan and a refresh report. */
export interface DiffCounts {
  detected: number;
  resolved: number;
  reopened: number;
  /** Per severity index: change in open exposures, and in open fixable exposures. */
  open: number[];
  fixable: number[];
}

/** The columns of a finding row the diff reads. */
export interface FindingColumns {
  name_id: number;
  vuln_id: number;
  src_id: number;
  pkg_id: number;
  detail_id: number;
  severity: number;
  status: number;
  fixable: number;
  open: number;
  opened_at: number;
}

const COLUMNS = 'name_id, vuln_id, src_id, pkg_id, detail_id, severity, status, fixable, open, opened_at';

/** An exposure as stored. */
interface ExposureRow {
  vuln_id: number;
  src_id: number;
  lead_name_id: number;
  lead_pkg_id: number;
  detail_id: number;
  severity: number;
  status: number;
  fixable: number;
  binaries: number;
  open: number;
  opened_at: number;
}

const EXPOSURE_COLUMNS =
  'vuln_id, src_id, lead_name_id, lead_pkg_id, detail_id, severity, status, fixable, binaries, open, opened_at';

/** One open binary finding of an exposure. */
type Member = Pick<StoredFinding, 'nameId' | 'pkgId' | 'detailId' | 'severity' | 'status' | 'fixable'>;

/**
 * Brings the stored findings of one host in line with `next` (all its current exposure
 * findings). `scope` limits the comparison to some package names (a delta report); 'all'
 * compares everything (a full report, a re-match after a feed refresh).
 */
export function applyFindings(
  store: Store,
  ctx: DiffContext,
  next: Map<number, StoredFinding>,
  scope: 'all' | Set<number>,
): DiffCounts {
  const old = new Map<number, FindingColumns>();
  const rows =
    scope === 'all'
      ? store.all<FindingColumns>(`SELECT ${COLUMNS} FROM findings WHERE host_id = ?`, ctx.hostId)
      : store.all<FindingColumns>(
          `SELECT ${COLUMNS} FROM findings WHERE host_id = ? AND name_id IN (${[...scope].join(', ')})`,
          ctx.hostId,
        );
  for (const r of rows) old.set(findingIdentity(r.name_id, r.vuln_id), r);
  const inserts = new BatchInsert(store, 'findings', [
    'host_id',
    'name_id',
    'vuln_id',
    'src_id',
    'pkg_id',
    'detail_id',
    'severity',
    'status',
    'fixable',
    'open',
    'first_seen',
    'opened_at',
  ]);
  /** Exposures whose binary findings changed. */
  const touched = new Set<number>();
  // Every package a finding row or an event names (history keeps naming it).
  const named = new Set<number>();

  for (const [identity, f] of next) {
    if (scope !== 'all' && !scope.has(f.nameId)) continue;
    const fix = f.fixable ? 1 : 0;
    const r = old.get(identity);
    if (!r || r.open === 0 || r.pkg_id !== f.pkgId) named.add(f.pkgId);
    const key = exposureIdentity(f.srcId, f.vulnId);
    if (!r) {
      touched.add(key);
      inserts.add([
        ctx.hostId,
        f.nameId,
        f.vulnId,
        f.srcId,
        f.pkgId,
        f.detailId,
        f.severity,
        f.status,
        fix,
        1,
        ctx.now,
        ctx.now,
      ]);
      continue;
    }
    old.delete(identity);
    if (r.pkg_id === f.pkgId && r.detail_id === f.detailId && r.src_id === f.srcId && r.open === 1) continue;
    touched.add(key);
    if (r.open === 0) {
      store.run(
        `UPDATE findings SET open = 1, opened_at = ?, src_id = ?, pkg_id = ?, detail_id = ?, severity = ?, status = ?, fixable = ?, last_seen = NULL,
           resolved_at = NULL, resolved_scan = NULL, resolved_cause = NULL, reopened = reopened + 1
         WHERE host_id = ? AND name_id = ? AND vuln_id = ?`,
        ctx.now,
        f.srcId,
        f.pkgId,
        f.detailId,
        f.severity,
        f.status,
        fix,
        ctx.hostId,
        f.nameId,
        f.vulnId,
      );
      continue;
    }
    // Still open, but on another version or with other advisory data (a fix was published,
    // the rating changed): the same finding, updated in place.
    store.run(
      'UPDATE findings SET src_id = ?, pkg_id = ?, detail_id = ?, severity = ?, status = ?, fixable = ? WHERE host_id = ? AND name_id = ? AND vuln_id = ?',
      f.srcId,
      f.pkgId,
      f.detailId,
      f.severity,
      f.status,
      fix,
      ctx.hostId,
      f.nameId,
      f.vulnId,
    );
    touched.add(exposureIdentity(r.src_id, r.vuln_id));
  }

  for (const [identity, r] of old) {
    if (r.open === 0) continue;
    const { nameId, vulnId } = splitIdentity(identity);
    store.run(
      `UPDATE findings SET open = 0, last_seen = ?, resolved_at = ?, resolved_scan = ?, resolved_cause = ?
       WHERE host_id = ? AND name_id = ? AND vuln_id = ?`,
      ctx.cause === 'scan' ? ctx.lastSeen : ctx.now,
      ctx.now,
      ctx.scanId,
      ctx.cause,
      ctx.hostId,
      nameId,
      vulnId,
    );
    touched.add(exposureIdentity(r.src_id, vulnId));
  }
  inserts.flush();
  const counts = applyExposures(store, ctx, touched, membersOf(store, ctx.hostId, next, scope, touched), scope, named);
  pinPackages(store, named);
  return counts;
}

/** The open binary findings of each touched exposure, after the diff. */
function membersOf(
  store: Store,
  hostId: number,
  next: Map<number, StoredFinding>,
  scope: 'all' | Set<number>,
  touched: Set<number>,
): Map<number, Member[]> {
  const members = new Map<number, Member[]>();
  const add = (key: number, m: Member): void => {
    if (!touched.has(key)) return;
    const list = members.get(key);
    if (list) list.push(m);
    else members.set(key, [m]);
  };
  for (const f of next.values())
    if (scope === 'all' || scope.has(f.nameId)) add(exposureIdentity(f.srcId, f.vulnId), f);
  if (scope !== 'all' && touched.size > 0) {
    // Binaries outside a delta's scope keep their stored state, and may share an exposure.
    const srcs = [...new Set([...touched].map((k) => splitExposure(k).srcId))];
    for (const r of store.all<FindingColumns>(
      `SELECT ${COLUMNS} FROM findings WHERE host_id = ? AND +open = 1 AND src_id IN (${srcs.join(', ')})`,
      hostId,
    )) {
      if (scope.has(r.name_id)) continue;
      add(exposureIdentity(r.src_id, r.vuln_id), {
        nameId: r.name_id,
        pkgId: r.pkg_id,
        detailId: r.detail_id,
        severity: r.severity,
        status: r.status,
        fixable: r.fixable === 1,
      });
    }
  }
  return members;
}

/** The binary finding an exposure shows (core/exposure.ts compareLead). */
function leadOf(store: Store, members: Member[]): Member {
  const facts = (m: Member) => ({ severity: m.severity, fixable: m.fixable, ...store.interner.name(m.nameId) });
  return members.reduce((best, m) => (compareLead(facts(m), facts(best)) < 0 ? m : best));
}

/**
 * Opens, updates, reopens and resolves the touched exposures of a host, with their events and
 * aggregate deltas; the counts of what changed.
 */
function applyExposures(
  store: Store,
  ctx: DiffContext,
  touched: Set<number>,
  members: Map<number, Member[]>,
  scope: 'all' | Set<number>,
  named: Set<number>,
): DiffCounts {
  const counts: DiffCounts = {
    detected: 0,
    resolved: 0,
    reopened: 0,
    open: [0, 0, 0, 0, 0, 0],
    fixable: [0, 0, 0, 0, 0, 0],
  };
  if (touched.size === 0) return counts;
  const { agg } = ctx;
  const before = new Map<number, ExposureRow>();
  const rows =
    scope === 'all'
      ? store.all<ExposureRow>(`SELECT ${EXPOSURE_COLUMNS} FROM exposures WHERE host_id = ?`, ctx.hostId)
      : store.all<ExposureRow>(
          `SELECT ${EXPOSURE_COLUMNS} FROM exposures WHERE host_id = ? AND src_id IN (${[...new Set([...touched].map((k) => splitExposure(k).srcId))].join(', ')})`,
          ctx.hostId,
        );
  // Per vulnerability: this host's open exposures before the diff (known completely only for
  // scope 'all') and the change the diff makes, for the affected-host counts.
  const openBefore = new Map<number, number>();
  for (const r of rows) {
    if (scope === 'all' && r.open === 1) openBefore.set(r.vuln_id, (openBefore.get(r.vuln_id) ?? 0) + 1);
    const key = exposureIdentity(r.src_id, r.vuln_id);
    if (touched.has(key)) before.set(key, r);
  }
  const vulnDelta = new Map<number, number>();
  const bump = (vulnId: number, d: number): void => {
    vulnDelta.set(vulnId, (vulnDelta.get(vulnId) ?? 0) + d);
  };
  const events: Record<'detected' | 'resolved' | 'reopened', number[]> = { detected: [], resolved: [], reopened: [] };
  const inserts = new BatchInsert(store, 'exposures', [
    'host_id',
    'vuln_id',
    'src_id',
    'lead_name_id',
    'lead_pkg_id',
    'detail_id',
    'severity',
    'status',
    'fixable',
    'binaries',
    'open',
    'first_seen',
    'opened_at',
  ]);

  for (const key of touched) {
    const { srcId, vulnId } = splitExposure(key);
    const b = before.get(key);
    const m = members.get(key);
    if (m && m.length > 0) {
      const lead = leadOf(store, m);
      const fix = lead.fixable ? 1 : 0;
      const sev = lead.severity;
      if (!b || b.open === 0) {
        if (!b) {
          inserts.add([
            ctx.hostId,
            vulnId,
            srcId,
            lead.nameId,
            lead.pkgId,
            lead.detailId,
            sev,
            lead.status,
            fix,
            m.length,
            1,
            ctx.now,
            ctx.now,
          ]);
        } else {
          store.run(
            `UPDATE exposures SET open = 1, opened_at = ?, lead_name_id = ?, lead_pkg_id = ?, detail_id = ?, severity = ?, status = ?, fixable = ?, binaries = ?,
               last_seen = NULL, resolved_at = NULL, resolved_scan = NULL, resolved_cause = NULL, reopened = reopened + 1
             WHERE host_id = ? AND vuln_id = ? AND src_id = ?`,
            ctx.now,
            lead.nameId,
            lead.pkgId,
            lead.detailId,
            sev,
            lead.status,
            fix,
            m.length,
            ctx.hostId,
            vulnId,
            srcId,
          );
        }
        const type = b ? 'reopened' : 'detected';
        events[type].push(lead.nameId, vulnId, lead.pkgId, sev);
        named.add(lead.pkgId);
        counts[type]++;
        counts.open[sev]++;
        counts.fixable[sev] += fix;
        if (b) agg.reopened(ctx.grp, sev, ctx.now);
        else agg.detected(ctx.grp, sev, ctx.now);
        agg.openAgeChange(ctx.grp, sev, ctx.now, 1);
        agg.vuln(vulnId, { findings: 1, fixable: fix, severity: sev });
        bump(vulnId, 1);
        continue;
      }
      if (
        b.lead_name_id === lead.nameId &&
        b.lead_pkg_id === lead.pkgId &&
        b.detail_id === lead.detailId &&
        b.severity === sev &&
        b.status === lead.status &&
        b.fixable === fix &&
        b.binaries === m.length
      ) {
        continue;
      }
      // Still open: another lead, version or advisory data, or binaries joined or left.
      store.run(
        `UPDATE exposures SET lead_name_id = ?, lead_pkg_id = ?, detail_id = ?, severity = ?, status = ?, fixable = ?, binaries = ?
         WHERE host_id = ? AND vuln_id = ? AND src_id = ?`,
        lead.nameId,
        lead.pkgId,
        lead.detailId,
        sev,
        lead.status,
        fix,
        m.length,
        ctx.hostId,
        vulnId,
        srcId,
      );
      if (b.lead_pkg_id !== lead.pkgId) named.add(lead.pkgId);
      counts.open[b.severity]--;
      counts.fixable[b.severity] -= b.fixable;
      counts.open[sev]++;
      counts.fixable[sev] += fix;
      if (b.severity !== sev) {
        agg.openAgeChange(ctx.grp, b.severity, b.opened_at, -1);
        agg.openAgeChange(ctx.grp, sev, b.opened_at, 1);
      }
      agg.vuln(vulnId, { fixable: fix - b.fixable, severity: sev });
      continue;
    }
    if (!b || b.open === 0) continue;
    store.run(
      `UPDATE exposures SET open = 0, binaries = 0, last_seen = ?, resolved_at = ?, resolved_scan = ?, resolved_cause = ?
       WHERE host_id = ? AND vuln_id = ? AND src_id = ?`,
      ctx.cause === 'scan' ? ctx.lastSeen : ctx.now,
      ctx.now,
      ctx.scanId,
      ctx.cause,
      ctx.hostId,
      vulnId,
      srcId,
    );
    events.resolved.push(b.lead_name_id, vulnId, b.lead_pkg_id, b.severity);
    counts.resolved++;
    counts.open[b.severity]--;
    counts.fixable[b.severity] -= b.fixable;
    agg.resolved(ctx.grp, b.severity, ctx.now, b.opened_at);
    agg.openAgeChange(ctx.grp, b.severity, b.opened_at, -1);
    agg.vuln(vulnId, { findings: -1, fixable: -b.fixable });
    bump(vulnId, -1);
  }
  inserts.flush();
  for (const type of ['detected', 'reopened', 'resolved'] as const) insertFindingEvent(store, ctx, type, events[type]);
  // Affected-host counts: a host counts once per vulnerability, whatever its exposures.
  for (const [vulnId, d] of vulnDelta) {
    if (d === 0) continue;
    const before =
      scope === 'all'
        ? (openBefore.get(vulnId) ?? 0)
        : store.get<{ n: number }>(
            'SELECT count(*) AS n FROM exposures WHERE host_id = ? AND vuln_id = ? AND +open = 1',
            ctx.hostId,
            vulnId,
          )!.n - d;
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
 * One grouped event row of a host's exposure events (none for no items): `items` are
 * quadruples (the lead's name_id, vuln_id, the lead's pkg_id, severity).
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
    ctx.now,
    type,
    ctx.hostId,
    ctx.scanId,
    ctx.refreshId,
    ctx.cause,
    items.length / 4,
    packItems(items),
  );
}

/**
 * Resolves every open exposure of a host that is being removed: its exposure ends with it. One
 * `resolved` event with cause 'host_removed' names them (the exporter's and the history's
 * record of their end), and the aggregates count them as resolved now, like any resolution:
 * open counts, trends, time to resolve and SLA compliance stay consistent with the fleet
 * that remains. The caller deletes the rows.
 */
export function closeAllFindings(
  store: Store,
  ctx: { hostId: number; grp: string; now: number; agg: AggregateBatch },
): number {
  const rows = store.all<ExposureRow>(
    `SELECT ${EXPOSURE_COLUMNS} FROM exposures WHERE host_id = ? AND +open = 1`,
    ctx.hostId,
  );
  const vulns = new Set<number>();
  const items: number[] = [];
  for (const r of rows) {
    ctx.agg.resolved(ctx.grp, r.severity, ctx.now, r.opened_at);
    ctx.agg.openAgeChange(ctx.grp, r.severity, r.opened_at, -1);
    ctx.agg.vuln(r.vuln_id, { findings: -1, fixable: -r.fixable });
    vulns.add(r.vuln_id);
    items.push(r.lead_name_id, r.vuln_id, r.lead_pkg_id, r.severity);
  }
  for (const v of vulns) ctx.agg.vuln(v, { host: { id: ctx.hostId, delta: -1 } });
  // A finding row pins its package already; the event keeps naming it once the row is gone.
  pinPackages(
    store,
    rows.map((r) => r.lead_pkg_id),
  );
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
