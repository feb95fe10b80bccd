// Request and response shapes of the exception routes (rules that take findings out of the open
// counts: core/exceptions.ts).
import { z } from 'zod';
import { EXCEPTION_KINDS, ExceptionFieldsSchema, ExceptionScopeSchema } from '../../core/exceptions.ts';

export const ExceptionCreateSchema = ExceptionFieldsSchema;

/** What a rule's new version changes; its scope and kind stay (another scope or kind is another rule). */
export const ExceptionUpdateSchema = ExceptionFieldsSchema.pick({ justification: true, owner: true })
  .partial()
  .extend({
    owner: z.string().trim().min(1).max(200).nullable().optional(),
    expires_at: ExceptionFieldsSchema.shape.expires_at.unwrap().nullable().optional(),
    cover_escalation: z.boolean().optional(),
  })
  .strict()
  .refine((c) => Object.values(c).some((v) => v !== undefined), { message: 'nothing to change' });

export const ExceptionRevokeSchema = z.object({ reason: z.string().trim().min(1).max(2000).optional() }).strict();

export const ExceptionStateSchema = z.enum(['active', 'expired', 'revoked']);

export const ExceptionSchema = z.object({
  id: z.number().int(),
  version: z.number().int(),
  state: ExceptionStateSchema,
  scope: ExceptionScopeSchema,
  kind: z.enum(EXCEPTION_KINDS),
  justification: z.string(),
  owner: z.string().nullable(),
  cover_escalation: z.boolean(),
  origin: z.string(),
  created_by: z.string(),
  created_at: z.string(),
  expires_at: z.string().nullable(),
  revoked_at: z.string().nullable(),
  revoked_by: z.string().nullable(),
  revoke_reason: z.string().nullable(),
  /** Open findings (exposures) the rule holds now. */
  held: z.number().int(),
});

export const ExceptionVersionSchema = z.object({
  version: z.number().int(),
  at: z.string(),
  by: z.string(),
  change: z.string(),
  rule: z.record(z.string(), z.unknown()),
});

export const ExceptionDetailSchema = ExceptionSchema.extend({ versions: z.array(ExceptionVersionSchema) });

export const ExceptionsQuerySchema = z.object({
  state: ExceptionStateSchema.optional(),
  kind: z.enum(EXCEPTION_KINDS).optional(),
  vulnerability: z.string().max(200).optional(),
  host: z.string().max(200).optional(),
  group: z.string().max(200).optional(),
  owner: z.string().max(200).optional(),
});

export const ExceptionSummaryQuerySchema = z.object({ group: z.string().max(200).optional() });

export const ExceptedSummarySchema = z.object({
  /** Open findings held by a rule: out of the open and SLA counts. */
  excepted: z.number().int(),
  /** Of those, held by rules that expire within the week. */
  expiring: z.number().int(),
  active_rules: z.number().int(),
  rules_expiring: z.number().int(),
});

export const ExceptionListSchema = z.object({ summary: ExceptedSummarySchema, items: z.array(ExceptionSchema) });

export const VexImportResultSchema = z.object({
  created: z.array(ExceptionSchema),
  skipped: z.array(z.object({ vulnerability: z.string(), status: z.string(), reason: z.string() })),
});
