// Exceptions in the dashboard, in Debian's chromium through playwright-core against a real server
// on loopback (the real bookworm host's packages, a Debian tracker feed) with a real OpenID
// provider: an operator signs on, makes an exception from a finding, sees the open KPIs drop and
// the finding counted as excepted; the server's clock passes the expiry and the finding reopens,
// with the rule shown as expired. A second rule made on the Exceptions page is revoked there. A
// third rule's expiry is changed on the page: the form shows the API's own message for an expiry
// too far away, and a good one is the rule's next version, in its versions and through the API.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { readInventory } from '../src/inventory/index.ts';
import { launchBrowser, signOn, kpiValue } from './support/browser.ts';
import { BOOKWORM_ROOT, trackerFeedV1 } from './support/fixtures.ts';
import { freePort, startProvider, type TestProvider } from './support/oidc.ts';
import { REPO_ROOT } from './support/paths.ts';
import { api, enrollTestHost, fullReportOf, startTestServer, type TestServer } from './support/server.ts';
import { until } from './support/until.ts';

let s: TestServer;
let provider: TestProvider;
let browser: Browser;
const HOUR_MS = 3_600_000;

before(async () => {
  execFileSync('sh', [join(REPO_ROOT, 'scripts/build-web')], { stdio: 'pipe' });
  const port = await freePort();
  const redirectUri = `http://127.0.0.1:${port}/api/v1/auth/oidc/callback`;
  provider = await startProvider({
    redirectUri,
    accounts: { olga: { preferred_username: 'olga', name: 'Olga Operator', groups: ['pl-operators'] } },
  });
  s = await startTestServer(
    trackerFeedV1(),
    {
      oidc: {
        issuer: provider.issuer,
        client_id: provider.clientId,
        client_secret_file: provider.secretFile,
        redirect_uri: redirectUri,
        scopes: ['openid', 'profile', 'groups'],
        role_map: { 'pl-operators': 'operator' },
        label: 'Log in with Example ID',
      },
      exceptions: { max_days: 180, check_interval: '100ms' },
    },
    { port },
  );
  const inv = await readInventory(BOOKWORM_ROOT, { kernel: '6.1.0-40-amd64' });
  for (const host of ['web-1', 'web-2']) {
    const token = await enrollTestHost(s, host, 'web');
    assert.equal((await api(s.url, '/api/v1/reports', { token, body: fullReportOf(inv, host) })).status, 200);
  }
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
  await s?.close();
  await provider?.close();
});

async function openKpi(page: Page): Promise<number> {
  await page.goto(`${s.url}/`);
  await page.locator('[data-kpi="open"] [data-value]').waitFor();
  return kpiValue(page, 'open');
}

