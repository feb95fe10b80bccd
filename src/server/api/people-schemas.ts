// Request and response shapes of the people routes: sessions, accounts, API tokens, the audit log.
import { z } from 'zod';
import { AUDIT_OUTCOMES } from '../store/audit.ts';
import { MIN_PASSWORD, ROLES, USERNAME } from '../store/users.ts';
import { wholeNumber } from './schemas.ts';

export const RoleSchema = z.enum(ROLES);
const Password = z.string().min(MIN_PASSWORD, `at least ${MIN_PASSWORD} characters`).max(1024);
const Username = z
  .string()
  .regex(USERNAME, 'letters, digits and . _ @ -, starting with a letter or digit (at most 64)');
const DisplayName = z.string().trim().min(1).max(200).nullable();

export const SessionInfoSchema = z.object({
  username: z.string(),
  role: RoleSchema,
  user_id: z.number().int(),
  /** builtin | local | sso */
  kind: z.string(),
  /** How this caller is authenticated: a session from a password or single sign-on, or an API token. */
  via: z.enum(['password', 'sso', 'token']),
  csrf_token: z.string(),
  expires_at: z.string().optional(),
});

export const UserSchema = z.object({
  id: z.number().int(),
  username: z.string(),
  role: RoleSchema,
  kind: z.enum(['builtin', 'local', 'sso']),
  display_name: z.string().nullable(),
  sso_issuer: z.string().nullable(),
  disabled: z.boolean(),
  created_at: z.string(),
  created_by: z.string(),
  updated_at: z.string(),
  last_login_at: z.string().nullable(),
});

export const UserCreateSchema = z
  .object({ username: Username, role: RoleSchema, password: Password, display_name: DisplayName.optional() })
  .strict();
export const UserPatchSchema = z
  .object({ role: RoleSchema.optional(), disabled: z.boolean().optional(), display_name: DisplayName.optional() })
  .strict()
  .refine((b) => Object.keys(b).length > 0, 'nothing to change');
export const PasswordResetSchema = z.object({ password: Password }).strict();
export const PasswordChangeSchema = z
  .object({ current_password: z.string().min(1).max(1024), new_password: Password })
  .strict();

export const ApiTokenCreateSchema = z
  .object({ name: z.string().min(1).max(100), role: RoleSchema.optional() })
  .strict();
export const ApiTokenSchema = z.object({
  id: z.number().int(),
  name: z.string(),
  role: RoleSchema,
  owner_id: z.number().int(),
  owner: z.string(),
  created_at: z.string(),
  revoked: z.boolean(),
});

export const AuthMethodsSchema = z.object({
  /** Local accounts may log in with a password (else only the built-in administrator). */
  local_login: z.boolean(),
  sso: z.object({ enabled: z.boolean(), label: z.string() }),
});

const isoTime = z
  .string()
  .refine((s) => !Number.isNaN(Date.parse(s)), 'an ISO 8601 time')
  .transform((s) => Date.parse(s));

export const AuditQuerySchema = z
  .object({
    actor: z.string().min(1).max(200).optional(),
    action: z
      .string()
      .regex(/^[a-z_]+(\.[a-z_]+|\.\*)?$/, 'an action (user.create) or every action of an object (user.*)')
      .optional(),
    target_type: z.string().min(1).max(100).optional(),
    target_id: z.string().min(1).max(200).optional(),
    outcome: z.enum(AUDIT_OUTCOMES).optional(),
    since: isoTime.optional(),
    until: isoTime.optional(),
    before_id: wholeNumber(1, Number.MAX_SAFE_INTEGER).optional(),
    limit: wholeNumber(1, 500).default(100),
  })
  .strict();

export const AuditEntrySchema = z.object({
  id: z.number().int(),
  at: z.string(),
  actor: z.object({
    kind: z.string(),
    name: z.string(),
    user_id: z.number().int().nullable(),
    token_id: z.number().int().nullable(),
    role: z.string().nullable(),
  }),
  address: z.string().nullable(),
  action: z.string(),
  target: z.object({ type: z.string(), id: z.string() }).nullable(),
  outcome: z.enum(AUDIT_OUTCOMES),
  reason: z.string().nullable(),
  before: z.unknown(),
  after: z.unknown(),
});

export const AuditPageSchema = z.object({
  items: z.array(AuditEntrySchema),
  next_before_id: z.number().int().nullable(),
});
