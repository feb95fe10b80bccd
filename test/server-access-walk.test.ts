// Access control walked end to end: every operation of the server's OpenAPI description, with
// every kind of credential, under every spelling of its path an attacker might try (each
// character percent-encoded, `//`, `/./`, `/../`, case, a trailing slash, `;` parameters,
// encoded slashes, double encoding). Raw HTTP on loopback, so no client normalises the path.
//
// The expected access of each operation is written here, independently of the server's own
// route table: a route that declares too little access fails this test, and a new route must
// be added below before the test passes. People come with every role (viewer, operator, admin),
// each with a session and an API token of that role, and as accounts whose role was lowered or
// that were disabled after their credentials were made: none gets a 2xx beyond its role.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Agent, request as httpRequest } from 'node:http';
import { readInventory } from '../src/inventory/index.ts';
import {
  api,
  ADMIN_PASSWORD,
  enrollTestHost,
  fullReportOf,
  startTestServer,
  type TestServer,
} from './support/server.ts';
import { freePort, startProvider, type TestProvider } from './support/oidc.ts';
import { BOOKWORM_ROOT, trackerFeedV1 } from './support/fixtures.ts';
import { samplePatchRun } from './support/patch-run.ts';
import { REPO_ROOT } from './support/paths.ts';

type Access = 'public' | 'host' | 'host-or-viewer' | 'viewer' | 'operator' | 'admin';

const EXPECTED: Record<string, Access> = {
  'GET /api/v1/health': 'public',
  'POST /api/v1/auth/login': 'public',
  'POST /api/v1/enroll': 'public',
  'GET /api/v1/auth/methods': 'public',
  'GET /api/v1/auth/oidc/login': 'public',
  'GET /api/v1/auth/oidc/callback': 'public',
  'POST /api/v1/auth/logout': 'viewer',
  'GET /api/v1/auth/session': 'viewer',
  'POST /api/v1/auth/password': 'viewer',
  'POST /api/v1/api-tokens': 'operator',
  'GET /api/v1/api-tokens': 'operator',
  'DELETE /api/v1/api-tokens/{id}': 'operator',
  'POST /api/v1/enrollment-tokens': 'operator',
  'GET /api/v1/enrollment-tokens': 'operator',
  'DELETE /api/v1/enrollment-tokens/{id}': 'operator',
  'GET /api/v1/users': 'admin',
  'POST /api/v1/users': 'admin',
  'PATCH /api/v1/users/{id}': 'admin',
  'POST /api/v1/users/{id}/password': 'admin',
  'GET /api/v1/audit': 'operator',
  'GET /api/v1/exceptions': 'viewer',
  'POST /api/v1/exceptions': 'operator',
  'GET /api/v1/exceptions/summary': 'viewer',
  'GET /api/v1/exceptions/openvex': 'viewer',
  'POST /api/v1/exceptions/openvex': 'operator',
  'GET /api/v1/exceptions/{id}': 'viewer',
  'PATCH /api/v1/exceptions/{id}': 'operator',
  'POST /api/v1/exceptions/{id}/revoke': 'operator',
  'POST /api/v1/reports': 'host',
  'GET /api/v1/vulndb': 'host-or-viewer',
  'GET /api/v1/vulndb/{feed}': 'host-or-viewer',
  'GET /api/v1/hosts': 'viewer',
  'GET /api/v1/hosts/facets': 'viewer',
  'GET /api/v1/hosts/{id}': 'viewer',
  'PATCH /api/v1/hosts/{id}': 'operator',
  'DELETE /api/v1/hosts/{id}': 'admin',
  'POST /api/v1/hosts/{id}/revoke': 'admin',
  'GET /api/v1/hosts/{id}/packages': 'viewer',
  'GET /api/v1/hosts/{id}/findings': 'viewer',
  'GET /api/v1/hosts/{id}/history': 'viewer',
  'GET /api/v1/hosts/{id}/remediation': 'viewer',
  'GET /api/v1/hosts/{id}/policy': 'viewer',
  'GET /api/v1/findings': 'viewer',
  'GET /api/v1/findings/export': 'viewer',
  'GET /api/v1/vulnerabilities': 'viewer',
  'GET /api/v1/vulnerabilities/{id}': 'viewer',
  'GET /api/v1/remediation': 'viewer',
  'GET /api/v1/stats/overview': 'viewer',
  'GET /api/v1/stats/trends': 'viewer',
  'GET /api/v1/stats/agent-versions': 'viewer',
  'GET /api/v1/repo': 'viewer',
  'GET /api/v1/events': 'viewer',
  'GET /api/v1/feeds': 'viewer',
  'POST /api/v1/feeds/refresh': 'operator',
  'PUT /api/v1/policies/{name}': 'operator',
  'GET /api/v1/policies': 'viewer',
  'GET /api/v1/policies/{name}': 'viewer',
  'GET /api/v1/policies/{name}/versions': 'viewer',
  'POST /api/v1/policies/{name}/preview': 'operator',
  'POST /api/v1/policies/{name}/rollback': 'operator',
  'GET /api/v1/stats/resolution': 'viewer',
  'GET /api/v1/monthly-reports': 'viewer',
  'GET /api/v1/monthly-reports/{file}': 'viewer',
  'POST /api/v1/monthly-reports': 'operator',
  'GET /api/v1/patch-runs': 'viewer',
  'GET /api/v1/patch-runs/summary': 'viewer',
  'GET /api/v1/patch-runs/{id}': 'viewer',
  'GET /api/v1/rings': 'viewer',
  'GET /api/v1/reboot-leases': 'viewer',
  'GET /api/v1/agent/policy': 'host',
  'POST /api/v1/agent/patch-runs': 'host',
  'POST /api/v1/agent/boot': 'host',
  'POST /api/v1/agent/reboot-lease': 'host',
  'GET /api/v1/notifications/channels': 'viewer',
  'POST /api/v1/notifications/channels/{name}/test': 'operator',
  'GET /api/v1/notifications/rules': 'viewer',
  'POST /api/v1/notifications/rules': 'admin',
  'PUT /api/v1/notifications/rules/{id}': 'admin',
  'DELETE /api/v1/notifications/rules/{id}': 'admin',
  'GET /api/v1/notifications/messages': 'viewer',
  'POST /api/v1/notifications/messages/{id}/retry': 'operator',
};

