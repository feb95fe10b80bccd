// The audit log through the real server: every change route writes who (account, token, role,
// address), what (action, target), the outcome and the target before and after; refusals for
// the role are written as denied; secrets never reach it; the API filters and pages it.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { api, ADMIN_PASSWORD, enrollTestHost, startTestServer, type TestServer } from './support/server.ts';
import { trackerFeedV1 } from './support/fixtures.ts';
import type { AuditEntry } from '../src/server/store/audit.ts';

/** An entry as the API answers it, with the states as objects. */
type Entry = Omit<AuditEntry, 'before' | 'after'> & {
  before: Record<string, unknown> | null;
  after: Record<string, unknown> | null;
};

let s: TestServer;
before(async () => {
  s = await startTestServer(trackerFeedV1());
});
after(async () => {
  await s.close();
});

async function audit(query = ''): Promise<{ items: Entry[]; next_before_id: number | null }> {
  const r = await api(s.url, `/api/v1/audit${query}`, { token: s.adminToken });
  assert.equal(r.status, 200, r.text);
  return r.body as { items: Entry[]; next_before_id: number | null };
}

async function latest(action: string): Promise<Entry> {
  const [e] = (await audit(`?action=${action}&limit=1`)).items;
  assert.ok(e, `an entry for ${action}`);
  return e;
}

async function logIn(username: string, password: string): Promise<{ cookie: string; csrf: string }> {
  const r = await api(s.url, '/api/v1/auth/login', { body: { username, password } });
  assert.equal(r.status, 200, r.text);
  const cookie = r.headers
    .getSetCookie()
    .filter((c) => c.startsWith('patchloop_session='))
    .map((c) => c.split(';')[0])
    .join('; ');
  return { cookie, csrf: (r.body as { csrf_token: string }).csrf_token };
}

test('each change route writes who, what, the outcome and the target before and after', async () => {
  // Accounts: made, changed, password reset.
  const made = await api(s.url, '/api/v1/users', {
    token: s.adminToken,
    body: { username: 'opal', role: 'viewer', password: 'opal first password' },
  });
  const opalId = (made.body as { id: number }).id;
  let e = await latest('user.create');
  assert.deepEqual(
    [e.actor.kind, e.actor.name, e.actor.role, e.outcome, e.target],
    ['token', 'admin', 'admin', 'success', { type: 'user', id: 'opal' }],
  );
  assert.ok(e.actor.token_id !== null && e.actor.user_id !== null);
  assert.equal(e.address, '127.0.0.1');
  assert.equal(e.before, null);
  assert.deepEqual(e.after, { username: 'opal', role: 'viewer', kind: 'local', display_name: null, disabled: false });
  await api(s.url, `/api/v1/users/${opalId}`, { method: 'PATCH', token: s.adminToken, body: { role: 'operator' } });
  e = await latest('user.update');
  assert.deepEqual([e.before?.role, e.after?.role], ['viewer', 'operator']);
  await api(s.url, `/api/v1/users/${opalId}/password`, {
    token: s.adminToken,
    body: { password: 'opal second password' },
  });
  e = await latest('user.password_reset');
  assert.deepEqual([e.outcome, e.target?.id, e.before, e.after], ['success', 'opal', null, null]);

  // Logins (with the session's account and role), and as that session: tokens and hosts.
  const opal = await logIn('opal', 'opal second password');
  e = await latest('auth.login');
  assert.deepEqual([e.actor.kind, e.actor.name, e.actor.role, e.outcome], ['user', 'opal', 'operator', 'success']);
  const as = (method: string, path: string, body?: unknown) =>
    api(s.url, path, { method, body, headers: { cookie: opal.cookie, 'x-csrf-token': opal.csrf } });
  const token = (await as('POST', '/api/v1/api-tokens', { name: 'opal script', role: 'viewer' })).body as {
    id: number;
    token: string;
  };
  e = await latest('api_token.create');
  assert.deepEqual(
    [e.actor.kind, e.actor.name, e.target, e.after?.name, e.after?.role, e.after?.owner],
    ['user', 'opal', { type: 'api_token', id: String(token.id) }, 'opal script', 'viewer', 'opal'],
  );
  await as('DELETE', `/api/v1/api-tokens/${token.id}`);
  e = await latest('api_token.revoke');
  assert.deepEqual([e.before?.revoked, e.after?.revoked], [false, true]);

  const enrolment = (await as('POST', '/api/v1/enrollment-tokens', { name: 'racks', group: 'web', uses: 3 })).body as {
    id: number;
    token: string;
  };
  e = await latest('enrollment_token.create');
  assert.deepEqual([e.target?.id, e.after?.grp, e.after?.uses_left], [String(enrolment.id), 'web', 3]);
  await as('DELETE', `/api/v1/enrollment-tokens/${enrolment.id}`);
  e = await latest('enrollment_token.revoke');
  assert.deepEqual([e.before?.revoked, e.after?.revoked], [false, true]);

  await enrollTestHost(s, 'audited-host', 'web');
  const hosts = (await api(s.url, '/api/v1/hosts', { token: s.adminToken })).body as {
    items: { id: number; hostname: string }[];
  };
  const hostId = hosts.items.find((h) => h.hostname === 'audited-host')!.id;
  await as('PATCH', `/api/v1/hosts/${hostId}`, { group: 'db', tags: ['rack-4'] });
  e = await latest('host.update');
  assert.deepEqual(
    [e.target, e.before, e.after],
    [
      { type: 'host', id: String(hostId) },
      { hostname: 'audited-host', group: 'web', tags: [] },
      { hostname: 'audited-host', group: 'db', tags: ['rack-4'] },
    ],
  );

  const policy = { group: 'db', rings: [{ name: 'all' }] };
  await as('PUT', '/api/v1/policies/db', policy);
  e = await latest('policy.put');
  assert.equal(e.before, null);
  assert.equal(e.after?.version, 1);
  await as('PUT', '/api/v1/policies/db', { ...policy, description: 'nightly' });
  e = await latest('policy.put');
  assert.deepEqual(
    [e.before?.version, e.after?.version, (e.after?.policy as { description?: string }).description],
    [1, 2, 'nightly'],
  );

  // A preview changes nothing and writes nothing; a refused one is written.
  const before = (await audit('?limit=1')).items[0];
  const preview = await as('POST', '/api/v1/policies/db/preview', { text: 'group: db\nrings:\n  - name: all\n' });
  assert.equal(preview.status, 200, preview.text);
  assert.deepEqual((await audit('?limit=1')).items[0], before);

  assert.equal((await as('POST', '/api/v1/feeds/refresh')).status, 202);
  e = await latest('feeds.refresh');
  assert.deepEqual([e.actor.name, e.outcome], ['opal', 'success']);

  // Admin-only host changes.
  await api(s.url, `/api/v1/hosts/${hostId}/revoke`, { method: 'POST', token: s.adminToken });
  e = await latest('host.revoke');
  assert.deepEqual([e.after?.hostname, e.after?.tokens_revoked], ['audited-host', 1]);
  assert.equal((await api(s.url, `/api/v1/hosts/${hostId}`, { method: 'DELETE', token: s.adminToken })).status, 204);
  e = await latest('host.delete');
  assert.deepEqual([e.before?.hostname, e.before?.group, e.after], ['audited-host', 'db', null]);

  await as('POST', '/api/v1/auth/logout');
  e = await latest('auth.logout');
  assert.deepEqual([e.actor.name, e.target?.id], ['opal', 'opal']);
});

