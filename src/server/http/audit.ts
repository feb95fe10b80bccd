// Every change people make through the API is in the audit log. A route that changes something
// (any method but GET/HEAD/OPTIONS) for people declares its action in its configuration, next to
// its access — `config: { access: 'operator', audit: 'policy.put' }` — and the server refuses to
// start with one that does not. The entry is written before the answer is sent, with the outcome
// the answer says (2xx success, else failure); a handler adds the target and the target's state
// before and after with auditChange(). Requests refused for the caller's role or a missing CSRF
// token are written as `denied` (access.ts). Public routes (login) name their actor themselves.
import type { FastifyInstance, FastifyRequest, RouteOptions } from 'fastify';
import { recordAudit, type AuditActor, type AuditInput, type AuditOutcome } from '../store/audit.ts';
import type { Store } from '../store/store.ts';
import type { Access } from './access.ts';
import type { PersonPrincipal, Principal } from './auth.ts';

declare module 'fastify' {
  interface FastifyContextConfig {
    /**
     * The action a change route records (`<object>.<verb>`, e.g. host.update); `false` for a POST
     * that changes nothing (a preview): only its refusals are written.
     */
    audit?: string | false;
  }
  interface FastifyRequest {
    auditNote: AuditNote | null;
  }
}

export interface AuditNote {
  /** Another action than the route's (a route that does one of several things). */
  action?: string;
  target?: { type: string; id: string | number };
  before?: unknown;
  after?: unknown;
  /** Another outcome than the status says (a login refused with 401 is a failure either way). */
  outcome?: AuditOutcome;
  reason?: string;
  /** Who, for routes nobody is logged in to yet (login). */
  actor?: AuditActor;
}

/** Adds to what this request's audit entry says. */
export function auditChange(request: FastifyRequest, note: AuditNote): void {
  request.auditNote = { ...request.auditNote, ...note };
}

export function actorOf(p: PersonPrincipal): AuditActor {
  return p.via === 'token'
    ? { kind: 'token', name: p.username, userId: p.userId, tokenId: p.tokenId, role: p.role }
    : { kind: 'user', name: p.username, userId: p.userId, role: p.role };
}

const SAFE = new Set(['GET', 'HEAD', 'OPTIONS']);
const PEOPLE: Access[] = ['viewer', 'operator', 'admin', 'host-or-viewer'];

function routeName(request: FastifyRequest): string {
  return `${request.method} ${request.routeOptions.url ?? request.url.split('?')[0]}`;
}

/** A request refused for the caller's role or a CSRF check: written at once (no handler runs). */
export function auditDenied(store: Store, request: FastifyRequest, p: PersonPrincipal, reason: string): void {
  recordAudit(store, {
    actor: actorOf(p),
    action: request.routeOptions.config.audit || 'request',
    target: { type: 'route', id: routeName(request) },
    outcome: 'denied',
    reason,
    address: request.ip,
  });
}

function methods(route: RouteOptions): string[] {
  return Array.isArray(route.method) ? route.method : [route.method];
}

/**
 * Installs the audit: refuses to start with a change route for people that declares no action,
 * and writes the entry of each change request before its answer goes out.
 */
export function registerAudit(app: FastifyInstance, store: Store): void {
  app.decorateRequest('auditNote', null);
  const routes: RouteOptions[] = [];
  app.addHook('onRoute', (route: RouteOptions) => {
    routes.push(route);
  });
  app.addHook('onReady', async () => {
    const missing = routes
      .filter(
        (r) =>
          PEOPLE.includes(r.config?.access as Access) &&
          methods(r).some((m) => !SAFE.has(m)) &&
          r.config?.audit === undefined,
      )
      .map((r) => `${String(r.method)} ${r.url}`);
    if (missing.length) throw new Error(`change routes without a declared audit action: ${missing.join(', ')}`);
  });

  app.addHook('onSend', async (request, reply, payload) => {
    const note = request.auditNote;
    const action = note?.action ?? request.routeOptions.config?.audit;
    // A route that changes nothing (audit: false) writes no entry.
    const p: Principal | null = request.principal;
    const actor = note?.actor ?? (p?.kind === 'person' ? actorOf(p) : undefined);
    // Nobody to name (an unauthenticated request, answered 401 before any handler): no entry.
    if (!action || !actor) return payload;
    const entry: AuditInput = {
      actor,
      action,
      target: note?.target ?? null,
      outcome: note?.outcome ?? (reply.statusCode < 400 ? 'success' : 'failure'),
      reason: note?.reason ?? (reply.statusCode >= 400 ? `HTTP ${reply.statusCode}` : null),
      address: request.ip,
      before: note?.before,
      after: note?.after,
    };
    try {
      recordAudit(store, entry);
    } catch (err) {
      // The change is made; the answer must still go out. The log says what the audit lacks.
      request.log.error({ err, action, actor: actor.name }, 'audit entry not written');
    }
    return payload;
  });
}
