// The scan report (`patchloop.scan/v1`) and what is computed from its findings alone: the
// shape every output format renders, the summary counts and the --fail-on test. No I/O.
import type { KernelSummary, matchInventory } from '../core/match.ts';
import { SEVERITIES, type Finding, type FindingStatus, type OsInfo, type Severity } from '../core/types.ts';

export const SCAN_SCHEMA = 'patchloop.scan/v1';

export interface ScanReport {
  schema: typeof SCAN_SCHEMA;
  scanned_at: string;
  host: {
    hostname: string | null;
    root: string;
    os: OsInfo;
    kernel: string | null;
    distro: string;
    release: string;
    package_count: number;
  };
  db: { feed: string; updated_at: string; entries: number }[];
  summary: {
    /** Findings that are exposure: everything except kernels installed but not running. */
    total: number;
    kernel_not_running: number;
    by_severity: Record<Severity, number>;
    by_status: Record<FindingStatus, number>;
  };
  kernel: KernelSummary;
  support: ReturnType<typeof matchInventory>['support'];
  unsupported_packages: ReturnType<typeof matchInventory>['unsupported'];
  warnings: string[];
  findings: Finding[];
}

export function summarise(findings: readonly Finding[]): ScanReport['summary'] {
  const by_severity = Object.fromEntries(SEVERITIES.map((s) => [s, 0])) as Record<Severity, number>;
  const by_status: Record<FindingStatus, number> = { fixed: 0, affected: 0, will_not_fix: 0, fix_deferred: 0, end_of_life: 0 };
  let kernelNotRunning = 0;
  for (const f of findings) {
    if (f.kernel_not_running) {
      kernelNotRunning++;
      continue;
    }
    by_severity[f.severity]++;
    by_status[f.status]++;
  }
  return { total: findings.length - kernelNotRunning, kernel_not_running: kernelNotRunning, by_severity, by_status };
}

/** True when an exposure finding at or above `threshold` exists (`--fail-on`). */
export function meetsFailOn(findings: readonly Finding[], threshold: Severity): boolean {
  const limit = SEVERITIES.indexOf(threshold);
  return findings.some((f) => !f.kernel_not_running && SEVERITIES.indexOf(f.severity) <= limit);
}