test('refusals: a role too low and a missing CSRF token are denied, failed logins and changes are failures', async () => {
  await api(s.url, '/api/v1/users', {
    token: s.adminToken,
    body: { username: 'vera', role: 'viewer', password: 'vera long password' },
  });
  const vera = await logIn('vera', 'vera long password');
  assert.equal(
    (
      await api(s.url, '/api/v1/policies/db', {
        method: 'PUT',
        body: { group: 'db' },
        headers: { cookie: vera.cookie, 'x-csrf-token': vera.csrf },
      })
    ).status,
    403,
  );
  let e = await latest('policy.put');
  assert.deepEqual(
    [e.actor.name, e.actor.role, e.outcome, e.reason, e.target],
    ['vera', 'viewer', 'denied', 'needs the operator role', { type: 'route', id: 'PUT /api/v1/policies/:name' }],
  );
  const preview = await api(s.url, '/api/v1/policies/db/preview', {
    body: { text: 'group: db\n' },
    headers: { cookie: vera.cookie, 'x-csrf-token': vera.csrf },
  });
  assert.equal(preview.status, 403);
  e = (await audit('?outcome=denied&limit=1')).items[0];
  assert.deepEqual([e.actor.name, e.action, e.target?.id], ['vera', 'request', 'POST /api/v1/policies/:name/preview']);
  assert.equal((await api(s.url, '/api/v1/audit', { headers: { cookie: vera.cookie } })).status, 403);
  e = (await audit('?outcome=denied&limit=1')).items[0];
  assert.deepEqual([e.action, e.target?.id], ['request', 'GET /api/v1/audit']);
  const admin = await logIn('admin', ADMIN_PASSWORD);
  assert.equal(
    (await api(s.url, '/api/v1/feeds/refresh', { method: 'POST', headers: { cookie: admin.cookie } })).status,
    403,
  );
  e = await latest('feeds.refresh');
  assert.deepEqual([e.outcome, e.reason], ['denied', 'missing or wrong CSRF token']);

  // A wrong password names the account only when it is one.
  assert.equal(
    (await api(s.url, '/api/v1/auth/login', { body: { username: 'vera', password: 'not vera password' } })).status,
    401,
  );
  e = await latest('auth.login');
  assert.deepEqual(
    [e.actor.kind, e.actor.name, e.outcome, e.reason],
    ['anonymous', 'vera', 'failure', 'wrong username or password'],
  );
  assert.equal(
    (await api(s.url, '/api/v1/auth/login', { body: { username: 'my password typed here', password: 'x' } })).status,
    401,
  );
  e = await latest('auth.login');
  assert.deepEqual([e.actor.name, e.target?.id], ['', '']);
  // A change the server refuses is a failure with its status.
  assert.equal(
    (await api(s.url, '/api/v1/hosts/99999', { method: 'PATCH', token: s.adminToken, body: { group: 'x' } })).status,
    404,
  );
  e = await latest('host.update');
  assert.deepEqual([e.outcome, e.reason, e.before], ['failure', 'HTTP 404', null]);
});