/** A credential and the access levels it passes. */
interface Credential {
  name: string;
  headers: Record<string, string>;
  passes: (access: Access, method: string) => boolean;
  /**
   * Also tried on every other spelling of each path (the refusal of those comes before any credential is looked at).
   */
  spellings?: boolean;
}

type Role = 'viewer' | 'operator' | 'admin';
const RANK: Record<Role, number> = { viewer: 1, operator: 2, admin: 3 };
/** What a person with `role` passes: public, and the people's levels up to their role. */
const asRole =
  (role: Role) =>
  (a: Access): boolean =>
    a === 'public' || (a === 'host-or-viewer' ? true : a in RANK && RANK[a as Role] <= RANK[role]);
const nothing = (a: Access): boolean => a === 'public';
/** Operations that answer with a redirect (single sign-on): their answer to a caller they admit. */
const REDIRECTS = new Set(['GET /api/v1/auth/oidc/login', 'GET /api/v1/auth/oidc/callback']);

let s: TestServer;
let provider: TestProvider;
let creds: Credential[];
const values: Record<string, string> = {};
const bodies: Record<string, unknown> = {};
// One connection per request: a request the parser refuses cannot disturb the next one.
const keepAlive = new Agent({ keepAlive: false });

before(async () => {
  // Single sign-on with a real provider, so its routes answer as they do in use (redirects).
  const port = await freePort();
  const redirectUri = `http://127.0.0.1:${port}/api/v1/auth/oidc/callback`;
  provider = await startProvider({ redirectUri, accounts: {} });
  s = await startTestServer(
    trackerFeedV1(),
    {
      limits: { body: 1024 * 1024 },
      oidc: {
        issuer: provider.issuer,
        client_id: provider.clientId,
        client_secret_file: provider.secretFile,
        redirect_uri: redirectUri,
      },
    },
    { port },
  );
  const inv = await readInventory(BOOKWORM_ROOT, { kernel: '6.1.0-40-amd64' });
  const hostToken = await enrollTestHost(s, 'walk-a', 'web');
  const report = fullReportOf(inv, 'walk-a');
  assert.equal((await api(s.url, '/api/v1/reports', { token: hostToken, body: report, gzip: true })).status, 200);
  const revokedHost = await enrollTestHost(s, 'walk-revoked', 'web');
  const hosts = (await api(s.url, '/api/v1/hosts', { token: s.adminToken })).body as {
    items: { id: number; hostname: string }[];
  };
  const hostId = hosts.items.find((h) => h.hostname === 'walk-a')!.id;
  const revokedId = hosts.items.find((h) => h.hostname === 'walk-revoked')!.id;
  assert.equal(
    (await api(s.url, `/api/v1/hosts/${revokedId}/revoke`, { method: 'POST', token: s.adminToken })).status,
    200,
  );

  // A report file as the monthly job leaves it, for the download route to answer with.
  mkdirSync(join(s.dataDir, 'reports'), { recursive: true });
  writeFileSync(join(s.dataDir, 'reports', 'patchloop-report-2026-10.json'), '{}\n');

  const policy = { group: 'web', rings: [{ name: 'all' }] };
  assert.equal(
    (await api(s.url, '/api/v1/policies/web', { method: 'PUT', token: s.adminToken, body: policy })).status,
    201,
  );
  const run = samplePatchRun({
    id: 'walk-run-1',
    hostname: 'walk-a',
    finishedAt: new Date(s.clock.now()).toISOString(),
    group: 'web',
    policy: 'web',
  });
  assert.equal((await api(s.url, '/api/v1/agent/patch-runs', { token: hostToken, body: run })).status, 201);

  const enrolment = (
    await api(s.url, '/api/v1/enrollment-tokens', { token: s.adminToken, body: { name: 'walk', uses: 5 } })
  ).body as { id: number; token: string };
  const spareApi = (await api(s.url, '/api/v1/api-tokens', { token: s.adminToken, body: { name: 'spare' } })).body as {
    id: number;
    token: string;
  };
  const revokedApi = (await api(s.url, '/api/v1/api-tokens', { token: s.adminToken, body: { name: 'revoked' } }))
    .body as { id: number; token: string };
  assert.equal(
    (await api(s.url, `/api/v1/api-tokens/${revokedApi.id}`, { method: 'DELETE', token: s.adminToken })).status,
    204,
  );
  const feeds = (await api(s.url, '/api/v1/vulndb', { token: s.adminToken })).body as { feeds: { feed: string }[] };

  const logIn = async (username: string, password: string): Promise<{ cookie: string; csrf: string }> => {
    const login = await api(s.url, '/api/v1/auth/login', { body: { username, password } });
    assert.equal(login.status, 200, login.text);
    const cookie = login.headers
      .getSetCookie()
      .filter((c) => c.startsWith('patchloop_session='))
      .map((c) => c.split(';')[0])
      .join('; ');
    return { cookie, csrf: (login.body as { csrf_token: string }).csrf_token };
  };
  const { cookie, csrf } = await logIn('admin', ADMIN_PASSWORD);

  // People of each role, each with a session and an API token of that role (an operator makes
  // its own token, and one with the viewer role for a read-only script).
  const password = 'a walk account password';
  const account = async (username: string, role: Role): Promise<number> => {
    const r = await api(s.url, '/api/v1/users', { token: s.adminToken, body: { username, role, password } });
    assert.equal(r.status, 201, r.text);
    return (r.body as { id: number }).id;
  };
  const tokenBy = async (
    session: { cookie: string; csrf: string },
    name: string,
    role?: Role,
  ): Promise<{ status: number; token: string }> => {
    const r = await api(s.url, '/api/v1/api-tokens', {
      body: { name, ...(role ? { role } : {}) },
      headers: { cookie: session.cookie, 'x-csrf-token': session.csrf },
    });
    return { status: r.status, token: (r.body as { token: string }).token };
  };
  await account('walk-viewer', 'viewer');
  await account('walk-operator', 'operator');
  const demotedId = await account('walk-demoted', 'admin');
  const disabledId = await account('walk-disabled', 'admin');
  const viewer = await logIn('walk-viewer', password);
  const operator = await logIn('walk-operator', password);
  const demoted = await logIn('walk-demoted', password);
  const disabled = await logIn('walk-disabled', password);
  // The operator's own token, and one of the viewer role for a read-only script; an operator
  // cannot make an admin token, nor a viewer any token.
  const operatorApi = await tokenBy(operator, 'operator own');
  const viewerApi = await tokenBy(operator, 'read-only script', 'viewer');
  assert.deepEqual([operatorApi.status, viewerApi.status], [201, 201]);
  assert.equal((await tokenBy(operator, 'too high', 'admin')).status, 403);
  assert.equal((await tokenBy(viewer, 'viewer cannot')).status, 403);
  // Admins whose credentials outlive their role: one lowered to viewer, one disabled.
  const demotedApi = await tokenBy(demoted, 'made as admin');
  const disabledApi = await tokenBy(disabled, 'made before disabled');
  assert.equal(
    (await api(s.url, `/api/v1/users/${demotedId}`, { method: 'PATCH', token: s.adminToken, body: { role: 'viewer' } }))
      .status,
    200,
  );
  assert.equal(
    (
      await api(s.url, `/api/v1/users/${disabledId}`, {
        method: 'PATCH',
        token: s.adminToken,
        body: { disabled: true },
      })
    ).status,
    200,
  );
  const viewerAccount = (await api(s.url, '/api/v1/users', { token: s.adminToken })).body as {
    id: number;
    username: string;
  }[];

  const exception = (
    await api(s.url, '/api/v1/exceptions', {
      token: s.adminToken,
      body: { scope: { vulnerability: 'CVE-2099-1005' }, kind: 'false_positive', justification: 'walked' },
    })
  ).body as { id: number };
  Object.assign(values, {
    '/api/v1/exceptions/{id}': String(exception.id),
    '/api/v1/hosts/{id}': String(hostId),
    '/api/v1/users/{id}': String(viewerAccount.find((u) => u.username === 'walk-viewer')!.id),
    '/api/v1/api-tokens/{id}': String(spareApi.id),
    '/api/v1/enrollment-tokens/{id}': String(enrolment.id),
    '/api/v1/vulnerabilities/{id}': 'CVE-2099-1001',
    '/api/v1/policies/{name}': 'web',
    '/api/v1/monthly-reports/{file}': 'patchloop-report-2026-10.json',
    '/api/v1/patch-runs/{id}': run.id,
    '/api/v1/vulndb/{feed}': feeds.feeds[0].feed,
    '/api/v1/notifications/channels/{name}': 'walk',
    '/api/v1/notifications/rules/{id}': '1',
    '/api/v1/notifications/messages/{id}': '1',
  });
  Object.assign(bodies, {
    'POST /api/v1/auth/login': { username: 'admin', password: 'not the password' },
    'POST /api/v1/exceptions': { scope: { package: 'walked' }, kind: 'mitigated', justification: 'walked' },
    'PATCH /api/v1/exceptions/{id}': { owner: 'walked' },
    'POST /api/v1/exceptions/{id}/revoke': { reason: 'walked' },
    'POST /api/v1/exceptions/openvex': {
      '@context': 'https://openvex.dev/ns/v0.2.0',
      '@id': 'https://example.org/vex/walk',
      author: 'walk',
      timestamp: '2026-11-01T00:00:00Z',
      version: 1,
      statements: [{ vulnerability: { name: 'CVE-2099-1004' }, status: 'not_affected', impact_statement: 'walked' }],
    },
    'POST /api/v1/enroll': { token: enrolment.token, hostname: 'walk-new' },
    'POST /api/v1/api-tokens': { name: 'walked' },
    'POST /api/v1/enrollment-tokens': { name: 'walked', group: 'prod' },
    'POST /api/v1/reports': report,
    'PATCH /api/v1/hosts/{id}': { group: 'prod' },
    'PUT /api/v1/policies/{name}': { ...policy, description: 'walked' },
    'POST /api/v1/policies/{name}/preview': { text: 'group: web\nrings: [{ name: all }]\n' },
    'POST /api/v1/policies/{name}/rollback': { version: 1 },
    // A month not begun: refused at once (the rendering is the report tests' business).
    'POST /api/v1/monthly-reports': { month: '2099-01' },
    'POST /api/v1/auth/password': { current_password: password, new_password: 'a walked new password' },
    'POST /api/v1/users': { username: 'walk-new', role: 'admin', password: 'a walked new password' },
    'PATCH /api/v1/users/{id}': { role: 'admin' },
    'POST /api/v1/users/{id}/password': { password: 'a walked new password' },
    'POST /api/v1/agent/patch-runs': { ...run, id: 'walk-run-2' },
    'POST /api/v1/agent/boot': {
      run_id: run.id,
      hostname: 'walk-a',
      lease_id: null,
      boot_id: 'b-1',
      booted_at: run.finished_at,
      kernel: null,
      reboot_still_required: false,
    },
    'POST /api/v1/agent/reboot-lease': { action: 'acquire', run_id: run.id },
    'POST /api/v1/notifications/rules': { name: 'walked', trigger: 'host_stale', channels: ['walk'] },
    'PUT /api/v1/notifications/rules/{id}': { name: 'walked', trigger: 'host_stale', channels: ['walk'] },
  });

  const bearer = (t: string): Record<string, string> => ({ authorization: `Bearer ${t}` });
  creds = [
    { name: 'none', headers: {}, passes: nothing, spellings: true },
    {
      name: 'forged api token',
      headers: bearer('pla_forged-token-that-is-not-stored'),
      passes: nothing,
      spellings: true,
    },
    {
      name: 'forged host token',
      headers: bearer('plh_forged-token-that-is-not-stored'),
      passes: nothing,
      spellings: true,
    },
    { name: 'basic auth', headers: { authorization: 'Basic YWRtaW46Y29ycmVjdA==' }, passes: nothing, spellings: true },
    { name: 'enrolment token as bearer', headers: bearer(enrolment.token), passes: nothing, spellings: true },
    { name: 'revoked host token', headers: bearer(revokedHost), passes: nothing, spellings: true },
    { name: 'revoked api token', headers: bearer(revokedApi.token), passes: nothing, spellings: true },
    {
      name: 'forged session cookie',
      headers: { cookie: 'patchloop_session=pls_forged' },
      passes: nothing,
      spellings: true,
    },
    {
      name: 'host token',
      headers: bearer(hostToken),
      passes: (a) => a === 'public' || a === 'host' || a === 'host-or-viewer',
      spellings: true,
    },
    // Without its CSRF token a session reads but changes nothing.
    {
      name: 'session without CSRF',
      headers: { cookie },
      passes: (a, m) => a === 'public' || ((m === 'GET' || m === 'HEAD') && asRole('admin')(a)),
      spellings: true,
    },
    { name: 'admin session', headers: { cookie, 'x-csrf-token': csrf }, passes: asRole('admin'), spellings: true },
    { name: 'admin api token', headers: bearer(s.adminToken), passes: asRole('admin'), spellings: true },
    {
      name: 'operator session',
      headers: { cookie: operator.cookie, 'x-csrf-token': operator.csrf },
      passes: asRole('operator'),
    },
    { name: 'operator api token', headers: bearer(operatorApi.token), passes: asRole('operator') },
    {
      name: 'viewer session',
      headers: { cookie: viewer.cookie, 'x-csrf-token': viewer.csrf },
      passes: asRole('viewer'),
    },
    { name: 'viewer api token (made by an operator)', headers: bearer(viewerApi.token), passes: asRole('viewer') },
    {
      name: 'session of an admin lowered to viewer',
      headers: { cookie: demoted.cookie, 'x-csrf-token': demoted.csrf },
      passes: asRole('viewer'),
    },
    {
      name: 'admin-role token of an admin lowered to viewer',
      headers: bearer(demotedApi.token),
      passes: asRole('viewer'),
    },
    {
      name: 'session of a disabled account',
      headers: { cookie: disabled.cookie, 'x-csrf-token': disabled.csrf },
      passes: nothing,
    },
    { name: 'token of a disabled account', headers: bearer(disabledApi.token), passes: nothing },
  ];
});
after(async () => {
  keepAlive.destroy();
  await s.close();
  await provider.close();
});

