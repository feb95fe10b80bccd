// Credentials: passwords (scrypt; the accounts are in users.ts), sessions and API tokens of
// people, enrolment tokens and per-host agent tokens. Tokens are 256-bit random strings, so a
// plain sha256 of them is what is stored and looked up; a password is low-entropy and gets scrypt.
import { createHash, randomBytes, scrypt as scryptCb, timingSafeEqual, type ScryptOptions } from 'node:crypto';
import { PatchloopError } from '../../core/errors.ts';
import type { Store } from './store.ts';
import { builtinAdminId, ensureBuiltinAdmin, setBuiltinPassword } from './users.ts';

const SCRYPT = { N: 32768, r: 8, p: 1, maxmem: 64 * 1024 * 1024 } as const;

export const TOKEN_PREFIX = { host: 'plh_', enrollment: 'ple_', session: 'pls_', api: 'pla_' } as const;

function scrypt(password: string, salt: Buffer, keylen: number, options: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    scryptCb(password, salt, keylen, options, (err, key) => (err ? reject(err) : resolve(key))),
  );
}

export function newToken(prefix: string): string {
  return prefix + randomBytes(32).toString('base64url');
}

export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await scrypt(password, salt, 32, SCRYPT);
  return `scrypt$${SCRYPT.N}$${SCRYPT.r}$${SCRYPT.p}$${salt.toString('base64')}$${key.toString('base64')}`;
}

export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const parts = stored.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return false;
  const [N, r, p] = parts.slice(1, 4).map(Number);
  const salt = Buffer.from(parts[4], 'base64');
  const expected = Buffer.from(parts[5], 'base64');
  const key = await scrypt(password, salt, expected.length, { N, r, p, maxmem: 256 * N * r + 1024 * 1024 });
  return key.length === expected.length && timingSafeEqual(key, expected);
}

/** The built-in administrator: from the configured hash, else created with a random password once. */
export async function ensureAdmin(
  store: Store,
  username: string,
  configuredHash?: string,
): Promise<{ created: boolean; password?: string }> {
  return ensureBuiltinAdmin(store, username, configuredHash, () => randomBytes(18).toString('base64url'));
}

/** Sets the built-in administrator's password and ends its sessions. */
export async function setAdminPassword(store: Store, username: string, password: string): Promise<void> {
  await setBuiltinPassword(store, username, password);
}

export type SessionVia = 'password' | 'sso';

export interface Session {
  user_id: number;
  csrf: string;
  via: SessionVia;
  expires_at: number;
}

export function createSession(
  store: Store,
  userId: number,
  via: SessionVia,
  ttlMs: number,
): Session & { token: string } {
  const token = newToken(TOKEN_PREFIX.session);
  const csrf = randomBytes(24).toString('base64url');
  const now = store.clock.now();
  store.run('DELETE FROM sessions WHERE expires_at < ?', now);
  store.run(
    'INSERT INTO sessions (hash, user_id, csrf, via, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)',
    hashToken(token),
    userId,
    csrf,
    via,
    now,
    now + ttlMs,
  );
  return { token, user_id: userId, csrf, via, expires_at: now + ttlMs };
}

export function sessionFor(store: Store, token: string): Session | null {
  const row = store.get<Session>(
    'SELECT user_id, csrf, via, expires_at FROM sessions WHERE hash = ?',
    hashToken(token),
  );
  if (!row || row.expires_at < store.clock.now()) return null;
  return row;
}

export function deleteSession(store: Store, token: string): void {
  store.run('DELETE FROM sessions WHERE hash = ?', hashToken(token));
}

/** Ends the sessions of local accounts that logged in with a password (local login turned off). */
export function endLocalPasswordSessions(store: Store): number {
  return store.run(
    "DELETE FROM sessions WHERE via = 'password' AND user_id IN (SELECT id FROM users WHERE kind = 'local')",
  ).changes;
}

export interface ApiTokenInfo {
  id: number;
  name: string;
  role: string;
  owner_id: number;
  owner: string;
  created_at: string;
  revoked: boolean;
}

/**
 * An API token for scripts, shown once. It belongs to `owner` (default: the built-in
 * administrator) and acts with `role` (default: the owner's), never more than the owner's role.
 */
export function createApiToken(
  store: Store,
  name: string,
  owner?: { userId: number; role: string },
): { id: number; token: string; role: string } {
  const o = owner ?? { userId: builtinAdminId(store), role: 'admin' };
  const token = newToken(TOKEN_PREFIX.api);
  const id = store.run(
    'INSERT INTO api_tokens (hash, name, owner_id, role, created_at) VALUES (?, ?, ?, ?, ?)',
    hashToken(token),
    name,
    o.userId,
    o.role,
    store.clock.now(),
  ).lastInsertRowid;
  return { id, token, role: o.role };
}

