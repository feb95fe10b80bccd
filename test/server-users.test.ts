// People's accounts through the real server on loopback: local accounts made by an admin, roles
// that take effect at once, disabling, passwords (reset by an admin, changed by their owner under
// the login brake), API tokens with an owner and a role, the brake per account, local login
// limited to the built-in administrator, and the same through `patchloop server user …`.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { ManualClock } from '../src/server/clock.ts';
import { apiTokenFor, createApiToken, ensureAdmin, hashPassword, hashToken } from '../src/server/store/credentials.ts';
import { STORE_SCHEMA_VERSION } from '../src/server/store/schema.ts';
import { Store } from '../src/server/store/store.ts';
import { checkPasswordLogin, listUsers } from '../src/server/store/users.ts';
import { api, ADMIN_PASSWORD, startTestServer, type TestServer } from './support/server.ts';
import { runCliFromSources } from './support/cli.ts';
import { REPO_ROOT } from './support/paths.ts';

let s: TestServer;
before(async () => {
  s = await startTestServer(null);
});
after(async () => {
  await s.close();
});

const PASSWORD = 'a long enough password';

interface Session {
  cookie: string;
  csrf: string;
}

async function logIn(
  username: string,
  password: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; session: Session; body: Record<string, unknown> }> {
  const r = await api(s.url, '/api/v1/auth/login', { body: { username, password }, headers });
  const cookie = r.headers
    .getSetCookie()
    .filter((c) => c.startsWith('patchloop_session='))
    .map((c) => c.split(';')[0])
    .join('; ');
  return {
    status: r.status,
    session: { cookie, csrf: (r.body as { csrf_token?: string }).csrf_token ?? '' },
    body: r.body as Record<string, unknown>,
  };
}

function as(session: Session, method: string, path: string, body?: unknown) {
  return api(s.url, path, { method, body, headers: { cookie: session.cookie, 'x-csrf-token': session.csrf } });
}

async function createUser(username: string, role: string, password = PASSWORD): Promise<number> {
  const r = await api(s.url, '/api/v1/users', { token: s.adminToken, body: { username, role, password } });
  assert.equal(r.status, 201, r.text);
  return (r.body as { id: number }).id;
}

test('an admin creates local accounts; names are unique whatever their case; rules for names and passwords', async () => {
  const id = await createUser('Olivia', 'operator');
  const users = (await api(s.url, '/api/v1/users', { token: s.adminToken })).body as {
    id: number;
    username: string;
    role: string;
    kind: string;
    disabled: boolean;
    created_by: string;
  }[];
  const olivia = users.find((u) => u.id === id)!;
  assert.deepEqual(
    {
      username: olivia.username,
      role: olivia.role,
      kind: olivia.kind,
      disabled: olivia.disabled,
      created_by: olivia.created_by,
    },
    { username: 'Olivia', role: 'operator', kind: 'local', disabled: false, created_by: 'admin' },
  );
  assert.ok(users.some((u) => u.username === 'admin' && u.kind === 'builtin' && u.role === 'admin'));
  assert.equal(
    (
      await api(s.url, '/api/v1/users', {
        token: s.adminToken,
        body: { username: 'OLIVIA', role: 'viewer', password: PASSWORD },
      })
    ).status,
    409,
  );
  assert.equal(
    (
      await api(s.url, '/api/v1/users', {
        token: s.adminToken,
        body: { username: 'no spaces', role: 'viewer', password: PASSWORD },
      })
    ).status,
    400,
  );
  assert.equal(
    (
      await api(s.url, '/api/v1/users', {
        token: s.adminToken,
        body: { username: 'shorty', role: 'viewer', password: 'short' },
      })
    ).status,
    400,
  );
  assert.equal(
    (
      await api(s.url, '/api/v1/users', {
        token: s.adminToken,
        body: { username: 'root', role: 'superuser', password: PASSWORD },
      })
    ).status,
    400,
  );
  // "olivia" logs in to the same account.
  const login = await logIn('olivia', PASSWORD);
  assert.equal(login.status, 200);
  assert.deepEqual(
    [login.body.username, login.body.role, login.body.kind, login.body.via],
    ['Olivia', 'operator', 'local', 'password'],
  );
});

