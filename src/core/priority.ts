// What to fix first: a priority P1 (first) to P4 (last) for each finding, with the reason in
// words, from exploitation (CISA KEV, FIRST EPSS), severity, whether a fix exists and exposure
// (a kernel image that is not running; a package out of support). The rule (docs/scanning.md,
// "Priority") is the same on the CLI and the server; its thresholds are a configuration object
// (PriorityConfigSchema) the server may override. Pure: no I/O.
import { z } from 'zod';
import type { Enrichment, EpssInfo, Finding, KevInfo, Priority, PriorityLevel, Severity } from './types.ts';
import { effectiveSeverity } from './severity.ts';

const Level = z.enum(['P1', 'P2', 'P3', 'P4']);
const Probability = z.number().min(0).max(1);

/** The rule's knobs. Every field has a default: `PriorityConfigSchema.parse({})` is the documented rule. */
export const PriorityConfigSchema = z
  .object({
    /** Level of a vulnerability in CISA's Known Exploited Vulnerabilities catalogue. */
    kev: Level.default('P1'),
    /** Starting level per severity (the distribution's rating, else CVSS). */
    severity: z
      .object({
        critical: Level.default('P2'),
        high: Level.default('P2'),
        medium: Level.default('P3'),
        low: Level.default('P4'),
        negligible: Level.default('P4'),
        unknown: Level.default('P3'),
      })
      .strict()
      .prefault({}),
    /** EPSS score at or above which the level rises by one (likely to be exploited soon). */
    epss_raise: Probability.default(0.5),
    /** EPSS score at or above which the level is at least P2. */
    epss_p2: Probability.default(0.1),
    /** No fix yet (affected, fix deferred): the level falls by one. KEV findings do not fall. */
    no_fix_lowers: z.boolean().default(true),
    /** The distribution will not fix it: this level at most, unless known exploited. */
    will_not_fix: Level.default('P4'),
    /**
     * Out of support (end of life: no fix will come): at least this level, as replacing the
     * package or upgrading the release is work to plan.
     */
    out_of_support: Level.default('P3'),
    /** A kernel image installed but not running is no exposure until booted: this level, even when known exploited. */
    not_running_kernel: Level.default('P4'),
  })
  .strict();

export type PriorityConfig = z.infer<typeof PriorityConfigSchema>;

export const DEFAULT_PRIORITY_CONFIG: PriorityConfig = PriorityConfigSchema.parse({});

/** What the rule reads of a finding (a Finding has them all, except `running_kernel`). */
export interface PriorityFacts {
  severity: Severity;
  status: Finding['status'];
  kev?: KevInfo;
  epss?: EpssInfo;
  /** A kernel image installed but not running (Finding.kernel_not_running). */
  kernel_not_running?: boolean;
  /** The finding is on the running kernel's image: said in the reason (the scan knows it, see kernelRole). */
  running_kernel?: boolean;
}

const RANK: Record<PriorityLevel, number> = { P1: 1, P2: 2, P3: 3, P4: 4 };
const LEVEL = ['P1', 'P1', 'P2', 'P3', 'P4'] as const;

function clamp(n: number): PriorityLevel {
  return LEVEL[Math.min(4, Math.max(1, n))];
}

/**
 * The priority of one finding. Order of the rule, each step on the level the previous left:
 * 1. a kernel image installed but not running: `not_running_kernel` (P4), whatever else holds;
 * 2. known exploited (KEV): `kev` (P1);
 * 3. otherwise the severity's level; EPSS ≥ `epss_raise` raises it one level, EPSS ≥ `epss_p2`
 *    makes it at least P2; no fix yet lowers it one level; will not fix: at most `will_not_fix`;
 *    out of support: at least `out_of_support`.
 */
export function priorityOf(f: PriorityFacts, config: PriorityConfig = DEFAULT_PRIORITY_CONFIG): Priority {
  const words: string[] = [];
  if (f.kev) words.push(f.kev.ransomware ? 'known exploited (ransomware)' : 'known exploited');
  else words.push(f.severity === 'unknown' ? 'severity unknown' : f.severity);
  if (f.epss && (f.epss.score >= config.epss_p2 || f.kev)) words.push(`EPSS ${formatEpss(f.epss)}`);
  words.push(fixWords(f.status));
  if (f.kernel_not_running) words.push('kernel installed but not running');
  else if (f.running_kernel) words.push('running kernel');
  const reason = words.join(', ');

  if (f.kernel_not_running) return { level: config.not_running_kernel, reason };
  if (f.kev) return { level: config.kev, reason };

  let n = RANK[config.severity[f.severity]];
  if (f.epss && f.epss.score >= config.epss_raise) n -= 1;
  if (f.epss && f.epss.score >= config.epss_p2) n = Math.min(n, RANK.P2);
  if (config.no_fix_lowers && (f.status === 'affected' || f.status === 'fix_deferred')) n += 1;
  if (f.status === 'will_not_fix') n = Math.max(n, RANK[config.will_not_fix]);
  if (f.status === 'end_of_life') n = Math.min(n, RANK[config.out_of_support]);
  return { level: clamp(n), reason };
}

function fixWords(status: Finding['status']): string {
  switch (status) {
    case 'fixed':
      return 'fix available';
    case 'affected':
      return 'no fix yet';
    case 'fix_deferred':
      return 'fix deferred';
    case 'will_not_fix':
      return 'will not be fixed';
    case 'end_of_life':
      return 'out of support, no fix will come';
  }
}

/** `0.62 (top 2 %)`: the score, and how few CVEs score as high. */
export function formatEpss(e: EpssInfo): string {
  const top = (1 - e.percentile) * 100;
  const share = top < 1 ? (top < 0.1 ? '0.1' : top.toFixed(1)) : String(Math.round(top));
  return `${e.score.toFixed(2)} (top ${share} %)`;
}

/** Orders priorities first to last (P1 before P4; a finding without one last). */
export function comparePriority(a: Priority | undefined, b: Priority | undefined): number {
  return (a ? RANK[a.level] : 5) - (b ? RANK[b.level] : 5);
}

/**
 * A finding with what the vulnerability DB knows of its vulnerability (`e`: VulnDb.enrichment /
 * enrichMany) and its priority: `kev`, `epss`, `cvss` when known; the severity from CVSS when
 * the distribution rates nothing (core/severity.ts); `priority` always. `runningKernel`: the
 * finding is on the running kernel's image (said in the reason). Returns a new finding.
 */
export function enrichFinding(
  f: Finding,
  e: Enrichment | null | undefined,
  config: PriorityConfig = DEFAULT_PRIORITY_CONFIG,
  runningKernel = false,
): Finding {
  const out: Finding = { ...f };
  if (e?.cvss?.length) {
    const sev = effectiveSeverity(f.severity, e.cvss);
    out.severity = sev.severity;
    if (sev.source) out.severity_source = sev.source;
  }
  if (e?.kev) out.kev = e.kev;
  if (e?.epss) out.epss = e.epss;
  if (e?.cvss?.length) out.cvss = e.cvss;
  out.priority = priorityOf({ ...out, running_kernel: runningKernel }, config);
  return out;
}
