// The counting unit (docs/scanning.md, "What a count counts"): an exposure is one vulnerability
// in one source package on one host. Binary packages built from one source (kernel,
// kernel-core, kernel-modules-core; libssl3 and openssl) are one exposure, its binaries listed;
// a finding stays one per binary package. Every count patchloop shows — the scan summary, the
// server's host counters, overview, trends, SLA and time to remediate, the dashboard and the
// Elasticsearch / OpenSearch dashboards — counts exposures. Pure: no I/O.
import { SEVERITIES, type Finding } from './types.ts';

/** What picks the binary finding an exposure shows. */
export interface LeadFacts {
  /** Index into SEVERITIES (0 is critical). */
  severity: number;
  fixable: boolean;
  name: string;
  arch: string;
}

/**
 * Order of the binary findings of one exposure; the first is its lead, whose severity, status
 * and fix the exposure takes: the most severe, a fixable one before one without a fix, then by
 * package name and architecture (so the CLI and the server pick the same one).
 */
export function compareLead(a: LeadFacts, b: LeadFacts): number {
  return a.severity - b.severity || Number(b.fixable) - Number(a.fixable) || cmp(a.name, b.name) || cmp(a.arch, b.arch);
}

export interface Exposure {
  /** The vulnerability (the finding id). */
  id: string;
  /** The source package its binaries are built from. */
  source: string;
  /** The binary finding it takes its severity, status and fix from (see compareLead). */
  lead: Finding;
  /** Its binary findings: exposure ones, or (for a dormant exposure) the not-running kernel ones. */
  findings: Finding[];
  /** Found only in kernel images installed but not running: reported, not counted as exposure. */
  dormant: boolean;
}

/**
 * The exposures of one host's findings, in the order their first finding comes. A finding on a
 * kernel image that is not running joins an exposure only when no binary of that source is
 * exposed to the vulnerability otherwise; then the exposure is dormant. One pass, no
 * allocation per comparison: a large host has tens of thousands of findings.
 */
export function groupExposures(findings: readonly Finding[]): Exposure[] {
  // By source, then vulnerability: no key string to build per finding.
  const bySource = new Map<string, Map<string, Exposure>>();
  const out: Exposure[] = [];
  for (const f of findings) {
    let groups = bySource.get(f.package.source);
    if (!groups) {
      groups = new Map();
      bySource.set(f.package.source, groups);
    }
    const g = groups.get(f.id);
    const dormant = f.kernel_not_running === true;
    if (!g) {
      const e: Exposure = { id: f.id, source: f.package.source, lead: f, findings: [f], dormant };
      groups.set(f.id, e);
      out.push(e);
    } else if (g.dormant && !dormant) {
      // The first exposed binary: the not-running kernels' findings were only standing in.
      g.dormant = false;
      g.findings = [f];
      g.lead = f;
    } else if (g.dormant === dormant) {
      g.findings.push(f);
      if (leads(f, g.lead)) g.lead = f;
    }
  }
  return out;
}

const RANK = Object.fromEntries(SEVERITIES.map((s, i) => [s, i])) as Record<Finding['severity'], number>;

/** Whether `a` comes before `b` in compareLead's order (without building its arguments). */
function leads(a: Finding, b: Finding): boolean {
  const c =
    RANK[a.severity] - RANK[b.severity] ||
    Number(b.status === 'fixed') - Number(a.status === 'fixed') ||
    cmp(a.package.name, b.package.name) ||
    cmp(a.package.arch, b.package.arch);
  return c < 0;
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