test('a role change and disabling take effect on sessions and tokens already made; enabling lets the account in again', async () => {
  const id = await createUser('victor', 'operator');
  const { session } = await logIn('victor', PASSWORD);
  const token = (await as(session, 'POST', '/api/v1/api-tokens', { name: 'victor script' })).body as {
    token: string;
    role: string;
  };
  assert.equal(token.role, 'operator');
  assert.equal((await as(session, 'GET', '/api/v1/enrollment-tokens')).status, 200);

  assert.equal(
    (await api(s.url, `/api/v1/users/${id}`, { method: 'PATCH', token: s.adminToken, body: { role: 'viewer' } }))
      .status,
    200,
  );
  assert.equal((await as(session, 'GET', '/api/v1/enrollment-tokens')).status, 403);
  assert.equal((await api(s.url, '/api/v1/enrollment-tokens', { token: token.token })).status, 403);
  assert.equal(((await as(session, 'GET', '/api/v1/auth/session')).body as { role: string }).role, 'viewer');
  assert.equal((await api(s.url, '/api/v1/hosts', { token: token.token })).status, 200);

  assert.equal(
    (await api(s.url, `/api/v1/users/${id}`, { method: 'PATCH', token: s.adminToken, body: { disabled: true } }))
      .status,
    200,
  );
  assert.equal((await as(session, 'GET', '/api/v1/hosts')).status, 401);
  assert.equal((await api(s.url, '/api/v1/hosts', { token: token.token })).status, 401);
  assert.equal((await logIn('victor', PASSWORD)).status, 401);

  assert.equal(
    (await api(s.url, `/api/v1/users/${id}`, { method: 'PATCH', token: s.adminToken, body: { disabled: false } }))
      .status,
    200,
  );
  assert.equal((await logIn('victor', PASSWORD)).status, 200);
  // The token works again (the sessions of the disabled account ended for good).
  assert.equal((await api(s.url, '/api/v1/hosts', { token: token.token })).status, 200);
  assert.equal((await as(session, 'GET', '/api/v1/hosts')).status, 401);
});

test('the built-in administrator stays an enabled admin; an admin cannot lower or disable their own account', async () => {
  const users = (await api(s.url, '/api/v1/users', { token: s.adminToken })).body as { id: number; username: string }[];
  const admin = users.find((u) => u.username === 'admin')!;
  assert.equal(
    (await api(s.url, `/api/v1/users/${admin.id}`, { method: 'PATCH', token: s.adminToken, body: { role: 'viewer' } }))
      .status,
    409,
  );
  assert.equal(
    (await api(s.url, `/api/v1/users/${admin.id}`, { method: 'PATCH', token: s.adminToken, body: { disabled: true } }))
      .status,
    409,
  );
  const id = await createUser('second-admin', 'admin');
  const { session } = await logIn('second-admin', PASSWORD);
  assert.equal((await as(session, 'PATCH', `/api/v1/users/${id}`, { role: 'operator' })).status, 409);
  assert.equal((await as(session, 'PATCH', `/api/v1/users/${id}`, { disabled: true })).status, 409);
  assert.equal((await as(session, 'PATCH', `/api/v1/users/${id}`, { display_name: 'Second Admin' })).status, 200);
});