/** A request the HTTP parser refused (connection closed with a 400). */
const PARSER_REFUSED = -400;

function raw(method: string, path: string, headers: Record<string, string>, body: unknown): Promise<number> {
  const u = new URL(s.url);
  const payload = body === undefined ? undefined : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        host: u.hostname,
        port: u.port,
        method,
        path,
        agent: keepAlive,
        headers: {
          ...headers,
          ...(payload !== undefined
            ? { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(payload)) }
            : {}),
        },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    // Node's HTTP parser refuses some request targets (a backslash) itself: it answers 400 and
    // closes the connection before any route or hook runs.
    req.on('error', (err: NodeJS.ErrnoException) =>
      err.code === 'ECONNRESET' || err.code?.startsWith('HPE_') ? resolve(PARSER_REFUSED) : reject(err),
    );
    req.end(payload);
  });
}

/** Spellings of a path that a normalising proxy, a browser or a lenient router might take for it. */
function spellings(path: string): string[] {
  const out = new Set<string>();
  for (let i = 0; i < path.length; i++) {
    const hex = path.charCodeAt(i).toString(16).padStart(2, '0');
    out.add(`${path.slice(0, i)}%${hex.toUpperCase()}${path.slice(i + 1)}`);
    out.add(`${path.slice(0, i)}%${hex.toLowerCase()}${path.slice(i + 1)}`);
  }
  const [, first, ...rest] = path.split('/');
  const tail = rest.join('/');
  for (const p of [
    `/${path}`,
    `/${first}//${tail}`,
    `/${first}/./${tail}`,
    `/./${first}/${tail}`,
    `/${first}/x/../${tail}`,
    `/x/../${first}/${tail}`,
    `/${first}/%2e/${tail}`,
    `/${first}/%2E%2E/${first}/${tail}`,
    `/%2561${first.slice(1)}/${tail}`,
    `/${first}%2F${tail.replace(/\//g, '%2F')}`,
    `/${first}%2f${tail}`,
    `/${first}\\${tail}`,
    `${path}/`,
    `${path}//`,
    `${path}/.`,
    `${path};x=1`,
    `/${first};x=1/${tail}`,
    `${path}%00`,
    path.toUpperCase(),
    `/${first.toUpperCase()}/${tail}`,
    path.replace(/\/([a-z])/g, (_, c: string) => `/${c.toUpperCase()}`),
  ]) {
    if (p !== path) out.add(p);
  }
  return [...out];
}

