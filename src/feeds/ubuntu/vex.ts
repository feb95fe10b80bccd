// Canonical's OpenVEX documents (vex/cve/YYYY/CVE-….json, or the vex-all tarball) carry the
// Ubuntu CVE Tracker status that Canonical's OSV collapses into "affected, no fix": needed,
// ignored, deferred, needs-triage, end of life. Only those unfixed statuses are read here;
// fixes and not-affected come from the OSV records.
import { z } from 'zod';
import type { EntryStatus } from '../../core/types.ts';

const statement = z.object({
  vulnerability: z.object({ name: z.string() }),
  products: z.array(z.object({ '@id': z.string() })).default([]),
  status: z.enum(['not_affected', 'affected', 'fixed', 'under_investigation']),
  status_notes: z.string().optional(),
  action_statement: z.string().optional(),
  justification: z.string().optional(),
});

export const openVexSchema = z.object({
  '@context': z.string().regex(/openvex/i),
  '@id': z.string().optional(),
  statements: z.array(statement),
});

export function isOpenVex(doc: unknown): boolean {
  return (
    typeof doc === 'object' &&
    doc !== null &&
    typeof (doc as Record<string, unknown>)['@context'] === 'string' &&
    /openvex/i.test((doc as Record<string, string>)['@context'])
  );
}

export interface VexStatus {
  status: EntryStatus;
  /** The tracker status, as Ubuntu names it. */
  raw: string;
}

/**
 * The tracker status behind one VEX statement (Canonical documents the mapping: "Ubuntu VEX
 * data", documentation.ubuntu.com/security); null for fixed / not_affected statements.
 */
export function trackerStatus(s: z.infer<typeof statement>): VexStatus | null {
  if (s.status === 'under_investigation') {
    return /deferred/i.test(s.status_notes ?? '')
      ? { status: 'fix_deferred', raw: 'deferred' }
      : { status: 'under_investigation', raw: 'needs-triage' };
  }
  if (s.status !== 'affected') return null;
  const action = s.action_statement ?? '';
  if (/decided to not fix/i.test(action)) return { status: 'will_not_fix', raw: 'ignored' };
  if (/no longer supported/i.test(action)) return { status: 'end_of_life', raw: 'ignored (end of support)' };
  if (/needs fixing/i.test(action)) return { status: 'affected', raw: 'needed' };
  return { status: 'affected', raw: 'affected' };
}

/** Statuses keyed by CVE, series codename (from the purl `distro` label) and source package. */
export class VexOverlay {
  private readonly map = new Map<string, VexStatus>();
  documents = 0;

  get size(): number {
    return this.map.size;
  }

  /**
   * Keyed by series codename: the same package can be filed under `jammy` in one document and
   * `esm-apps/jammy` in the other (zabbix in CVE-2016-20013), and a release has one status.
   */
  static key(cve: string, distroLabel: string, sourcePackage: string): string {
    return `${cve}|${distroLabel.slice(distroLabel.lastIndexOf('/') + 1)}|${sourcePackage}`;
  }

  /** Adds one validated document's unfixed statuses; returns how many it added. */
  add(doc: z.infer<typeof openVexSchema>): number {
    this.documents++;
    let n = 0;
    for (const s of doc.statements) {
      const st = trackerStatus(s);
      if (!st) continue;
      for (const p of s.products) {
        const purl = parseDebPurl(p['@id']);
        if (!purl || purl.arch !== 'source' || !purl.distro) continue;
        this.map.set(VexOverlay.key(s.vulnerability.name, purl.distro, purl.name), st);
        n++;
      }
    }
    return n;
  }

  get(cve: string, distroLabel: string, sourcePackage: string): VexStatus | undefined {
    return this.map.get(VexOverlay.key(cve, distroLabel, sourcePackage));
  }
}

/**
 * `pkg:deb/ubuntu/curl@7.81.0-1ubuntu1.24?arch=source&distro=jammy` → its parts; null for another shape or malformed
 * percent-encoding.
 */
export function parseDebPurl(
  purl: string,
): { name: string; version: string; arch: string | null; distro: string | null } | null {
  const m = /^pkg:deb\/ubuntu\/([^@?#]+)(?:@([^?#]+))?(?:\?([^#]*))?/.exec(purl);
  if (!m) return null;
  const q = new URLSearchParams(m[3] ?? '');
  const name = decoded(m[1]);
  const version = m[2] ? decoded(m[2]) : '';
  return name === null || version === null ? null : { name, version, arch: q.get('arch'), distro: q.get('distro') };
}

/** decodeURIComponent, or null where it would throw (`%ZZ`). */
function decoded(part: string): string | null {
  try {
    return decodeURIComponent(part);
  } catch {
    return null;
  }
}
