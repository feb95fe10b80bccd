// OpenVEX (https://openvex.dev, v0.2.0) and exception rules. Imported: `not_affected` statements
// become false-positive rules (one per product, or one for the vulnerability when the statement
// names no product). Exported: the rules in force that name a vulnerability, as statements —
// false positives and mitigations as not_affected, accepted risks and planned fixes as affected
// with the decision as action statement. Pure: documents in, documents out.
import { z } from 'zod';
import type { ExceptionKind, ExceptionScope } from './exceptions.ts';

export const OPENVEX_CONTEXT = 'https://openvex.dev/ns/v0.2.0';

export const VEX_JUSTIFICATIONS = [
  'component_not_present',
  'vulnerable_code_not_present',
  'vulnerable_code_not_in_execute_path',
  'vulnerable_code_cannot_be_controlled_by_adversary',
  'inline_mitigations_already_exist',
] as const;
export type VexJustification = (typeof VEX_JUSTIFICATIONS)[number];

const VexStatus = z.enum(['not_affected', 'affected', 'fixed', 'under_investigation']);

const Component = z
  .object({
    '@id': z.string().min(1).max(2000).optional(),
    identifiers: z.record(z.string(), z.string()).optional(),
    hashes: z.record(z.string(), z.string()).optional(),
  })
  .loose();

const Product = Component.extend({ subcomponents: z.array(Component).max(10_000).optional() });

const Vulnerability = z
  .object({
    '@id': z.string().optional(),
    name: z.string().min(1).max(200),
    description: z.string().optional(),
    aliases: z.array(z.string().max(200)).max(1000).optional(),
  })
  .loose();

export const VexStatementSchema = z
  .object({
    '@id': z.string().optional(),
    vulnerability: Vulnerability,
    timestamp: z.string().optional(),
    last_updated: z.string().optional(),
    products: z.array(Product).max(10_000).optional(),
    status: VexStatus,
    status_notes: z.string().max(4000).optional(),
    justification: z.enum(VEX_JUSTIFICATIONS).optional(),
    impact_statement: z.string().max(4000).optional(),
    action_statement: z.string().max(4000).optional(),
    action_statement_timestamp: z.string().optional(),
  })
  .loose()
  .superRefine((s, ctx) => {
    // The specification's own rules for the two statuses that need an explanation.
    if (s.status === 'not_affected' && !s.justification && !s.impact_statement)
      ctx.addIssue({
        code: 'custom',
        message: 'a not_affected statement needs a justification or an impact_statement',
      });
    if (s.status === 'affected' && !s.action_statement)
      ctx.addIssue({ code: 'custom', message: 'an affected statement needs an action_statement' });
  });
export type VexStatement = z.infer<typeof VexStatementSchema>;

export const OpenVexSchema = z
  .object({
    '@context': z.string().startsWith('https://openvex.dev/ns'),
    '@id': z.string().min(1),
    author: z.string().min(1),
    role: z.string().optional(),
    timestamp: z.string().min(1),
    last_updated: z.string().optional(),
    version: z.number().int().min(1),
    tooling: z.string().optional(),
    statements: z.array(VexStatementSchema).max(100_000),
  })
  .loose();
export type OpenVexDocument = z.infer<typeof OpenVexSchema>;

/**
 * The package a product names: a purl's name and version
 * (`pkg:deb/ubuntu/curl@7.81.0-1ubuntu1.24?arch=amd64&distro=jammy` → curl, 7.81.0-1ubuntu1.24).
 */
