// Routes for people: login, sessions and one's own password, API tokens for scripts, enrolment
// tokens. Accounts: users.ts; single sign-on: oidc.ts; the audit log: audit.ts.
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import {
  ApiTokenCreateSchema,
  ApiTokenSchema,
  PasswordChangeSchema,
  SessionInfoSchema,
} from '../api/people-schemas.ts';
import {
  EnrollmentTokenCreateSchema,
  EnrollmentTokenSchema,
  ErrorSchema,
  IdParams,
  LoginSchema,
} from '../api/schemas.ts';
import type { ServerContext } from '../context.ts';
import { auditChange, type AuditNote } from '../http/audit.ts';
import { person, SESSION_COOKIE } from '../http/auth.ts';
import { LoginBrake, type Admission } from '../http/login-brake.ts';
import { HttpError } from '../http/errors.ts';
import { startSession } from '../http/sessions.ts';
import {
  apiTokenById,
  createApiToken,
  createEnrollmentToken,
  deleteSession,
  endLocalPasswordSessions,
  listApiTokens,
  listEnrollmentTokens,
  revokeApiToken,
  revokeEnrollmentToken,
  sessionFor,
} from '../store/credentials.ts';
import { checkPasswordLogin, roleAtLeast, setUserPassword, userById, userByName } from '../store/users.ts';

/** Marks a browser that has logged in before: its attempts have a brake of their own (login-brake.ts). */
const DEVICE_COOKIE = 'patchloop_device';

/** Answers a login the brake holds back (429 with Retry-After, or 503 when too many are checked at once). */
function refuseHeld(
  admission: Extract<Admission, { ok: false }>,
  reply: { header(k: string, v: string): unknown },
): never {
  const seconds = Math.ceil(admission.retryAfterMs / 1000);
  reply.header('retry-after', String(seconds));
  if (admission.reason === 'busy')
    throw new HttpError('PL_E_BUSY', 'too many password checks at once; try again in a second');
  throw new HttpError('PL_E_TOO_MANY_REQUESTS', `too many failed attempts; try again in ${seconds} s`);
}

