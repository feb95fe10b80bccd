// Single sign-on against a real OpenID Connect provider (oidc-provider) on loopback, driven by a
// plain HTTP client that follows the redirects and fills the provider's pages: the whole
// authorisation code flow with PKCE, the role from the groups claim, accounts made at the first
// login, and the refusals — an unknown or replayed state, another browser, a changed nonce, an ID
// token from another issuer, one signed with keys that are not the provider's.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { api, startTestServer, type TestServer } from './support/server.ts';
import { freePort, startFront, startProvider, type TestProvider } from './support/oidc.ts';
import { HttpBrowser } from './support/http-browser.ts';

const accounts: Record<string, Record<string, unknown>> = {
  alice: {
    preferred_username: 'alice',
    name: 'Alice Operator',
    email: 'alice@example.test',
    groups: ['staff', 'pl-operators'],
  },
  bob: { preferred_username: 'bob', name: 'Bob Admin', groups: ['pl-viewers', 'pl-admins'] },
  carol: { preferred_username: 'carol', groups: ['staff'] },
  dave: { preferred_username: 'dave', groups: ['pl-viewers'] },
  erin: { preferred_username: 'erin', groups: ['pl-viewers'] },
};

let s: TestServer;
let own: TestProvider;
let otherIssuer: TestProvider;
let otherKeys: TestProvider;
let front: Awaited<ReturnType<typeof startFront>>;
let callbackPrefix: string;

before(async () => {
  front = await startFront();
  const port = await freePort();
  callbackPrefix = `http://127.0.0.1:${port}/api/v1/auth/oidc/callback`;
  own = await startProvider({ redirectUri: callbackPrefix, accounts, issuer: front.url });
  otherIssuer = await startProvider({ redirectUri: callbackPrefix, accounts });
  otherKeys = await startProvider({ redirectUri: callbackPrefix, accounts, issuer: front.url });
  front.attach(own.url, otherIssuer.url);
  s = await startTestServer(
    null,
    {
      oidc: {
        issuer: front.url,
        client_id: own.clientId,
        client_secret_file: own.secretFile,
        redirect_uri: callbackPrefix,
        scopes: ['openid', 'profile', 'email', 'groups'],
        role_claim: 'groups',
        role_map: { 'pl-viewers': 'viewer', 'pl-operators': 'operator', 'pl-admins': 'admin' },
        default_role: 'deny',
        label: 'Log in with Example ID',
      },
    },
    { port },
  );
});
after(async () => {
  await s?.close();
  await Promise.all([own?.close(), otherIssuer?.close(), otherKeys?.close(), front?.close()]);
});

const isCallback = (u: URL): boolean => u.href.startsWith(callbackPrefix);

/** Starts a login at the server and goes through the provider's pages; stops before the callback. */
async function toCallback(b: HttpBrowser, login: string, editAuthorization?: (u: URL) => void): Promise<URL> {
  const start = await b.send('GET', `${s.url}/api/v1/auth/oidc/login?return_to=/hosts`);
  assert.equal(start.status, 302);
  const authorization = new URL(start.location!);
  assert.ok(authorization.href.startsWith(front.url), authorization.href);
  editAuthorization?.(authorization);
  const page = await b.follow('GET', authorization.href, undefined, isCallback);
  const r =
    page.location && isCallback(new URL(page.location)) ? page : await b.throughProvider(page, login, isCallback);
  assert.ok(
    r.location && isCallback(new URL(r.location)),
    `the provider sends the browser back (${r.status} ${r.location ?? r.body.slice(0, 200)})`,
  );
  return new URL(r.location!);
}

async function session(b: HttpBrowser): Promise<{ status: number; body: Record<string, unknown> }> {
  const r = await api(s.url, '/api/v1/auth/session', {
    headers: { cookie: b.cookieHeader(new URL(`${s.url}/api/v1/auth/session`)) },
  });
  return { status: r.status, body: r.body as Record<string, unknown> };
}

async function audit(query: string): Promise<
  {
    action: string;
    outcome: string;
    reason: string | null;
    actor: { name: string; role: string | null };
    after: Record<string, unknown> | null;
  }[]
> {
  const r = await api(s.url, `/api/v1/audit?${query}`, { token: s.adminToken });
  assert.equal(r.status, 200, r.text);
  return (r.body as { items: never[] }).items;
}

