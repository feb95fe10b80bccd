// The agent ↔ server wire format (version 1): zod schemas for every message, and the pure
// helpers both sides need to agree on (the package-set digest and delta computation).
// No I/O here: the agent and the server import it, the dashboard can too.
import { createHash } from 'node:crypto';
import { z } from 'zod';
import type { InstalledPackage } from './types.ts';

export const REPORT_SCHEMA = 'patchloop.report/v1';

/** Upper bounds that keep one report's memory use predictable on the server. */
export const LIMITS = {
  packages: 100_000,
  deltaPackages: 100_000,
  warnings: 1_000,
  text: 512,
  longText: 4_096,
} as const;

const text = z.string().max(LIMITS.text);

// Lengths are checked in one refinement rather than per field: the same rules, at a fraction
// of the cost on a report of thousands of packages.
export const PackageSchema = z
  .object({
    name: z.string(),
    version: z.string(),
    arch: z.string(),
    source: z.string(),
    source_version: z.string(),
    format: z.enum(['deb', 'rpm', 'apk']),
    vendor: z.string().optional(),
    modularity_label: z.string().optional(),
    epoch: z
      .number()
      .int()
      .min(0)
      .max(2 ** 31)
      .optional(),
  })
  .strict()
  .superRefine((p, ctx) => {
    if (p.name.length === 0) ctx.addIssue({ code: 'custom', path: ['name'], message: 'empty package name' });
    if (p.version.length === 0) ctx.addIssue({ code: 'custom', path: ['version'], message: 'empty version' });
    for (const k of ['name', 'version', 'arch', 'source', 'source_version', 'vendor', 'modularity_label'] as const) {
      const v = p[k];
      if (v !== undefined && v.length > LIMITS.text)
        ctx.addIssue({ code: 'custom', path: [k], message: `longer than ${LIMITS.text} characters` });
    }
  });

export const OsSchema = z
  .object({
    id: text,
    version_id: text,
    codename: text,
    pretty_name: text,
    id_like: z.array(text).max(32).optional(),
  })
  .strict();

export const HostFactsSchema = z
  .object({
    hostname: z.string().min(1).max(253),
    /** /etc/machine-id: keeps a host's identity across re-enrolment and renames. */
    machine_id: z
      .string()
      .regex(/^[0-9a-f]{32}$/, 'expected 32 lowercase hex digits')
      .optional(),
    os: OsSchema,
    kernel: text.nullable(),
    /** Release key the agent determined itself (Alpine branch from /etc/apk/repositories). */
    release: text.optional(),
    reboot_required: z.boolean(),
    reboot_required_packages: z.array(text).max(LIMITS.warnings).optional(),
    /** Ubuntu: attached to Ubuntu Pro (esm fixes are installable). */
    pro_attached: z.boolean().optional(),
  })
  .strict();

const reportCommon = {
  schema: z.literal(REPORT_SCHEMA),
  /** Chosen by the agent when the report is spooled; a resend carries the same id. */
  report_id: z.uuid(),
  collected_at: z.iso.datetime({ offset: true }),
  agent: z.object({ version: text }).strict(),
  host: HostFactsSchema,
  /** sha256 of the package set after this report is applied (see packageDigest). */
  digest: z.string().regex(/^[0-9a-f]{64}$/),
  /** Non-fatal inventory problems, each naming its file. */
  warnings: z.array(z.string().max(LIMITS.longText)).max(LIMITS.warnings).default([]),
  /** Reports the agent's spool had to drop while the server was unreachable (it says so). */
  skipped_reports: z.number().int().min(0).default(0),
};

export const FullReportSchema = z
  .object({
    ...reportCommon,
    kind: z.literal('full'),
    packages: z.array(PackageSchema).max(LIMITS.packages),
  })
  .strict();

export const DeltaReportSchema = z
  .object({
    ...reportCommon,
    kind: z.literal('delta'),
    /** Digest of the package set the server acknowledged last; the delta applies to that set. */
    base: z.string().regex(/^[0-9a-f]{64}$/),
    added: z.array(PackageSchema).max(LIMITS.deltaPackages),
    removed: z.array(PackageSchema).max(LIMITS.deltaPackages),
  })
  .strict();

export const ReportSchema = z.discriminatedUnion('kind', [FullReportSchema, DeltaReportSchema]);

export type WirePackage = z.infer<typeof PackageSchema>;
export type HostFacts = z.infer<typeof HostFactsSchema>;
export type FullReport = z.infer<typeof FullReportSchema>;
export type DeltaReport = z.infer<typeof DeltaReportSchema>;
export type Report = z.infer<typeof ReportSchema>;
export type ReportInput = z.input<typeof ReportSchema>;

export const ReportAckSchema = z
  .object({
    report_id: z.uuid(),
    status: z.enum(['accepted', 'duplicate']),
    host_id: z.number().int(),
    /** The package set the server now holds for the host: the base of the next delta. */
    digest: z.string().regex(/^[0-9a-f]{64}$/),
    scan_id: z.number().int(),
    received_at: z.iso.datetime(),
    changes: z.object({
      detected: z.number().int(),
      resolved: z.number().int(),
      reopened: z.number().int(),
      open: z.number().int(),
    }),
  })
  .strict();