test('an operator excepts a finding: the open KPIs drop; when the clock passes the expiry the finding reopens', async () => {
  const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
  const page = await context.newPage();
  try {
    // The day the rule will end: signed on in the afternoon, the session outlives the rule's last day.
    s.clock.set('2026-11-10T13:00:00Z');
    await signOn(page, s.url, 'olga', '/');
    const openBefore = await openKpi(page);

    // From the findings page: CVE-2099-1002 in zlib on web-1.
    await page.goto(`${s.url}/findings?vulnerability=CVE-2099-1002`);
    const rows = page.locator('table[data-table="findings"] tbody tr');
    await until(async () => (await rows.count()) === 2, 'both hosts listed');
    const row = rows.filter({ hasText: 'web-1' });
    await row.locator('[data-except]').click();
    const form = page.locator('form[data-form="new-exception"]');
    assert.equal(await form.locator('input[name="scope-vulnerability"]').inputValue(), 'CVE-2099-1002');
    assert.equal(await form.locator('input[name="scope-package"]').inputValue(), 'zlib');
    assert.equal(await form.locator('input[name="scope-host"]').inputValue(), 'web-1');
    await form.locator('select[name="kind"]').selectOption('accepted_risk');
    // The rule runs to the end of today (UTC).
    await form.locator('input[name="expires"]').fill('2026-11-10');
    await form.locator('input[name="owner"]').fill('web-team');
    await form.locator('textarea[name="justification"]').fill('zlib only inflates our own assets on web-1');
    await form.getByRole('button', { name: 'Create exception' }).click();
    await form.waitFor({ state: 'detached' });
    await until(async () => (await rows.count()) === 1, 'the excepted finding to leave the open list');
    assert.match((await rows.first().textContent())!, /web-2/);

    // The KPIs: one open finding fewer, one excepted (expiring within the week).
    assert.equal(await openKpi(page), openBefore - 1);
    await until(async () => (await kpiValue(page, 'excepted')) === 1, 'the overview to count one excepted finding');
    assert.match((await page.locator('[data-kpi="excepted"]').textContent())!, /1 expire this week/);
    await page.goto(`${s.url}/exceptions`);
    await page.locator('[data-kpi="excepted"] [data-value]').waitFor();
    assert.equal(await kpiValue(page, 'excepted'), 1);
    const rule = page.locator('table[data-table="exceptions"] tbody tr').first();
    assert.match((await rule.textContent())!, /Accepted risk.*vulnerability CVE-2099-1002 · package zlib · host web-1/);
    assert.equal(await rule.locator('[data-state]').getAttribute('data-state'), 'active');
    await page.goto(`${s.url}/findings?state=excepted`);
    await page.locator('table[data-table="findings"] [data-excepted-by]').first().waitFor();
    assert.equal(await page.locator('table[data-table="findings"] tbody tr').count(), 1);

    // Past midnight the rule has expired: the finding is open again and the KPI back.
    s.clock.advance(11.5 * HOUR_MS);
    await until(
      async () =>
        ((await api(s.url, '/api/v1/exceptions/summary', { token: s.adminToken })).body as { excepted: number })
          .excepted === 0,
      'the expired rule to give its finding back',
    );
    assert.equal(await openKpi(page), openBefore);
    await until(async () => (await kpiValue(page, 'excepted')) === 0, 'the overview to count no excepted finding');
    await page.goto(`${s.url}/findings?vulnerability=CVE-2099-1002`);
    await until(async () => (await rows.count()) === 2, 'the finding to be listed as open again');
    await page.goto(`${s.url}/exceptions?state=expired`);
    await page.locator('table[data-table="exceptions"] [data-state="expired"]').waitFor();
    const events = await context.request.get(`${s.url}/api/v1/events?type=reopened`);
    const reopened = ((await events.json()) as { items: { cause: string; host: { hostname: string } }[] }).items;
    assert.deepEqual(
      reopened.map((e) => [e.host.hostname, e.cause]),
      [['web-1', 'exception expired']],
    );
  } finally {
    await context.close();
  }
});

test('a rule made on the Exceptions page is revoked there and its findings reopen', async () => {
  const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
  const page = await context.newPage();
  try {
    await signOn(page, s.url, 'olga', '/exceptions');
    const openBefore = await openKpi(page);
    await page.goto(`${s.url}/exceptions`);
    await page.locator('[data-new-exception]').click();
    const form = page.locator('form[data-form="new-exception"]');
    await form.locator('input[name="scope-package"]').fill('curl');
    await form.locator('input[name="scope-group"]').fill('web');
    await form.locator('select[name="kind"]').selectOption('mitigated');
    await form.locator('input[name="expires"]').fill('');
    await form.locator('textarea[name="justification"]').fill('outbound traffic is blocked');
    await form.getByRole('button', { name: 'Create exception' }).click();
    await form.waitFor({ state: 'detached' });
    const row = page.locator('table[data-table="exceptions"] tbody tr').filter({ hasText: 'package curl' });
    await row.waitFor();
    assert.match((await row.textContent())!, /Mitigated/);
    await until(async () => (await kpiValue(page, 'excepted')) === 2, 'both hosts excepted');
    assert.equal(await openKpi(page), openBefore - 2);

    await page.goto(`${s.url}/exceptions?state=active`);
    await row.locator('[data-revoke]').click();
    await row.locator('input[name="revoke-reason"]').fill('the firewall rule was lifted');
    await row.locator('[data-confirm-revoke]').click();
    await page.locator('table[data-table="exceptions"] tbody tr').filter({ hasText: 'package curl' }).waitFor({
      state: 'detached',
    });
    assert.equal(await openKpi(page), openBefore);
  } finally {
    await context.close();
  }
});