test('the login page learns that single sign-on is there', async () => {
  const r = await api(s.url, '/api/v1/auth/methods');
  assert.deepEqual(r.body, { local_login: true, sso: { enabled: true, label: 'Log in with Example ID' } });
});

test('the whole flow: provider login and consent, back with a code, a session with the role of the groups claim, on to the page asked for', async () => {
  const b = new HttpBrowser();
  const callback = await toCallback(b, 'alice');
  assert.ok(callback.searchParams.get('code'));
  const back = await b.send('GET', callback.href);
  assert.equal(back.status, 302);
  assert.equal(back.location, `${s.url}/hosts`);
  const me = await session(b);
  assert.equal(me.status, 200);
  assert.equal(me.body.username, 'alice');
  assert.equal(me.body.role, 'operator');
  assert.equal(me.body.kind, 'sso');
  assert.equal(me.body.via, 'sso');
  // What went over the wire: PKCE with S256, a state and a nonce.
  const authorization = new URL(b.steps.find((st) => st.url.startsWith(`${front.url}/auth`))!.url);
  assert.equal(authorization.searchParams.get('code_challenge_method'), 'S256');
  assert.match(authorization.searchParams.get('code_challenge') ?? '', /^[A-Za-z0-9_-]{43}$/);
  assert.ok(authorization.searchParams.get('state') && authorization.searchParams.get('nonce'));

  const users = (await api(s.url, '/api/v1/users', { token: s.adminToken })).body as {
    username: string;
    kind: string;
    role: string;
    display_name: string | null;
    sso_issuer: string | null;
  }[];
  const alice = users.find((u) => u.username === 'alice')!;
  assert.deepEqual(
    { kind: alice.kind, role: alice.role, display_name: alice.display_name, sso_issuer: alice.sso_issuer },
    { kind: 'sso', role: 'operator', display_name: 'Alice Operator', sso_issuer: front.url },
  );
  const [entry] = await audit('action=auth.login&actor=alice');
  assert.equal(entry.outcome, 'success');
  assert.equal(entry.actor.role, 'operator');
  assert.deepEqual(entry.after?.role_claim, ['staff', 'pl-operators']);

  // The session does what an operator may, and no more.
  const cookie = b.cookieHeader(new URL(`${s.url}/api/v1/users`));
  assert.equal((await api(s.url, '/api/v1/users', { headers: { cookie } })).status, 403);
  assert.equal((await api(s.url, '/api/v1/audit', { headers: { cookie } })).status, 200);
});

test('the highest role of the claim counts; the role follows the claim at every login', async () => {
  const b = new HttpBrowser();
  await b.send('GET', (await toCallback(b, 'bob')).href);
  assert.equal((await session(b)).body.role, 'admin');

  accounts.erin.groups = ['pl-viewers'];
  const e1 = new HttpBrowser();
  await e1.send('GET', (await toCallback(e1, 'erin')).href);
  assert.equal((await session(e1)).body.role, 'viewer');
  accounts.erin.groups = ['pl-operators'];
  const e2 = new HttpBrowser();
  await e2.send('GET', (await toCallback(e2, 'erin')).href);
  assert.equal((await session(e2)).body.role, 'operator');
  // The account is one (found by issuer and subject), and its earlier session now acts as operator too.
  assert.equal((await session(e1)).body.role, 'operator');
  const [change] = await audit('action=auth.login&actor=erin');
  assert.match(change.reason ?? '', /role viewer → operator/);
});

test('an identity whose claim maps to no role is refused (default_role: deny) and no account is made', async () => {
  const b = new HttpBrowser();
  const back = await b.send('GET', (await toCallback(b, 'carol')).href);
  assert.equal(back.location, `${s.url}/?sso_error=no_role`);
  assert.equal((await session(b)).status, 401);
  const users = (await api(s.url, '/api/v1/users', { token: s.adminToken })).body as { username: string }[];
  assert.ok(!users.some((u) => u.username === 'carol'));
  const [entry] = await audit('action=auth.login&outcome=denied');
  assert.equal(entry.actor.name, 'carol');
});

