// The store's tables for people: accounts with roles, their sessions and API tokens, and the
// audit log. Part of the store schema (schema.ts) and of its upgrade to schema 5 (migrate.ts).
import type { DatabaseSync } from 'node:sqlite';

/** Accounts, sessions and API tokens of schema 5. */
export const PEOPLE = `
-- People who use the server: the built-in administrator (admin.username in server.yaml, kind
-- 'builtin', the break-glass account), local accounts ('local') and accounts made at their first
-- single sign-on ('sso', no password; role from the provider's claim at every login). Accounts
-- are disabled, never deleted, so the audit log keeps naming them.
CREATE TABLE users (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  username TEXT NOT NULL COLLATE NOCASE UNIQUE,
  role TEXT NOT NULL,                     -- viewer | operator | admin
  kind TEXT NOT NULL,                     -- builtin | local | sso
  password_hash TEXT,                     -- scrypt (credentials.ts); null for sso accounts
  password_source TEXT,                   -- config | generated | set: where the password came from
  display_name TEXT,
  sso_issuer TEXT, sso_subject TEXT,
  created_at INTEGER NOT NULL,
  created_by TEXT NOT NULL,
  updated_at INTEGER NOT NULL,
  disabled_at INTEGER,
  last_login_at INTEGER,
  UNIQUE (sso_issuer, sso_subject)
) STRICT;
CREATE TABLE sessions (hash TEXT PRIMARY KEY, user_id INTEGER NOT NULL, csrf TEXT NOT NULL,
  via TEXT NOT NULL,                      -- password | sso
  created_at INTEGER NOT NULL, expires_at INTEGER NOT NULL) STRICT;
CREATE INDEX sessions_by_user ON sessions (user_id);
-- A token acts as its owner with at most its own role (the lower of the two), and stops when the
-- owner is disabled.
CREATE TABLE api_tokens (id INTEGER PRIMARY KEY, hash TEXT NOT NULL UNIQUE, name TEXT NOT NULL,
  owner_id INTEGER NOT NULL, role TEXT NOT NULL,
  created_at INTEGER NOT NULL, revoked_at INTEGER) STRICT;
`;

/** The audit log of schema 5. */
export const AUDIT = `
-- Every change people make (and their logins): who, with which credential and role, from where,
-- what (action and target), the outcome, and the target before and after (JSON, never a secret).
-- Append-only; ids increase with time (the exporter follows them).
CREATE TABLE audit_log (
  id INTEGER PRIMARY KEY,
  at INTEGER NOT NULL,
  actor_kind TEXT NOT NULL,               -- user | token | cli | anonymous
  actor TEXT NOT NULL,                    -- username ('' when nobody is known)
  actor_id INTEGER,                       -- users.id
  token_id INTEGER,                       -- api_tokens.id, for actions with an API token
  role TEXT,                              -- the role the action was taken with
  address TEXT,                           -- the client's address
  action TEXT NOT NULL,                   -- e.g. host.update, user.create, auth.login
  target_type TEXT, target_id TEXT,
  outcome TEXT NOT NULL,                  -- success | failure | denied
  reason TEXT,
  before TEXT, after TEXT
) STRICT;
CREATE INDEX audit_by_action ON audit_log (action, id);
CREATE INDEX audit_by_actor ON audit_log (actor, id);
CREATE INDEX audit_by_target ON audit_log (target_type, target_id, id);
`;

/**
 * 4 → 5: accounts with roles. The administrator of `admins` becomes the built-in account, API
 * tokens made so far become its admin tokens, sessions end (everyone logs in again), and the
 * audit log starts empty.
 */
export function upgradeToPeople(db: DatabaseSync): void {
  db.exec('ALTER TABLE api_tokens RENAME TO api_tokens_v4');
  db.exec('DROP TABLE sessions');
  db.exec(PEOPLE);
  db.exec(AUDIT);
  db.exec(`INSERT INTO users (username, role, kind, password_hash, password_source, created_at, created_by, updated_at)
    SELECT username, 'admin', 'builtin', password_hash, source, created_at, 'upgrade', created_at FROM admins ORDER BY created_at`);
  const owner = db.prepare("SELECT min(id) AS id FROM users WHERE kind = 'builtin'").get() as { id: number | null };
  if (owner.id !== null) {
    db.prepare(
      "INSERT INTO api_tokens (id, hash, name, owner_id, role, created_at, revoked_at) SELECT id, hash, name, ?, 'admin', created_at, revoked_at FROM api_tokens_v4",
    ).run(owner.id);
  }
  db.exec('DROP TABLE api_tokens_v4; DROP TABLE admins');
}