test('no secret reaches the audit log: passwords, tokens and hashes stay out of every entry', async () => {
  const password = 'secret-password-never-logged';
  const r = await api(s.url, '/api/v1/users', {
    token: s.adminToken,
    body: { username: 'quinn', role: 'operator', password },
  });
  const id = (r.body as { id: number }).id;
  await api(s.url, `/api/v1/users/${id}/password`, { token: s.adminToken, body: { password: `${password}-2` } });
  const quinn = await logIn('quinn', `${password}-2`);
  await api(s.url, '/api/v1/auth/password', {
    body: { current_password: `${password}-2`, new_password: `${password}-3` },
    headers: { cookie: quinn.cookie, 'x-csrf-token': quinn.csrf },
  });
  const q2 = await logIn('quinn', `${password}-3`);
  const made = (
    await api(s.url, '/api/v1/api-tokens', {
      body: { name: 'q' },
      headers: { cookie: q2.cookie, 'x-csrf-token': q2.csrf },
    })
  ).body as { token: string };
  const enrolment = (await api(s.url, '/api/v1/enrollment-tokens', { token: s.adminToken, body: { name: 'e' } }))
    .body as { token: string };
  const rows = s.running.ctx.store.all<Record<string, unknown>>('SELECT * FROM audit_log');
  const text = JSON.stringify(rows);
  for (const secret of [password, made.token, enrolment.token, s.adminToken, q2.csrf, quinn.cookie.split('=')[1]])
    assert.ok(!text.includes(secret), 'a secret in the audit log');
  assert.ok(!/scrypt\$/.test(text));
  assert.ok(rows.some((row) => row.action === 'user.password_change' && row.outcome === 'success'));
});

test('filters and pages: by actor, action or object, target, outcome and time; newest first', async () => {
  const all = await audit('?limit=500');
  assert.ok(all.items.length > 20);
  const ids = all.items.map((e) => e.id);
  assert.deepEqual(
    ids,
    [...ids].sort((a, b) => b - a),
  );

  const users = await audit('?action=user.*&limit=500');
  assert.ok(users.items.length > 0 && users.items.every((e) => e.action.startsWith('user.')));
  assert.deepEqual(
    new Set(users.items.map((e) => e.action)),
    new Set(all.items.filter((e) => e.action.startsWith('user.')).map((e) => e.action)),
  );
  const vera = await audit('?actor=vera');
  assert.ok(vera.items.length > 0 && vera.items.every((e) => e.actor.name === 'vera'));
  const host = await audit('?target_type=user&target_id=opal');
  assert.ok(host.items.length >= 3 && host.items.every((e) => e.target?.id === 'opal'));
  const denied = await audit('?outcome=denied');
  assert.ok(denied.items.length >= 3 && denied.items.every((e) => e.outcome === 'denied'));

  // Pages of 5 walk the whole log once.
  const seen: number[] = [];
  let next: number | null = null;
  do {
    const page = await audit(`?limit=5${next ? `&before_id=${next}` : ''}`);
    seen.push(...page.items.map((e) => e.id));
    next = page.next_before_id;
  } while (next !== null);
  assert.deepEqual(seen, ids);

  // Time: entries are written with the server's clock.
  s.clock.advance(3_600_000);
  const mark = new Date(s.clock.now()).toISOString();
  await api(s.url, '/api/v1/users', {
    token: s.adminToken,
    body: { username: 'late', role: 'viewer', password: 'a late long password' },
  });
  const since = await audit(`?since=${encodeURIComponent(mark)}`);
  assert.deepEqual(
    since.items.map((e) => [e.action, e.target?.id]),
    [['user.create', 'late']],
  );
  assert.equal(since.items[0].at, mark);
  const until = await audit(`?until=${encodeURIComponent(mark)}&limit=500`);
  assert.equal(until.items.length, all.items.length);
  assert.equal((await api(s.url, '/api/v1/audit?action=DROP%20TABLE', { token: s.adminToken })).status, 400);
  assert.equal((await api(s.url, '/api/v1/audit?since=yesterday', { token: s.adminToken })).status, 400);
});
