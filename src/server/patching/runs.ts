// Patch runs and boot reports in the store.
//
// cves_closed is the server's own account: the findings of the host that the first inventory
// report after the run resolved (resolved_cause 'scan' in that scan). The run arrives before
// that report — the agent sends its run, then a fresh inventory — so the host's last scan when
// the run first arrives is the "before", and the next one is the "after". Until that scan
// arrives, the ids the agent computed itself (`patch --scan`) are shown, or null. Runs that
// changed nothing (skipped, dry run, nothing to do) closed nothing. Once confirmed, the list is
// stored with the run, so a later reopening does not rewrite history.
import { isDeepStrictEqual } from 'node:util';
import type { BootReport, PatchRun } from '../../patch/types.ts';
import { HttpError } from '../http/errors.ts';
import type { Store } from '../store/store.ts';
import { releaseLease } from './leases.ts';
import type { HostInfo } from './rings.ts';

export interface RunRow {
  id: string;
  host_id: number;
  policy_name: string;
  policy_version: number;
  backend: string;
  mode: string;
  started_ms: number;
  finished_ms: number;
  outcome: string;
  reboot_required: number;
  reboot_status: string;
  back_at: number | null;
  received_at: number;
  updated_at: number;
  scan_before: number | null;
  confirm_scan: number | null;
  cves_closed: string | null;
  doc: string;
}

function ms(iso: string, field: string): number {
  const t = Date.parse(iso);
  if (Number.isNaN(t))
    throw new HttpError('PL_E_BAD_REQUEST', `${field} is not an ISO time: ${JSON.stringify(iso)}`, {
      details: [{ path: field, message: 'expected an ISO 8601 time' }],
    });
  return t;
}

/** Reboot states after the host came back; a late resend of an earlier state does not undo them. */
const AFTER_BOOT = new Set(['rebooted']);

