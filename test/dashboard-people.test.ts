// People in the dashboard, in Debian's chromium through playwright-core against a real server on
// loopback with a real OpenID provider (oidc-provider): single sign-on from the login page's
// button through the provider's pages back into the dashboard with the role of the groups claim;
// an admin managing accounts on the Users page; the Audit log page with its filters; one's own
// account (password, API tokens); and each role seeing only the controls it may use.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { launchBrowser, logIn, signOn } from './support/browser.ts';
import { freePort, startProvider, type TestProvider } from './support/oidc.ts';
import { REPO_ROOT } from './support/paths.ts';
import { api, ADMIN_PASSWORD, startTestServer, type TestServer } from './support/server.ts';
import { join } from 'node:path';

let s: TestServer;
let provider: TestProvider;
let browser: Browser;

const accounts = { olga: { preferred_username: 'olga', name: 'Olga Operator', groups: ['pl-operators'] } };

before(async () => {
  execFileSync('sh', [join(REPO_ROOT, 'scripts/build-web')], { stdio: 'pipe' });
  const port = await freePort();
  const redirectUri = `http://127.0.0.1:${port}/api/v1/auth/oidc/callback`;
  provider = await startProvider({ redirectUri, accounts });
  s = await startTestServer(
    null,
    {
      oidc: {
        issuer: provider.issuer,
        client_id: provider.clientId,
        client_secret_file: provider.secretFile,
        redirect_uri: redirectUri,
        scopes: ['openid', 'profile', 'groups'],
        role_map: { 'pl-operators': 'operator', 'pl-admins': 'admin' },
        label: 'Log in with Example ID',
      },
    },
    { port },
  );
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
  await s?.close();
  await provider?.close();
});

async function freshPage(): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  return { context, page: await context.newPage() };
}

async function navLabels(page: Page): Promise<string[]> {
  return (await page.locator('.sidebar nav a').allTextContents()).map((t) => t.trim());
}

test("single sign-on from the login page: the provider's pages, back in the dashboard as an operator", async () => {
  const { context, page } = await freshPage();
  try {
    // The provider's own login and consent pages.
    await signOn(page, s.url, 'olga', '/patching');
    assert.equal(new URL(page.url()).pathname, '/patching', 'back on the page asked for');
    assert.equal(await page.locator('.sidebar-foot [data-user]').getAttribute('data-user'), 'olga');
    assert.equal(await page.locator('.sidebar-foot [data-role]').textContent(), 'Operator');
    const nav = await navLabels(page);
    assert.ok(nav.includes('Audit log') && !nav.includes('Users'), nav.join(', '));
    // An operator reads the audit log, where its own login is.
    await page.getByRole('link', { name: 'Audit log' }).click();
    await page.locator('table[data-table="audit"] [data-action="auth.login"]').first().waitFor();
    assert.equal(
      await page
        .locator('table[data-table="audit"] tbody tr')
        .first()
        .locator('[data-actor]')
        .getAttribute('data-actor'),
      'olga',
    );
    // No Users page for an operator: the page says so, and the API agrees.
    await page.goto(`${s.url}/users`);
    await page.getByText('Only administrators manage accounts.').waitFor();
    assert.equal((await context.request.get(`${s.url}/api/v1/users`)).status(), 403);
    // The account page: single sign-on accounts have no password here; operators make tokens up to their role.
    await page.goto(`${s.url}/account`);
    await page.getByRole('heading', { name: 'API tokens' }).waitFor();
    assert.equal(await page.getByRole('heading', { name: 'Password' }).count(), 0);
    assert.deepEqual(await page.locator('select[name="token-role"] option').allTextContents(), ['Viewer', 'Operator']);
  } finally {
    await context.close();
  }
});

test('a failed single sign-on comes back to the login page with the reason', async () => {
  const { context, page } = await freshPage();
  try {
    await page.goto(`${s.url}/api/v1/auth/oidc/callback?state=forged&code=x`);
    await page.getByRole('alert').filter({ hasText: 'took too long or was used already' }).waitFor();
    assert.equal(await page.locator('.sidebar').count(), 0);
  } finally {
    await context.close();
  }
});

