// Report ingest: one agent report (full inventory or delta) becomes the host's new package
// set, a match, and the finding history diff, all in one atomic unit (a transaction, or a
// savepoint in a group commit). A report is checked completely before anything is written;
// a retried report (same id) is answered from the record of the first one and changes nothing.
// A large report is prepared first, piece by piece (prepare.ts); the unit then only commits.
import type { Report, ReportAck } from '../../core/protocol.ts';
import { SEVERITIES } from '../../core/types.ts';
import { AggregateBatch } from './aggregates.ts';
import { applyFindingsWithExceptions } from './exceptions-apply.ts';
import type { DiffCounts } from './history.ts';
import { UnsupportedDistroError } from '../../core/distros.ts';
import type { HostMatch, HostMatcher } from './host-matcher.ts';
import { diffSortedIds, encodeSortedIds, sortIds } from './package-set.ts';
import { resend, resolveSet, storedSet, type NewSet, type Resend } from './report-set.ts';
import { checkShrink } from './shrink.ts';
import type { Store } from './store.ts';

export { ReportError } from './report-set.ts';

export type IngestOutcome =
  | { kind: 'ack'; ack: ReportAck }
  | Resend
  /** The report is well-formed but cannot be accepted (id reused by another host, unknown host). */
  | { kind: 'rejected'; status: 403 | 409 | 503; error: string; message: string };

/** A report's set worked out ahead of its unit (prepare.ts): every package interned and held. */
export interface PreparedSet {
  /** Digest of the stored set it was computed on (null: none); stale if the host's set moved on. */
  basis: string | null;
  set: NewSet;
}

interface HostRow {
  id: number;
  hostname: string;
  grp: string;
  last_seen: number | null;
  kernel: string | null;
  os: string | null;
  release_hint: string | null;
  pro_attached: number;
  reboot_required: number;
  warnings: string;
  agent_version: string | null;
  match_gen: number;
  match_error: string | null;
  package_count: number;
  inventory_shrunk: string | null;
  open_total: number;
}

interface ScanRow {
  id: number;
  host_id: number;
  at: number;
  digest: string;
  detected: number;
  resolved: number;
  reopened: number;
  open: number;
}

const OPEN_COLS = SEVERITIES.map((s) => `open_${s}`);
const FIX_COLS = SEVERITIES.map((s) => `fix_${s}`);

/** The report already stored under this id (a resend), or undefined. */
export function previousScan(store: Store, reportId: string): ScanRow | undefined {
  return store.get<ScanRow>(
    'SELECT id, host_id, at, digest, detected, resolved, reopened, open FROM scans WHERE report_id = ?',
    reportId,
  );
}

