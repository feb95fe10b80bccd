// Who is calling: an agent (host token), a person (session cookie, or API token for scripts), or
// nobody. A person's role is read from their account at every request, so a changed role or a
// disabled account takes effect at once. What each route lets them do is decided in access.ts.
import type { FastifyRequest } from 'fastify';
import { PatchloopError } from '../../core/errors.ts';
import { apiTokenFor, hostForToken, sessionFor, TOKEN_PREFIX } from '../store/credentials.ts';
import type { Store } from '../store/store.ts';
import { isRole, lesserRole, userById, type Role } from '../store/users.ts';

export type { Role };

interface Person {
  kind: 'person';
  role: Role;
  userId: number;
  username: string;
}

export type Principal =
  | { kind: 'host'; hostId: number }
  | (Person & { via: 'session'; csrf: string })
  | (Person & { via: 'token'; tokenId: number; tokenName: string });

export type PersonPrincipal = Extract<Principal, { kind: 'person' }>;

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
    if (token.startsWith(TOKEN_PREFIX.api)) {
      const t = apiTokenFor(store, token);
      if (!t || t.owner_disabled || !isRole(t.role) || !isRole(t.owner_role)) return null;
      // A token never does more than its owner may do now.
      return {
        kind: 'person',
        role: lesserRole(t.role, t.owner_role),
        userId: t.owner_id,
        username: t.owner,
        via: 'token',
        tokenId: t.id,
        tokenName: t.name,
      };
    }
    return null;
  }
  const cookie = request.cookies?.[SESSION_COOKIE];
  if (cookie) {
    const s = sessionFor(store, cookie);
    const u = s ? userById(store, s.user_id) : null;
    if (s && u && u.disabled_at === null && isRole(u.role))
      return { kind: 'person', role: u.role, userId: u.id, username: u.username, via: 'session', csrf: s.csrf };
  }
  return null;
}

/** The person calling a route whose access admits people only. */
export function person(p: Principal | null): PersonPrincipal {
  if (p?.kind !== 'person') throw new PatchloopError('PL_E_FORBIDDEN', 'not allowed with these credentials');
  return p;
}

/** The name recorded for changes a person makes (with an API token: its owner's). */
export function actorName(p: Principal | null): string {
  return p?.kind === 'person' ? p.username : 'unknown';
}