test(
  'every operation, credential and path spelling: nothing passes without the right credential; other spellings are 404',
  { timeout: 600_000 },
  async () => {
    const doc = (await api(s.url, '/api/docs')).body as { paths: Record<string, Record<string, unknown>> };
    const operations = Object.entries(doc.paths).flatMap(([path, ops]) =>
      Object.keys(ops).map((m) => ({ method: m.toUpperCase(), template: path })),
    );
    const described = operations.map((o) => `${o.method} ${o.template}`).sort();
    assert.deepEqual(
      described,
      Object.keys(EXPECTED).sort(),
      'the OpenAPI description lists exactly the operations this test knows',
    );

    const wrong: string[] = [];
    let requests = 0;
    for (const { method, template } of operations) {
      const key = `${method} ${template}`;
      const access = EXPECTED[key];
      // Values are keyed by the path up to the parameter: /api/v1/hosts/{id} also fills /api/v1/hosts/{id}/findings.
      const path = template.replace(
        /\{[a-z]+\}/,
        (param, at: number) => values[template.slice(0, at) + param] ?? assert.fail(`no value for ${template}`),
      );
      const body = bodies[key];
      const methods = method === 'GET' ? ['GET', 'HEAD'] : [method];
      for (const m of methods) {
        for (const cred of creds) {
          const allowed = cred.passes(access, m);
          // The canonical path: refused without the right credential; with it, reads answer (so
          // the ids above exist, and a refusal elsewhere is not a 404 in disguise). Changes made
          // with the right credential are the functional tests' business.
          if (allowed && m !== 'GET' && m !== 'HEAD') continue;
          const status = await raw(m, path, cred.headers, m === 'HEAD' ? undefined : body);
          requests++;
          const answered = REDIRECTS.has(key) ? status === 302 : status >= 200 && status <= 299;
          if (allowed ? !answered : ![401, 403].includes(status)) wrong.push(`${m} ${path} as ${cred.name}: ${status}`);
          // A neighbouring path (a parameter with a trailing space) is another resource: it must
          // not answer 2xx either, and is refused without the right credential.
          const neighbour = await raw(m, `${path}%20`, cred.headers, m === 'HEAD' ? undefined : body);
          requests++;
          if ((neighbour >= 200 && neighbour <= 299) || (!allowed && ![401, 403, 404].includes(neighbour)))
            wrong.push(`${m} ${path}%20 as ${cred.name}: ${neighbour}`);
          if (!cred.spellings) continue;
          for (const spelling of spellings(path)) {
            const st = await raw(m, spelling, cred.headers, m === 'HEAD' ? undefined : body);
            requests++;
            // A target that does not start with "/" is refused by the HTTP layer (400) before routing.
            const refusedEarly = st === PARSER_REFUSED || (st === 400 && !spelling.startsWith('/'));
            if (st !== 404 && !refusedEarly) wrong.push(`${m} ${spelling} as ${cred.name}: ${st} (expected 404)`);
          }
        }
      }
    }
    assert.deepEqual(
      wrong.slice(0, 400).filter((_, i) => i % 8 === 0),
      [],
      `${wrong.length} of ${requests} requests answered wrongly`,
    );
    assert.ok(requests > 10_000, `${requests} requests`);
  },
);

