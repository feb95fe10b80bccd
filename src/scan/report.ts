// The scan report (`patchloop.scan/v1`) and what is computed from its findings alone: the
// shape every output format renders, the summary counts and the --fail-on test. No I/O.
import { groupExposures } from '../core/exposure.ts';
import { sameVulnId } from '../core/vuln-id.ts';
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
  /**
   * Counts of exposures, the counting unit every patchloop count shares: one vulnerability in
   * one source package (core/exposure.ts), its severity and status those of its lead finding.
   */
  summary: {
    /** Exposures, kernels installed but not running left out. */
    total: number;
    /** Exposures found only in kernel images installed but not running. */
    kernel_not_running: number;
    by_severity: Record<Severity, number>;
    by_status: Record<FindingStatus, number>;
    /** The binary findings behind `total` (one per installed binary package and vulnerability). */
    findings: number;
  };
  kernel: KernelSummary;
  support: ReturnType<typeof matchInventory>['support'];
  unsupported_packages: ReturnType<typeof matchInventory>['unsupported'];
  warnings: string[];
  findings: Finding[];
}

export function summarise(findings: readonly Finding[]): ScanReport['summary'] {
  const by_severity = Object.fromEntries(SEVERITIES.map((s) => [s, 0])) as Record<Severity, number>;
  const by_status: Record<FindingStatus, number> = {
    fixed: 0,
    affected: 0,
    will_not_fix: 0,
    fix_deferred: 0,
    end_of_life: 0,
  };
  let total = 0;
  let kernelNotRunning = 0;
  let binaries = 0;
  for (const e of groupExposures(findings)) {
    if (e.dormant) {
      kernelNotRunning++;
      continue;
    }
    total++;
    binaries += e.findings.length;
    by_severity[e.lead.severity]++;
    by_status[e.lead.status]++;
  }
  return { total, kernel_not_running: kernelNotRunning, by_severity, by_status, findings: binaries };
}

/**
 * Whether a finding is the vulnerability `id` names: its own id, one of its aliases or one of
 * its advisories (`--vuln ALSA-2024:10274` finds every CVE that advisory fixes). Ids are
 * compared without regard to case, and a suffixed CVE id names its CVE.
 */
export function findingNamed(f: Finding, id: string): boolean {
  const wanted = id.trim();
  return (
    sameVulnId(wanted, f.id) ||
    f.aliases.some((a) => sameVulnId(wanted, a)) ||
    f.advisory_ids.some((a) => sameVulnId(wanted, a))
  );
}

/** True when an exposure finding at or above `threshold` exists (`--fail-on`). */
export function meetsFailOn(findings: readonly Finding[], threshold: Severity): boolean {
  const limit = SEVERITIES.indexOf(threshold);
  return findings.some((f) => !f.kernel_not_running && SEVERITIES.indexOf(f.severity) <= limit);
}