test('passwords: an admin resets one (the sessions end); the owner changes theirs with the current one', async () => {
  const id = await createUser('paula', 'viewer');
  const first = await logIn('paula', PASSWORD);
  assert.equal(
    (
      await api(s.url, `/api/v1/users/${id}/password`, {
        token: s.adminToken,
        body: { password: 'the reset password' },
      })
    ).status,
    204,
  );
  assert.equal((await as(first.session, 'GET', '/api/v1/hosts')).status, 401);
  assert.equal((await logIn('paula', PASSWORD)).status, 401);
  const { session } = await logIn('paula', 'the reset password');

  const wrong = await as(session, 'POST', '/api/v1/auth/password', {
    current_password: 'not it at all',
    new_password: 'paula chose this one',
  });
  assert.equal(wrong.status, 401);
  assert.equal(
    (
      await as(session, 'POST', '/api/v1/auth/password', {
        current_password: 'the reset password',
        new_password: 'short',
      })
    ).status,
    400,
  );
  assert.equal(
    (
      await as(session, 'POST', '/api/v1/auth/password', {
        current_password: 'the reset password',
        new_password: 'paula chose this one',
      })
    ).status,
    204,
  );
  assert.equal((await as(session, 'GET', '/api/v1/hosts')).status, 401);
  assert.equal((await logIn('paula', 'paula chose this one')).status, 200);
  // An API token is not a way to change a password.
  const op = await createUser('token-owner', 'operator');
  void op;
  const owner = await logIn('token-owner', PASSWORD);
  const t = (await as(owner.session, 'POST', '/api/v1/api-tokens', { name: 'x' })).body as { token: string };
  assert.equal(
    (
      await api(s.url, '/api/v1/auth/password', {
        token: t.token,
        body: { current_password: PASSWORD, new_password: 'changed by a token' },
      })
    ).status,
    403,
  );
});

test("API tokens: the role is at most the creator's, the owner is the creator; listed without secrets; operators see and revoke only their own", async () => {
  await createUser('olga', 'operator');
  await createUser('oscar', 'operator');
  const olga = (await logIn('olga', PASSWORD)).session;
  const oscar = (await logIn('oscar', PASSWORD)).session;
  assert.equal((await as(olga, 'POST', '/api/v1/api-tokens', { name: 'too much', role: 'admin' })).status, 403);
  const mine = (await as(olga, 'POST', '/api/v1/api-tokens', { name: 'olga read-only', role: 'viewer' })).body as {
    id: number;
    token: string;
    role: string;
  };
  assert.equal(mine.role, 'viewer');
  const theirs = (await as(oscar, 'POST', '/api/v1/api-tokens', { name: 'oscar ops' })).body as {
    id: number;
    token: string;
  };
  const listed = (await as(olga, 'GET', '/api/v1/api-tokens')).body as Record<string, unknown>[];
  assert.deepEqual(
    listed.map((t) => [t.name, t.role, t.owner, t.revoked]),
    [['olga read-only', 'viewer', 'olga', false]],
  );
  assert.ok(!JSON.stringify(listed).includes(mine.token) && !listed.some((t) => 'token' in t || 'hash' in t));
  const all = (await api(s.url, '/api/v1/api-tokens', { token: s.adminToken })).body as { id: number; owner: string }[];
  assert.ok(all.some((t) => t.id === theirs.id && t.owner === 'oscar'));
  assert.equal((await as(olga, 'DELETE', `/api/v1/api-tokens/${theirs.id}`)).status, 404);
  assert.equal((await api(s.url, '/api/v1/hosts', { token: theirs.token })).status, 200);
  assert.equal(
    (await api(s.url, `/api/v1/api-tokens/${theirs.id}`, { method: 'DELETE', token: s.adminToken })).status,
    204,
  );
  assert.equal((await api(s.url, '/api/v1/hosts', { token: theirs.token })).status, 401);
  // The viewer-role token reads, and nothing more, though its owner is an operator.
  assert.equal((await api(s.url, '/api/v1/hosts', { token: mine.token })).status, 200);
  assert.equal((await api(s.url, '/api/v1/enrollment-tokens', { token: mine.token })).status, 403);
});

test('the login brake counts per account: a guessed account waits, another account from the same address does not', async () => {
  await createUser('guessed', 'viewer');
  await createUser('bystander', 'viewer');
  const from = { 'x-forwarded-for': 'ignored' };
  for (let i = 0; i < 5; i++)
    assert.equal((await logIn(i % 2 ? 'GUESSED' : 'guessed', `wrong guess ${i}`, from)).status, 401);
  const held = await logIn('guessed', PASSWORD, from);
  assert.equal(held.status, 429);
  assert.equal((await logIn('bystander', PASSWORD, from)).status, 200);
  s.clock.advance(60_000);
  assert.equal((await logIn('guessed', PASSWORD, from)).status, 200);
});