export function packageOfProduct(id: string): { name: string; version?: string } | null {
  const m = /^pkg:[a-z0-9.+-]+\/(?:[^@?#]*\/)?([^/@?#]+)(?:@([^?#]+))?/i.exec(id);
  if (!m) return null;
  try {
    const name = decodeURIComponent(m[1]);
    return m[2] === undefined ? { name } : { name, version: decodeURIComponent(m[2]) };
  } catch {
    return null;
  }
}

/** A rule an import makes. */
export interface ImportedRule {
  scope: ExceptionScope;
  kind: ExceptionKind;
  justification: string;
}

export interface VexImport {
  rules: ImportedRule[];
  /** Statements not turned into rules, and why. */
  skipped: { vulnerability: string; status: string; reason: string }[];
}

/** The rules an OpenVEX document's not_affected statements make (one per product named). */
export function rulesFromOpenVex(doc: OpenVexDocument): VexImport {
  const rules: ImportedRule[] = [];
  const skipped: VexImport['skipped'] = [];
  for (const s of doc.statements) {
    const vulnerability = s.vulnerability.name.trim();
    if (s.status !== 'not_affected') {
      skipped.push({ vulnerability, status: s.status, reason: 'only not_affected statements become rules' });
      continue;
    }
    if (/[*?[\]\s]/.test(vulnerability)) {
      skipped.push({ vulnerability, status: s.status, reason: 'not one vulnerability id' });
      continue;
    }
    const justification = [s.justification, s.impact_statement].filter(Boolean).join(': ');
    const ids = (s.products ?? []).flatMap((p) => [p['@id'], ...(p.subcomponents ?? []).map((c) => c['@id'])]);
    const packages = ids.filter((i): i is string => !!i).map(packageOfProduct);
    if (packages.includes(null)) {
      skipped.push({ vulnerability, status: s.status, reason: 'a product that is not a package URL' });
      continue;
    }
    // One rule per package and version named (one build for several architectures is one rule):
    // a statement about one build says nothing of other versions of the package.
    const named = new Map<string, { name: string; version?: string }>();
    for (const p of packages as { name: string; version?: string }[]) named.set(`${p.name}@${p.version ?? ''}`, p);
    if (named.size === 0) rules.push({ scope: { vulnerability }, kind: 'false_positive', justification });
    for (const p of named.values())
      rules.push({
        scope: { vulnerability, package: p.name, ...(p.version === undefined ? {} : { version: p.version }) },
        kind: 'false_positive',
        justification,
      });
  }
  return { rules, skipped };
}

/** A rule in force as the export reads it. */
export interface ExportedRule {
  id: number;
  scope: ExceptionScope;
  kind: ExceptionKind;
  justification: string;
  created_at: string;
  expires_at: string | null;
}

/** The justification an imported rule keeps at the start of its text, if any. */
function vexJustificationOf(text: string): { justification?: VexJustification; rest: string } {
  const m = /^([a-z_]+)(?::\s*(.*))?$/s.exec(text);
  if (m && (VEX_JUSTIFICATIONS as readonly string[]).includes(m[1]))
    return { justification: m[1] as VexJustification, rest: m[2] ?? '' };
  return { rest: text };
}

/** The fleet's rules as an OpenVEX document (rules without a vulnerability cannot be statements and are left out). */
export function openVexOf(
  rules: ExportedRule[],
  meta: { id: string; author: string; timestamp: string },
): OpenVexDocument {
  const statements: VexStatement[] = [];
  for (const r of rules) {
    if (r.scope.vulnerability === undefined) continue;
    const version = r.scope.version ? `@${encodeURIComponent(r.scope.version)}` : '';
    const products = r.scope.package
      ? [{ '@id': `pkg:generic/${encodeURIComponent(r.scope.package)}${version}` }]
      : undefined;
    const notes = [
      `patchloop exception ${r.id} (${r.kind})`,
      ...(['host', 'group', 'tag'] as const).filter((k) => r.scope[k] !== undefined).map((k) => `${k} ${r.scope[k]}`),
      ...(r.expires_at ? [`expires ${r.expires_at}`] : []),
    ].join('; ');
    const base = {
      '@id': `${meta.id}#exception-${r.id}`,
      vulnerability: { name: r.scope.vulnerability },
      timestamp: r.created_at,
      ...(products ? { products } : {}),
      status_notes: notes,
    };
    if (r.kind === 'false_positive' || r.kind === 'mitigated') {
      const j = vexJustificationOf(r.justification);
      const justification =
        j.justification ?? (r.kind === 'mitigated' ? 'inline_mitigations_already_exist' : undefined);
      statements.push({
        ...base,
        status: 'not_affected',
        ...(justification ? { justification } : {}),
        impact_statement: j.rest || r.justification,
      });
    } else {
      statements.push({ ...base, status: 'affected', action_statement: r.justification });
    }
  }
  return OpenVexSchema.parse({
    '@context': OPENVEX_CONTEXT,
    '@id': meta.id,
    author: meta.author,
    timestamp: meta.timestamp,
    version: 1,
    tooling: 'patchloop',
    statements,
  });
}
