// Red Hat Security Data API CVE documents (access.redhat.com/hydra/rest/securitydata/cve/
// CVE-….json): `affected_release` lists the fixed SOURCE builds per product (with the RHSA),
// `package_state` the components without a fix and why.
import { z } from 'zod';
import type { AdvisoryEntry, CvssScore, EntryStatus, VulnerabilityInfo } from '../../core/types.ts';
import { getScheme } from '../../core/version/index.ts';
import { rhelMajorFromCpe } from '../common/rhel-cpe.ts';
import { fromRedHatImpact } from '../common/severity.ts';
import { cvssScore } from '../common/cvss.ts';

export const hydraSchema = z.object({
  name: z.string().regex(/^CVE-\d{4}-\d+$/),
  threat_severity: z.string().nullish(),
  cvss3: z.object({ cvss3_scoring_vector: z.string() }).nullish(),
  public_date: z.string().nullish(),
  details: z.array(z.string()).nullish(),
  references: z.array(z.string()).nullish(),
  affected_release: z
    .array(
      z.object({
        product_name: z.string().optional(),
        advisory: z.string().nullish(),
        cpe: z.string().nullish(),
        package: z.string().nullish(),
      }),
    )
    .nullish(),
  package_state: z
    .array(
      z.object({
        product_name: z.string().optional(),
        fix_state: z.string(),
        package_name: z.string(),
        cpe: z.string().nullish(),
      }),
    )
    .nullish(),
});

export type HydraDocument = z.infer<typeof hydraSchema>;

export function isHydra(doc: unknown): boolean {
  return (
    typeof doc === 'object' &&
    doc !== null &&
    'name' in doc &&
    ('affected_release' in doc || 'package_state' in doc || 'threat_severity' in doc)
  );
}

/** Red Hat's fix_state words → status. */
export function statusOfFixState(state: string): EntryStatus {
  switch (state.trim().toLowerCase()) {
    case 'will not fix':
      return 'will_not_fix';
    case 'fix deferred':
    case 'deferred':
      return 'fix_deferred';
    case 'out of support scope':
      return 'end_of_life';
    case 'not affected':
      return 'not_affected';
    case 'under investigation':
    case 'new':
      return 'under_investigation';
    default:
      return 'affected';
  }
}

export interface HydraConversion {
  entries: AdvisoryEntry[];
  vulnerability: VulnerabilityInfo;
  /** Red Hat's CVSS v3 score of the CVE, when the document has a vector that scores. */
  cvss: CvssScore | null;
  otherPlatforms: number;
  skipped: string[];
}

export function convertHydra(doc: HydraDocument): HydraConversion {
  const rpm = getScheme('rpm');
  const impact = doc.threat_severity ?? '';
  const base = {
    feed: 'redhat',
    distro: 'rhel',
    key_kind: 'source' as const,
    scheme: 'rpm' as const,
    vuln_id: doc.name,
    severity: fromRedHatImpact(impact),
    raw_severity: impact,
    introduced: null,
    last_affected: null,
    arches: [],
  };
  const out: HydraConversion = {
    entries: [],
    otherPlatforms: 0,
    skipped: [],
    cvss: doc.cvss3 ? cvssScore(doc.cvss3.cvss3_scoring_vector, 'redhat') : null,
    vulnerability: {
      id: doc.name,
      aliases: [],
      description: (doc.details ?? []).at(-1) ?? '',
      published: doc.public_date ?? null,
      modified: null,
      references: (doc.references ?? []).flatMap((r) => r.split(/\s+/)).filter(Boolean),
    },
  };
  for (const r of doc.affected_release ?? []) {
    const release = r.cpe ? rhelMajorFromCpe(r.cpe) : null;
    if (!release) {
      out.otherPlatforms++;
      continue;
    }
    // `bind-32:9.11.36-5.el8`: a source package name, epoch, version and release. Module
    // builds are named by their module (`nodejs:18-8080020230…`): no rpm version to compare.
    const m = /^(.+)-(\d+):([^-:]+)-([^-]+)$/.exec(r.package ?? '');
    if (!m) {
      out.skipped.push(`${r.package ?? '(no package)'} (${r.product_name ?? r.cpe})`);
      continue;
    }
    const evr = m[2] === '0' ? `${m[3]}-${m[4]}` : `${m[2]}:${m[3]}-${m[4]}`;
    if (rpm.validate(evr)) {
      out.skipped.push(`${r.package}: invalid version`);
      continue;
    }
    out.entries.push({
      ...base,
      release,
      package: m[1],
      status: 'fixed',
      raw_status: 'fixed',
      fixed_version: evr,
      advisory_ids: r.advisory ? [r.advisory] : [],
      module_stream: null,
    });
  }
  for (const s of doc.package_state ?? []) {
    const release = s.cpe ? rhelMajorFromCpe(s.cpe) : null;
    if (!release) {
      out.otherPlatforms++;
      continue;
    }
    const mod = /^([^/:]+:[^/]+)\/(.+)$/.exec(s.package_name);
    out.entries.push({
      ...base,
      release,
      package: mod ? mod[2] : s.package_name,
      module_stream: mod ? mod[1] : null,
      status: statusOfFixState(s.fix_state),
      raw_status: s.fix_state,
      fixed_version: null,
      advisory_ids: [],
    });
  }
  return out;
}
