// What every package-manager backend (unattended-upgrades, dnf-automatic, apk) returns for
// one run, and which backend a root gets.
import type { OsInfo } from '../core/types.ts';
import type { HeldBack, PackageChange, PatchError, PatchOutcome, PatchRun } from './types.ts';

export interface BackendReport {
  outcome: PatchOutcome;
  skip_reason: string | null;
  exit_code: number | null;
  started_at: string;
  finished_at: string;
  changes: PackageChange[];
  held_back: HeldBack[];
  errors: PatchError[];
  warnings: string[];
}

export type BackendName = PatchRun['backend'];

/** The backend for a distribution, from os-release ID and ID_LIKE; null when none fits. */
export function backendFor(os: OsInfo): BackendName | null {
  const ids = [os.id, ...(os.id_like ?? [])];
  if (ids.some((i) => i === 'debian' || i === 'ubuntu')) return 'unattended-upgrades';
  if (ids.some((i) => ['rhel', 'fedora', 'centos', 'almalinux', 'rocky', 'ol'].includes(i))) return 'dnf-automatic';
  if (ids.includes('alpine')) return 'apk';
  return null;
}

/** Outcome from what was applied and what failed (held-back packages alone are no failure). */
export function outcomeOf(changes: readonly PackageChange[], errors: readonly PatchError[]): PatchOutcome {
  const applied = changes.filter((c) => c.ok).length;
  if (errors.length > 0) return applied > 0 ? 'partial' : 'failed';
  return applied > 0 ? 'success' : 'nothing_to_do';
}
