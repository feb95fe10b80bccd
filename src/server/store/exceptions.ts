// Exception rules in the store: made, revoked, listed, with every version kept (nothing is
// deleted). Which exposures a rule takes out of the open counts, and their return when it ends,
// is exceptions-apply.ts.
import type { DatabaseSync } from 'node:sqlite';
import type { ExceptionKind, ExceptionScope } from '../../core/exceptions.ts';
import type { Store } from './store.ts';

/** Tables of schema 6, and the exposures' columns that say which rule holds them. */
export const EXCEPTIONS = `
-- Exception rules (core/exceptions.ts): a scope, a kind, a justification, an owner, an expiry.
-- Never deleted: a rule ends by revocation or expiry, and ended_at says when the findings it held
-- were given back to the open counts.
CREATE TABLE exceptions (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  version INTEGER NOT NULL,
  scope TEXT NOT NULL,                    -- JSON ExceptionScope
  kind TEXT NOT NULL,                     -- accepted_risk | false_positive | mitigated | will_fix_later
  justification TEXT NOT NULL,
  owner TEXT,
  cover_escalation INTEGER NOT NULL DEFAULT 0,
  origin TEXT NOT NULL DEFAULT 'api',     -- api | openvex
  created_by TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  expires_at INTEGER,
  revoked_at INTEGER, revoked_by TEXT, revoke_reason TEXT,
  ended_at INTEGER
) STRICT;
CREATE INDEX exceptions_live ON exceptions (id) WHERE ended_at IS NULL;
-- Every version of a rule as it was written (JSON of the rule), with who changed it and when.
CREATE TABLE exception_versions (exception_id INTEGER NOT NULL, version INTEGER NOT NULL, at INTEGER NOT NULL,
  by TEXT NOT NULL, change TEXT NOT NULL, rule TEXT NOT NULL, PRIMARY KEY (exception_id, version)) STRICT, WITHOUT ROWID;
-- An exposure a rule holds: its id, and the exposure's severity when the rule took it (a rise
-- gives it back unless the rule covers escalations). Held exposures stay open = 1 (they are
-- still there) but are not in the host counters and open ages.
ALTER TABLE exposures ADD COLUMN exception_id INTEGER;
ALTER TABLE exposures ADD COLUMN exception_severity INTEGER;
CREATE INDEX exposures_excepted ON exposures (exception_id, host_id) WHERE exception_id IS NOT NULL;
`;

/** 5 → 6: exception rules (no rule yet: nothing changes in the counts). */
export function upgradeToExceptions(db: DatabaseSync): void {
  db.exec(EXCEPTIONS);
}

export interface ExceptionRow {
  id: number;
  version: number;
  scope: string;
  kind: ExceptionKind;
  justification: string;
  owner: string | null;
  cover_escalation: number;
  origin: string;
  created_by: string;
  created_at: number;
  expires_at: number | null;
  revoked_at: number | null;
  revoked_by: string | null;
  revoke_reason: string | null;
  ended_at: number | null;
}

/** A rule as matching and the API use it. */
export interface ExceptionRule extends Omit<ExceptionRow, 'scope' | 'cover_escalation'> {
  scope: ExceptionScope;
  cover_escalation: boolean;
}

export type ExceptionState = 'active' | 'expired' | 'revoked';

export function ruleState(r: Pick<ExceptionRule, 'revoked_at' | 'expires_at'>, now: number): ExceptionState {
  if (r.revoked_at !== null) return 'revoked';
  if (r.expires_at !== null && r.expires_at <= now) return 'expired';
  return 'active';
}

function toRule(r: ExceptionRow): ExceptionRule {
  return { ...r, scope: JSON.parse(r.scope) as ExceptionScope, cover_escalation: r.cover_escalation === 1 };
}

/** The rule as a version records it (and the audit log's before/after). */
export function recordedRule(r: ExceptionRule): Record<string, unknown> {
  const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
  return {
    id: r.id,
    version: r.version,
    scope: r.scope,
    kind: r.kind,
    justification: r.justification,
    owner: r.owner,
    cover_escalation: r.cover_escalation,
    origin: r.origin,
    expires_at: iso(r.expires_at),
    revoked_at: iso(r.revoked_at),
    revoked_by: r.revoked_by,
    revoke_reason: r.revoke_reason,
  };
}

export interface NewException {
  scope: ExceptionScope;
  kind: ExceptionKind;
  justification: string;
  owner: string | null;
  cover_escalation: boolean;
  expires_at: number | null;
  origin: 'api' | 'openvex';
}

function addVersion(store: Store, r: ExceptionRule, by: string, change: string, at: number): void {
  store.run(
    'INSERT INTO exception_versions (exception_id, version, at, by, change, rule) VALUES (?, ?, ?, ?, ?, ?)',
    r.id,
    r.version,
    at,
    by,
    change,
    JSON.stringify(recordedRule(r)),
  );
}

