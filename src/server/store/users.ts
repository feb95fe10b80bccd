// People's accounts: the built-in administrator, local accounts (scrypt passwords) and accounts
// made by single sign-on. A role says what an account may do (http/access.ts decides per route).
// Accounts are disabled, never deleted: the audit log keeps naming them.
import { PatchloopError } from '../../core/errors.ts';
import { hashPassword, verifyPassword } from './credentials.ts';
import type { Store } from './store.ts';

/** What a person may do: viewer reads, operator also changes the fleet's settings, admin everything. */
export const ROLES = ['viewer', 'operator', 'admin'] as const;
export type Role = (typeof ROLES)[number];

const RANK: Record<Role, number> = { viewer: 1, operator: 2, admin: 3 };

/** Whether `role` includes everything `needed` may do. */
export function roleAtLeast(role: Role, needed: Role): boolean {
  return RANK[role] >= RANK[needed];
}

/** The lesser of two roles (a token never does more than its owner). */
export function lesserRole(a: Role, b: Role): Role {
  return RANK[a] <= RANK[b] ? a : b;
}

export function isRole(v: unknown): v is Role {
  return typeof v === 'string' && (ROLES as readonly string[]).includes(v);
}

export type UserKind = 'builtin' | 'local' | 'sso';

export interface User {
  id: number;
  username: string;
  role: Role;
  kind: UserKind;
  display_name: string | null;
  sso_issuer: string | null;
  created_at: number;
  created_by: string;
  updated_at: number;
  disabled_at: number | null;
  last_login_at: number | null;
}

/** Letters, digits and . _ @ - (e-mail addresses fit), starting with a letter or digit. */
export const USERNAME = /^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$/;
export const MIN_PASSWORD = 12;

const COLUMNS =
  'id, username, role, kind, display_name, sso_issuer, created_at, created_by, updated_at, disabled_at, last_login_at';

/** What the audit log keeps of an account (its state, not its times). */
export function auditedUser(u: User | null): Record<string, unknown> | null {
  return (
    u && {
      username: u.username,
      role: u.role,
      kind: u.kind,
      display_name: u.display_name,
      disabled: u.disabled_at !== null,
    }
  );
}

export function userById(store: Store, id: number): User | null {
  return store.get<User>(`SELECT ${COLUMNS} FROM users WHERE id = ?`, id) ?? null;
}

/** Usernames compare without case: "Alice" and "alice" are one account. */
export function userByName(store: Store, username: string): User | null {
  return store.get<User>(`SELECT ${COLUMNS} FROM users WHERE username = ?`, username) ?? null;
}

export function listUsers(store: Store): User[] {
  return store.all<User>(`SELECT ${COLUMNS} FROM users ORDER BY username`);
}

function checkUsername(username: string): void {
  if (!USERNAME.test(username))
    throw new PatchloopError(
      'PL_E_BAD_REQUEST',
      `invalid username ${JSON.stringify(username)}: 1-64 letters, digits and . _ @ -, starting with a letter or digit`,
    );
}

export function checkPasswordRules(password: string): void {
  if (password.length < MIN_PASSWORD)
    throw new PatchloopError('PL_E_BAD_REQUEST', `a password needs at least ${MIN_PASSWORD} characters`);
  if (password.length > 1024) throw new PatchloopError('PL_E_BAD_REQUEST', 'a password has at most 1024 characters');
}

/** A new local account. Refused (PL_E_CONFLICT) when the name is taken, in any case. */
export async function createLocalUser(
  store: Store,
  u: { username: string; role: Role; password: string; display_name?: string | null },
  createdBy: string,
): Promise<User> {
  checkUsername(u.username);
  checkPasswordRules(u.password);
  const hash = await hashPassword(u.password);
  const now = store.clock.now();
  return store.tx(() => {
    if (userByName(store, u.username))
      throw new PatchloopError('PL_E_CONFLICT', `an account named ${u.username} exists`);
    const id = store.run(
      `INSERT INTO users (username, role, kind, password_hash, password_source, display_name, created_at, created_by, updated_at)
       VALUES (?, ?, 'local', ?, 'set', ?, ?, ?, ?)`,
      u.username,
      u.role,
      hash,
      u.display_name ?? null,
      now,
      createdBy,
      now,
    ).lastInsertRowid;
    return userById(store, id)!;
  });
}