export const adminRoutes =
  (ctx: ServerContext): FastifyPluginAsyncZod =>
  async (app) => {
    const { store } = ctx;
    const brake = new LoginBrake(store);
    const secure = ctx.config.tls !== undefined;
    // With local login turned off only the built-in administrator logs in with a password.
    const builtinOnly = ctx.config.oidc?.local_login === false;
    if (builtinOnly) endLocalPasswordSessions(store);

    app.post(
      '/api/v1/auth/login',
      {
        config: { access: 'public', audit: 'auth.login' },
        schema: {
          summary:
            'Log in with a password: sets an HttpOnly session cookie; send csrf_token as X-CSRF-Token on changes',
          tags: ['auth'],
          body: LoginSchema,
          response: { 200: SessionInfoSchema, 401: ErrorSchema, 429: ErrorSchema, 503: ErrorSchema },
        },
      },
      async (request, reply) => {
        // The brake counts per account: "Alice" and "alice" are one account and one count.
        const account = request.body.username.toLowerCase();
        const known = userByName(store, request.body.username);
        // Only a name that is an account is written to the audit log (a password typed into the
        // user name field must not end up there).
        const attempted: AuditNote = {
          actor: { kind: 'anonymous', name: known?.username ?? '', userId: known?.id ?? null },
          target: { type: 'user', id: known?.username ?? '' },
        };
        const admission = brake.admit(request.ip, account, request.cookies[DEVICE_COOKIE]);
        if (!admission.ok) {
          request.log.warn({ ip: request.ip }, 'login refused by the brake');
          auditChange(request, {
            ...attempted,
            outcome: 'denied',
            reason: admission.reason === 'busy' ? 'too many logins at once' : 'login brake',
          });
          refuseHeld(admission, reply);
        }
        let user = null;
        try {
          user = await checkPasswordLogin(store, request.body.username, request.body.password, { builtinOnly });
        } finally {
          if (!user) admission.attempt.failed();
        }
        if (!user) {
          request.log.warn({ ip: request.ip }, 'failed login');
          auditChange(request, { ...attempted, outcome: 'failure', reason: 'wrong username or password' });
          throw new HttpError('PL_E_UNAUTHORIZED', 'wrong username or password');
        }
        reply.setCookie(DEVICE_COOKIE, admission.attempt.succeeded(), {
          httpOnly: true,
          sameSite: 'strict',
          secure,
          path: '/api/v1/auth/login',
          maxAge: 365 * 86_400,
        });
        auditChange(request, {
          actor: { kind: 'user', name: user.username, userId: user.id, role: user.role },
          target: { type: 'user', id: user.username },
        });
        return startSession(ctx, reply, user, 'password');
      },
    );

    app.post(
      '/api/v1/auth/logout',
      {
        config: { access: 'viewer', audit: 'auth.logout' },
        schema: { summary: 'End the session', tags: ['auth'], response: { 204: z.null() } },
      },
      async (request, reply) => {
        const cookie = request.cookies[SESSION_COOKIE];
        if (cookie) deleteSession(store, cookie);
        auditChange(request, { target: { type: 'user', id: person(request.principal).username } });
        reply.clearCookie(SESSION_COOKIE, { path: '/' });
        return reply.code(204).send(null);
      },
    );

    app.get(
      '/api/v1/auth/session',
      {
        config: { access: 'viewer' },
        schema: {
          summary: "Who is calling: account, role, and the session's CSRF token",
          tags: ['auth'],
          response: { 200: SessionInfoSchema },
        },
      },
      async (request) => {
        const p = person(request.principal);
        const u = userById(store, p.userId)!;
        const common = { username: p.username, role: p.role, user_id: p.userId, kind: u.kind };
        if (p.via === 'session') {
          const s = request.cookies[SESSION_COOKIE];
          const via = s ? sessionFor(store, s)?.via : undefined;
          return { ...common, via: via ?? 'password', csrf_token: p.csrf };
        }
        return { ...common, via: 'token' as const, csrf_token: '' };
      },
    );

    app.post(
      '/api/v1/auth/password',
      {
        config: { access: 'viewer', audit: 'user.password_change' },
        schema: {
          summary:
            "Change one's own password (local accounts): needs the current one; ends the account's sessions (log in again)",
          tags: ['auth'],
          body: PasswordChangeSchema,
          response: { 204: z.null(), 401: ErrorSchema, 409: ErrorSchema, 429: ErrorSchema },
        },
      },
      async (request, reply) => {
        const p = person(request.principal);
        if (p.via !== 'session')
          throw new HttpError('PL_E_FORBIDDEN', 'a password is changed in a session, not with an API token');
        auditChange(request, { target: { type: 'user', id: p.username } });
        const u = userById(store, p.userId)!;
        if (u.kind === 'sso')
          throw new HttpError(
            'PL_E_CONFLICT',
            "this account logs in through single sign-on: its password is the provider's",
          );
        // The current password is checked under the same brake as logins: a stolen session must
        // not become a way to guess the password.
        const admission = brake.admit(request.ip, u.username.toLowerCase(), request.cookies[DEVICE_COOKIE]);
        if (!admission.ok) refuseHeld(admission, reply);
        let ok = false;
        try {
          ok = (await checkPasswordLogin(store, u.username, request.body.current_password)) !== null;
        } finally {
          if (!ok) admission.attempt.failed();
        }
        if (!ok) {
          auditChange(request, { reason: 'wrong current password' });
          throw new HttpError('PL_E_UNAUTHORIZED', 'the current password is wrong', { error: 'wrong_password' });
        }
        admission.attempt.succeeded();
        await setUserPassword(store, u.id, request.body.new_password);
        reply.clearCookie(SESSION_COOKIE, { path: '/' });
        return reply.code(204).send(null);
      },
    );

    app.post(
      '/api/v1/api-tokens',
      {
        config: { access: 'operator', audit: 'api_token.create' },
        schema: {
          summary: 'Create an API token for scripts (Authorization: Bearer …), owned by the caller; shown once',
          description:
            "role: the token's role, at most the caller's (default: the caller's). A token acts with the lesser of its role and its owner's current role.",
          tags: ['auth'],
          body: ApiTokenCreateSchema,
          response: { 201: z.object({ id: z.number().int(), token: z.string(), role: z.string() }), 403: ErrorSchema },
        },
      },
      async (request, reply) => {
        const p = person(request.principal);
        const role = request.body.role ?? p.role;
        if (!roleAtLeast(p.role, role))
          throw new HttpError('PL_E_FORBIDDEN', `a ${p.role} cannot create a token with the ${role} role`);
        const t = createApiToken(store, request.body.name, { userId: p.userId, role });
        auditChange(request, { target: { type: 'api_token', id: t.id }, after: apiTokenById(store, t.id) });
        return reply.code(201).send(t);
      },
    );

    app.get(
      '/api/v1/api-tokens',
      {
        config: { access: 'operator' },
        schema: {
          summary: "API tokens (never the tokens themselves): an admin sees everyone's, others their own",
          tags: ['auth'],
          response: { 200: z.array(ApiTokenSchema) },
        },
      },
      async (request) => {
        const p = person(request.principal);
        return listApiTokens(store, p.role === 'admin' ? undefined : p.userId) as z.infer<typeof ApiTokenSchema>[];
      },
    );

    app.delete(
      '/api/v1/api-tokens/:id',
      {
        config: { access: 'operator', audit: 'api_token.revoke' },
        schema: {
          summary: "Revoke an API token (one's own; an admin any)",
          tags: ['auth'],
          params: IdParams,
          response: { 204: z.null(), 404: ErrorSchema },
        },
      },
      async (request, reply) => {
        const p = person(request.principal);
        auditChange(request, { target: { type: 'api_token', id: request.params.id } });
        const before = apiTokenById(store, request.params.id);
        // Another person's token is "not found" to a non-admin, as if it did not exist.
        if (!before || before.revoked || (p.role !== 'admin' && before.owner_id !== p.userId))
          throw new HttpError('PL_E_NOT_FOUND', 'no such active API token');
        revokeApiToken(store, request.params.id);
        auditChange(request, { before, after: apiTokenById(store, request.params.id) });
        return reply.code(204).send(null);
      },
    );

    app.post(
      '/api/v1/enrollment-tokens',
      {
        config: { access: 'operator', audit: 'enrollment_token.create' },
        schema: {
          summary: 'Create an enrolment token (one-time by default, valid 24 h); the token is shown once',
          tags: ['enrolment'],
          body: EnrollmentTokenCreateSchema,
          response: { 201: z.object({ id: z.number().int(), token: z.string(), expires_at: z.string().nullable() }) },
        },
      },
      async (request, reply) => {
        const b = request.body;
        const t = createEnrollmentToken(store, {
          name: b.name,
          uses: b.uses,
          ttlMs: b.ttl_seconds === null ? null : b.ttl_seconds * 1000,
          grp: b.group,
          tags: b.tags,
        });
        auditChange(request, {
          target: { type: 'enrollment_token', id: t.id },
          after: listEnrollmentTokens(store).find((e) => e.id === t.id),
        });
        return reply.code(201).send(t);
      },
    );

    app.get(
      '/api/v1/enrollment-tokens',
      {
        config: { access: 'operator' },
        schema: {
          summary: 'List enrolment tokens (never the tokens themselves)',
          tags: ['enrolment'],
          response: { 200: z.array(EnrollmentTokenSchema) },
        },
      },
      async () => listEnrollmentTokens(store),
    );

    app.delete(
      '/api/v1/enrollment-tokens/:id',
      {
        config: { access: 'operator', audit: 'enrollment_token.revoke' },
        schema: {
          summary: 'Revoke an enrolment token',
          tags: ['enrolment'],
          params: IdParams,
          response: { 204: z.null(), 404: ErrorSchema },
        },
      },
      async (request, reply) => {
        const find = () => listEnrollmentTokens(store).find((e) => e.id === request.params.id);
        const before = find();
        auditChange(request, { target: { type: 'enrollment_token', id: request.params.id } });
        if (!revokeEnrollmentToken(store, request.params.id))
          throw new HttpError('PL_E_NOT_FOUND', 'no such active enrolment token');
        auditChange(request, { before, after: find() });
        return reply.code(204).send(null);
      },
    );
  };