export function ingestReport(
  store: Store,
  matcher: HostMatcher,
  hostId: number,
  report: Report,
  prepared?: PreparedSet,
): IngestOutcome {
  const previous = previousScan(store, report.report_id);
  if (previous) {
    if (previous.host_id !== hostId) {
      return {
        kind: 'rejected',
        status: 409,
        error: 'report_id_reused',
        message: `report id ${report.report_id} was already used by another host`,
      };
    }
    return { kind: 'ack', ack: toAck(report.report_id, 'duplicate', previous) };
  }
  const host = store.get<HostRow>(
    `SELECT id, hostname, grp, last_seen, kernel, os, release_hint, pro_attached, reboot_required, warnings, agent_version, match_gen, match_error,
       package_count, inventory_shrunk, ${OPEN_COLS.join(' + ')} AS open_total FROM hosts WHERE id = ?`,
    hostId,
  );
  if (!host) return { kind: 'rejected', status: 403, error: 'forbidden', message: 'this host is not enrolled' };
  const storedDigest =
    store.get<{ digest: string }>('SELECT digest FROM host_packages WHERE host_id = ?', hostId)?.digest ?? null;

  const h = report.host;
  const osJson = JSON.stringify(h.os);
  const hostChanged =
    host.kernel !== h.kernel ||
    host.os !== osJson ||
    (host.release_hint ?? null) !== (h.release ?? null) ||
    host.pro_attached !== (h.pro_attached ? 1 : 0);
  const current = host.match_gen === matcher.generation && host.match_error === null;

  if (report.kind === 'delta') {
    if (storedDigest === null) return resend('the server holds no inventory for this host', null);
    if (storedDigest !== report.base)
      return resend('the delta is based on a package set the server does not hold', storedDigest);
    // The daily report of a host where nothing changed: record that it was seen, nothing else.
    if (report.added.length === 0 && report.removed.length === 0 && !hostChanged && current) {
      if (report.digest !== storedDigest)
        return resend("the package set after the delta differs from the agent's", storedDigest);
      return store.tx(() => seenUnchanged(store, host, report, storedDigest));
    }
  }

  // The stored set, for a delta's base and for the packages the host stops holding.
  const stored = storedDigest === null ? null : storedSet(store, hostId);
  // A prepared full report holds whatever the host had meanwhile; a delta only on the base it was prepared on.
  const usable = prepared && (report.kind === 'full' || prepared.basis === storedDigest);
  const set = usable ? prepared.set : resolveSet(store, report, stored);
  if ('kind' in set) return set;
  const newSet = set;

  const now = store.clock.now();
  return store.tx(() => {
    const ids = newSet.keep;
    for (const key of newSet.fresh) {
      const id = store.interner.packageIdForKey(key);
      ids.push(id);
      newSet.touched?.add(store.interner.pkg(id).nameId);
    }
    const scope: 'all' | Set<number> = newSet.touched === null || hostChanged || !current ? 'all' : newSet.touched;

    let match: HostMatch | null = null;
    let matchError: string | null = null;
    if (scope === 'all' || scope.size > 0) {
      try {
        match = matcher.matchHost({
          os: h.os,
          kernel: h.kernel,
          releaseHint: h.release ?? null,
          proAttached: h.pro_attached === true,
          pkgIds: ids,
          onlyNames: scope === 'all' ? undefined : scope,
        });
      } catch (err) {
        if (!(err instanceof UnsupportedDistroError)) throw err;
        matchError = err.message;
      }
    }

    const scanId = store.run(
      `INSERT INTO scans (host_id, report_id, kind, at, collected_at, digest, package_count, added, removed, detected, resolved, reopened, open, skipped_reports)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 0, 0, 0, ?, ?)`,
      hostId,
      report.report_id,
      report.kind,
      now,
      report.collected_at,
      report.digest,
      ids.length,
      newSet.added,
      newSet.removed,
      host.open_total,
      report.skipped_reports,
    ).lastInsertRowid;

    const agg = new AggregateBatch(store);
    let counts: DiffCounts | null = null;
    if (match) {
      counts = applyFindingsWithExceptions(
        store,
        { hostId, grp: host.grp, now, cause: 'scan', scanId, refreshId: null, lastSeen: host.last_seen ?? now, agg },
        match.findings,
        scope,
      );
    }
    agg.flush();

    const sets: string[] = [
      'hostname = ?',
      'last_seen = ?',
      'last_scan_id = ?',
      'os = ?',
      'kernel = ?',
      'release_hint = ?',
      'pro_attached = ?',
      'reboot_required = ?',
      'package_count = ?',
      'warnings = ?',
      'agent_version = ?',
    ];
    const values: (string | number | null)[] = [
      h.hostname,
      now,
      scanId,
      osJson,
      h.kernel,
      h.release ?? null,
      h.pro_attached ? 1 : 0,
      h.reboot_required ? 1 : 0,
      ids.length,
      warningsJson(report),
      report.agent.version,
    ];
    if (match) {
      sets.push(
        'distro = ?',
        'release = ?',
        'kernel_newer = ?',
        'dormant = ?',
        'unsupported = ?',
        'match_warnings = ?',
        'match_gen = ?',
        'match_error = NULL',
      );
      values.push(
        match.distro,
        match.release,
        match.kernelNewer ? 1 : 0,
        match.dormant,
        JSON.stringify(match.unsupported),
        JSON.stringify(match.warnings),
        matcher.generation,
      );
    } else if (matchError) {
      sets.push('match_error = ?', 'match_gen = ?');
      values.push(matchError, matcher.generation);
    }
    let open = host.open_total;
    if (counts) {
      for (let i = 0; i < SEVERITIES.length; i++) {
        if (counts.open[i]) sets.push(`${OPEN_COLS[i]} = ${OPEN_COLS[i]} + ${counts.open[i]}`);
        if (counts.fixable[i]) sets.push(`${FIX_COLS[i]} = ${FIX_COLS[i]} + ${counts.fixable[i]}`);
        open += counts.open[i];
      }
      if (counts.detected || counts.resolved || counts.reopened || open !== host.open_total) {
        store.run(
          'UPDATE scans SET detected = ?, resolved = ?, reopened = ?, open = ? WHERE id = ?',
          counts.detected,
          counts.resolved,
          counts.reopened,
          open,
          scanId,
        );
      }
    }
    const shrink = checkShrink(store, {
      hostId,
      scanId,
      now,
      before: host.package_count,
      after: ids.length,
      standing: host.inventory_shrunk,
    });
    if (shrink !== undefined) {
      sets.push('inventory_shrunk = ?');
      values.push(shrink);
    }
    store.run(`UPDATE hosts SET ${sets.join(', ')} WHERE id = ?`, ...values, hostId);
    if (storedDigest !== report.digest) {
      const sorted = sortIds(ids);
      store.run(
        'INSERT INTO host_packages (host_id, digest, ids) VALUES (?, ?, ?) ON CONFLICT (host_id) DO UPDATE SET digest = excluded.digest, ids = excluded.ids',
        hostId,
        report.digest,
        encodeSortedIds(sorted),
      );
      // The host now holds what it gained and no longer holds what it lost (once committed).
      const { gained, lost } = diffSortedIds(stored?.ids ?? new Uint32Array(0), sorted);
      store.afterCommit(() => {
        store.interner.hold(gained);
        store.interner.release(lost);
      });
    }
    return {
      kind: 'ack' as const,
      ack: toAck(report.report_id, 'accepted', {
        id: scanId,
        host_id: hostId,
        at: now,
        digest: report.digest,
        detected: counts?.detected ?? 0,
        resolved: counts?.resolved ?? 0,
        reopened: counts?.reopened ?? 0,
        open,
      }),
    };
  });
}