/** Writes a new rule (version 1). Call inside a transaction with the application of the rule. */
export function insertException(store: Store, e: NewException, by: string): ExceptionRule {
  const now = store.clock.now();
  const id = store.run(
    `INSERT INTO exceptions (version, scope, kind, justification, owner, cover_escalation, origin, created_by, created_at, expires_at)
     VALUES (1, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    JSON.stringify(e.scope),
    e.kind,
    e.justification,
    e.owner,
    e.cover_escalation ? 1 : 0,
    e.origin,
    by,
    now,
    e.expires_at,
  ).lastInsertRowid;
  const r = exceptionById(store, id)!;
  addVersion(store, r, by, 'created', now);
  return r;
}

export interface ExceptionChange {
  justification?: string;
  owner?: string | null;
  expires_at?: number | null;
  cover_escalation?: boolean;
}

/** Changes what a rule says besides its scope and kind (a new version). */
export function updateException(store: Store, id: number, change: ExceptionChange, by: string): ExceptionRule {
  const now = store.clock.now();
  const before = exceptionById(store, id)!;
  store.run(
    'UPDATE exceptions SET version = version + 1, justification = ?, owner = ?, expires_at = ?, cover_escalation = ? WHERE id = ?',
    change.justification ?? before.justification,
    change.owner === undefined ? before.owner : change.owner,
    change.expires_at === undefined ? before.expires_at : change.expires_at,
    (change.cover_escalation ?? before.cover_escalation) ? 1 : 0,
    id,
  );
  const r = exceptionById(store, id)!;
  addVersion(store, r, by, 'updated', now);
  return r;
}

/** Marks a rule revoked (a new version); its findings are given back by exceptions-apply.ts. */
export function markRevoked(store: Store, id: number, by: string, reason: string | null): ExceptionRule {
  const now = store.clock.now();
  store.run(
    'UPDATE exceptions SET version = version + 1, revoked_at = ?, revoked_by = ?, revoke_reason = ? WHERE id = ?',
    now,
    by,
    reason,
    id,
  );
  const r = exceptionById(store, id)!;
  addVersion(store, r, by, 'revoked', now);
  return r;
}

export function exceptionById(store: Store, id: number): ExceptionRule | undefined {
  const r = store.get<ExceptionRow>('SELECT * FROM exceptions WHERE id = ?', id);
  return r ? toRule(r) : undefined;
}

/** Rules in force at `now`, oldest first (the first that covers a finding holds it). */
export function activeRules(store: Store, now: number): ExceptionRule[] {
  return store
    .all<ExceptionRow>(
      'SELECT * FROM exceptions WHERE ended_at IS NULL AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > ?) ORDER BY id',
      now,
    )
    .map(toRule);
}

/** Rules that ended (revoked, or expired by `now`) whose findings have not been given back yet. */
export function endedRules(store: Store, now: number): ExceptionRule[] {
  return store
    .all<ExceptionRow>(
      'SELECT * FROM exceptions WHERE ended_at IS NULL AND (revoked_at IS NOT NULL OR expires_at <= ?) ORDER BY id',
      now,
    )
    .map(toRule);
}

export function markEnded(store: Store, id: number, at: number): void {
  store.run('UPDATE exceptions SET ended_at = ? WHERE id = ?', at, id);
}

export interface ExceptionFilter {
  state?: ExceptionState;
  kind?: ExceptionKind;
  vulnerability?: string;
  host?: string;
  group?: string;
  owner?: string;
}

/** Rules, newest first, filtered (scope fields compare exactly). */
export function listExceptions(store: Store, f: ExceptionFilter): ExceptionRule[] {
  const now = store.clock.now();
  const where: string[] = [];
  const params: (string | number)[] = [];
  if (f.kind) {
    where.push('kind = ?');
    params.push(f.kind);
  }
  if (f.owner) {
    where.push('owner = ?');
    params.push(f.owner);
  }
  for (const key of ['vulnerability', 'host', 'group'] as const) {
    if (f[key] === undefined) continue;
    where.push(`json_extract(scope, '$.${key}') = ? COLLATE NOCASE`);
    params.push(f[key]);
  }
  if (f.state === 'revoked') where.push('revoked_at IS NOT NULL');
  if (f.state === 'expired') {
    where.push('revoked_at IS NULL AND expires_at <= ?');
    params.push(now);
  }
  if (f.state === 'active') {
    where.push('revoked_at IS NULL AND (expires_at IS NULL OR expires_at > ?)');
    params.push(now);
  }
  const w = where.length ? `WHERE ${where.join(' AND ')}` : '';
  return store.all<ExceptionRow>(`SELECT * FROM exceptions ${w} ORDER BY id DESC`, ...params).map(toRule);
}

export interface ExceptionVersion {
  version: number;
  at: number;
  by: string;
  change: string;
  rule: Record<string, unknown>;
}

export function exceptionVersions(store: Store, id: number): ExceptionVersion[] {
  return store
    .all<{
      version: number;
      at: number;
      by: string;
      change: string;
      rule: string;
    }>('SELECT version, at, by, change, rule FROM exception_versions WHERE exception_id = ? ORDER BY version', id)
    .map((v) => ({ ...v, rule: JSON.parse(v.rule) as Record<string, unknown> }));
}

/** Open exposures each rule holds now. */
export function heldCounts(store: Store): Map<number, number> {
  return new Map(
    store
      .all<{
        id: number;
        n: number;
      }>(
        'SELECT exception_id AS id, count(*) AS n FROM exposures WHERE exception_id IS NOT NULL AND open = 1 GROUP BY 1',
      )
      .map((r) => [r.id, r.n]),
  );
}
