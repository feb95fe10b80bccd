// The team's workflow end to end, as people meet it: an operator signs on through a real OpenID
// provider, makes an exception (accepted risk with an expiry) from a finding in Debian's chromium,
// and sees the overview's KPIs move; the server's clock passes the expiry, the finding reopens with
// the cause "exception expired", and the on-call webhook hears of it once, signed with the key of
// server.yaml. Every component is the real one on loopback: the server (the real bookworm host's
// packages, a Debian tracker feed), the OpenID provider, the webhook receiver and the browser.
// Every figure the page shows is checked against the API's.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { readConfigFile } from '../src/config/load.ts';
import { readInventory } from '../src/inventory/index.ts';
import { WebhookPayloadSchema, type WebhookPayload } from '../src/server/api/notification-schemas.ts';
import type { ServerConfigInput } from '../src/server/config.ts';
import { launchBrowser, signOn, kpiValue } from './support/browser.ts';
import { BOOKWORM_ROOT, trackerFeedV1 } from './support/fixtures.ts';
import { secretFile, startHttpReceiver, type HttpReceiver, type Received } from './support/notify-receivers.ts';
import { freePort, startProvider, type TestProvider } from './support/oidc.ts';
import { REPO_ROOT } from './support/paths.ts';
import { api, enrollTestHost, fullReportOf, startTestServer, type TestServer } from './support/server.ts';
import { until } from './support/until.ts';

const HOOK_SECRET = 'on-call hmac key of the walk';
const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

let s: TestServer;
let provider: TestProvider;
let hooks: HttpReceiver;
let browser: Browser;

interface Overview {
  open: { total: number };
}
interface Summary {
  excepted: number;
  expiring: number;
  active_rules: number;
}
interface FindingsPage {
  total: number;
  items: { state: string; exception_id: number | null; host: { hostname: string }; vulnerability: string }[];
}
interface Exception {
  id: number;
  kind: string;
  state: string;
  created_by: string;
  expires_at: string | null;
  owner: string | null;
  justification: string;
  held: number;
}
interface Message {
  id: number;
  delivery_id: string;
  rule: { name: string } | null;
  channel: string;
  state: string;
  events: number;
}

async function get<T>(path: string): Promise<T> {
  const r = await api(s.url, path, { token: s.adminToken });
  assert.equal(r.status, 200, `${path}: ${r.text}`);
  return r.body as T;
}

/** The walk's on-call posts, each checked: signed with the channel's key over the exact bytes received. */
function signedPosts(): { request: Received; payload: WebhookPayload }[] {
  return hooks.received
    .filter((r) => r.path === '/oncall')
    .map((request) => {
      const ts = request.headers['x-patchloop-timestamp'] as string;
      const expected = `sha256=${createHmac('sha256', HOOK_SECRET).update(`${ts}.${request.body}`).digest('hex')}`;
      assert.equal(request.headers['x-patchloop-signature'], expected, 'signed with the key of server.yaml');
      // Signed by the wall clock, as a receiver's replay window (five minutes, as the docs suggest) needs.
      assert.ok(Math.abs(Number(ts) - Date.now() / 1000) <= 300, `timestamp ${ts} within a receiver's window`);
      assert.equal(request.headers['x-patchloop-event'], 'rule');
      const payload = WebhookPayloadSchema.parse(JSON.parse(request.body));
      assert.equal(request.headers['x-patchloop-delivery'], payload.id);
      return { request, payload };
    });
}

