// Routes for people: login and sessions, API tokens for scripts, enrolment tokens.
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { EnrollmentTokenCreateSchema, EnrollmentTokenSchema, ErrorSchema, IdParams, LoginSchema, SessionSchema } from '../api/schemas.ts';
import type { ServerContext } from '../context.ts';
import { SESSION_COOKIE } from '../http/auth.ts';
import { LoginBrake } from '../http/login-brake.ts';
import { HttpError } from '../http/errors.ts';
import {
  checkAdminLogin,
  createApiToken,
  createEnrollmentToken,
  createSession,
  deleteSession,
  listEnrollmentTokens,
  revokeApiToken,
  revokeEnrollmentToken,
} from '../store/credentials.ts';

/** Marks a browser that has logged in before: its attempts have a brake of their own (login-brake.ts). */
const DEVICE_COOKIE = 'patchloop_device';

export const adminRoutes =
  (ctx: ServerContext): FastifyPluginAsyncZod =>
  async (app) => {
    const brake = new LoginBrake(ctx.store);
    const secure = ctx.config.tls !== undefined;

    app.post(
      '/api/v1/auth/login',
      {
        config: { access: 'public' },
        schema: {
          summary: 'Log in as the admin: sets an HttpOnly session cookie; send csrf_token as X-CSRF-Token on changes',
          tags: ['auth'],
          body: LoginSchema,
          response: { 200: SessionSchema, 401: ErrorSchema, 429: ErrorSchema, 503: ErrorSchema },
        },
      },
      async (request, reply) => {
        const admission = brake.admit(request.ip, request.body.username, request.cookies[DEVICE_COOKIE]);
        if (!admission.ok) {
          const seconds = Math.ceil(admission.retryAfterMs / 1000);
          reply.header('retry-after', String(seconds));
          if (admission.reason === 'busy') throw new HttpError('PL_E_BUSY', 'too many logins at once; try again in a second');
          request.log.warn({ ip: request.ip }, 'login refused by the brake');
          throw new HttpError('PL_E_TOO_MANY_REQUESTS', `too many failed logins; try again in ${seconds} s`);
        }
        let ok = false;
        try {
          ok = await checkAdminLogin(ctx.store, request.body.username, request.body.password);
        } finally {
          if (!ok) admission.attempt.failed();
        }
        if (!ok) {
          request.log.warn({ ip: request.ip }, 'failed admin login');
          throw new HttpError('PL_E_UNAUTHORIZED', 'wrong username or password');
        }
        reply.setCookie(DEVICE_COOKIE, admission.attempt.succeeded(), {
          httpOnly: true,
          sameSite: 'strict',
          secure,
          path: '/api/v1/auth/login',
          maxAge: 365 * 86_400,
        });
        const s = createSession(ctx.store, request.body.username, ctx.config.session_ttl);
        reply.setCookie(SESSION_COOKIE, s.token, {
          httpOnly: true,
          sameSite: 'strict',
          secure,
          path: '/',
          maxAge: Math.floor(ctx.config.session_ttl / 1000),
        });
        return { username: s.username, csrf_token: s.csrf, expires_at: new Date(s.expires_at).toISOString() };
      },
    );

    app.post(
      '/api/v1/auth/logout',
      { config: { access: 'viewer' }, schema: { summary: 'End the session', tags: ['auth'], response: { 204: z.null() } } },
      async (request, reply) => {
        const cookie = request.cookies[SESSION_COOKIE];
        if (cookie) deleteSession(ctx.store, cookie);
        reply.clearCookie(SESSION_COOKIE, { path: '/' });
        return reply.code(204).send(null);
      },
    );

    app.get(
      '/api/v1/auth/session',
      { config: { access: 'viewer' }, schema: { summary: 'The current session (and its CSRF token)', tags: ['auth'], response: { 200: SessionSchema.partial({ expires_at: true }) } } },
      async (request) => {
        const p = request.principal;
        if (p?.kind === 'person' && p.via === 'session') return { username: p.username, csrf_token: p.csrf };
        return { username: 'api-token', csrf_token: '' };
      },
    );

    app.post(
      '/api/v1/api-tokens',
      {
        config: { access: 'admin' },
        schema: {
          summary: 'Create an admin API token for scripts (Authorization: Bearer …); shown once',
          tags: ['auth'],
          body: z.object({ name: z.string().min(1).max(100) }).strict(),
          response: { 201: z.object({ id: z.number().int(), token: z.string() }) },
        },
      },
      async (request, reply) => reply.code(201).send(createApiToken(ctx.store, request.body.name)),
    );

    app.delete(
      '/api/v1/api-tokens/:id',
      { config: { access: 'admin' }, schema: { summary: 'Revoke an API token', tags: ['auth'], params: IdParams, response: { 204: z.null(), 404: ErrorSchema } } },
      async (request, reply) => {
        if (!revokeApiToken(ctx.store, request.params.id)) throw new HttpError('PL_E_NOT_FOUND', 'no such active API token');
        return reply.code(204).send(null);
      },
    );

    app.post(
      '/api/v1/enrollment-tokens',
      {
        config: { access: 'admin' },
        schema: {
          summary: 'Create an enrolment token (one-time by default, valid 24 h); the token is shown once',
          tags: ['enrolment'],
          body: EnrollmentTokenCreateSchema,
          response: { 201: z.object({ id: z.number().int(), token: z.string(), expires_at: z.string().nullable() }) },
        },
      },
      async (request, reply) => {
        const b = request.body;
        const t = createEnrollmentToken(ctx.store, {
          name: b.name,
          uses: b.uses,
          ttlMs: b.ttl_seconds === null ? null : b.ttl_seconds * 1000,
          grp: b.group,
          tags: b.tags,
        });
        return reply.code(201).send(t);
      },
    );

    app.get(
      '/api/v1/enrollment-tokens',
      { config: { access: 'admin' }, schema: { summary: 'List enrolment tokens (never the tokens themselves)', tags: ['enrolment'], response: { 200: z.array(EnrollmentTokenSchema) } } },
      async () => listEnrollmentTokens(ctx.store),
    );

    app.delete(
      '/api/v1/enrollment-tokens/:id',
      { config: { access: 'admin' }, schema: { summary: 'Revoke an enrolment token', tags: ['enrolment'], params: IdParams, response: { 204: z.null(), 404: ErrorSchema } } },
      async (request, reply) => {
        if (!revokeEnrollmentToken(ctx.store, request.params.id)) throw new HttpError('PL_E_NOT_FOUND', 'no such active enrolment token');
        return reply.code(204).send(null);
      },
    );
  };
