// Who is calling: an agent (host token), a person (session cookie, or API token for scripts), or
// nobody. What each route lets them do is decided in access.ts.
import type { FastifyRequest } from 'fastify';
import { apiTokenValid, hostForToken, sessionFor, TOKEN_PREFIX } from '../store/credentials.ts';
import type { Store } from '../store/store.ts';

/** What a person may do: viewer reads, operator also changes the fleet's settings, admin everything. */
export type Role = 'viewer' | 'operator' | 'admin';

export type Principal =
  | { kind: 'host'; hostId: number }
  | { kind: 'person'; role: Role; via: 'session'; username: string; csrf: string }
  | { kind: 'person'; role: Role; via: 'token' };

export const SESSION_COOKIE = 'patchloop_session';

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal | null;
  }
}

function bearer(request: FastifyRequest): string | null {
  const h = request.headers.authorization;
  if (!h) return null;
  const m = /^Bearer\s+(\S+)$/i.exec(h);
  return m ? m[1] : '';
}

/** The caller's credential checked against the store; null when there is none or it is not valid. */
export function identify(store: Store, request: FastifyRequest): Principal | null {
  const token = bearer(request);
  if (token !== null) {
    if (token.startsWith(TOKEN_PREFIX.host)) {
      const hostId = hostForToken(store, token);
      return hostId === null ? null : { kind: 'host', hostId };
    }
    // Every account and API token is an administrator's until accounts with roles exist.
    if (token.startsWith(TOKEN_PREFIX.api)) return apiTokenValid(store, token) ? { kind: 'person', role: 'admin', via: 'token' } : null;
    return null;
  }
  const cookie = request.cookies?.[SESSION_COOKIE];
  if (cookie) {
    const s = sessionFor(store, cookie);
    if (s) return { kind: 'person', role: 'admin', via: 'session', username: s.username, csrf: s.csrf };
  }
  return null;
}

/** The name recorded for changes a person makes. */
export function actorName(p: Principal | null): string {
  if (p?.kind !== 'person') return 'unknown';
  return p.via === 'session' ? p.username : 'api-token';
}