before(async () => {
  execFileSync('sh', [join(REPO_ROOT, 'scripts/build-web')], { stdio: 'pipe' });
  hooks = await startHttpReceiver();
  const port = await freePort();
  const redirectUri = `http://127.0.0.1:${port}/api/v1/auth/oidc/callback`;
  provider = await startProvider({
    redirectUri,
    accounts: { olga: { preferred_username: 'olga', name: 'Olga Operator', groups: ['pl-operators'] } },
  });

  // server.yaml as an operator writes it: the secrets (the hook's URL and signing key) in files
  // of mode 0600 beside it; read by the server's own configuration reader.
  const dir = mkdtempSync(join(tmpdir(), 'patchloop-walk-'));
  const urlFile = secretFile(dir, 'oncall-url', `${hooks.url}/oncall`);
  const keyFile = secretFile(dir, 'oncall-hmac-key', HOOK_SECRET);
  const yamlFile = join(dir, 'server.yaml');
  writeFileSync(
    yamlFile,
    [
      'oidc:',
      `  issuer: ${provider.issuer}`,
      `  client_id: ${provider.clientId}`,
      `  client_secret_file: ${provider.secretFile}`,
      `  redirect_uri: ${redirectUri}`,
      '  scopes: [openid, profile, groups]',
      '  role_map: { pl-operators: operator }',
      '  label: Log in with Example ID',
      'exceptions:',
      '  max_days: 180',
      '  check_interval: 100ms',
      'notifications:',
      '  interval: 200ms',
      '  dashboard_url: https://patchloop.example.test/',
      '  channels:',
      '    - name: oncall',
      '      type: webhook',
      `      url_file: ${urlFile}`,
      `      secret_file: ${keyFile}`,
      '',
    ].join('\n'),
  );
  const config = readConfigFile(yamlFile).data as Partial<ServerConfigInput>;
  s = await startTestServer(trackerFeedV1(), config, { port });

  const inv = await readInventory(BOOKWORM_ROOT, { kernel: '6.1.0-40-amd64' });
  for (const host of ['web-1', 'web-2']) {
    const token = await enrollTestHost(s, host, 'web');
    assert.equal((await api(s.url, '/api/v1/reports', { token, body: fullReportOf(inv, host) })).status, 200);
  }
  // The admin's rules (made after the hosts' first reports, which they do not tell): web-1's
  // findings, new or reopened, and its exceptions a week before they end.
  for (const body of [
    { name: 'web-1 findings', trigger: 'new_finding', filter: { hosts: ['web-1'] }, channels: ['oncall'] },
    {
      name: 'web-1 exceptions ending',
      trigger: 'exception_expiring',
      filter: { hosts: ['web-1'] },
      channels: ['oncall'],
      days: 7,
    },
  ]) {
    const r = await api(s.url, '/api/v1/notifications/rules', { token: s.adminToken, body });
    assert.equal(r.status, 201, r.text);
  }
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await s?.close();
  await provider?.close();
  await hooks?.close();
});

/** The overview as the browser shows it, once both its KPIs have loaded. */
async function overviewKpis(page: Page): Promise<{ open: number; excepted: number }> {
  await page.goto(`${s.url}/`);
  await page.locator('[data-kpi="open"] [data-value]').waitFor();
  await until(
    async () => /^[\d,]+$/.test((await page.locator('[data-kpi="excepted"] [data-value]').textContent()) ?? ''),
    'the excepted tile',
  );
  return { open: await kpiValue(page, 'open'), excepted: await kpiValue(page, 'excepted') };
}

/** The same figures from the API (an admin token, a second reader beside the operator's session). */
async function apiKpis(): Promise<{ open: number; excepted: number }> {
  const ov = await get<Overview>('/api/v1/stats/overview');
  const sum = await get<Summary>('/api/v1/exceptions/summary');
  return { open: ov.open.total, excepted: sum.excepted };
}

/** The open findings of the walk's vulnerability, as the API counts them. */
async function openFindingsOfCve(): Promise<number> {
  return (await get<FindingsPage>('/api/v1/findings?vulnerability=CVE-2099-1002')).total;
}

async function web1Finding(context: BrowserContext): Promise<FindingsPage['items'][number]> {
  // Read with the operator's own session: what the person may see.
  const r = await context.request.get(`${s.url}/api/v1/findings?vulnerability=CVE-2099-1002&state=all`);
  assert.equal(r.status(), 200);
  const items = ((await r.json()) as FindingsPage).items.filter((f) => f.host.hostname === 'web-1');
  assert.equal(items.length, 1);
  return items[0];
}

