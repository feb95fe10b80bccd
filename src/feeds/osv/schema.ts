// The parts of the OSV schema (ossf/osv-schema validation/schema.json) that patchloop reads,
// with the schema's own rules for them: required fields, timestamp format, one key per event,
// an `introduced` event in every range, `fixed` and `last_affected` never in one range, and a
// repo for GIT ranges. Fields patchloop does not read are not checked.
import { z } from 'zod';

const timestamp = z
  .string()
  .regex(/^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?Z$/, 'not an RFC 3339 UTC timestamp');

const severity = z
  .array(z.object({ type: z.enum(['CVSS_V2', 'CVSS_V3', 'CVSS_V4', 'Ubuntu']), score: z.string() }))
  .nullish();

const event = z.union([
  z.strictObject({ introduced: z.string() }),
  z.strictObject({ fixed: z.string() }),
  z.strictObject({ last_affected: z.string() }),
  z.strictObject({ limit: z.string() }),
]);

export type OsvEvent = z.infer<typeof event>;

const range = z
  .object({
    type: z.enum(['GIT', 'SEMVER', 'ECOSYSTEM']),
    repo: z.string().optional(),
    events: z.array(event).min(1),
    database_specific: z.record(z.string(), z.unknown()).optional(),
  })
  .superRefine((r, ctx) => {
    if (!r.events.some((e) => 'introduced' in e))
      ctx.addIssue({ code: 'custom', message: 'a range needs an "introduced" event', path: ['events'] });
    if (r.events.some((e) => 'fixed' in e) && r.events.some((e) => 'last_affected' in e)) {
      ctx.addIssue({
        code: 'custom',
        message: '"fixed" and "last_affected" events are mutually exclusive',
        path: ['events'],
      });
    }
    if (r.type === 'GIT' && !r.repo)
      ctx.addIssue({ code: 'custom', message: 'a GIT range needs a repo', path: ['repo'] });
  });

export type OsvRange = z.infer<typeof range>;

const affected = z.object({
  package: z.object({ ecosystem: z.string().min(1), name: z.string().min(1), purl: z.string().optional() }).optional(),
  severity,
  ranges: z.array(range).optional(),
  versions: z.array(z.string()).optional(),
  ecosystem_specific: z.record(z.string(), z.unknown()).optional(),
  database_specific: z.record(z.string(), z.unknown()).optional(),
});

export type OsvAffected = z.infer<typeof affected>;

export const osvRecordSchema = z.object({
  schema_version: z.string().optional(),
  id: z.string().regex(/^\S+$/, 'an id is one word'),
  modified: timestamp,
  published: timestamp.optional(),
  withdrawn: timestamp.optional(),
  aliases: z.array(z.string()).nullish(),
  related: z.array(z.string()).optional(),
  upstream: z.array(z.string()).optional(),
  summary: z.string().optional(),
  details: z.string().optional(),
  severity,
  affected: z.array(affected).nullish(),
  references: z
    .array(
      z.object({
        type: z.enum([
          'ADVISORY',
          'ARTICLE',
          'DETECTION',
          'DISCUSSION',
          'REPORT',
          'FIX',
          'INTRODUCED',
          'GIT',
          'PACKAGE',
          'EVIDENCE',
          'WEB',
        ]),
        url: z.string(),
      }),
    )
    .nullish(),
  database_specific: z.record(z.string(), z.unknown()).optional(),
});

export type OsvRecord = z.infer<typeof osvRecordSchema>;

/** Whether a parsed JSON document looks like an OSV record at all (an object with id and modified). */
export function looksLikeOsv(doc: unknown): boolean {
  return (
    typeof doc === 'object' &&
    doc !== null &&
    !Array.isArray(doc) &&
    'id' in doc &&
    ('modified' in doc || 'affected' in doc)
  );
}
