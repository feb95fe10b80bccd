// The Notifications page in Debian's chromium (playwright-core) against a real server on
// loopback with real receivers: an admin makes a rule in the form and sends a test message; a
// failed feed refresh's message is a dead letter, shown with its error (the URL redacted) and
// retried from the page; a viewer reads the page without any control to change it. No secret
// is on the page. A rule with every kind of filter (priority, host, not known exploited) is made
// in the form and keeps them through an edit.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { launchBrowser, logIn } from './support/browser.ts';
import { trackerFeedV1 } from './support/fixtures.ts';
import { secretFile, startHttpReceiver, type HttpReceiver } from './support/notify-receivers.ts';
import { REPO_ROOT } from './support/paths.ts';
import { ADMIN_PASSWORD, api, startTestServer, type TestServer } from './support/server.ts';

const TOKEN = 'dashboard-token-never-shown';
const HOOK_SECRET = 'dashboard-hmac-never-shown';

let s: TestServer;
let hooks: HttpReceiver;
let broken: HttpReceiver;
let browser: Browser;

before(async () => {
  execFileSync('sh', [join(REPO_ROOT, 'scripts/build-web')], { stdio: 'pipe' });
  hooks = await startHttpReceiver();
  broken = await startHttpReceiver();
  broken.status = 503;
  const dir = mkdtempSync(join(tmpdir(), 'patchloop-notify-web-'));
  s = await startTestServer(trackerFeedV1(), {
    feeds: { refresh_interval: 0, sources: [{ name: 'debian', from: [join(dir, 'missing.json')] }] },
    notifications: {
      interval: '1h',
      max_attempts: 1,
      channels: [
        {
          name: 'hook',
          type: 'webhook',
          url_file: secretFile(dir, 'hook-url', `${hooks.url}/hook/${TOKEN}`),
          secret_file: secretFile(dir, 'hook-secret', HOOK_SECRET),
        },
        {
          name: 'broken',
          type: 'webhook',
          url_file: secretFile(dir, 'broken-url', `${broken.url}/hook/${TOKEN}`),
          secret_file: secretFile(dir, 'broken-secret', HOOK_SECRET),
        },
      ],
    },
  });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await s?.close();
  await hooks?.close();
  await broken?.close();
});

test('an admin makes a rule, sends a test, and retries a dead letter; a viewer only reads', async () => {
  const page = await browser.newPage();
  await logIn(page, s.url, ADMIN_PASSWORD, '/notifications');
  await page.locator('[data-channel="hook"]').waitFor();

  // A rule made in the form.
  const form = page.locator('form[data-form="new-rule"]');
  await form.locator('input[name="rule-name"]').fill('feeds down');
  await form.locator('select[name="rule-trigger"]').selectOption('feed_refresh_failed');
  await form.locator('input[name="rule-channel-broken"]').check();
  await form.getByRole('button', { name: 'Create rule' }).click();
  await page.locator('[data-rule="feeds down"]').waitFor();
  const rules = (await api(s.url, '/api/v1/notifications/rules', { token: s.adminToken })).body as {
    name: string;
    trigger: string;
    channels: string[];
    throttle_seconds: number;
  }[];
  assert.deepEqual(rules, [
    { ...rules[0], name: 'feeds down', trigger: 'feed_refresh_failed', channels: ['broken'], throttle_seconds: 0 },
  ]);

  // Changed in the same form: at most one message per 15 minutes.
  await page
    .locator('tr', { has: page.locator('[data-rule="feeds down"]') })
    .getByRole('button', { name: 'Edit' })
    .click();
  const edit = page.locator('form[data-form="edit-rule"]');
  assert.equal(await edit.locator('input[name="rule-name"]').inputValue(), 'feeds down');
  await edit.locator('input[name="rule-throttle"]').fill('15');
  await edit.getByRole('button', { name: 'Save rule' }).click();
  await page.locator('tr', { hasText: 'at most every 15 min' }).waitFor();
  const changed = (await api(s.url, '/api/v1/notifications/rules', { token: s.adminToken })).body as {
    throttle_seconds: number;
    channels: string[];
    enabled: boolean;
  }[];
  assert.deepEqual(
    changed.map((r) => [r.throttle_seconds, r.channels, r.enabled]),
    [[900, ['broken'], true]],
  );

  // A test message.
  await page.locator('[data-test-channel="hook"]').click();
  await page.locator('[data-test-result="hook"]', { hasText: 'Sent' }).waitFor();
  assert.equal(hooks.received.length, 1);
  assert.equal(hooks.received[0].headers['x-patchloop-event'], 'test');

  // A dead letter, shown with its error, retried from the page.
  assert.equal((await s.running.refreshNow())?.outcome, 'failed');
  await s.running.ctx.notify.runOnce();
  await page.reload();
  await page.locator('select[name="message-state"]').selectOption('dead');
  const row = page.locator('[data-state="dead"]');
  await row.waitFor();
  assert.match((await row.textContent()) ?? '', /dead letter.*HTTP 503: refused \[redacted\]/);
  const id = await page.locator('[data-retry]').getAttribute('data-retry');
  broken.status = 200;
  await page.locator(`[data-retry="${id}"]`).click();
  await page.locator('[data-retry]').waitFor({ state: 'detached' });
  await s.running.ctx.notify.runOnce();
  await page.locator('select[name="message-state"]').selectOption('sent');
  await page.locator(`[data-message="${id}"]`).waitFor();
  assert.equal(broken.received.length, 2);

  const html = await page.content();
  for (const secret of [TOKEN, HOOK_SECRET, hooks.url, broken.url]) assert.ok(!html.includes(secret), secret);
  await page.close();

  // A viewer: the same page, no control that changes anything.
  const made = await api(s.url, '/api/v1/users', {
    token: s.adminToken,
    body: { username: 'vera', role: 'viewer', password: 'a viewer password' },
  });
  assert.equal(made.status, 201, made.text);
  const viewer = await browser.newPage();
  await viewer.goto(`${s.url}/notifications`);
  await viewer.getByLabel('Username').fill('vera');
  await viewer.getByLabel('Password').fill('a viewer password');
  await viewer.getByRole('button', { name: 'Log in' }).click();
  await viewer.locator('[data-rule="feeds down"]').waitFor();
  await viewer.locator('[data-channel="hook"]').waitFor();
  assert.equal(await viewer.locator('form[data-form="new-rule"]').count(), 0);
  assert.equal(await viewer.locator('[data-test-channel]').count(), 0);
  assert.equal(await viewer.getByRole('button', { name: 'Switch off' }).count(), 0);
  assert.equal(await viewer.getByRole('link', { name: 'Notifications' }).count(), 1);
  await viewer.close();
});