/**
 * An active token's id, name and role with its owner's id, role and whether the owner is disabled; null for any other
 * token.
 */
export function apiTokenFor(
  store: Store,
  token: string,
): {
  id: number;
  name: string;
  role: string;
  owner_id: number;
  owner: string;
  owner_role: string;
  owner_disabled: boolean;
} | null {
  const row = store.get<{
    id: number;
    name: string;
    role: string;
    owner_id: number;
    owner: string;
    owner_role: string;
    disabled_at: number | null;
  }>(
    `SELECT t.id, t.name, t.role, t.owner_id, u.username AS owner, u.role AS owner_role, u.disabled_at
     FROM api_tokens t JOIN users u ON u.id = t.owner_id WHERE t.hash = ? AND t.revoked_at IS NULL`,
    hashToken(token),
  );
  if (!row) return null;
  const { disabled_at, ...rest } = row;
  return { ...rest, owner_disabled: disabled_at !== null };
}

/** API tokens (never the tokens themselves), of one owner or of everyone. */
export function listApiTokens(store: Store, ownerId?: number): ApiTokenInfo[] {
  return store
    .all<{
      id: number;
      name: string;
      role: string;
      owner_id: number;
      owner: string;
      created_at: number;
      revoked_at: number | null;
    }>(
      `SELECT t.id, t.name, t.role, t.owner_id, u.username AS owner, t.created_at, t.revoked_at FROM api_tokens t JOIN users u ON u.id = t.owner_id
       WHERE ? IS NULL OR t.owner_id = ? ORDER BY t.id`,
      ownerId ?? null,
      ownerId ?? null,
    )
    .map((r) => ({
      id: r.id,
      name: r.name,
      role: r.role,
      owner_id: r.owner_id,
      owner: r.owner,
      created_at: new Date(r.created_at).toISOString(),
      revoked: r.revoked_at !== null,
    }));
}

export function apiTokenById(store: Store, id: number): ApiTokenInfo | null {
  return listApiTokens(store).find((t) => t.id === id) ?? null;
}

export function revokeApiToken(store: Store, id: number): boolean {
  return (
    store.run('UPDATE api_tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL', store.clock.now(), id)
      .changes > 0
  );
}

export interface EnrollmentTokenOptions {
  name: string;
  /** How many hosts may enrol with it; null: any number until it expires. */
  uses: number | null;
  /** Lifetime; null: until revoked (only allowed with a use limit). */
  ttlMs: number | null;
  grp?: string;
  tags?: string[];
}

export interface EnrollmentTokenInfo {
  id: number;
  name: string;
  grp: string;
  tags: string[];
  uses_left: number | null;
  used: number;
  expires_at: string | null;
  created_at: string;
  revoked: boolean;
}

export function createEnrollmentToken(
  store: Store,
  o: EnrollmentTokenOptions,
): { id: number; token: string; expires_at: string | null } {
  if (o.uses === null && o.ttlMs === null) throw new Error('an enrolment token needs a use limit, a lifetime, or both');
  const token = newToken(TOKEN_PREFIX.enrollment);
  const now = store.clock.now();
  const expires = o.ttlMs === null ? null : now + o.ttlMs;
  const id = store.run(
    'INSERT INTO enrollment_tokens (hash, name, grp, tags, uses_left, expires_at, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
    hashToken(token),
    o.name,
    o.grp ?? '',
    JSON.stringify(o.tags ?? []),
    o.uses,
    expires,
    now,
  ).lastInsertRowid;
  return { id, token, expires_at: expires === null ? null : new Date(expires).toISOString() };
}

export function listEnrollmentTokens(store: Store): EnrollmentTokenInfo[] {
  return store
    .all<{
      id: number;
      name: string;
      grp: string;
      tags: string;
      uses_left: number | null;
      used: number;
      expires_at: number | null;
      created_at: number;
      revoked_at: number | null;
    }>(
      'SELECT id, name, grp, tags, uses_left, used, expires_at, created_at, revoked_at FROM enrollment_tokens ORDER BY id',
    )
    .map((r) => ({
      id: r.id,
      name: r.name,
      grp: r.grp,
      tags: JSON.parse(r.tags) as string[],
      uses_left: r.uses_left,
      used: r.used,
      expires_at: r.expires_at === null ? null : new Date(r.expires_at).toISOString(),
      created_at: new Date(r.created_at).toISOString(),
      revoked: r.revoked_at !== null,
    }));
}

export function revokeEnrollmentToken(store: Store, id: number): boolean {
  return (
    store.run('UPDATE enrollment_tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL', store.clock.now(), id)
      .changes > 0
  );
}