test('SSO operator → exception from a finding → KPIs move → the rule expires → the finding reopens and the webhook hears once', async () => {
  const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
  const page = await context.newPage();
  try {
    // Signed on in the afternoon: the session outlives the rule, which ends at midnight.
    s.clock.set('2026-11-10T13:00:00Z');
    await signOn(page, s.url, 'olga');
    const who = await context.request.get(`${s.url}/api/v1/auth/session`);
    const session = (await who.json()) as { username: string; role: string; via: string };
    assert.deepEqual([session.username, session.role, session.via], ['olga', 'operator', 'sso']);

    const start = await overviewKpis(page);
    assert.deepEqual(start, await apiKpis());
    assert.equal(start.excepted, 0);
    assert.ok(start.open > 0);
    // Nothing yet for the on-call hook: the first reports came before the rules.
    await s.running.ctx.notify.runOnce();
    assert.equal(signedPosts().length, 0);

    // From the finding: CVE-2099-1002 in zlib on web-1, an accepted risk until the end of today.
    await page.goto(`${s.url}/findings?vulnerability=CVE-2099-1002`);
    const rows = page.locator('table[data-table="findings"] tbody tr');
    await until(async () => (await rows.count()) === 2, 'both hosts listed');
    assert.equal(await openFindingsOfCve(), 2);
    await rows.filter({ hasText: 'web-1' }).locator('[data-except]').click();
    const form = page.locator('form[data-form="new-exception"]');
    assert.equal(await form.locator('input[name="scope-vulnerability"]').inputValue(), 'CVE-2099-1002');
    assert.equal(await form.locator('input[name="scope-host"]').inputValue(), 'web-1');
    await form.locator('select[name="kind"]').selectOption('accepted_risk');
    await form.locator('input[name="expires"]').fill('2026-11-10');
    await form.locator('input[name="owner"]').fill('web-team');
    await form.locator('textarea[name="justification"]').fill('zlib only inflates our own assets on web-1');
    await form.getByRole('button', { name: 'Create exception' }).click();
    await form.waitFor({ state: 'detached' });
    await until(async () => (await rows.count()) === 1, 'the excepted finding to leave the open list');
    assert.equal(await openFindingsOfCve(), 1);

    // The rule as the API holds it: made by the person who signed on.
    const list = await get<{ items: Exception[] }>('/api/v1/exceptions');
    assert.equal(list.items.length, 1);
    const rule = list.items[0];
    assert.deepEqual(
      [rule.kind, rule.state, rule.created_by, rule.owner, rule.justification, rule.held],
      ['accepted_risk', 'active', 'olga', 'web-team', 'zlib only inflates our own assets on web-1', 1],
    );
    assert.ok(rule.expires_at && Date.parse(rule.expires_at) > s.clock.now(), 'ends later today');
    const held = await web1Finding(context);
    assert.deepEqual([held.state, held.exception_id], ['excepted', rule.id]);

    // The KPIs: one open finding fewer, one excepted (expiring this week); the page shows the API's figures.
    const excepted = await overviewKpis(page);
    assert.deepEqual(excepted, { open: start.open - 1, excepted: 1 });
    assert.deepEqual(excepted, await apiKpis());
    const summary = await get<Summary>('/api/v1/exceptions/summary');
    assert.deepEqual([summary.expiring, summary.active_rules], [1, 1]);
    assert.match(
      (await page.locator('[data-kpi="excepted"]').textContent())!,
      new RegExp(`${summary.expiring} expire this week`),
    );

    // The rule ends within the week: the on-call hook is told that once.
    await until(() => hooks.received.length >= 1, 'the hook to hear of the rule ending this week');
    let posts = signedPosts();
    assert.equal(posts.length, 1);
    assert.equal(posts[0].payload.rule?.name, 'web-1 exceptions ending');
    assert.deepEqual(
      posts[0].payload.events.map((e) => [e.trigger, e.detail.exception_id]),
      [['exception_expiring', rule.id]],
    );

    // Past midnight the rule has expired: the finding is open again, the KPIs back where they were.
    s.clock.advance(11.5 * HOUR_MS);
    await until(async () => (await apiKpis()).excepted === 0, 'the expired rule to give its finding back');
    const reopenedKpis = await overviewKpis(page);
    assert.deepEqual(reopenedKpis, start);
    assert.deepEqual(reopenedKpis, await apiKpis());
    const back = await web1Finding(context);
    assert.deepEqual([back.state, back.exception_id], ['open', null]);
    await page.goto(`${s.url}/findings?vulnerability=CVE-2099-1002`);
    await until(async () => (await rows.count()) === 2, 'the finding listed as open again');
    assert.equal(await openFindingsOfCve(), 2);
    assert.equal((await get<{ items: Exception[] }>('/api/v1/exceptions?state=expired')).items[0]?.id, rule.id);
    const events = await context.request.get(`${s.url}/api/v1/events?type=reopened`);
    const reopened = (
      (await events.json()) as { items: { cause: string; vulnerability: string; host: { hostname: string } }[] }
    ).items;
    assert.deepEqual(
      reopened.map((e) => [e.host.hostname, e.vulnerability, e.cause]),
      [['web-1', 'CVE-2099-1002', 'exception expired']],
    );

    // The reopened finding reaches the on-call hook.
    await until(() => hooks.received.length >= 2, 'the hook to hear of the reopened finding');
    posts = signedPosts();
    assert.equal(posts.length, 2);
    const told = posts[1].payload;
    assert.equal(told.rule?.name, 'web-1 findings');
    assert.equal(told.events_total, 1);
    assert.deepEqual(
      told.events.map((e) => [e.trigger, e.host?.hostname, e.vulnerability]),
      [['new_finding', 'web-1', 'CVE-2099-1002']],
    );
    assert.match(told.events[0].summary, /^Reopened: CVE-2099-1002 /);

    // The operator sees both deliveries on the Notifications page as the API lists them: sent.
    const listed = await get<{ items: Message[] }>('/api/v1/notifications/messages');
    await page.goto(`${s.url}/notifications`);
    const shown = page.locator('[data-message]');
    await until(async () => (await shown.count()) === listed.items.length, 'the messages listed');
    for (const m of listed.items) {
      const row = page.locator('tr', { has: page.locator(`[data-message="${m.id}"]`) });
      assert.equal(await row.locator('[data-state]').getAttribute('data-state'), m.state);
      assert.equal(m.state, 'sent');
    }

    // Once: more rounds, a day and then a week later, tell nothing again.
    for (const step of [HOUR_MS, DAY_MS, 7 * DAY_MS]) {
      s.clock.advance(step);
      await s.running.ctx.notify.runOnce();
      await s.running.ctx.notify.runOnce();
    }
    assert.equal(signedPosts().length, 2);
    // The API's delivery history is the receiver's: two messages on the channel, both sent.
    const messages = await get<{ items: Message[]; counts: Record<string, number> }>('/api/v1/notifications/messages');
    assert.deepEqual(
      messages.items
        .map((m) => [m.channel, m.rule?.name, m.state, m.events, m.delivery_id])
        .sort((a, b) => String(a[1]).localeCompare(String(b[1]))),
      [
        ['oncall', 'web-1 exceptions ending', 'sent', 1, posts[0].payload.id],
        ['oncall', 'web-1 findings', 'sent', 1, posts[1].payload.id],
      ],
    );
    // The fleet's figures as they were before the walk.
    assert.deepEqual(await apiKpis(), start);
  } finally {
    await context.close();
  }
});
