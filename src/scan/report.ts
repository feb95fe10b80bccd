// The scan report (`patchloop.scan/v1`) and what is computed from its findings alone: the
// shape every output format renders, the summary counts and the --fail-on test. No I/O.
import { groupExposures } from '../core/exposure.ts';
import { sameVulnId } from '../core/vuln-id.ts';
import type { KernelSummary, matchInventory } from '../core/match.ts';
import {
  PRIORITY_LEVELS,
  SEVERITIES,
  type Finding,
  type FindingStatus,
  type OsInfo,
  type PriorityLevel,
  type Severity,
} from '../core/types.ts';

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
    /** Exposures per priority (core/priority.ts), the lead finding's. */
    by_priority: Record<PriorityLevel, number>;
    /** Exposures to vulnerabilities in CISA's Known Exploited Vulnerabilities catalogue. */
    known_exploited: number;
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
  const by_priority = Object.fromEntries(PRIORITY_LEVELS.map((p) => [p, 0])) as Record<PriorityLevel, number>;
  let knownExploited = 0;
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
    if (e.lead.priority) by_priority[e.lead.priority.level]++;
    if (e.lead.kev) knownExploited++;
  }
  return {
    total,
    kernel_not_running: kernelNotRunning,
    by_severity,
    by_status,
    by_priority,
    known_exploited: knownExploited,
    findings: binaries,
  };
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

/** `--fail-on`: a severity (that or worse), `kev` (known exploited), or `p1`…`p4` (that priority or higher). */
export type FailOn = Severity | 'kev' | 'p1' | 'p2' | 'p3' | 'p4';

export const FAIL_ON_CHOICES: readonly FailOn[] = [...SEVERITIES, 'kev', 'p1', 'p2', 'p3', 'p4'];

/**
 * True when an exposure finding meets `threshold` (`--fail-on`): its severity at or above it,
 * its vulnerability known exploited (`kev`), or its priority at or above it (`p2`: P1 or P2).
 * Kernels installed but not running are not exposure and never fail a scan.
 */
export function meetsFailOn(findings: readonly Finding[], threshold: FailOn): boolean {
  const exposed = findings.filter((f) => !f.kernel_not_running);
  if (threshold === 'kev') return exposed.some((f) => f.kev !== undefined);
  if (/^p[1-4]$/.test(threshold)) {
    const limit = PRIORITY_LEVELS.indexOf(threshold.toUpperCase() as PriorityLevel);
    return exposed.some((f) => f.priority !== undefined && PRIORITY_LEVELS.indexOf(f.priority.level) <= limit);
  }
  const limit = SEVERITIES.indexOf(threshold as Severity);
  return exposed.some((f) => SEVERITIES.indexOf(f.severity) <= limit);
}
