// The audit log: one row per change a person made (or tried to make), per login and logout.
// Written by the HTTP layer (http/audit.ts) for every route that changes something, and by the
// command line for the changes it makes on the store. Append-only; read with queryAudit.
import type { Store } from './store.ts';

export const AUDIT_OUTCOMES = ['success', 'failure', 'denied'] as const;
export type AuditOutcome = (typeof AUDIT_OUTCOMES)[number];
export type AuditActorKind = 'user' | 'token' | 'cli' | 'anonymous';

export interface AuditActor {
  kind: AuditActorKind;
  /** The account's name; for the command line, the system user who ran it; '' when unknown. */
  name: string;
  userId?: number | null;
  tokenId?: number | null;
  role?: string | null;
}

export interface AuditInput {
  actor: AuditActor;
  /** What was done, as `<object>.<verb>`: host.update, user.create, auth.login … */
  action: string;
  target?: { type: string; id: string | number } | null;
  outcome: AuditOutcome;
  reason?: string | null;
  address?: string | null;
  /** The target before and after the change (secrets are taken out before writing). */
  before?: unknown;
  after?: unknown;
}

export interface AuditEntry {
  id: number;
  at: string;
  actor: { kind: AuditActorKind; name: string; user_id: number | null; token_id: number | null; role: string | null };
  address: string | null;
  action: string;
  target: { type: string; id: string } | null;
  outcome: AuditOutcome;
  reason: string | null;
  before: unknown;
  after: unknown;
}

/**
 * Keys whose values are never written to the audit log, at any depth (password, new_password, client_secret, token,
 * password_hash …).
 */
const SECRET_KEY = /(^|_)(password|passphrase|secret|token|hash|csrf|cookie|api_?key|private_key)$/i;

/** A copy of a value with every secret-looking key left out (the audit log is read by many, and exported). */
export function redactSecrets(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(redactSecrets);
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) if (!SECRET_KEY.test(k)) out[k] = redactSecrets(v);
    return out;
  }
  return value;
}

function json(v: unknown): string | null {
  return v === undefined || v === null ? null : JSON.stringify(redactSecrets(v));
}

/** Writes one entry; returns its id. */
export function recordAudit(store: Store, e: AuditInput): number {
  return store.run(
    `INSERT INTO audit_log (at, actor_kind, actor, actor_id, token_id, role, address, action, target_type, target_id, outcome, reason, before, after)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    store.clock.now(),
    e.actor.kind,
    e.actor.name,
    e.actor.userId ?? null,
    e.actor.tokenId ?? null,
    e.actor.role ?? null,
    e.address ?? null,
    e.action,
    e.target?.type ?? null,
    e.target === null || e.target === undefined ? null : String(e.target.id),
    e.outcome,
    e.reason ?? null,
    json(e.before),
    json(e.after),
  ).lastInsertRowid;
}

export interface AuditRow {
  id: number;
  at: number;
  actor_kind: AuditActorKind;
  actor: string;
  actor_id: number | null;
  token_id: number | null;
  role: string | null;
  address: string | null;
  action: string;
  target_type: string | null;
  target_id: string | null;
  outcome: AuditOutcome;
  reason: string | null;
  before: string | null;
  after: string | null;
}

export function entryOf(r: AuditRow): AuditEntry {
  return {
    id: r.id,
    at: new Date(r.at).toISOString(),
    actor: { kind: r.actor_kind, name: r.actor, user_id: r.actor_id, token_id: r.token_id, role: r.role },
    address: r.address,
    action: r.action,
    target: r.target_type === null ? null : { type: r.target_type, id: r.target_id ?? '' },
    outcome: r.outcome,
    reason: r.reason,
    before: r.before === null ? null : JSON.parse(r.before),
    after: r.after === null ? null : JSON.parse(r.after),
  };
}

export interface AuditQuery {
  actor?: string;
  /** An action (user.create), or every action of an object (user.*). */
  action?: string;
  target_type?: string;
  target_id?: string;
  outcome?: AuditOutcome;
  /** ISO times: from (inclusive) and until (exclusive). */
  since?: number;
  until?: number;
  /** Entries older than this id (the next page of a newest-first listing). */
  before_id?: number;
  limit: number;
}

/** Entries matching every filter given, newest first; `next_before_id` continues the listing. */
export function queryAudit(store: Store, q: AuditQuery): { items: AuditEntry[]; next_before_id: number | null } {
  const where: string[] = [];
  const params: (string | number)[] = [];
  const add = (sql: string, v: string | number | undefined): void => {
    if (v === undefined) return;
    where.push(sql);
    params.push(v);
  };
  add('actor = ?', q.actor);
  if (q.action?.endsWith('.*')) {
    const object = q.action.slice(0, -1); // "user."
    where.push('action >= ? AND action < ?');
    params.push(object, object.slice(0, -1) + '/'); // '/' sorts right after '.'
  } else add('action = ?', q.action);
  add('target_type = ?', q.target_type);
  add('target_id = ?', q.target_id);
  add('outcome = ?', q.outcome);
  add('at >= ?', q.since);
  add('at < ?', q.until);
  add('id < ?', q.before_id);
  const rows = store.all<AuditRow>(
    `SELECT * FROM audit_log ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id DESC LIMIT ?`,
    ...params,
    q.limit + 1,
  );
  const more = rows.length > q.limit;
  const items = rows.slice(0, q.limit).map(entryOf);
  return { items, next_before_id: more ? items[items.length - 1].id : null };
}

/** Entries after an id, oldest first (the exporter follows the log with this). */
export function auditAfter(store: Store, afterId: number, limit: number): AuditRow[] {
  return store.all<AuditRow>('SELECT * FROM audit_log WHERE id > ? ORDER BY id LIMIT ?', afterId, limit);
}
