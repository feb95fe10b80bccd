// Report ingest: one agent report (full inventory or delta) becomes the host's new package
// set, a match, and the finding history diff, all in one transaction. A report is checked
// completely before anything is written; a retried report (same id) is answered from the
// record of the first one and changes nothing.
import { EMPTY_DIGEST, keyHash, packageKey, toggleDigest, type Report, type ReportAck, type ResendFull } from '../../core/protocol.ts';
import { SEVERITIES } from '../../core/types.ts';
import { UnmatchableHostError, type FleetMatcher, type HostMatch } from '../fleet-matcher.ts';
import { AggregateBatch } from './aggregates.ts';
import { applyFindings, type DiffCounts } from './history.ts';
import { decodeIds, encodeIds } from './package-set.ts';
import type { Store } from './store.ts';

export type IngestOutcome =
  | { kind: 'ack'; ack: ReportAck }
  | { kind: 'resend'; body: ResendFull }
  /** The report is well-formed but cannot be accepted (id reused by another host, unknown host). */
  | { kind: 'rejected'; status: number; error: string; message: string };

export interface HostRow {
  id: number;
  hostname: string;
  grp: string;
  last_seen: number | null;
  kernel: string | null;
  os: string | null;
  release_hint: string | null;
  pro_attached: number;
  match_gen: number;
  match_error: string | null;
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

export class ReportError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ReportError';
  }
}