export function recordRun(
  store: Store,
  host: HostInfo,
  run: PatchRun,
): { status: 'created' | 'updated' | 'duplicate'; received_at: number } {
  const started = ms(run.started_at, 'started_at');
  const finished = ms(run.finished_at, 'finished_at');
  return store.tx(() => {
    const now = store.clock.now();
    const existing = store.get<RunRow>('SELECT * FROM patch_runs WHERE id = ?', run.id);
    if (existing && existing.host_id !== host.id)
      throw new HttpError('PL_E_CONFLICT', `patch run ${run.id} was reported by another host`);
    let doc = run;
    if (existing) {
      const old = JSON.parse(existing.doc) as PatchRun;
      if (isDeepStrictEqual(old, run)) return { status: 'duplicate' as const, received_at: existing.received_at };
      if (AFTER_BOOT.has(old.reboot.status) && !AFTER_BOOT.has(run.reboot.status)) doc = { ...run, reboot: old.reboot };
    }
    const reboot = doc.reboot;
    const cols = [
      run.policy.name,
      run.policy.version,
      run.backend,
      run.mode,
      started,
      finished,
      run.outcome,
      reboot.required ? 1 : 0,
      reboot.status,
      JSON.stringify(doc),
    ] as const;
    if (existing) {
      store.run(
        `UPDATE patch_runs SET policy_name = ?, policy_version = ?, backend = ?, mode = ?, started_ms = ?, finished_ms = ?, outcome = ?,
           reboot_required = ?, reboot_status = ?, doc = ?, updated_at = ? WHERE id = ?`,
        ...cols,
        now,
        run.id,
      );
    } else {
      store.run(
        `INSERT INTO patch_runs (policy_name, policy_version, backend, mode, started_ms, finished_ms, outcome, reboot_required, reboot_status, doc,
           id, host_id, received_at, updated_at, scan_before) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        ...cols,
        run.id,
        host.id,
        now,
        now,
        host.last_scan_id,
      );
    }
    // The host API's reboot_pending shows what the newest run found (the next inventory report
    // refreshes it from the host's flag file).
    const newest = store.get<{ id: string }>(
      'SELECT id FROM patch_runs WHERE host_id = ? AND mode != ? ORDER BY finished_ms DESC, received_at DESC LIMIT 1',
      host.id,
      'dry_run',
    );
    if (newest?.id === run.id && run.mode !== 'dry_run' && !AFTER_BOOT.has(reboot.status)) {
      store.run('UPDATE hosts SET reboot_required = ? WHERE id = ?', reboot.required ? 1 : 0, host.id);
    }
    return {
      status: existing ? ('updated' as const) : ('created' as const),
      received_at: existing?.received_at ?? now,
    };
  });
}

/** The host is back after the reboot `report.run_id` asked for: mark it, give the lease back. */
export function recordBoot(
  store: Store,
  host: HostInfo,
  report: BootReport,
): { lease_released: boolean; received_at: number } {
  return store.tx(() => {
    const now = store.clock.now();
    const row = store.get<RunRow>('SELECT * FROM patch_runs WHERE id = ? AND host_id = ?', report.run_id, host.id);
    if (!row)
      throw new HttpError(
        'PL_E_NOT_FOUND',
        `no patch run ${report.run_id} of this host: report the run before its boot`,
      );
    const doc = JSON.parse(row.doc) as PatchRun;
    const leaseId = report.lease_id ?? doc.reboot.lease_id;
    const back = new Date(now).toISOString();
    const updated: PatchRun = {
      ...doc,
      reboot: {
        ...doc.reboot,
        status: 'rebooted',
        back_at: doc.reboot.back_at ?? back,
        detail: `back at ${report.booted_at}${report.kernel ? ` with kernel ${report.kernel}` : ''}${report.reboot_still_required ? '; still needs a reboot' : ''}`,
      },
    };
    store.run(
      'UPDATE patch_runs SET reboot_status = ?, back_at = coalesce(back_at, ?), doc = ?, updated_at = ? WHERE id = ?',
      'rebooted',
      now,
      JSON.stringify(updated),
      now,
      row.id,
    );
    store.run('UPDATE hosts SET reboot_required = ? WHERE id = ?', report.reboot_still_required ? 1 : 0, host.id);
    if (report.kernel) store.run('UPDATE hosts SET kernel = ? WHERE id = ?', report.kernel, host.id);
    const released = leaseId ? releaseLease(store, host, leaseId, true) : false;
    return { lease_released: released, received_at: now };
  });
}

const CHANGED_NOTHING = new Set(['skipped', 'dry_run', 'nothing_to_do']);

/** The vulnerabilities a run closed (see the top of this file), confirming it when the next scan is there. */
export function cvesClosed(store: Store, row: RunRow): string[] | null {
  if (row.cves_closed !== null) return JSON.parse(row.cves_closed) as string[];
  if (CHANGED_NOTHING.has(row.outcome) || row.mode === 'dry_run') return [];
  const next =
    store.get<{ id: number | null }>(
      'SELECT min(id) AS id FROM scans WHERE host_id = ? AND id > ?',
      row.host_id,
      row.scan_before ?? 0,
    )?.id ?? null;
  if (next === null || row.scan_before === null) return (JSON.parse(row.doc) as PatchRun).cves_closed;
  const ids = store
    .all<{ name: string }>(
      `SELECT DISTINCT v.name FROM findings f JOIN vulns v ON v.id = f.vuln_id
        WHERE f.host_id = ? AND f.resolved_scan = ? AND f.resolved_cause = 'scan' ORDER BY v.name`,
      row.host_id,
      next,
    )
    .map((r) => r.name);
  store.run('UPDATE patch_runs SET confirm_scan = ?, cves_closed = ? WHERE id = ?', next, JSON.stringify(ids), row.id);
  row.confirm_scan = next;
  row.cves_closed = JSON.stringify(ids);
  return ids;
}