test('people behind one address each log in as often as they like: only failures add up on an address', async () => {
  await createUser('office-worker', 'viewer');
  for (let i = 0; i < 25; i++) assert.equal((await logIn('office-worker', PASSWORD)).status, 200, `login ${i + 1}`);
});

test('patchloop server user add, list, set-role, disable, enable and passwd work on the data directory of a running server, and are audited', async () => {
  const dir = ['--data-dir', s.dataDir];
  const add = await runCliFromSources(
    ['server', 'user', 'add', 'carla', '--role', 'operator', ...dir],
    'carla password from cli\n',
  );
  assert.equal(add.code, 0, add.stderr);
  assert.equal((await logIn('carla', 'carla password from cli')).body.role, 'operator');
  assert.equal(
    (await runCliFromSources(['server', 'user', 'add', 'CARLA', '--role', 'viewer', ...dir], 'another long password\n'))
      .code !== 0,
    true,
  );
  assert.equal(
    (await runCliFromSources(['server', 'user', 'add', 'x', '--role', 'king', ...dir], 'another long password\n')).code,
    2,
  );

  assert.equal((await runCliFromSources(['server', 'user', 'set-role', 'carla', 'viewer', ...dir])).code, 0);
  const list = await runCliFromSources(['server', 'user', 'list', ...dir]);
  assert.equal(list.code, 0, list.stderr);
  assert.match(list.stdout, /^USERNAME\s+ROLE\s+KIND\s+STATE\s+LAST LOGIN$/m);
  assert.match(list.stdout, /^carla\s+viewer\s+local\s+enabled\s+2026-/m);
  assert.match(list.stdout, /^admin\s+admin\s+builtin\s+enabled/m);

  const { session } = await logIn('carla', 'carla password from cli');
  assert.equal((await runCliFromSources(['server', 'user', 'disable', 'carla', ...dir])).code, 0);
  assert.equal((await as(session, 'GET', '/api/v1/hosts')).status, 401);
  assert.equal((await runCliFromSources(['server', 'user', 'enable', 'carla', ...dir])).code, 0);
  assert.equal(
    (await runCliFromSources(['server', 'user', 'passwd', 'carla', ...dir], 'carla new password\n')).code,
    0,
  );
  assert.equal((await logIn('carla', 'carla new password')).status, 200);
  const missing = await runCliFromSources(['server', 'user', 'disable', 'nobody-here', ...dir]);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /no account named nobody-here/);
  // The built-in administrator keeps its own command.
  assert.equal((await runCliFromSources(['server', 'set-admin-password', ...dir], 'the new admin password\n')).code, 0);
  assert.equal((await logIn('admin', 'the new admin password')).status, 200);
  assert.equal((await logIn('admin', ADMIN_PASSWORD)).status, 401);

  const entries = (
    (await api(s.url, '/api/v1/audit?target_type=user&target_id=carla', { token: s.adminToken })).body as {
      items: { action: string; actor: { kind: string }; outcome: string; after: { role?: string } | null }[];
    }
  ).items;
  const cli = entries.filter((e) => e.actor.kind === 'cli').map((e) => `${e.action} ${e.outcome}`);
  assert.deepEqual(cli.reverse(), [
    'user.create success',
    'user.update success',
    'user.update success',
    'user.update success',
    'user.password_reset success',
  ]);
});

