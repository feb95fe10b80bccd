// The remediation roll-up of one host: which upgrades close which vulnerabilities, per source
// package and fixed version — "upgrade openssl to 3.0.17-1~deb12u3: closes 9 CVEs (2 known
// exploited)". Counted in exposures (core/exposure.ts), so openssl's three binaries make one.
// Only exposures with a fix count (status fixed); kernels installed but not running are left
// out (removing the image closes them, not an upgrade). Pure: no I/O.
import { groupExposures } from '../core/exposure.ts';
import { comparePriority } from '../core/priority.ts';
import type { Finding, Priority } from '../core/types.ts';

export interface FixStep {
  /** The source package to upgrade (all its installed binaries). */
  source: string;
  /** The version to upgrade to. */
  fixed_version: string;
  /** Vulnerabilities this upgrade closes: those whose fix is this version or an older one. */
  closes: string[];
  /** Of those, the ones in CISA's Known Exploited Vulnerabilities catalogue. */
  known_exploited: string[];
  /** The installed binary packages of the source the closed vulnerabilities are found in. */
  binaries: string[];
  /** The highest priority among the vulnerabilities closed (the step's own rank). */
  priority: Priority | null;
}

/**
 * The upgrades that close this host's fixable exposures: per source package, one step per
 * fixed version, each closing what its version and every older one fix (`compare` orders two
 * versions of the host's scheme). Steps come highest priority first, then most closed; within
 * a source, the highest version (which closes the most) first.
 */
export function remediationSteps(findings: readonly Finding[], compare: (a: string, b: string) => number): FixStep[] {
  const bySource = new Map<string, Map<string, Finding[]>>();
  for (const e of groupExposures(findings)) {
    const fix = e.lead.fixed_version;
    if (e.dormant || e.lead.status !== 'fixed' || fix === null) continue;
    let versions = bySource.get(e.source);
    if (!versions) bySource.set(e.source, (versions = new Map()));
    const list = versions.get(fix) ?? [];
    // The exposure's binaries stand for it; the lead carries its id, enrichment and priority.
    list.push(e.lead, ...e.findings.filter((f) => f !== e.lead));
    versions.set(fix, list);
  }
  const steps: FixStep[] = [];
  for (const [source, versions] of bySource) {
    const ordered = [...versions.keys()].sort(compare);
    const closes = new Set<string>();
    const kev: string[] = [];
    const binaries = new Set<string>();
    let priority: Priority | null = null;
    const perSource: FixStep[] = [];
    for (const v of ordered) {
      for (const f of versions.get(v)!) {
        binaries.add(f.package.name);
        if (closes.has(f.id)) continue;
        closes.add(f.id);
        if (f.kev) kev.push(f.id);
        if (f.priority && comparePriority(f.priority, priority ?? undefined) < 0) priority = f.priority;
      }
      perSource.push({
        source,
        fixed_version: v,
        closes: [...closes].sort(),
        known_exploited: [...kev].sort(),
        binaries: [...binaries].sort(),
        priority,
      });
    }
    steps.push(...perSource.reverse());
  }
  return steps.sort(
    (a, b) =>
      comparePriority(a.priority ?? undefined, b.priority ?? undefined) ||
      b.known_exploited.length - a.known_exploited.length ||
      b.closes.length - a.closes.length ||
      // Within a source the highest version closes the most, so comes first.
      (a.source < b.source ? -1 : a.source > b.source ? 1 : 0),
  );
}
