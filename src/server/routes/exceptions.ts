// Exception rules: list and read (viewers), make and revoke (operators; audited), OpenVEX import
// and export. A rule takes effect at once: the findings it covers leave the open counts, and
// those of a revoked rule come back (store/exceptions-apply.ts).
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { z } from 'zod';
import { expiryMs, expiryProblems, type ExceptionKind, type ExceptionScope } from '../../core/exceptions.ts';
import { OpenVexSchema, openVexOf, rulesFromOpenVex } from '../../core/exceptions-openvex.ts';
import {
  ExceptedSummarySchema,
  ExceptionCreateSchema,
  ExceptionDetailSchema,
  ExceptionListSchema,
  ExceptionRevokeSchema,
  ExceptionSchema,
  ExceptionsQuerySchema,
  ExceptionSummaryQuerySchema,
  ExceptionUpdateSchema,
  VexImportResultSchema,
} from '../api/exception-schemas.ts';
import { ErrorSchema, IdParams } from '../api/schemas.ts';
import type { ServerContext } from '../context.ts';
import { auditChange } from '../http/audit.ts';
import { person } from '../http/auth.ts';
import { HttpError } from '../http/errors.ts';
import {
  endDueExceptions,
  exceptedSummary,
  hostsHeldBy,
  hostsInScope,
  reconcileHosts,
} from '../store/exceptions-apply.ts';
import {
  exceptionById,
  exceptionVersions,
  heldCounts,
  insertException,
  listExceptions,
  markRevoked,
  recordedRule,
  ruleState,
  updateException,
  type ExceptionRule,
  type NewException,
} from '../store/exceptions.ts';
import type { Store } from '../store/store.ts';

/** Rules one OpenVEX import may make (each is applied to the whole fleet as it is made). */
export const MAX_IMPORTED_RULES = 5_000;
/** Rules made per transaction during an import. */
const IMPORT_CHUNK = 10;

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

export function exceptionView(store: Store, r: ExceptionRule, held: number): z.infer<typeof ExceptionSchema> {
  return {
    id: r.id,
    version: r.version,
    state: ruleState(r, store.clock.now()),
    scope: r.scope,
    kind: r.kind,
    justification: r.justification,
    owner: r.owner,
    cover_escalation: r.cover_escalation,
    origin: r.origin,
    created_by: r.created_by,
    created_at: iso(r.created_at)!,
    expires_at: iso(r.expires_at),
    revoked_at: iso(r.revoked_at),
    revoked_by: r.revoked_by,
    revoke_reason: r.revoke_reason,
    held,
  };
}

/** Makes a rule and applies it to the fleet at once. */
export function createException(store: Store, e: NewException, by: string): ExceptionRule {
  return store.tx(() => {
    const r = insertException(store, e, by);
    reconcileHosts(store, hostsInScope(store, r));
    return r;
  });
}

