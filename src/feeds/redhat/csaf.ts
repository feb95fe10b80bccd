// Red Hat CSAF documents → advisory entries: advisories (RHSA, `csaf_security_advisory`) carry
// fixed builds; VEX documents (`csaf_vex`, one per CVE) also carry known_affected,
// known_not_affected and under_investigation components with the remediation that says why
// an affected component has no fix ("Will not fix", "Out of support scope", "Deferred").
//
// - Fixed: one entry per binary rpm (binary key), full E:V-R, module stream, arches; and one
//   per source rpm (source key, any arch), which reaches binaries the advisory does not list.
// - Not fixed: one entry per component, which Red Hat names by its SOURCE package (source key).
// - Only mainline RHEL platforms (enterprise_linux:N, rhel_els:N) are imported; minor-pinned
//   streams (EUS, AUS, TUS, E4S) and other products are skipped.
// - Severity: the Red Hat impact of the vulnerability (or of the product where it differs).
import { z } from 'zod';
import type { AdvisoryEntry, CvssScore, EntryStatus, VulnerabilityInfo } from '../../core/types.ts';
import { getScheme } from '../../core/version/index.ts';
import { rhelMajorFromCpe } from '../common/rhel-cpe.ts';
import { fromRedHatImpact } from '../common/severity.ts';
import { cvssScore } from '../common/cvss.ts';
import { ProductTree, type CsafBranch, type CsafRelationship } from './products.ts';

const branch: z.ZodType<CsafBranch> = z.lazy(() =>
  z.object({
    category: z.string().optional(),
    name: z.string().optional(),
    product: z
      .object({
        name: z.string(),
        product_id: z.string(),
        product_identification_helper: z.object({ cpe: z.string().optional(), purl: z.string().optional() }).optional(),
      })
      .optional(),
    branches: z.array(branch).optional(),
  }),
);

const productIds = z.array(z.string()).optional();

const vulnerabilitySchema = z.object({
  cve: z.string().optional(),
  title: z.string().optional(),
  notes: z.array(z.object({ category: z.string(), text: z.string() })).optional(),
  product_status: z
    .object({
      fixed: productIds,
      first_fixed: productIds,
      known_affected: productIds,
      known_not_affected: productIds,
      under_investigation: productIds,
    })
    .optional(),
  remediations: z
    .array(
      z.object({
        category: z.string(),
        details: z.string().optional(),
        url: z.string().optional(),
        product_ids: productIds,
      }),
    )
    .optional(),
  threats: z.array(z.object({ category: z.string(), details: z.string(), product_ids: productIds })).optional(),
  // CVSS per set of products; Red Hat scores a CVE once for all its products in practice.
  scores: z
    .array(
      z.object({
        cvss_v2: z.object({ vectorString: z.string() }).optional(),
        cvss_v3: z.object({ vectorString: z.string() }).optional(),
        cvss_v4: z.object({ vectorString: z.string() }).optional(),
        products: productIds,
      }),
    )
    .optional(),
  references: z.array(z.object({ url: z.string() })).optional(),
  release_date: z.string().optional(),
  discovery_date: z.string().optional(),
});

export const csafSchema = z.object({
  document: z.object({
    category: z.string(),
    csaf_version: z.string().optional(),
    title: z.string().optional(),
    aggregate_severity: z.object({ text: z.string() }).optional(),
    tracking: z.object({
      id: z.string(),
      current_release_date: z.string().optional(),
      initial_release_date: z.string().optional(),
    }),
  }),
  product_tree: z
    .object({
      branches: z.array(branch).optional(),
      relationships: z
        .array(
          z.object({
            category: z.string().optional(),
            full_product_name: z.object({ name: z.string().optional(), product_id: z.string() }),
            product_reference: z.string(),
            relates_to_product_reference: z.string(),
          }),
        )
        .optional(),
    })
    .optional(),
  vulnerabilities: z.array(vulnerabilitySchema).optional(),
});

export type CsafDocument = z.infer<typeof csafSchema>;

