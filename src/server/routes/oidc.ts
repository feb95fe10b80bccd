// Single sign-on routes: which ways of logging in there are (for the login page), the start of an
// OpenID Connect login (a redirect to the provider) and its callback (the provider sends the
// browser back; a session is made and the browser goes on to the dashboard). Failures go back to
// the login page with a reason (?sso_error=…) and into the audit log.
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { AuthMethodsSchema } from '../api/people-schemas.ts';
import { ErrorSchema } from '../api/schemas.ts';
import type { ServerContext } from '../context.ts';
import { auditChange } from '../http/audit.ts';
import { HttpError } from '../http/errors.ts';
import { startSession } from '../http/sessions.ts';
import { OidcClient, SsoError } from '../oidc/client.ts';
import { CALLBACK_PATH } from '../oidc/config.ts';
import { SsoRefused, ssoUser } from '../store/users.ts';

/** Binds a login in progress to the browser that started it (SameSite=Lax: it comes back from the provider's site). */
const BROWSER_COOKIE = 'patchloop_sso';

/** A path of this server to go on to after the login; anything else is the dashboard's start. */
function localPath(v: string | undefined): string {
  return v && /^\/(?![/\\])[^\s\\]*$/.test(v) && !v.startsWith('/api/') ? v : '/';
}

export const oidcRoutes =
  (ctx: ServerContext): FastifyPluginAsyncZod =>
  async (app) => {
    const c = ctx.config.oidc;
    const client = c ? new OidcClient(c, () => ctx.store.clock.now()) : null;
    const secure = ctx.config.tls !== undefined;
    const toLogin = (reason: string): string => `/?sso_error=${encodeURIComponent(reason)}`;

    app.get(
      '/api/v1/auth/methods',
      {
        config: { access: 'public' },
        schema: {
          summary: 'Ways of logging in: password, single sign-on (for the login page)',
          tags: ['auth'],
          response: { 200: AuthMethodsSchema },
        },
      },
      async () => ({
        local_login: c?.local_login ?? true,
        sso: { enabled: client !== null, label: client?.label ?? '' },
      }),
    );

    app.get(
      '/api/v1/auth/oidc/login',
      {
        config: { access: 'public' },
        schema: {
          summary: 'Start a single sign-on login: redirects to the OpenID provider',
          tags: ['auth'],
          querystring: z.object({ return_to: z.string().max(2000).optional() }).strict(),
          response: { 302: z.null(), 404: ErrorSchema },
        },
      },
      async (request, reply) => {
        if (!client) throw new HttpError('PL_E_NOT_FOUND', 'single sign-on is not configured (oidc: in server.yaml)');
        let started;
        try {
          started = await client.begin(localPath(request.query.return_to));
        } catch (err) {
          request.log.error({ err }, 'single sign-on cannot start');
          return reply.redirect(toLogin(err instanceof SsoError ? err.reason : 'provider_unreachable'), 302);
        }
        reply.setCookie(BROWSER_COOKIE, started.browser, {
          httpOnly: true,
          sameSite: 'lax',
          secure,
          path: CALLBACK_PATH,
          maxAge: 600,
        });
        return reply.redirect(started.url.href, 302);
      },
    );

    app.get(
      CALLBACK_PATH,
      {
        config: { access: 'public', audit: 'auth.login' },
        schema: {
          summary: 'The OpenID provider sends the browser back here: makes the session and redirects to the dashboard',
          tags: ['auth'],
          querystring: z.record(z.string(), z.string()),
          response: { 302: z.null(), 404: ErrorSchema },
        },
      },
      async (request, reply) => {
        if (!client) throw new HttpError('PL_E_NOT_FOUND', 'single sign-on is not configured (oidc: in server.yaml)');
        reply.clearCookie(BROWSER_COOKIE, { path: CALLBACK_PATH });
        const query = request.url.includes('?') ? request.url.slice(request.url.indexOf('?') + 1) : '';
        const anonymous = { kind: 'anonymous' as const, name: '' };
        try {
          const { identity, returnTo } = await client.finish(query, request.cookies[BROWSER_COOKIE]);
          const seen = {
            issuer: identity.issuer,
            subject: identity.subject,
            username: identity.username,
            role_claim: identity.claim_values,
          };
          if (identity.role === null) {
            auditChange(request, {
              actor: { ...anonymous, name: identity.username },
              target: { type: 'user', id: identity.username },
              outcome: 'denied',
              reason: 'no role for this identity',
              after: seen,
            });
            return reply.redirect(toLogin('no_role'), 302);
          }
          const { user, created, before } = ssoUser(ctx.store, { ...identity, role: identity.role });
          auditChange(request, {
            actor: { kind: 'user', name: user.username, userId: user.id, role: user.role },
            target: { type: 'user', id: user.username },
            reason: created
              ? 'account made at its first single sign-on'
              : before && before.role !== user.role
                ? `role ${before.role} → ${user.role} from the provider`
                : 'single sign-on',
            before: before ? { role: before.role, display_name: before.display_name } : null,
            after: { ...seen, role: user.role, display_name: user.display_name },
          });
          startSession(ctx, reply, user, 'sso');
          return reply.redirect(returnTo, 302);
        } catch (err) {
          if (!(err instanceof SsoError || err instanceof SsoRefused)) throw err;
          request.log.warn({ reason: err.reason, message: err.message }, 'single sign-on refused');
          auditChange(request, {
            actor: anonymous,
            outcome: err instanceof SsoRefused ? 'denied' : 'failure',
            reason: `${err.reason}: ${err.message}`,
          });
          return reply.redirect(toLogin(err.reason), 302);
        }
      },
    );
  };
