// Who may call what. Every route declares its access in its configuration; the decision is made
// on the route the router matched — never on a prefix of the URL — and only for requests whose
// path is in canonical form. A request whose path could be read two ways (percent-encoded
// letters, `//`, `/./`, `/../`, a trailing slash, `;` parameters, a backslash) is answered 404
// before any handler or credential check runs, so no spelling of a path reaches a route that
// the canonical spelling would not.
import type { FastifyInstance, FastifyReply, FastifyRequest, RouteOptions } from 'fastify';
import type { Store } from '../store/store.ts';
import { roleAtLeast } from '../store/users.ts';
import { auditDenied } from './audit.ts';
import { identify, type Principal, type Role } from './auth.ts';

/**
 * public: anyone; host: enrolled agents only; viewer/operator/admin: people (session or API
 * token) with at least that role; host-or-viewer: agents, or people with at least viewer.
 */
export type Access = 'public' | 'host' | 'host-or-viewer' | Role;

declare module 'fastify' {
  interface FastifyContextConfig {
    access?: Access;
  }
}

/** The role a person needs for an access level; null for levels people do not pass. */
export function roleNeeded(access: Access): Role | null {
  if (access === 'viewer' || access === 'operator' || access === 'admin') return access;
  if (access === 'host-or-viewer') return 'viewer';
  return null;
}

/** Whether a principal passes an access level (public is decided before identifying anyone). */
export function allows(access: Access, p: Principal): boolean {
  if (access === 'public') return true;
  if (p.kind === 'host') return access === 'host' || access === 'host-or-viewer';
  const role = roleNeeded(access);
  return role !== null && roleAtLeast(p.role, role);
}

const UNRESERVED = /^[A-Za-z0-9\-._~]$/;

function isControl(c: string): boolean {
  const code = c.charCodeAt(0);
  return code < 0x20 || code === 0x7f;
}

/**
 * Why a raw request path is not canonical, or null when it is. Canonical: starts with `/`, no
 * empty, `.` or `..` segment, no trailing slash (but `/` itself), no `;` or `\`, and
 * percent-encoding only for characters that need it (never for an unreserved character, `/`,
 * or a control character), with valid hex digits.
 */
export function nonCanonical(path: string): string | null {
  if (!path.startsWith('/')) return 'path does not start with /';
  if (path === '/') return null;
  if (path.endsWith('/')) return 'trailing slash';
  if (/[;\\]/.test(path)) return 'parameter or backslash in path';
  for (const segment of path.slice(1).split('/')) {
    if (segment === '') return 'empty segment';
    let decoded: string;
    try {
      decoded = decodeURIComponent(segment);
    } catch {
      return 'malformed percent-encoding';
    }
    if (decoded === '.' || decoded === '..') return 'dot segment';
    for (const m of segment.matchAll(/%([0-9A-Fa-f]{2})/g)) {
      const c = String.fromCharCode(parseInt(m[1], 16));
      if (UNRESERVED.test(c) || c === '/' || c === '\\' || c === ';' || isControl(c))
        return `needless or unsafe percent-encoding %${m[1]}`;
    }
    if (/%(?![0-9A-Fa-f]{2})/.test(segment)) return 'malformed percent-encoding';
    if ([...decoded].some(isControl)) return 'control character in path';
  }
  return null;
}

function notFound(request: FastifyRequest, reply: FastifyReply): FastifyReply {
  return reply
    .code(404)
    .send({ error: 'not_found', message: `no route ${request.method} ${request.url.split('?')[0]}` });
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * Installs the access control: refuses to start with a route that does not declare its access,
 * and checks every request against the access of the route it matched.
 */
export function registerAccessControl(app: FastifyInstance, store: Store): void {
  // Checked once every plugin has registered its routes, so a scope may set the access of the
  // routes a third-party plugin adds (the dashboard's static files) in its own onRoute hook.
  const routes: RouteOptions[] = [];
  app.addHook('onRoute', (route: RouteOptions) => {
    routes.push(route);
  });
  app.addHook('onReady', async () => {
    const missing = routes.filter((r) => r.config?.access === undefined).map((r) => `${String(r.method)} ${r.url}`);
    if (missing.length) throw new Error(`routes without a declared access: ${missing.join(', ')}`);
  });

  app.addHook('onRequest', async (request, reply) => {
    request.principal = null;
    const path = (request.raw.url ?? '/').split('?')[0];
    if (nonCanonical(path) !== null) return notFound(request, reply);
    // No route matched: the not-found handler answers (a 404, or the dashboard's page).
    if (request.is404) return;
    const access = request.routeOptions.config.access;
    if (access === undefined) return notFound(request, reply); // unreachable: onRoute refuses such routes
    if (access === 'public') return;
    const p = identify(store, request);
    if (!p) {
      return reply
        .code(401)
        .header('www-authenticate', 'Bearer')
        .send({ error: 'unauthorized', message: 'authentication required' });
    }
    if (!allows(access, p)) {
      if (p.kind === 'person') auditDenied(store, request, p, `needs the ${roleNeeded(access) ?? access} role`);
      return reply.code(403).send({ error: 'forbidden', message: 'not allowed with these credentials' });
    }
    // Cookie-authenticated changes need the session's CSRF token in a header (which a cross-site
    // form cannot set) and, when the browser says where the request comes from, this origin.
    if (p.kind === 'person' && p.via === 'session' && !SAFE_METHODS.has(request.method)) {
      const origin = request.headers.origin;
      const host = request.headers.host;
      const originOk = !origin || (host !== undefined && originHost(origin) === host);
      if (request.headers['x-csrf-token'] !== p.csrf || !originOk) {
        auditDenied(store, request, p, originOk ? 'missing or wrong CSRF token' : 'request from another origin');
        return reply.code(403).send({ error: 'forbidden', message: 'missing or wrong CSRF token' });
      }
    }
    request.principal = p;
  });
}

function originHost(origin: string): string | null {
  try {
    return new URL(origin).host;
  } catch {
    return null;
  }
}
