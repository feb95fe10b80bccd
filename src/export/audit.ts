// The audit log in Elasticsearch / OpenSearch: one ECS document per entry in the data stream
// `<prefix>-audit`. ECS where it has the field — event.* (kind, category, type, action, outcome),
// user.* (the actor: name, id, roles; user.target.name when the target is an account),
// source.ip — and patchloop.audit.* for the rest. The target's state before and after stays in
// `_source` (patchloop.audit.before / after) without being indexed: its fields differ with every
// kind of target, and an unbounded set of fields must not grow the mapping.
import { createHash } from 'node:crypto';
import type { BulkItem } from './bulk.ts';
import { compact, ECS_VERSION } from './ecs.ts';
import type { ExportNames } from './names.ts';

/** An audit entry as the server's store holds it (src/server/store/audit.ts). */
export interface AuditRecord {
  id: number;
  at: string;
  actor: { kind: string; name: string; user_id: number | null; token_id: number | null; role: string | null };
  address: string | null;
  action: string;
  target: { type: string; id: string } | null;
  outcome: 'success' | 'failure' | 'denied';
  reason: string | null;
  before: unknown;
  after: unknown;
}

type Doc = Record<string, unknown>;

/** Deterministic: a resend is a duplicate; another store's entry with the same number is another document. */
export function auditId(r: AuditRecord): string {
  return createHash('sha256')
    .update(JSON.stringify(['audit', r.id, r.at, r.action, r.actor.kind, r.actor.name]))
    .digest('hex');
}

/** ECS event.category: logins are authentication, accounts and credentials iam, the rest configuration. */
export function auditCategory(action: string): string {
  if (action.startsWith('auth.')) return 'authentication';
  if (/^(user|api_token|enrollment_token)\./.test(action)) return 'iam';
  return 'configuration';
}

/** ECS event.type from the action's verb (and `denied` for a refusal). */
export function auditTypes(r: Pick<AuditRecord, 'action' | 'outcome' | 'before' | 'target'>): string[] {
  const verb = r.action.slice(r.action.lastIndexOf('.') + 1);
  const types: string[] = [];
  if (auditCategory(r.action) === 'iam' && r.action.startsWith('user.')) types.push('user');
  if (verb === 'login') types.push('start');
  else if (verb === 'logout') types.push('end');
  else if (verb === 'create' || (verb === 'put' && (r.before === null || r.before === undefined)))
    types.push('creation');
  else if (verb === 'delete' || verb === 'revoke') types.push('deletion');
  else types.push('change');
  if (r.outcome === 'denied') types.push('denied');
  return types;
}

export function auditDocument(r: AuditRecord): Doc {
  const doc = compact({
    '@timestamp': r.at,
    ecs: { version: ECS_VERSION },
    event: {
      kind: 'event',
      category: [auditCategory(r.action)],
      type: auditTypes(r),
      action: r.action,
      // ECS knows success and failure; a refusal is a failure (patchloop.audit.outcome says denied).
      outcome: r.outcome === 'success' ? 'success' : 'failure',
      reason: r.reason,
      dataset: 'patchloop.audit',
      module: 'patchloop',
      id: auditId(r),
    },
    user: {
      name: r.actor.name || null,
      id: r.actor.user_id === null ? null : String(r.actor.user_id),
      roles: r.actor.role ? [r.actor.role] : null,
      target: r.target?.type === 'user' && r.target.id ? { name: r.target.id } : null,
    },
    source: r.address ? { ip: r.address } : null,
    patchloop: {
      audit: {
        id: r.id,
        actor_kind: r.actor.kind,
        token_id: r.actor.token_id,
        outcome: r.outcome,
        target: r.target,
      },
    },
  });
  // The states as they were written (compact would drop their null members).
  const audit = (doc.patchloop as { audit: Doc }).audit;
  if (r.before !== null && r.before !== undefined) audit.before = r.before;
  if (r.after !== null && r.after !== undefined) audit.after = r.after;
  return doc;
}

export function auditItem(r: AuditRecord, names: ExportNames): BulkItem {
  return { action: 'create', index: names.audit, id: auditId(r), doc: auditDocument(r) };
}

type Mapping = Record<string, unknown>;

/** The audit stream's own fields (beside the base fields every patchloop document has). */
export function auditProperties(keyword: Mapping): Record<string, Mapping> {
  const text: Mapping = { type: 'text' };
  return {
    event: { properties: { reason: text } },
    user: { properties: { name: keyword, id: keyword, roles: keyword, target: { properties: { name: keyword } } } },
    source: { properties: { ip: { type: 'ip' } } },
    patchloop: {
      properties: {
        audit: {
          properties: {
            id: { type: 'long' },
            actor_kind: keyword,
            token_id: { type: 'long' },
            outcome: keyword,
            target: { properties: { type: keyword, id: keyword } },
            // before / after: in _source only (see above).
          },
        },
      },
    },
  };
}
