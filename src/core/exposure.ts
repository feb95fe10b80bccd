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

/** Joins a vulnerability and a source package into one key. */
export function exposureKey(vulnerability: string, source: string): string {
  return `${vulnerability}\u0000${source}`;
}

/**
 * The exposures of one host's findings, in the order their first finding comes. A finding on a
 * kernel image that is not running joins an exposure only when no binary of that source is
 * exposed to the vulnerability otherwise; then the exposure is dormant.
 */
export function groupExposures(findings: readonly Finding[]): Exposure[] {
  const groups = new Map<string, { live: Finding[]; dormant: Finding[] }>();
  for (const f of findings) {
    const key = exposureKey(f.id, f.package.source);
    let g = groups.get(key);
    if (!g) {
      g = { live: [], dormant: [] };
      groups.set(key, g);
    }
    (f.kernel_not_running ? g.dormant : g.live).push(f);
  }
  const out: Exposure[] = [];
  for (const g of groups.values()) {
    const members = g.live.length > 0 ? g.live : g.dormant;
    const lead = members.reduce((best, f) => (compareLead(factsOf(f), factsOf(best)) < 0 ? f : best));
    out.push({ id: lead.id, source: lead.package.source, lead, findings: members, dormant: g.live.length === 0 });
  }
  return out;
}

function factsOf(f: Finding): LeadFacts {
  return { severity: SEVERITIES.indexOf(f.severity), fixable: f.status === 'fixed', name: f.package.name, arch: f.package.arch };
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