/** Changes an account's role or display name; the built-in administrator stays an admin. */
export function updateUser(
  store: Store,
  id: number,
  change: { role?: Role; display_name?: string | null },
): User | null {
  const u = userById(store, id);
  if (!u) return null;
  if (change.role !== undefined && change.role !== 'admin' && u.kind === 'builtin') {
    throw new PatchloopError(
      'PL_E_CONFLICT',
      'the built-in administrator is always an admin (it is the account that cannot be locked out)',
    );
  }
  store.run(
    'UPDATE users SET role = ?, display_name = ?, updated_at = ? WHERE id = ?',
    change.role ?? u.role,
    change.display_name === undefined ? u.display_name : change.display_name,
    store.clock.now(),
    id,
  );
  return userById(store, id);
}

/** Disables (ending its sessions) or enables an account. The built-in administrator cannot be disabled. */
export function setUserDisabled(store: Store, id: number, disabled: boolean): User | null {
  const u = userById(store, id);
  if (!u) return null;
  if (disabled && u.kind === 'builtin')
    throw new PatchloopError(
      'PL_E_CONFLICT',
      'the built-in administrator cannot be disabled (change its password instead)',
    );
  store.tx(() => {
    const now = store.clock.now();
    store.run(
      'UPDATE users SET disabled_at = ?, updated_at = ? WHERE id = ?',
      disabled ? (u.disabled_at ?? now) : null,
      now,
      id,
    );
    if (disabled) store.run('DELETE FROM sessions WHERE user_id = ?', id);
  });
  return userById(store, id);
}

/** Sets a local or built-in account's password and ends its sessions (API tokens stay). */
export async function setUserPassword(
  store: Store,
  id: number,
  password: string,
  source: 'set' | 'config' | 'generated' = 'set',
): Promise<User | null> {
  const u = userById(store, id);
  if (!u) return null;
  if (u.kind === 'sso')
    throw new PatchloopError('PL_E_CONFLICT', `${u.username} logs in through single sign-on and has no password here`);
  if (source === 'set') checkPasswordRules(password);
  const hash = await hashPassword(password);
  store.tx(() => {
    store.run(
      'UPDATE users SET password_hash = ?, password_source = ?, updated_at = ? WHERE id = ?',
      hash,
      source,
      store.clock.now(),
      id,
    );
    store.run('DELETE FROM sessions WHERE user_id = ?', id);
  });
  return userById(store, id);
}

// A fixed hash to verify against when the account does not exist or has no password, so the
// answer takes as long as for a wrong password.
const DUMMY_HASH = 'scrypt$32768$8$1$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=';

/**
 * The account a password login is for when the password is right and the account may log in
 * with one (enabled, not single sign-on; with `builtinOnly` only the built-in administrator);
 * null otherwise, after the same scrypt work either way.
 */
export async function checkPasswordLogin(
  store: Store,
  username: string,
  password: string,
  o: { builtinOnly?: boolean } = {},
): Promise<User | null> {
  const row = store.get<{ id: number; password_hash: string | null; kind: UserKind; disabled_at: number | null }>(
    'SELECT id, password_hash, kind, disabled_at FROM users WHERE username = ?',
    username,
  );
  const ok = await verifyPassword(password, row?.password_hash ?? DUMMY_HASH);
  if (!ok || !row || row.password_hash === null || row.disabled_at !== null) return null;
  if (o.builtinOnly && row.kind !== 'builtin') return null;
  return userById(store, row.id);
}

/** The built-in administrator's account from the configuration's hash, else made with a random password once. */
export async function ensureBuiltinAdmin(
  store: Store,
  username: string,
  configuredHash: string | undefined,
  generate: () => string,
): Promise<{ created: boolean; password?: string }> {
  const now = store.clock.now();
  const existing = userByName(store, username);
  if (existing && existing.kind !== 'builtin') {
    throw new PatchloopError(
      'PL_E_CONFIG',
      `admin.username ${username} names a ${existing.kind} account: choose another name for the built-in administrator`,
    );
  }
  if (configuredHash) {
    if (existing) {
      store.run(
        "UPDATE users SET password_hash = ?, password_source = 'config', role = 'admin', disabled_at = NULL WHERE id = ?",
        configuredHash,
        existing.id,
      );
    } else {
      store.run(
        `INSERT INTO users (username, role, kind, password_hash, password_source, created_at, created_by, updated_at)
         VALUES (?, 'admin', 'builtin', ?, 'config', ?, 'config', ?)`,
        username,
        configuredHash,
        now,
        now,
      );
    }
    return { created: false };
  }
  const password = generate();
  if (existing) {
    // Made without a password (a token created on the store before the first start): the
    // password is made now, as for a new account.
    if (store.get<{ h: string | null }>('SELECT password_hash AS h FROM users WHERE id = ?', existing.id)?.h !== null)
      return { created: false };
    store.run(
      "UPDATE users SET password_hash = ?, password_source = 'generated', updated_at = ? WHERE id = ?",
      await hashPassword(password),
      now,
      existing.id,
    );
    return { created: true, password };
  }
  store.run(
    `INSERT INTO users (username, role, kind, password_hash, password_source, created_at, created_by, updated_at)
     VALUES (?, 'admin', 'builtin', ?, 'generated', ?, 'server', ?)`,
    username,
    await hashPassword(password),
    now,
    now,
  );
  return { created: true, password };
}