/** Red Hat's product trees nest branches 4 or 5 deep (vendor, family, product, version, arch). */
export const MAX_BRANCH_DEPTH = 32;

/**
 * Why a document's product tree is nested too deep to validate, or null. The schema of a branch
 * is recursive and validated by recursion, which overflows the stack at some thousand levels;
 * this check goes level by level.
 */
export function branchNestingProblem(doc: unknown): string | null {
  let level: unknown[] = [(doc as { product_tree?: { branches?: unknown } } | null)?.product_tree?.branches];
  for (let depth = 0; level.length > 0; depth++) {
    if (depth > MAX_BRANCH_DEPTH) return `product_tree branches nested more than ${MAX_BRANCH_DEPTH} deep`;
    const next: unknown[] = [];
    for (const list of level) {
      if (!Array.isArray(list)) continue;
      for (const b of list) if (typeof b === 'object' && b !== null && 'branches' in b) next.push(b.branches);
    }
    level = next;
  }
  return null;
}

export function isCsaf(doc: unknown): boolean {
  return (
    typeof doc === 'object' &&
    doc !== null &&
    'document' in doc &&
    typeof (doc as { document: unknown }).document === 'object'
  );
}

const ADVISORY = /\bRH[SBE]A-\d{4}:\d+\b/;

/** Why a component without a fix has none: Red Hat's remediation wording → status. */
export function statusOfRemediation(
  details: string | undefined,
  category: string | undefined,
): { status: EntryStatus; raw: string } {
  const d = (details ?? '').trim();
  const w = d.toLowerCase();
  if (w.startsWith('will not fix')) return { status: 'will_not_fix', raw: d };
  if (w.startsWith('out of support scope')) return { status: 'end_of_life', raw: d };
  if (w.startsWith('deferred') || w.startsWith('fix deferred')) return { status: 'fix_deferred', raw: d };
  if (category === 'no_fix_planned') return { status: 'will_not_fix', raw: d || 'no fix planned' };
  return { status: 'affected', raw: d || 'Affected' };
}

export interface CsafConversion {
  entries: AdvisoryEntry[];
  vulnerabilities: VulnerabilityInfo[];
  /** Red Hat's CVSS scores of each vulnerability (one per version). */
  cvss: { vulnId: string; score: CvssScore }[];
  /** Product ids skipped because their platform is not a mainline RHEL release. */
  otherPlatforms: number;
  invalidVersions: string[];
}

