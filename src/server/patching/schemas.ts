// Request and response shapes of the patching API (zod: validation, types and the OpenAPI
// description at /api/docs).
import { z } from 'zod';
import { GateSchema } from '../../core/patch-protocol.ts';
import { WindowSchema } from '../../core/policy/schema.ts';
import { PagingQuery, wholeNumber } from '../api/schemas.ts';

const OUTCOMES = ['success', 'nothing_to_do', 'partial', 'failed', 'skipped', 'dry_run'] as const;

export const PolicyNameParams = z.object({
  name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/, 'expected letters, digits, ".", "_" and "-"'),
});

export const StoredPolicySchema = z.object({
  name: z.string(),
  version: z.number().int(),
  group: z.string(),
  created_at: z.string(),
  created_by: z.string(),
  /** The validated policy, with every default filled in. */
  policy: z.record(z.string(), z.unknown()),
});

export const PolicyListItemSchema = StoredPolicySchema.extend({ versions: z.number().int() });

export const HostRefSchema = z.object({ id: z.number().int(), hostname: z.string(), group: z.string() });

export const PatchRunsQuerySchema = z.object({
  ...PagingQuery,
  per_page: wholeNumber(1, 200).default(50),
  host: wholeNumber(1, Number.MAX_SAFE_INTEGER).optional(),
  group: z.string().max(200).optional(),
  outcome: z
    .string()
    .transform((s) =>
      s
        .split(',')
        .map((x) => x.trim())
        .filter(Boolean),
    )
    .pipe(z.array(z.enum(OUTCOMES)).min(1))
    .optional(),
  since: z
    .string()
    .transform((s, ctx) => {
      const t = Date.parse(s);
      if (Number.isNaN(t)) {
        ctx.addIssue({ code: 'custom', message: 'expected an ISO 8601 time' });
        return z.NEVER;
      }
      return t;
    })
    .optional(),
});

export const PatchRunItemSchema = z.object({
  id: z.string(),
  host: HostRefSchema,
  policy: z.object({ name: z.string(), version: z.number().int() }),
  backend: z.string(),
  mode: z.string(),
  started_at: z.string(),
  finished_at: z.string(),
  outcome: z.enum(OUTCOMES),
  skip_reason: z.string().nullable(),
  changes: z.array(
    z.object({
      name: z.string(),
      arch: z.string().nullable(),
      action: z.string(),
      from: z.string().nullable(),
      to: z.string().nullable(),
      ok: z.boolean(),
    }),
  ),
  failed_changes: z.number().int(),
  held_back: z.array(z.object({ name: z.string(), reason: z.string() })),
  errors: z.array(
    z.object({ kind: z.string(), where: z.string().nullable(), package: z.string().nullable(), message: z.string() }),
  ),
  reboot: z.object({
    status: z.string(),
    lease_id: z.string().nullable(),
    required: z.boolean(),
    back_at: z.string().nullable(),
  }),
  /**
   * Vulnerability ids the run closed: confirmed by the host's next inventory report; before that the agent's own count,
   * or null.
   */
  cves_closed: z.array(z.string()).nullable(),
});

export const PatchRunSummarySchema = z.object({
  days: z.number().int(),
  by_outcome: z.record(z.enum(OUTCOMES), z.number().int()),
  hosts_failed: z.number().int(),
  last_at: z.string().nullable(),
});

export const RingViewSchema = z.object({
  policy: z.string(),
  policy_version: z.number().int(),
  group: z.string(),
  ring: z.string(),
  index: z.number().int(),
  hosts: z.number().int(),
  /** Hosts whose latest real run succeeded (or had nothing to do). */
  patched: z.number().int(),
  /** Hosts whose latest real run failed or partly failed. */
  failed: z.number().int(),
  gate: GateSchema,
});

export const LeaseViewSchema = z.object({
  id: z.string(),
  host: HostRefSchema,
  state: z.enum(['held', 'waiting']),
  requested_at: z.string(),
  granted_at: z.string().nullable(),
  expires_at: z.string().nullable(),
});

export const HostPolicyViewSchema = z.object({
  policy: z.object({ name: z.string(), version: z.number().int(), group: z.string() }).nullable(),
  ring: z.object({ name: z.string(), index: z.number().int() }).nullable(),
  windows: z.array(WindowSchema),
  next_window: z.object({ start: z.string(), end: z.string() }).nullable(),
  gate: GateSchema.nullable(),
  outlook: z
    .object({
      /** What gets installed, when the host will patch in the next 24 h; else null. */
      would_install: z.string().nullable(),
      reboot: z.string(),
      will_patch: z.boolean(),
      patch_at: z.string().nullable(),
    })
    .nullable(),
  /** Why, one sentence per line. */
  lines: z.array(z.string()),
});

/** A policy typed in the editor: YAML (or JSON) text, checked and previewed, never stored. */
export const PolicyTextSchema = z.strictObject({ text: z.string().max(256 * 1024) });

const RingRefSchema = z.object({ name: z.string(), index: z.number().int() }).nullable();

export const PolicyPreviewSchema = z.object({
  valid: z.boolean(),
  /** Every problem at its line of the text (null: not on a line, e.g. a missing key of an empty text). */
  issues: z.array(z.object({ line: z.number().int().nullable(), path: z.string(), message: z.string() })),
  policy: z.record(z.string(), z.unknown()).nullable(),
  next_version: z.number().int(),
  hosts_total: z.number().int(),
  hosts: z.array(
    z.object({
      host_id: z.number().int(),
      hostname: z.string(),
      draft: z.object({
        ring: RingRefSchema,
        window: z.object({ start: z.string(), end: z.string(), time_zone: z.string() }).nullable(),
        gate: GateSchema,
        will_patch: z.boolean(),
        patch_at: z.string().nullable(),
        reboot: z.string(),
        lines: z.array(z.string()),
      }),
      in_force: z.object({ will_patch: z.boolean(), patch_at: z.string().nullable(), ring: RingRefSchema }).nullable(),
    }),
  ),
});

export const PolicyRollbackSchema = z.strictObject({
  /** The version to bring back; it becomes the next version. */
  version: z.number().int().min(1).max(1_000_000_000),
});