export type ReportAck = z.infer<typeof ReportAckSchema>;

/** HTTP 409 answer to a delta the server cannot apply: the agent sends a full report instead. */
export const ResendFullSchema = z
  .object({
    error: z.literal('resend_full'),
    message: z.string(),
    /** What the server holds (null: nothing yet). */
    digest: z.string().nullable(),
  })
  .strict();
export type ResendFull = z.infer<typeof ResendFullSchema>;

export const EnrollRequestSchema = z
  .object({
    token: z.string().min(8).max(256),
    hostname: z.string().min(1).max(253),
    machine_id: z
      .string()
      .regex(/^[0-9a-f]{32}$/)
      .optional(),
  })
  .strict();
export type EnrollRequest = z.infer<typeof EnrollRequestSchema>;

export const EnrollResponseSchema = z
  .object({
    host_id: z.number().int(),
    host_token: z.string(),
    server_time: z.iso.datetime(),
  })
  .strict();
export type EnrollResponse = z.infer<typeof EnrollResponseSchema>;

/** Every error the API returns has this shape; `details` lists validation problems by path. */
export const ApiErrorSchema = z.object({
  error: z.string(),
  message: z.string(),
  details: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
});
export type ApiError = z.infer<typeof ApiErrorSchema>;

export const VulnDbManifestSchema = z.object({
  feeds: z.array(
    z.object({
      feed: z.string(),
      updated_at: z.string(),
      distros: z.array(z.string()),
      entry_count: z.number().int(),
      size: z.number().int(),
      sha256: z.string(),
      url: z.string(),
    }),
  ),
});
export type VulnDbManifest = z.infer<typeof VulnDbManifestSchema>;

/**
 * The identity of one package in a package set. Every field counts, so a package whose
 * source or vendor changed is a different package; keys sort and compare as strings.
 */
export function packageKey(p: InstalledPackage | WirePackage): string {
  return JSON.stringify([
    p.name,
    p.version,
    p.arch,
    p.source,
    p.source_version,
    p.format,
    p.vendor ?? null,
    p.modularity_label ?? null,
    p.epoch ?? null,
  ]);
}

/** Only the wire fields: readers may attach more than the protocol carries. */
export function toWirePackage(p: InstalledPackage | WirePackage): WirePackage {
  const w: WirePackage = {
    name: p.name,
    version: p.version,
    arch: p.arch,
    source: p.source,
    source_version: p.source_version,
    format: p.format,
  };
  if (p.vendor !== undefined) w.vendor = p.vendor;
  if (p.modularity_label !== undefined) w.modularity_label = p.modularity_label;
  if (p.epoch !== undefined) w.epoch = p.epoch;
  return w;
}

/**
 * Digest of a package set: the XOR of sha256(packageKey) over its distinct members. Equal sets
 * give equal digests whatever their order, and the server updates it in O(changes) when it
 * applies a delta. It checks that agent and server hold the same set; it is not a signature.
 */
export function packageDigest(packages: Iterable<InstalledPackage | WirePackage>): string {
  return digestOfKeys(new Set([...packages].map(packageKey)));
}

export const EMPTY_DIGEST = '0'.repeat(64);

/** sha256 of a package key, as eight 32-bit words (the unit the digest XORs). */
export function keyHash(key: string): Uint32Array {
  const d = createHash('sha256').update(key).digest();
  const words = new Uint32Array(8);
  new Uint8Array(words.buffer).set(d);
  return words;
}

/** Digest of distinct keys (the caller de-duplicates). */
export function digestOfKeys(keys: Iterable<string>): string {
  const acc = new Uint32Array(8);
  for (const k of keys) xorInto(acc, keyHash(k));
  return Buffer.from(acc.buffer).toString('hex');
}

/** The digest after toggling members in or out of the set (XOR is its own inverse). */
export function toggleDigest(digest: string, hashes: Iterable<Uint32Array>): string {
  const acc = new Uint32Array(8);
  new Uint8Array(acc.buffer).set(Buffer.from(digest, 'hex'));
  for (const h of hashes) xorInto(acc, h);
  return Buffer.from(acc.buffer).toString('hex');
}

function xorInto(acc: Uint32Array, h: Uint32Array): void {
  for (let i = 0; i < 8; i++) acc[i] ^= h[i];
}

/** What changed between the set the server acknowledged and the current one. */
export function packageDelta(
  before: Iterable<InstalledPackage | WirePackage>,
  after: Iterable<InstalledPackage | WirePackage>,
): { added: WirePackage[]; removed: WirePackage[] } {
  const old = new Map<string, InstalledPackage | WirePackage>();
  for (const p of before) old.set(packageKey(p), p);
  const added: WirePackage[] = [];
  const seen = new Set<string>();
  for (const p of after) {
    const k = packageKey(p);
    if (seen.has(k)) continue;
    seen.add(k);
    if (!old.delete(k)) added.push(toWirePackage(p));
  }
  return { added, removed: [...old.values()].map(toWirePackage) };
}

/** Zod issues as `path: message` pairs, for error bodies that say what exactly is wrong. */
export function describeIssues(error: z.ZodError): { path: string; message: string }[] {
  return error.issues
    .slice(0, 20)
    .map((i) => ({ path: i.path.length ? i.path.join('.') : '(root)', message: i.message }));
}