test('with local login turned off only the built-in administrator logs in with a password; sessions of local accounts end at the start', async () => {
  const dataDir = s.dataDir;
  const { session } = await logIn('olivia', PASSWORD);
  const clock = s.clock;
  await s.close();
  s = await startTestServer(
    null,
    {
      oidc: {
        issuer: 'http://127.0.0.1:9/',
        client_id: 'patchloop',
        redirect_uri: 'http://127.0.0.1:9/api/v1/auth/oidc/callback',
        local_login: false,
      },
    },
    { dataDir, clock },
  );
  assert.equal((await as(session, 'GET', '/api/v1/hosts')).status, 401);
  assert.equal((await logIn('olivia', PASSWORD)).status, 401);
  // (The configuration's admin.password_hash is the built-in administrator's password again.)
  assert.equal((await logIn('admin', ADMIN_PASSWORD)).status, 200);
  assert.deepEqual((await api(s.url, '/api/v1/auth/methods')).body, {
    local_login: false,
    sso: { enabled: true, label: 'Log in with single sign-on' },
  });
  // Tokens are credentials of their own and keep working.
  const users = (await api(s.url, '/api/v1/users', { token: s.adminToken })).body as {
    username: string;
    kind: string;
  }[];
  assert.ok(users.some((u) => u.username === 'Olivia' && u.kind === 'local'));
});

test('a store of schema 3 is upgraded: its administrator becomes the built-in account with its password, its API tokens admin tokens of it; sessions end', async () => {
  const file = join(mkdtempSync(join(tmpdir(), 'patchloop-people-')), 'server.sqlite');
  const old = new DatabaseSync(file);
  old.exec(readFileSync(join(REPO_ROOT, 'test/fixtures/store/schema-3.sql'), 'utf8'));
  old.prepare("INSERT INTO meta (key, value) VALUES ('schema_version', '3'), ('match_gen', '1')").run();
  old
    .prepare("INSERT INTO admins (username, password_hash, created_at, source) VALUES ('root-admin', ?, 5, 'set')")
    .run(await hashPassword('the old admin password'));
  old
    .prepare(
      "INSERT INTO api_tokens (hash, name, created_at, revoked_at) VALUES (?, 'cron', 6, NULL), (?, 'gone', 7, 8)",
    )
    .run(hashToken('pla_old-cron-token'), hashToken('pla_old-revoked'));
  old
    .prepare(
      "INSERT INTO sessions (hash, username, csrf, created_at, expires_at) VALUES ('h', 'root-admin', 'c', 1, 9999999999999)",
    )
    .run();
  old.close();

  const store = Store.open(file, new ManualClock('2026-11-01T00:00:00Z'));
  try {
    assert.equal(store.meta('schema_version'), String(STORE_SCHEMA_VERSION));
    assert.deepEqual(
      listUsers(store).map((u) => [u.username, u.role, u.kind, u.created_at]),
      [['root-admin', 'admin', 'builtin', 5]],
    );
    assert.equal((await checkPasswordLogin(store, 'root-admin', 'the old admin password'))?.username, 'root-admin');
    const cron = apiTokenFor(store, 'pla_old-cron-token');
    assert.deepEqual(cron && [cron.name, cron.role, cron.owner, cron.owner_disabled], [
      'cron',
      'admin',
      'root-admin',
      false,
    ]);
    assert.equal(apiTokenFor(store, 'pla_old-revoked'), null);
    assert.equal(store.get<{ n: number }>('SELECT count(*) AS n FROM sessions')!.n, 0);
    assert.equal(store.get<{ n: number }>('SELECT count(*) AS n FROM audit_log')!.n, 0);
    assert.equal(store.get("SELECT 1 AS x FROM sqlite_master WHERE name = 'admins'"), undefined);
  } finally {
    store.close();
  }
});

test('an API token made on a store before its first start belongs to the built-in administrator, whose password the first start makes', async () => {
  const store = Store.open(
    join(mkdtempSync(join(tmpdir(), 'patchloop-people-')), 'server.sqlite'),
    new ManualClock('2026-11-01T00:00:00Z'),
  );
  try {
    const { token } = createApiToken(store, 'made early');
    assert.equal(await checkPasswordLogin(store, 'admin', ''), null);
    const first = await ensureAdmin(store, 'admin');
    assert.equal(first.created, true);
    assert.equal((await checkPasswordLogin(store, 'admin', first.password!))?.kind, 'builtin');
    assert.deepEqual((({ role, owner }) => ({ role, owner }))(apiTokenFor(store, token)!), {
      role: 'admin',
      owner: 'admin',
    });
    assert.deepEqual(await ensureAdmin(store, 'admin'), { created: false });
  } finally {
    store.close();
  }
});