export function convertCsaf(doc: CsafDocument): CsafConversion {
  const rpm = getScheme('rpm');
  const tree = new ProductTree(
    doc.product_tree?.branches ?? [],
    (doc.product_tree?.relationships ?? []) as CsafRelationship[],
  );
  const out: CsafConversion = {
    entries: [],
    vulnerabilities: [],
    cvss: [],
    otherPlatforms: 0,
    invalidVersions: [],
  };
  const docId = doc.document.tracking.id;
  const docIsAdvisory = ADVISORY.test(docId);

  for (const v of doc.vulnerabilities ?? []) {
    const vulnId = v.cve ?? docId;
    out.cvss.push(...csafCvss(v, vulnId));
    const impactFor = (pid: string): string | null => {
      const impacts = (v.threats ?? []).filter((t) => t.category === 'impact');
      return (
        impacts.find((t) => t.product_ids?.includes(pid))?.details ??
        impacts.find((t) => !t.product_ids?.length)?.details ??
        impacts[0]?.details ??
        doc.document.aggregate_severity?.text ??
        null
      );
    };
    const remediationFor = (pid: string): { category: string; details?: string; url?: string } | undefined =>
      (v.remediations ?? []).find(
        (r) => r.category !== 'workaround' && r.category !== 'mitigation' && r.product_ids?.includes(pid),
      );

    const base = (pid: string, c: { name: string; moduleStream: string | null }, release: string) => {
      const impact = impactFor(pid);
      return {
        feed: 'redhat',
        distro: 'rhel',
        release,
        package: c.name,
        scheme: 'rpm' as const,
        vuln_id: vulnId,
        severity: impact ? fromRedHatImpact(impact) : ('unknown' as const),
        raw_severity: impact ?? '',
        module_stream: c.moduleStream,
      };
    };

    const add = (
      pids: readonly string[] | undefined,
      kind: 'fixed' | 'affected' | 'not_affected' | 'under_investigation',
    ): void => {
      for (const pid of pids ?? []) {
        const c = tree.resolve(pid);
        if (!c) continue;
        const release = c.platformCpe ? rhelMajorFromCpe(c.platformCpe) : null;
        if (!release) {
          out.otherPlatforms++;
          continue;
        }
        if (c.evr !== null) {
          const why = rpm.validate(c.evr);
          if (why) {
            out.invalidVersions.push(`${pid}: ${why}`);
            continue;
          }
        }
        if (kind === 'fixed') {
          if (c.evr === null) continue;
          const rem = remediationFor(pid);
          const advisory = ADVISORY.exec(rem?.url ?? '')?.[0] ?? (docIsAdvisory ? docId : null);
          // A source rpm is never installed, but every binary built from it carries the fix:
          // the entry is keyed on the source name, which the matcher compares with each
          // binary's SOURCERPM version. Some advisories list nothing else (RHSA-2024:6163).
          const source = c.arch === 'src';
          out.entries.push({
            ...base(pid, c, release),
            key_kind: source ? 'source' : 'binary',
            status: 'fixed',
            raw_status: 'fixed',
            introduced: null,
            fixed_version: c.evr,
            last_affected: null,
            advisory_ids: advisory ? [advisory] : [],
            arches: c.arch && c.arch !== 'noarch' && !source ? [c.arch] : [],
          });
          continue;
        }
        // Unfixed statements name components (source packages) without a version; a
        // versioned statement about one build says nothing about the package as a whole.
        if (c.evr !== null && kind !== 'affected') continue;
        const keyKind = c.arch === null || c.arch === 'src' ? 'source' : 'binary';
        let status: EntryStatus = kind;
        let raw: string =
          kind === 'not_affected'
            ? 'Not affected'
            : kind === 'under_investigation'
              ? 'Under investigation'
              : 'Affected';
        if (kind === 'affected') {
          const rem = remediationFor(pid);
          const s = statusOfRemediation(rem?.details, rem?.category);
          status = s.status;
          raw = s.raw;
        }
        out.entries.push({
          ...base(pid, c, release),
          key_kind: keyKind,
          status,
          raw_status: raw,
          introduced: null,
          fixed_version: null,
          last_affected: kind === 'affected' ? c.evr : null,
          advisory_ids: [],
          arches: [],
        });
      }
    };
    add([...(v.product_status?.fixed ?? []), ...(v.product_status?.first_fixed ?? [])], 'fixed');
    add(v.product_status?.known_affected, 'affected');
    add(v.product_status?.known_not_affected, 'not_affected');
    add(v.product_status?.under_investigation, 'under_investigation');

    const description = (v.notes ?? []).find((n) => n.category === 'description')?.text ?? v.title ?? '';
    out.vulnerabilities.push({
      id: vulnId,
      aliases: [],
      description,
      published: v.release_date ?? v.discovery_date ?? null,
      modified: doc.document.tracking.current_release_date ?? null,
      references: (v.references ?? []).map((r) => r.url),
    });
  }
  return out;
}

/** Red Hat's CVSS scores of one vulnerability: each version once, vectors that do not score left out. */
function csafCvss(v: z.infer<typeof vulnerabilitySchema>, vulnId: string): CsafConversion['cvss'] {
  const out = new Map<string, CvssScore>();
  for (const s of v.scores ?? [])
    for (const c of [s.cvss_v4, s.cvss_v3, s.cvss_v2]) {
      const score = c ? cvssScore(c.vectorString, 'redhat') : null;
      if (score && !out.has(score.version)) out.set(score.version, score);
    }
  return [...out.values()].map((score) => ({ vulnId, score }));
}