test('a wrong or replayed state is refused, and so is a callback in another browser', async () => {
  const b = new HttpBrowser();
  const callback = await toCallback(b, 'dave');
  const forged = new URL(callback);
  forged.searchParams.set('state', 'a-state-this-server-never-issued');
  assert.equal((await b.send('GET', forged.href)).location, `${s.url}/?sso_error=unknown_state`);
  // The real state was not used by that: another browser with the real callback URL lacks the binding cookie.
  const other = new HttpBrowser();
  assert.equal((await other.send('GET', callback.href)).location, `${s.url}/?sso_error=wrong_browser`);
  assert.equal((await session(other)).status, 401);
  // A state is used once, whatever the outcome: the right browser cannot use it after that either.
  assert.equal((await b.send('GET', callback.href)).location, `${s.url}/?sso_error=unknown_state`);
  assert.equal((await session(b)).status, 401);
  const refused = await audit('action=auth.login&outcome=failure');
  assert.ok(refused.some((e) => e.reason?.startsWith('wrong_browser')));
  assert.ok(refused.some((e) => e.reason?.startsWith('unknown_state')));
});

test('an ID token with another nonce than the one sent is refused', async () => {
  const b = new HttpBrowser();
  const callback = await toCallback(b, 'dave', (u) => u.searchParams.set('nonce', 'a-nonce-the-server-did-not-choose'));
  const back = await b.send('GET', callback.href);
  assert.equal(back.location, `${s.url}/?sso_error=token_rejected`);
  assert.equal((await session(b)).status, 401);
  const [entry] = await audit('action=auth.login&outcome=failure');
  assert.match(entry.reason ?? '', /nonce/);
});

test('an ID token from another issuer is refused, and so is one signed with keys the provider does not publish', async () => {
  try {
    // The authorisation and the token come from another provider (its own issuer); the answer
    // carries no iss parameter, so only the ID token can tell.
    front.attach(own.url, otherIssuer.url);
    front.target = 'other';
    const b = new HttpBrowser();
    const callback = await toCallback(b, 'dave');
    callback.searchParams.delete('iss');
    assert.equal((await b.send('GET', callback.href)).location, `${s.url}/?sso_error=token_rejected`);
    assert.equal((await session(b)).status, 401);
    const [entry] = await audit('action=auth.login&outcome=failure');
    assert.match(entry.reason ?? '', /iss/);

    // Same issuer name, other keys: only the signature check against the provider's JWKS tells.
    front.attach(own.url, otherKeys.url);
    const c = new HttpBrowser();
    const forged = await toCallback(c, 'dave');
    assert.equal(forged.searchParams.get('iss'), front.url);
    assert.equal((await c.send('GET', forged.href)).location, `${s.url}/?sso_error=token_rejected`);
    assert.equal((await session(c)).status, 401);
    const [signature] = await audit('action=auth.login&outcome=failure');
    assert.match(signature.reason ?? '', /signature|key|JWKS/i);
  } finally {
    front.target = 'own';
    front.attach(own.url, otherIssuer.url);
  }
  // The real provider still logs people in.
  const d = new HttpBrowser();
  await d.send('GET', (await toCallback(d, 'dave')).href);
  assert.equal((await session(d)).body.role, 'viewer');
});

test('the provider cannot take over a local account by naming it', async () => {
  const made = await api(s.url, '/api/v1/users', {
    token: s.adminToken,
    body: { username: 'Frank', role: 'admin', password: 'a local password of frank' },
  });
  assert.equal(made.status, 201, made.text);
  accounts.frank = { preferred_username: 'frank', groups: ['pl-viewers'] };
  const b = new HttpBrowser();
  assert.equal(
    (await b.send('GET', (await toCallback(b, 'frank')).href)).location,
    `${s.url}/?sso_error=username_taken`,
  );
  assert.equal((await session(b)).status, 401);
  const [entry] = await audit('action=auth.login&outcome=denied');
  assert.match(entry.reason ?? '', /username_taken/);
});

test('a disabled single sign-on account is refused at its next login', async () => {
  const users = (await api(s.url, '/api/v1/users', { token: s.adminToken })).body as { id: number; username: string }[];
  const dave = users.find((u) => u.username === 'dave')!;
  assert.equal(
    (await api(s.url, `/api/v1/users/${dave.id}`, { method: 'PATCH', token: s.adminToken, body: { disabled: true } }))
      .status,
    200,
  );
  const b = new HttpBrowser();
  assert.equal(
    (await b.send('GET', (await toCallback(b, 'dave')).href)).location,
    `${s.url}/?sso_error=account_disabled`,
  );
});