test('an admin manages accounts on the Users page and finds each change in the Audit log', async () => {
  const { context, page } = await freshPage();
  try {
    await logIn(page, s.url, ADMIN_PASSWORD, '/users');
    assert.deepEqual(await navLabels(page), [
      'Overview',
      'Hosts',
      'Vulnerabilities',
      'Findings',
      'Remediation',
      'Patching',
      'Policies',
      'Reports',
      'Exceptions',
      'Notifications',
      'Audit log',
      'Users',
    ]);
    await page.locator('input[name="new-username"]').fill('vic');
    await page.locator('select[name="new-role"]').selectOption('viewer');
    await page.locator('input[name="new-password"]').fill('vic first password');
    await page.getByRole('button', { name: 'Create account' }).click();
    const row = page
      .locator('table[data-table="users"] tbody tr')
      .filter({ has: page.locator('[data-username="vic"]') });
    await row.waitFor();
    await row.locator('select[name="role-vic"]').selectOption('operator');
    await page.waitForFunction(
      () => (document.querySelector('select[name="role-vic"]') as HTMLSelectElement | null)?.value === 'operator',
    );
    await row.getByRole('button', { name: 'Disable' }).click();
    await row.getByText('Disabled').waitFor();
    // The built-in administrator's row offers no role change and no disabling.
    const adminRow = page
      .locator('table[data-table="users"] tbody tr')
      .filter({ has: page.locator('[data-username="admin"]') });
    assert.equal(await adminRow.locator('select').count(), 0);
    assert.equal(await adminRow.getByRole('button', { name: 'Disable' }).count(), 0);
    const users = (await api(s.url, '/api/v1/users', { token: s.adminToken })).body as {
      username: string;
      role: string;
      disabled: boolean;
    }[];
    assert.deepEqual(
      users.filter((u) => u.username === 'vic').map((u) => [u.role, u.disabled]),
      [['operator', true]],
    );

    await page.getByRole('link', { name: 'Audit log' }).click();
    await page.locator('select[name="action"]').selectOption('user.*');
    await page.waitForFunction(() => new URL(location.href).searchParams.get('action') === 'user.*');
    await page.locator('table[data-table="audit"] tbody tr').first().waitFor();
    const actions = await page.locator('table[data-table="audit"] tbody [data-action]').allTextContents();
    assert.deepEqual(actions.slice(0, 3), ['user.update', 'user.update', 'user.create']);
    // The change itself: the role before and after.
    const summaries = await page.locator('table[data-table="audit"] tbody .audit-change summary').allTextContents();
    assert.ok(summaries.includes('role: "viewer" → "operator"'), summaries.join(' | '));
    assert.ok(summaries.includes('disabled: false → true'), summaries.join(' | '));
  } finally {
    await context.close();
  }
});

test('a viewer sees no change controls; their account page changes the password and ends the session', async () => {
  assert.equal(
    (
      await api(s.url, '/api/v1/users', {
        token: s.adminToken,
        body: { username: 'wendy', role: 'viewer', password: 'wendy first password' },
      })
    ).status,
    201,
  );
  const { context, page } = await freshPage();
  try {
    await page.goto(`${s.url}/`);
    await page.getByLabel('Username').fill('wendy');
    await page.getByLabel('Password').fill('wendy first password');
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.locator('.sidebar').waitFor();
    assert.equal(await page.locator('.sidebar-foot [data-role]').textContent(), 'Viewer');
    assert.deepEqual(await navLabels(page), [
      'Overview',
      'Hosts',
      'Vulnerabilities',
      'Findings',
      'Remediation',
      'Patching',
      'Policies',
      'Reports',
      'Exceptions',
      'Notifications',
    ]);
    await page.goto(`${s.url}/audit`);
    await page.getByText('The audit log is for operators and administrators.').waitFor();
    await page.locator('.sidebar-foot [data-user]').click();
    await page.getByRole('heading', { name: 'Password' }).waitFor();
    assert.equal(await page.getByRole('heading', { name: 'API tokens' }).count(), 0);
    await page.locator('input[name="current-password"]').fill('wendy first password');
    await page.locator('input[name="new-password"]').fill('wendy second password');
    await page.getByRole('button', { name: 'Change password' }).click();
    // Logged out: the login form again, and the new password opens the dashboard.
    await page.getByRole('button', { name: 'Log in' }).waitFor();
    await page.getByLabel('Username').fill('wendy');
    await page.getByLabel('Password').fill('wendy second password');
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.locator('.sidebar').waitFor();
  } finally {
    await context.close();
  }
});

test('API tokens on the account page: shown once, listed without the secret, revoked', async () => {
  const { context, page } = await freshPage();
  try {
    await logIn(page, s.url, ADMIN_PASSWORD, '/account');
    await page.locator('input[name="token-name"]').fill('nightly report');
    await page.locator('select[name="token-role"]').selectOption('viewer');
    await page.getByRole('button', { name: 'Create token' }).click();
    const token = await page.locator('input[name="new-token"]').inputValue();
    assert.match(token, /^pla_/);
    assert.equal((await api(s.url, '/api/v1/hosts', { token })).status, 200);
    assert.equal((await api(s.url, '/api/v1/users', { token })).status, 403, 'a viewer token, though made by an admin');
    const row = page
      .locator('table[data-table="api-tokens"] tbody tr')
      .filter({ has: page.locator('[data-token-name="nightly report"]') });
    await row.waitFor();
    assert.ok(!(await page.locator('table[data-table="api-tokens"]').textContent())!.includes(token));
    await row.getByRole('button', { name: 'Revoke nightly report' }).click();
    await row.getByText('Revoked').waitFor();
    assert.equal((await api(s.url, '/api/v1/hosts', { token })).status, 401);
  } finally {
    await context.close();
  }
});
