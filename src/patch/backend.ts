// The interface every package-manager backend implements (one per package format: apt's
// unattended-upgrades for deb, dnf-automatic for rpm, apk for apk), what one run of it
// returns, and the report builder the backends share. The registry is backends.ts.
import type { PatchPolicy } from '../core/policy/schema.ts';
import type { OsInfo, PackageFormat } from '../core/types.ts';
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

/** The name a patch run records for the backend (PatchRun `backend`). */
export type BackendName = PatchRun['backend'];

export interface CollectOptions {
  root: string;
  policy: PatchPolicy;
  os: OsInfo;
}

export interface RunOptions extends CollectOptions {
  /** Simulate: change nothing on the root, report what would be done. */
  dryRun: boolean;
  /** Refresh the package lists first (real runs). */
  refreshLists: boolean;
  log: (message: string) => void;
}

export interface PatchBackend {
  readonly name: BackendName;
  /** The package format (a distribution profile's `format` in core/distros.ts) this backend patches. */
  readonly format: PackageFormat;
  /** Runner `patchloop`: runs the package manager under the policy now (or simulates it). */
  run(opts: RunOptions): Promise<BackendReport>;
  /**
   * Runner `timer`: applies the policy's configuration for the distribution's timer and reports
   * what its runs did since the last collection. Absent when the backend cannot collect yet.
   */
  collect?(opts: CollectOptions): Promise<BackendReport>;
}

/** Outcome from what was applied and what failed (held-back packages alone are no failure). */
export function outcomeOf(changes: readonly PackageChange[], errors: readonly PatchError[]): PatchOutcome {
  const applied = changes.filter((c) => c.ok).length;
  if (errors.length > 0) return applied > 0 ? 'partial' : 'failed';
  return applied > 0 ? 'success' : 'nothing_to_do';
}

/** A report being gathered: errors and warnings are pushed as the run goes, `finish` closes it. */
export interface ReportDraft {
  readonly errors: PatchError[];
  readonly warnings: string[];
  /**
   * The report, finished now: empty lists and no exit status unless given, and the outcome
   * from the changes and the errors gathered unless given.
   */
  finish(fields?: Partial<Omit<BackendReport, 'started_at' | 'finished_at' | 'errors' | 'warnings'>>): BackendReport;
}

/** Starts a report now (`now` is the clock, ms since the epoch). */
export function startReport(now: () => number = Date.now): ReportDraft {
  const started_at = new Date(now()).toISOString();
  const errors: PatchError[] = [];
  const warnings: string[] = [];
  return {
    errors,
    warnings,
    finish: (fields = {}) => ({
      outcome: outcomeOf(fields.changes ?? [], errors),
      skip_reason: null,
      exit_code: null,
      changes: [],
      held_back: [],
      ...fields,
      started_at,
      finished_at: new Date(now()).toISOString(),
      errors,
      warnings,
    }),
  };
}