/**
 * The built-in administrator's id; on a store no server has started yet, the account is made
 * (named admin, the default) without a password, which the first start then makes.
 */
export function builtinAdminId(store: Store): number {
  const row = store.get<{ id: number }>("SELECT id FROM users WHERE kind = 'builtin' ORDER BY id LIMIT 1");
  if (row) return row.id;
  const now = store.clock.now();
  return store.run(
    "INSERT INTO users (username, role, kind, created_at, created_by, updated_at) VALUES ('admin', 'admin', 'builtin', ?, 'store', ?)",
    now,
    now,
  ).lastInsertRowid;
}

/** Sets the built-in administrator's password (making the account when it is not there yet). */
export async function setBuiltinPassword(store: Store, username: string, password: string): Promise<void> {
  const existing = userByName(store, username);
  if (existing && existing.kind !== 'builtin')
    throw new PatchloopError('PL_E_USAGE', `${username} is a ${existing.kind} account, not the built-in administrator`);
  if (existing) {
    await setUserPassword(store, existing.id, password);
    return;
  }
  const now = store.clock.now();
  store.run(
    `INSERT INTO users (username, role, kind, password_hash, password_source, created_at, created_by, updated_at)
     VALUES (?, 'admin', 'builtin', ?, 'set', ?, 'cli', ?)`,
    username,
    await hashPassword(password),
    now,
    now,
  );
}

export function noteLogin(store: Store, id: number): void {
  store.run('UPDATE users SET last_login_at = ? WHERE id = ?', store.clock.now(), id);
}

export class SsoRefused extends PatchloopError {
  readonly reason: string;
  constructor(reason: string, message: string) {
    super('PL_E_FORBIDDEN', message);
    this.reason = reason;
  }
}

/**
 * The account of an identity the provider vouched for: found by (issuer, subject), else made
 * now (kind sso). Its role is the one the provider's claim maps to at this login. A name held by
 * another account is refused: a provider must never take over a local account by naming it.
 */
export function ssoUser(
  store: Store,
  id: { issuer: string; subject: string; username: string; display_name: string | null; role: Role },
): { user: User; created: boolean; before: User | null } {
  return store.tx(() => {
    const now = store.clock.now();
    const row = store.get<{ id: number }>(
      'SELECT id FROM users WHERE sso_issuer = ? AND sso_subject = ?',
      id.issuer,
      id.subject,
    );
    if (row) {
      const before = userById(store, row.id)!;
      if (before.disabled_at !== null)
        throw new SsoRefused('account_disabled', `the account ${before.username} is disabled`);
      store.run(
        'UPDATE users SET role = ?, display_name = ?, updated_at = CASE WHEN role = ? AND display_name IS ? THEN updated_at ELSE ? END, last_login_at = ? WHERE id = ?',
        id.role,
        id.display_name,
        id.role,
        id.display_name,
        now,
        now,
        row.id,
      );
      return { user: userById(store, row.id)!, created: false, before };
    }
    if (!USERNAME.test(id.username))
      throw new SsoRefused(
        'invalid_username',
        `the provider's user name ${JSON.stringify(id.username)} is not a valid account name`,
      );
    if (userByName(store, id.username)) {
      throw new SsoRefused(
        'username_taken',
        `an account named ${id.username} exists and is not linked to this single sign-on identity`,
      );
    }
    const userId = store.run(
      `INSERT INTO users (username, role, kind, display_name, sso_issuer, sso_subject, created_at, created_by, updated_at, last_login_at)
       VALUES (?, ?, 'sso', ?, ?, ?, ?, 'sso', ?, ?)`,
      id.username,
      id.role,
      id.display_name,
      id.issuer,
      id.subject,
      now,
      now,
      now,
    ).lastInsertRowid;
    return { user: userById(store, userId)!, created: true, before: null };
  });
}