function warningsJson(report: Report): string {
  return report.warnings.length ? JSON.stringify(report.warnings.slice(0, 200)) : '[]';
}

/** A delta without changes from a host whose findings are current: a scan record, a last-seen time. */
function seenUnchanged(store: Store, host: HostRow, report: Report, digest: string): IngestOutcome {
  const now = store.clock.now();
  const scanId = store.run(
    `INSERT INTO scans (host_id, report_id, kind, at, collected_at, digest, package_count, added, removed, detected, resolved, reopened, open, skipped_reports)
     VALUES (?, ?, 'delta', ?, ?, ?, (SELECT package_count FROM hosts WHERE id = ?), 0, 0, 0, 0, 0, ?, ?)`,
    host.id,
    report.report_id,
    now,
    report.collected_at,
    digest,
    host.id,
    host.open_total,
    report.skipped_reports,
  ).lastInsertRowid;
  const h = report.host;
  const warnings = warningsJson(report);
  if (
    host.hostname === h.hostname &&
    host.reboot_required === (h.reboot_required ? 1 : 0) &&
    host.warnings === warnings &&
    host.agent_version === report.agent.version
  ) {
    store.run('UPDATE hosts SET last_seen = ?, last_scan_id = ? WHERE id = ?', now, scanId, host.id);
  } else {
    store.run(
      'UPDATE hosts SET last_seen = ?, last_scan_id = ?, hostname = ?, reboot_required = ?, warnings = ?, agent_version = ? WHERE id = ?',
      now,
      scanId,
      h.hostname,
      h.reboot_required ? 1 : 0,
      warnings,
      report.agent.version,
      host.id,
    );
  }
  return {
    kind: 'ack',
    ack: toAck(report.report_id, 'accepted', {
      id: scanId,
      host_id: host.id,
      at: now,
      digest,
      detected: 0,
      resolved: 0,
      reopened: 0,
      open: host.open_total,
    }),
  };
}

function toAck(reportId: string, status: 'accepted' | 'duplicate', s: ScanRow): ReportAck {
  return {
    report_id: reportId,
    status,
    host_id: s.host_id,
    digest: s.digest,
    scan_id: s.id,
    received_at: new Date(s.at).toISOString(),
    changes: { detected: s.detected, resolved: s.resolved, reopened: s.reopened, open: s.open },
  };
}