test('the dashboard pages and files are public; unknown and non-canonical paths outside the API are 404', async () => {
  for (const p of ['/', '/hosts', '/hosts/1', '/vulnerabilities/CVE-2099-1001', '/findings', '/patching', '/app.js'])
    assert.equal(await raw('GET', p, {}, undefined), 200, p);
  for (const p of [
    '/nope',
    '/API/v1/hosts',
    '/Hosts',
    '/hosts/',
    '//hosts',
    '/%68osts',
    '/hosts/1/x',
    '/app.js/',
    '/%2e%2e/etc/passwd',
    '/../etc/passwd',
  ]) {
    assert.equal(await raw('GET', p, {}, undefined), 404, p);
  }
});

test('the role table of docs/server.md says what this test expects: each route people change or that needs more than viewer, with its least role', () => {
  const doc = readFileSync(join(REPO_ROOT, 'docs/server.md'), 'utf8');
  const table = doc.slice(doc.indexOf('| least role | may | routes |'));
  const rows = table.slice(0, table.indexOf('\n\n')).split('\n').slice(2);
  assert.ok(rows.length > 5, 'the role table is in docs/server.md');
  // A route in several rows (an admin may do more with it) needs the least role of them.
  const least = new Map<string, Role>();
  for (const row of rows) {
    const [, role, , routes] = row.split('|').map((c) => c.trim());
    assert.ok(role in RANK, `a role: ${row}`);
    for (const m of routes.matchAll(/`(GET|POST|PUT|PATCH|DELETE) ([^`]+)`/g)) {
      const key = `${m[1]} ${m[2]}`;
      const before = least.get(key);
      if (!before || RANK[role as Role] < RANK[before]) least.set(key, role as Role);
    }
  }
  for (const [key, role] of least) assert.equal(EXPECTED[key], role, `docs/server.md: ${key}`);
  const needed = Object.entries(EXPECTED).filter(
    ([key, a]) => a === 'operator' || a === 'admin' || (a === 'viewer' && !key.startsWith('GET ')),
  );
  assert.deepEqual(
    needed.map(([k]) => k).filter((k) => !least.has(k)),
    [],
    'routes missing from the role table',
  );
});