test("an operator changes a rule's expiry on the Exceptions page: the API's checks and messages, a new version", async () => {
  type Detail = {
    version: number;
    expires_at: string | null;
    owner: string | null;
    versions: { version: number; change: string; by: string; rule: { expires_at: string | null } }[];
  };
  s.clock.set('2026-11-20T09:00:00Z');
  const made = await api(s.url, '/api/v1/exceptions', {
    token: s.adminToken,
    body: {
      scope: { vulnerability: 'CVE-2099-1002', host: 'web-2' },
      kind: 'accepted_risk',
      justification: 'zlib is only used by a tool nobody runs on web-2',
      owner: 'web-team',
      expires_at: '2026-12-01',
    },
  });
  assert.equal(made.status, 201, made.text);
  const id = (made.body as { id: number }).id;
  const detail = async () => (await api(s.url, `/api/v1/exceptions/${id}`, { token: s.adminToken })).body as Detail;

  const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
  const page = await context.newPage();
  try {
    await signOn(page, s.url, 'olga', '/exceptions?state=active');
    await page.locator(`[data-edit="${id}"]`).click();
    const form = page.locator(`form[data-form="edit-exception"][data-exception="${id}"]`);
    assert.equal(await form.locator('input[name="expires"]').inputValue(), '2026-12-01');
    assert.equal(await form.locator('input[name="owner"]').inputValue(), 'web-team');

    // More than exceptions.max_days (180) away: refused with the message the API gives.
    const tooFar = await api(s.url, `/api/v1/exceptions/${id}`, {
      token: s.adminToken,
      method: 'PATCH',
      body: { expires_at: '2027-06-01' },
    });
    assert.equal(tooFar.status, 400, tooFar.text);
    await form.locator('input[name="expires"]').fill('2027-06-01');
    await form.getByRole('button', { name: 'Save exception' }).click();
    await form.getByRole('alert').waitFor();
    assert.equal(await form.getByRole('alert').textContent(), (tooFar.body as { message: string }).message);
    assert.equal((await detail()).version, 1);

    // Two weeks more: the rule's second version, by the operator; nothing else changed.
    await form.locator('input[name="expires"]').fill('2026-12-15');
    await form.getByRole('button', { name: 'Save exception' }).click();
    await form.waitFor({ state: 'detached' });
    const versions = page.locator(`[data-versions="${id}"] li`);
    await until(async () => (await versions.count()) === 2, 'the new version listed with the rule');
    assert.match((await versions.nth(1).textContent())!, /^v2 updated .* by olga$/);
    const row = page.locator('table[data-table="exceptions"] tbody tr', { has: page.locator(`[data-edit="${id}"]`) });
    assert.match((await row.textContent())!, /2026-12-15/);
    const after = await detail();
    assert.deepEqual([after.version, after.expires_at, after.owner], [2, '2026-12-15T23:59:59.999Z', 'web-team']);
    assert.deepEqual(
      after.versions.map((v) => [v.version, v.change, v.by, v.rule.expires_at]),
      [
        [1, 'created', after.versions[0].by, '2026-12-01T23:59:59.999Z'],
        [2, 'updated', 'olga', '2026-12-15T23:59:59.999Z'],
      ],
    );
  } finally {
    await context.close();
  }
});