export const exceptionRoutes =
  (ctx: ServerContext): FastifyPluginAsyncZod =>
  async (app) => {
    const { store } = ctx;
    const maxDays = ctx.config.exceptions.max_days;
    const existing = (id: number): ExceptionRule => {
      const r = exceptionById(store, id);
      if (!r) throw new HttpError('PL_E_NOT_FOUND', `no exception ${id}`);
      return r;
    };
    const view = (r: ExceptionRule) => exceptionView(store, r, heldCounts(store).get(r.id) ?? 0);
    /** A new rule's fields checked against the server's limits. */
    const newRule = (
      b: {
        scope: ExceptionScope;
        kind: ExceptionKind;
        justification: string;
        owner?: string;
        expires_at?: string;
        cover_escalation?: boolean;
      },
      origin: NewException['origin'],
    ): NewException => {
      const expires = b.expires_at === undefined ? null : expiryMs(b.expires_at);
      const problems = expiryProblems(b.kind, expires, store.clock.now(), maxDays);
      if (problems.length) throw new HttpError('PL_E_BAD_REQUEST', problems.join('; '));
      return {
        scope: b.scope,
        kind: b.kind,
        justification: b.justification,
        owner: b.owner ?? null,
        cover_escalation: b.cover_escalation ?? false,
        expires_at: expires,
        origin,
      };
    };

    app.get(
      '/api/v1/exceptions',
      {
        config: { access: 'viewer' },
        schema: {
          summary: 'Exception rules, newest first, with the count of findings they hold and the excepted summary',
          tags: ['exceptions'],
          querystring: ExceptionsQuerySchema,
          response: { 200: ExceptionListSchema },
        },
      },
      async (request) => {
        const held = heldCounts(store);
        return {
          summary: exceptedSummary(store),
          items: listExceptions(store, request.query).map((r) => exceptionView(store, r, held.get(r.id) ?? 0)),
        };
      },
    );

    app.get(
      '/api/v1/exceptions/summary',
      {
        config: { access: 'viewer' },
        schema: {
          summary: 'Excepted findings (out of the open counts) and how many of them expire within a week',
          description: "group: the findings of that group of hosts only (the rule counts are the fleet's).",
          tags: ['exceptions'],
          querystring: ExceptionSummaryQuerySchema,
          response: { 200: ExceptedSummarySchema },
        },
      },
      async (request) => exceptedSummary(store, 7, request.query.group),
    );

    app.get(
      '/api/v1/exceptions/openvex',
      {
        config: { access: 'viewer' },
        schema: {
          summary: "The fleet's rules in force that name a vulnerability, as an OpenVEX document",
          tags: ['exceptions'],
          response: { 200: OpenVexSchema },
        },
      },
      async (request) => {
        const now = store.clock.now();
        const rules = listExceptions(store, { state: 'active' }).reverse();
        return openVexOf(
          rules.map((r) => ({
            id: r.id,
            scope: r.scope,
            kind: r.kind,
            justification: r.justification,
            created_at: iso(r.created_at)!,
            expires_at: iso(r.expires_at),
          })),
          {
            id: `${request.protocol}://${request.host}/api/v1/exceptions/openvex#${now}`,
            author: `patchloop ${ctx.version}`,
            timestamp: iso(now)!,
          },
        );
      },
    );

    app.get(
      '/api/v1/exceptions/:id',
      {
        config: { access: 'viewer' },
        schema: {
          summary: 'One exception rule with every version of it',
          tags: ['exceptions'],
          params: IdParams,
          response: { 200: ExceptionDetailSchema, 404: ErrorSchema },
        },
      },
      async (request) => {
        const r = existing(request.params.id);
        return {
          ...view(r),
          versions: exceptionVersions(store, r.id).map((v) => ({ ...v, at: iso(v.at)! })),
        };
      },
    );

    app.post(
      '/api/v1/exceptions',
      {
        config: { access: 'operator', audit: 'exception.create' },
        schema: {
          summary: 'Make an exception rule; the findings it covers leave the open counts at once',
          description: `An accepted risk needs expires_at; no expiry may be more than exceptions.max_days (${maxDays}) away.`,
          tags: ['exceptions'],
          body: ExceptionCreateSchema,
          response: { 201: ExceptionSchema, 400: ErrorSchema },
        },
      },
      async (request, reply) => {
        const rule = newRule(request.body, 'api');
        const r = createException(store, rule, person(request.principal).username);
        auditChange(request, { target: { type: 'exception', id: r.id }, after: recordedRule(r) });
        return reply.code(201).send(view(r));
      },
    );

    app.patch(
      '/api/v1/exceptions/:id',
      {
        config: { access: 'operator', audit: 'exception.update' },
        schema: {
          summary: "Change a rule's justification, owner, expiry or cover_escalation (a new version)",
          description: `Its scope and kind stay: another scope or kind is another rule. The expiry is checked as for a new rule (at most ${maxDays} days from now).`,
          tags: ['exceptions'],
          params: IdParams,
          body: ExceptionUpdateSchema,
          response: { 200: ExceptionSchema, 400: ErrorSchema, 404: ErrorSchema, 409: ErrorSchema },
        },
      },
      async (request) => {
        const before = existing(request.params.id);
        auditChange(request, { target: { type: 'exception', id: before.id }, before: recordedRule(before) });
        const now = store.clock.now();
        if (ruleState(before, now) !== 'active')
          throw new HttpError('PL_E_CONFLICT', `exception ${before.id} is ${ruleState(before, now)}: make a new rule`);
        const { expires_at, ...rest } = request.body;
        const expires =
          expires_at === undefined ? before.expires_at : expires_at === null ? null : expiryMs(expires_at);
        if (expires_at !== undefined) {
          const problems = expiryProblems(before.kind, expires, now, maxDays);
          if (problems.length) throw new HttpError('PL_E_BAD_REQUEST', problems.join('; '));
        }
        const after = store.tx(() => {
          const r = updateException(
            store,
            before.id,
            { ...rest, ...(expires_at === undefined ? {} : { expires_at: expires }) },
            person(request.principal).username,
          );
          reconcileHosts(store, new Set([...hostsHeldBy(store, r.id), ...hostsInScope(store, r)]));
          return r;
        });
        auditChange(request, { after: recordedRule(after) });
        return view(exceptionById(store, after.id)!);
      },
    );

    app.post(
      '/api/v1/exceptions/:id/revoke',
      {
        config: { access: 'operator', audit: 'exception.revoke' },
        schema: {
          summary: 'Revoke an exception rule: the findings it held are reopened',
          tags: ['exceptions'],
          params: IdParams,
          body: ExceptionRevokeSchema,
          response: { 200: ExceptionSchema, 404: ErrorSchema, 409: ErrorSchema },
        },
      },
      async (request) => {
        const before = existing(request.params.id);
        auditChange(request, { target: { type: 'exception', id: before.id }, before: recordedRule(before) });
        if (before.revoked_at !== null)
          throw new HttpError('PL_E_CONFLICT', `exception ${before.id} is already revoked`);
        const after = store.tx(() => {
          const hosts = hostsHeldBy(store, before.id);
          const r = markRevoked(store, before.id, person(request.principal).username, request.body.reason ?? null);
          reconcileHosts(store, hosts);
          return r;
        });
        endDueExceptions(store);
        auditChange(request, { after: recordedRule(after) });
        return view(exceptionById(store, after.id)!);
      },
    );

    app.post(
      '/api/v1/exceptions/openvex',
      {
        config: { access: 'operator', audit: 'exception.import' },
        schema: {
          summary: 'Import an OpenVEX document: each not_affected statement becomes a false-positive rule',
          description:
            'One rule per product (package URL) a statement names, or one for the vulnerability when it names none.',
          tags: ['exceptions'],
          body: OpenVexSchema,
          response: { 201: VexImportResultSchema, 400: ErrorSchema },
        },
      },
      async (request, reply) => {
        const doc = request.body;
        const found = rulesFromOpenVex(doc);
        const by = person(request.principal).username;
        const made = found.rules.map((r) =>
          newRule({ ...r, justification: r.justification || `OpenVEX ${doc['@id']}` }, 'openvex'),
        );
        if (made.length > MAX_IMPORTED_RULES)
          throw new HttpError(
            'PL_E_BAD_REQUEST',
            `the document makes ${made.length.toLocaleString('en-US')} rules; at most ${MAX_IMPORTED_RULES.toLocaleString('en-US')} are imported at once: split it`,
          );
        // A rule is applied to the whole fleet as it is made: in small transactions with the event
        // loop free between them, so a large document does not hold up reports and the dashboard.
        const created: ReturnType<typeof createException>[] = [];
        try {
          for (let i = 0; i < made.length; i += IMPORT_CHUNK) {
            created.push(...store.tx(() => made.slice(i, i + IMPORT_CHUNK).map((r) => createException(store, r, by))));
            await yieldToEventLoop();
          }
        } catch (err) {
          // The rules made before the failure stay (each is whole); the audit log names them.
          auditChange(request, {
            target: { type: 'openvex', id: doc['@id'] },
            after: { created: created.map((r) => r.id) },
          });
          throw err;
        }
        auditChange(request, {
          target: { type: 'openvex', id: doc['@id'] },
          after: { created: created.map((r) => r.id), skipped: found.skipped.length },
        });
        const held = heldCounts(store);
        return reply
          .code(201)
          .send({ created: created.map((r) => exceptionView(store, r, held.get(r.id) ?? 0)), skipped: found.skipped });
      },
    );
  };
