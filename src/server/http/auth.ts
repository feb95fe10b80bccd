// Who is calling: an agent (host token), an admin (session cookie, or API token for scripts),
// or nobody. Every route states which of these it accepts; failures say as little as possible.
import type { FastifyReply, FastifyRequest } from 'fastify';
import { apiTokenValid, hostForToken, sessionFor, TOKEN_PREFIX } from '../store/credentials.ts';
import type { Store } from '../store/store.ts';

export type Principal =
  | { kind: 'host'; hostId: number }
  | { kind: 'admin'; via: 'session'; username: string; csrf: string }
  | { kind: 'admin'; via: 'token' };

/** none: open; host: agents only; agent: agents or admins; admin: people and their scripts. */
export type AuthMode = 'none' | 'host' | 'agent' | 'admin';

export const SESSION_COOKIE = 'patchloop_session';

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal | null;
  }
  interface FastifyContextConfig {
    auth?: AuthMode;
  }
}

function bearer(request: FastifyRequest): string | null {
  const h = request.headers.authorization;
  if (!h) return null;
  const m = /^Bearer\s+(\S+)$/i.exec(h);
  return m ? m[1] : '';
}

export function identify(store: Store, request: FastifyRequest): Principal | null {
  const token = bearer(request);
  if (token !== null) {
    if (token.startsWith(TOKEN_PREFIX.host)) {
      const hostId = hostForToken(store, token);
      return hostId === null ? null : { kind: 'host', hostId };
    }
    if (token.startsWith(TOKEN_PREFIX.api)) return apiTokenValid(store, token) ? { kind: 'admin', via: 'token' } : null;
    return null;
  }
  const cookie = request.cookies?.[SESSION_COOKIE];
  if (cookie) {
    const s = sessionFor(store, cookie);
    if (s) return { kind: 'admin', via: 'session', username: s.username, csrf: s.csrf };
  }
  return null;
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** The onRequest check. Sends 401/403 itself and returns false when the request must stop. */
export async function authorize(store: Store, request: FastifyRequest, reply: FastifyReply): Promise<boolean> {
  const mode: AuthMode = request.routeOptions.config?.auth ?? 'admin';
  request.principal = null;
  if (mode === 'none') return true;
  const p = identify(store, request);
  if (!p) {
    await reply
      .code(401)
      .header('www-authenticate', 'Bearer')
      .send({ error: 'unauthorized', message: 'authentication required' });
    return false;
  }
  const allowed = mode === 'agent' || (mode === 'host' ? p.kind === 'host' : p.kind === 'admin');
  if (!allowed) {
    await reply.code(403).send({ error: 'forbidden', message: 'not allowed with these credentials' });
    return false;
  }
  // Cookie-authenticated changes need the session's CSRF token in a header (which a cross-site
  // form cannot set) and, when the browser says where the request comes from, this origin.
  if (p.kind === 'admin' && p.via === 'session' && !SAFE_METHODS.has(request.method)) {
    const origin = request.headers.origin;
    const host = request.headers.host;
    const originOk = !origin || (host !== undefined && originHost(origin) === host);
    if (request.headers['x-csrf-token'] !== p.csrf || !originOk) {
      await reply.code(403).send({ error: 'forbidden', message: 'missing or wrong CSRF token' });
      return false;
    }
  }
  request.principal = p;
  return true;
}

function originHost(origin: string): string | null {
  try {
    return new URL(origin).host;
  } catch {
    return null;
  }
}

/** Failed logins per client address: a brake on password guessing. */
export class LoginThrottle {
  private readonly failures = new Map<string, { n: number; until: number }>();
  private readonly max: number;
  private readonly windowMs: number;

  constructor(max = 10, windowMs = 15 * 60_000) {
    this.max = max;
    this.windowMs = windowMs;
  }

  blocked(ip: string, now: number): boolean {
    const f = this.failures.get(ip);
    if (!f || f.until < now) return false;
    return f.n >= this.max;
  }

  fail(ip: string, now: number): void {
    const f = this.failures.get(ip);
    if (!f || f.until < now) this.failures.set(ip, { n: 1, until: now + this.windowMs });
    else f.n++;
    if (this.failures.size > 10_000) for (const [k, v] of this.failures) if (v.until < now) this.failures.delete(k);
  }

  succeed(ip: string): void {
    this.failures.delete(ip);
  }
}