test("every filter of a rule is set in the form and an edit of the rule's throttle keeps them all", async () => {
  type StoredRule = { name: string; trigger: string; filter: Record<string, unknown>; throttle_seconds: number };
  const stored = async (name: string): Promise<StoredRule | undefined> =>
    ((await api(s.url, '/api/v1/notifications/rules', { token: s.adminToken })).body as StoredRule[]).find(
      (r) => r.name === name,
    );
  const page = await browser.newPage();
  await logIn(page, s.url, ADMIN_PASSWORD, '/notifications');
  await page.locator('[data-channel="hook"]').waitFor();

  // New P1/P2 findings on two named hosts that are not on the known-exploited list.
  const form = page.locator('form[data-form="new-rule"]');
  await form.locator('input[name="rule-name"]').fill('urgent not kev');
  await form.locator('select[name="rule-trigger"]').selectOption('new_finding');
  await form.locator('input[name="rule-priority-P1"]').check();
  await form.locator('input[name="rule-priority-P2"]').check();
  await form.locator('select[name="rule-kev"]').selectOption('false');
  await form.locator('input[name="rule-hosts"]').fill('web-1, db-1');
  await form.locator('input[name="rule-channel-hook"]').check();
  await form.getByRole('button', { name: 'Create rule' }).click();
  await page.locator('tr', { has: page.locator('[data-rule="urgent not kev"]') }).waitFor();
  const filter = { kev: false, priorities: ['P1', 'P2'], hosts: ['web-1', 'db-1'] };
  const made = await stored('urgent not kev');
  assert.deepEqual([made?.trigger, made?.filter, made?.throttle_seconds], ['new_finding', filter, 0]);
  const row = page.locator('tr', { has: page.locator('[data-rule="urgent not kev"]') });
  assert.match((await row.textContent()) ?? '', /not KEV, priority P1\/P2, host web-1\/db-1/);

  // The edit form shows every filter; a new throttle leaves them as they were.
  await row.getByRole('button', { name: 'Edit' }).click();
  const edit = page.locator('form[data-form="edit-rule"]');
  assert.equal(await edit.locator('select[name="rule-kev"]').inputValue(), 'false');
  assert.equal(await edit.locator('input[name="rule-priority-P1"]').isChecked(), true);
  assert.equal(await edit.locator('input[name="rule-priority-P3"]').isChecked(), false);
  assert.equal(await edit.locator('input[name="rule-hosts"]').inputValue(), 'web-1, db-1');
  await edit.locator('input[name="rule-throttle"]').fill('30');
  await edit.getByRole('button', { name: 'Save rule' }).click();
  await edit.waitFor({ state: 'detached' });
  await page
    .locator('tr', { has: page.locator('[data-rule="urgent not kev"]'), hasText: 'at most every 30 min' })
    .waitFor();
  const changed = await stored('urgent not kev');
  assert.deepEqual([changed?.filter, changed?.throttle_seconds], [filter, 1800]);
  await page.close();
});