/** A well-formed enrolment the server refuses (the token itself stays unused). */
export class EnrolmentRefused extends PatchloopError {
  /** Why, as the API's error word (e.g. `machine_id_in_other_group`). */
  readonly reason: string;
  constructor(reason: string, message: string) {
    super('PL_E_ENROLMENT_REFUSED', message);
    this.reason = reason;
  }
}

/**
 * Enrols a host with an enrolment token: consumes one use and issues the host token. Returns
 * null for an unknown, used-up, expired or revoked token.
 *
 * A machine id already enrolled is the same machine coming back (reinstalled agent, lost
 * credential): it keeps its record (history) and its old tokens are revoked — but only with a
 * token of the group the host is in now. A token of another group never rebinds a host
 * (EnrolmentRefused, nothing written): whoever holds any enrolment token could otherwise
 * take over every host whose machine id they have seen, revoke its agent and then empty its
 * findings with their own reports. A second record for the same machine id is not made
 * either: it would split one machine's history and let a decoy stand beside the real host.
 * Moving a host to another group is an admin change (PATCH the host's group) made first.
 */
export function enrollHost(
  store: Store,
  req: { token: string; hostname: string; machine_id?: string },
): { host_id: number; host_token: string } | null {
  return store.tx(() => {
    const now = store.clock.now();
    const t = store.get<{ id: number; grp: string; tags: string; uses_left: number | null; expires_at: number | null }>(
      'SELECT id, grp, tags, uses_left, expires_at FROM enrollment_tokens WHERE hash = ? AND revoked_at IS NULL',
      hashToken(req.token),
    );
    if (!t || (t.uses_left !== null && t.uses_left <= 0) || (t.expires_at !== null && t.expires_at <= now)) return null;
    const existing = req.machine_id
      ? store.get<{ id: number; grp: string }>('SELECT id, grp FROM hosts WHERE machine_id = ?', req.machine_id)
      : undefined;
    if (existing && existing.grp !== t.grp) {
      throw new EnrolmentRefused(
        'machine_id_in_other_group',
        'a host with this machine id is enrolled in another group: re-enrol it with an enrolment token of its group, or have an administrator move or remove it first',
      );
    }
    store.run(
      'UPDATE enrollment_tokens SET uses_left = CASE WHEN uses_left IS NULL THEN NULL ELSE uses_left - 1 END, used = used + 1 WHERE id = ?',
      t.id,
    );
    let hostId: number;
    if (existing) {
      hostId = existing.id;
      store.run('UPDATE host_tokens SET revoked_at = ? WHERE host_id = ? AND revoked_at IS NULL', now, hostId);
      store.run('UPDATE hosts SET hostname = ? WHERE id = ?', req.hostname, hostId);
      store.run(
        "INSERT INTO events (at, type, host_id, cause) VALUES (?, 'reenrolled', ?, ?)",
        now,
        hostId,
        `enrolment token ${t.id}`,
      );
    } else {
      hostId = store.run(
        'INSERT INTO hosts (hostname, machine_id, grp, tags, enrolled_at) VALUES (?, ?, ?, ?, ?)',
        req.hostname,
        req.machine_id ?? null,
        t.grp,
        t.tags,
        now,
      ).lastInsertRowid;
      store.run(
        "INSERT INTO events (at, type, host_id, cause) VALUES (?, 'enrolled', ?, ?)",
        now,
        hostId,
        `enrolment token ${t.id}`,
      );
    }
    const hostToken = newToken(TOKEN_PREFIX.host);
    store.run(
      'INSERT INTO host_tokens (hash, host_id, created_at) VALUES (?, ?, ?)',
      hashToken(hostToken),
      hostId,
      now,
    );
    return { host_id: hostId, host_token: hostToken };
  });
}

/** The host a token belongs to, or null (unknown or revoked: the caller cannot tell which). */
export function hostForToken(store: Store, token: string): number | null {
  const row = store.get<{ host_id: number }>(
    'SELECT host_id FROM host_tokens WHERE hash = ? AND revoked_at IS NULL',
    hashToken(token),
  );
  return row?.host_id ?? null;
}

export function revokeHostTokens(store: Store, hostId: number): number {
  return store.tx(() => {
    const n = store.run(
      'UPDATE host_tokens SET revoked_at = ? WHERE host_id = ? AND revoked_at IS NULL',
      store.clock.now(),
      hostId,
    ).changes;
    if (n > 0)
      store.run(
        "INSERT INTO events (at, type, host_id, cause) VALUES (?, 'revoked', ?, 'admin')",
        store.clock.now(),
        hostId,
      );
    return n;
  });
}