export function ingestReport(store: Store, matcher: FleetMatcher, hostId: number, report: Report): IngestOutcome {
  const previous = store.get<ScanRow>('SELECT id, host_id, at, digest, detected, resolved, reopened, open FROM scans WHERE report_id = ?', report.report_id);
  if (previous) {
    if (previous.host_id !== hostId) {
      return { kind: 'rejected', status: 409, error: 'report_id_reused', message: `report id ${report.report_id} was already used by another host` };
    }
    return { kind: 'ack', ack: toAck(report.report_id, 'duplicate', previous) };
  }
  const host = store.get<HostRow>(
    `SELECT id, hostname, grp, last_seen, kernel, os, release_hint, pro_attached, match_gen, match_error, ${OPEN_COLS.join(' + ')} AS open_total
     FROM hosts WHERE id = ?`,
    hostId,
  );
  if (!host) return { kind: 'rejected', status: 403, error: 'forbidden', message: 'this host is not enrolled' };

  // Work out the new package set before writing anything.
  const stored = store.get<{ digest: string; ids: Uint8Array }>('SELECT digest, ids FROM host_packages WHERE host_id = ?', hostId);
  let keep: number[];
  let addedKeys: string[];
  let removedCount = 0;
  let touchedNames: Set<number> | null = null;
  if (report.kind === 'full') {
    const keys = new Set(report.packages.map(packageKey));
    // Known packages have their id and hash already; only new ones are hashed here (and
    // interned below, in the transaction).
    keep = [];
    addedKeys = [];
    const hashes: Buffer[] = [];
    for (const k of keys) {
      const id = store.interner.knownPackage(k);
      if (id === undefined) {
        addedKeys.push(k);
        hashes.push(keyHash(k));
      } else {
        keep.push(id);
        hashes.push(store.interner.pkg(id).hash);
      }
    }
    const digest = toggleDigest(EMPTY_DIGEST, hashes);
    if (digest !== report.digest) {
      throw new ReportError(`digest ${report.digest} does not match the ${keys.size} packages in the report (they give ${digest})`);
    }
  } else {
    if (!stored || stored.digest !== report.base) {
      return {
        kind: 'resend',
        body: {
          error: 'resend_full',
          message: stored ? 'the delta is based on a package set the server does not hold' : 'the server holds no inventory for this host',
          digest: stored?.digest ?? null,
        },
      };
    }
    const current = new Set(decodeIds(stored.ids));
    const hashes: Buffer[] = [];
    touchedNames = new Set();
    for (const p of report.removed) {
      const key = packageKey(p);
      const id = store.interner.knownPackage(key);
      if (id === undefined || !current.delete(id)) {
        return { kind: 'resend', body: { error: 'resend_full', message: `removed package ${p.name} ${p.version} is not in the server's set`, digest: stored.digest } };
      }
      hashes.push(store.interner.pkg(id).hash);
      touchedNames.add(store.interner.pkg(id).nameId);
      removedCount++;
    }
    addedKeys = [];
    for (const p of report.added) {
      const key = packageKey(p);
      const id = store.interner.knownPackage(key);
      if (id !== undefined && current.has(id)) {
        return { kind: 'resend', body: { error: 'resend_full', message: `added package ${p.name} ${p.version} is already in the server's set`, digest: stored.digest } };
      }
      if (addedKeys.includes(key)) continue;
      addedKeys.push(key);
      hashes.push(keyHash(key));
    }
    const digest = toggleDigest(stored.digest, hashes);
    if (digest !== report.digest) {
      return { kind: 'resend', body: { error: 'resend_full', message: 'the package set after the delta differs from the agent\'s', digest: stored.digest } };
    }
    keep = [...current];
  }

  const now = store.clock.now();
  return store.tx(() => {
    const ids = keep;
    for (const key of addedKeys) {
      const id = store.interner.packageIdForKey(key);
      ids.push(id);
      if (touchedNames) touchedNames.add(store.interner.pkg(id).nameId);
    }
    const h = report.host;
    const osJson = JSON.stringify(h.os);
    const hostChanged =
      host.kernel !== h.kernel || host.os !== osJson || (host.release_hint ?? null) !== (h.release ?? null) || host.pro_attached !== (h.pro_attached ? 1 : 0);
    const fullDiff = report.kind === 'full' || hostChanged || host.match_gen !== matcher.generation || host.match_error !== null;
    const scope: 'all' | Set<number> = fullDiff ? 'all' : touchedNames!;

    let match: HostMatch | null = null;
    let matchError: string | null = null;
    if (scope === 'all' || scope.size > 0) {
      try {
        match = matcher.matchHost({ os: h.os, kernel: h.kernel, releaseHint: h.release ?? null, proAttached: h.pro_attached === true, pkgIds: ids });
      } catch (err) {
        if (!(err instanceof UnmatchableHostError)) throw err;
        matchError = err.message;
      }
    }

    const digest = report.digest;
    const scanId = store.run(
      `INSERT INTO scans (host_id, report_id, kind, at, collected_at, digest, package_count, added, removed, detected, resolved, reopened, open, skipped_reports)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 0, 0, 0, 0, ?)`,
      hostId, report.report_id, report.kind, now, report.collected_at, digest, ids.length,
      report.kind === 'full' ? ids.length : report.added.length, removedCount, report.skipped_reports,
    ).lastInsertRowid;

    const agg = new AggregateBatch(store);
    let counts: DiffCounts | null = null;
    if (match) {
      counts = applyFindings(
        store,
        { hostId, grp: host.grp, now, cause: 'scan', scanId, refreshId: null, lastSeen: host.last_seen ?? now, agg },
        match.findings,
        scope,
      );
    }
    agg.flush();

    const sets: string[] = [
      'hostname = ?', 'last_seen = ?', 'last_scan_id = ?', 'os = ?', 'kernel = ?', 'release_hint = ?', 'pro_attached = ?',
      'reboot_required = ?', 'package_count = ?', 'warnings = ?', 'agent_version = ?',
    ];
    const values: (string | number | null)[] = [
      h.hostname, now, scanId, osJson, h.kernel, h.release ?? null, h.pro_attached ? 1 : 0,
      h.reboot_required ? 1 : 0, ids.length, JSON.stringify(report.warnings.slice(0, 200)), report.agent.version,
    ];
    if (match) {
      sets.push('distro = ?', 'release = ?', 'kernel_newer = ?', 'dormant = ?', 'unsupported = ?', 'match_warnings = ?', 'match_gen = ?', 'match_error = NULL');
      values.push(match.distro, match.release, match.kernelNewer ? 1 : 0, match.dormant, JSON.stringify(match.unsupported), JSON.stringify(match.warnings), matcher.generation);
    } else if (matchError) {
      sets.push('match_error = ?', 'match_gen = ?');
      values.push(matchError, matcher.generation);
    }
    if (counts) {
      for (let i = 0; i < SEVERITIES.length; i++) {
        if (counts.open[i]) sets.push(`${OPEN_COLS[i]} = ${OPEN_COLS[i]} + ${counts.open[i]}`);
        if (counts.fixable[i]) sets.push(`${FIX_COLS[i]} = ${FIX_COLS[i]} + ${counts.fixable[i]}`);
      }
    }
    store.run(`UPDATE hosts SET ${sets.join(', ')} WHERE id = ?`, ...values, hostId);
    const open = host.open_total + (counts ? counts.open.reduce((a, b) => a + b, 0) : 0);
    store.run(
      'UPDATE scans SET detected = ?, resolved = ?, reopened = ?, open = ? WHERE id = ?',
      counts?.detected ?? 0, counts?.resolved ?? 0, counts?.reopened ?? 0, open, scanId,
    );
    if (stored?.digest !== digest) {
      store.run(
        'INSERT INTO host_packages (host_id, digest, ids) VALUES (?, ?, ?) ON CONFLICT (host_id) DO UPDATE SET digest = excluded.digest, ids = excluded.ids',
        hostId, digest, encodeIds(ids),
      );
    }
    return {
      kind: 'ack' as const,
      ack: toAck(report.report_id, 'accepted', {
        id: scanId, host_id: hostId, at: now, digest,
        detected: counts?.detected ?? 0, resolved: counts?.resolved ?? 0, reopened: counts?.reopened ?? 0, open,
      }),
    };
  });
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
