// Notifications through the real server: rules made through the API, events from real reports,
// patch runs, stale hosts and a failed feed refresh, delivered to real receivers on loopback — a
// webhook endpoint (HMAC-SHA256 signature), Slack- and Teams-compatible endpoints, and an SMTP
// server that requires STARTTLS and a password. Each event is told once; throttled and digest
// rules gather events; failures are retried with backoff and dead-lettered, and a person can
// retry them. No secret appears in any API answer.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readInventory } from '../src/inventory/index.ts';
import { WebhookPayloadSchema, type WebhookPayload } from '../src/server/api/notification-schemas.ts';
import { api, enrollTestHost, fullReportOf, startTestServer, type TestServer } from './support/server.ts';
import { BOOKWORM_ROOT, trackerFeedV1 } from './support/fixtures.ts';
import { samplePatchRun } from './support/patch-run.ts';
import { endDueExceptions } from '../src/server/store/exceptions-apply.ts';
import { sendToChannels } from '../src/server/notify/service.ts';
import {
  secretFile,
  startHttpReceiver,
  startSmtpReceiver,
  type HttpReceiver,
  type SmtpReceiver,
} from './support/notify-receivers.ts';

const HOOK_SECRET = 'hmac-key-that-must-stay-secret';
const SMTP_PASSWORD = 'smtp password that must stay secret';
const SLACK_TOKEN = 'T000/B000/slack-token-that-must-stay-secret';
const TEAMS_TOKEN = 'teams-token-that-must-stay-secret';
const FAILING_TOKEN = 'failing-token-that-must-stay-secret';

let s: TestServer;
let hooks: HttpReceiver;
let failing: HttpReceiver;
let smtp: SmtpReceiver;
let smtps: SmtpReceiver;
let hostToken: string;
const dir = mkdtempSync(join(tmpdir(), 'patchloop-notify-'));

const notify = () => s.running.ctx.notify;
const webhookPosts = (): WebhookPayload[] =>
  hooks.received.filter((r) => r.path === '/hook').map((r) => WebhookPayloadSchema.parse(JSON.parse(r.body)));
const slackPosts = () =>
  hooks.received.filter((r) => r.path === `/slack/${SLACK_TOKEN}`).map((r) => JSON.parse(r.body) as { text: string });
const teamsPosts = () =>
  hooks.received.filter((r) => r.path === `/teams/${TEAMS_TOKEN}`).map((r) => JSON.parse(r.body));
/** A mail's headers unfolded and body, as text. */
const mailText = (raw: string): string => raw.replace(/\r\n[ \t]+/g, ' ');

async function rule(body: Record<string, unknown>): Promise<number> {
  const r = await api(s.url, '/api/v1/notifications/rules', { token: s.adminToken, body });
  assert.equal(r.status, 201, r.text);
  return (r.body as { id: number }).id;
}

async function failedRun(id: string, outcome: 'failed' | 'partial' = 'failed'): Promise<void> {
  const run = samplePatchRun({
    id,
    hostname: 'web-1',
    finishedAt: new Date(s.clock.now()).toISOString(),
    outcome,
    group: 'web',
    policy: 'web',
  });
  const r = await api(s.url, '/api/v1/agent/patch-runs', { token: hostToken, body: run });
  assert.equal(r.status, 201, r.text);
}

before(async () => {
  hooks = await startHttpReceiver();
  failing = await startHttpReceiver();
  failing.status = 503;
  smtp = await startSmtpReceiver({ username: 'patchloop', password: SMTP_PASSWORD });
  smtps = await startSmtpReceiver({ username: 'patchloop', password: SMTP_PASSWORD, implicitTls: true });
  process.env.PATCHLOOP_TEST_SLACK_URL = `${hooks.url}/slack/${SLACK_TOKEN}`;
  process.env.PATCHLOOP_TEST_SMTP_PASSWORD = SMTP_PASSWORD;
  s = await startTestServer(trackerFeedV1(), {
    feeds: { refresh_interval: 0, sources: [{ name: 'debian', from: [join(dir, 'no-such-feed.json')] }] },
    notifications: {
      // Rounds are run by the test (runOnce); the timer stays out of the way.
      interval: '1h',
      max_attempts: 3,
      retry_base: '1s',
      retry_max: '2s',
      digest_at: '08:00',
      dashboard_url: 'https://patchloop.example.test/',
      channels: [
        {
          name: 'hook',
          type: 'webhook',
          url_file: secretFile(dir, 'hook-url', `${hooks.url}/hook`),
          secret_file: secretFile(dir, 'hook-secret', HOOK_SECRET),
        },
        { name: 'chat', type: 'slack', url_env: 'PATCHLOOP_TEST_SLACK_URL' },
        { name: 'teams', type: 'teams', url_file: secretFile(dir, 'teams-url', `${hooks.url}/teams/${TEAMS_TOKEN}`) },
        {
          name: 'mail',
          type: 'smtp',
          host: '127.0.0.1',
          port: smtp.port,
          security: 'starttls',
          username: 'patchloop',
          password_file: secretFile(dir, 'smtp-password', SMTP_PASSWORD),
          ca_file: smtp.certFile,
          from: 'patchloop@example.test',
          to: ['oncall@example.test', 'sec@example.test'],
        },
        {
          name: 'mail-tls',
          type: 'smtp',
          host: '127.0.0.1',
          port: smtps.port,
          security: 'tls',
          username: 'patchloop',
          password_env: 'PATCHLOOP_TEST_SMTP_PASSWORD',
          ca_file: smtps.certFile,
          from: 'patchloop@example.test',
          to: ['oncall@example.test'],
        },
        {
          name: 'badmail',
          type: 'smtp',
          host: '127.0.0.1',
          port: smtp.port,
          username: 'patchloop',
          password_file: secretFile(dir, 'wrong-password', 'not the password'),
          ca_file: smtp.certFile,
          from: 'patchloop@example.test',
          to: ['oncall@example.test'],
        },
        {
          name: 'broken',
          type: 'webhook',
          url_file: secretFile(dir, 'broken-url', `${failing.url}/hook/${FAILING_TOKEN}`),
          secret_file: secretFile(dir, 'broken-secret', HOOK_SECRET),
        },
      ],
    },
  });
  hostToken = await enrollTestHost(s, 'web-1', 'web');
  await enrollTestHost(s, 'db-1', 'db');
  const policy = { group: 'web', rings: [{ name: 'all' }] };
  assert.equal(
    (await api(s.url, '/api/v1/policies/web', { method: 'PUT', token: s.adminToken, body: policy })).status,
    201,
  );
});

after(async () => {
  await s?.close();
  await hooks?.close();
  await failing?.close();
  await smtp?.close();
  await smtps?.close();
});

test('a new high finding in group web reaches the webhook (signed) and e-mail (STARTTLS, login) once', async () => {
  await rule({
    name: 'high in web',
    trigger: 'new_finding',
    filter: { severities: ['critical', 'high'], groups: ['web'] },
    channels: ['hook', 'mail'],
  });
  // A rule whose filter the events do not pass sends nothing.
  await rule({ name: 'db only', trigger: 'new_finding', filter: { groups: ['db'] }, channels: ['chat'] });

  const inv = await readInventory(BOOKWORM_ROOT, { kernel: '6.1.0-40-amd64' });
  const sent = await api(s.url, '/api/v1/reports', { token: hostToken, body: fullReportOf(inv, 'web-1'), gzip: true });
  assert.equal(sent.status, 200, sent.text);
  const round = await notify().runOnce();
  assert.equal(round.sent, 2, JSON.stringify(round));

  const posts = webhookPosts();
  assert.equal(posts.length, 1);
  const p = posts[0];
  assert.equal(p.kind, 'rule');
  assert.equal(p.rule?.name, 'high in web');
  assert.equal(p.events_total, 1);
  // openssl's three binaries are one exposure: one event.
  assert.equal(p.events[0].vulnerability, 'CVE-2099-1001');
  assert.equal(p.events[0].severity, 'high');
  // Priority from core/priority.ts (high with a fix: P2); KEV unknown without a KEV feed.
  assert.equal(p.events[0].priority, 'P2');
  assert.equal(p.events[0].kev, null);
  assert.equal(p.events[0].host?.hostname, 'web-1');
  assert.equal(p.dashboard_url, 'https://patchloop.example.test/');
  const req = hooks.received.find((r) => r.path === '/hook')!;
  const ts = req.headers['x-patchloop-timestamp'] as string;
  const expected = `sha256=${createHmac('sha256', HOOK_SECRET).update(`${ts}.${req.body}`).digest('hex')}`;
  assert.equal(req.headers['x-patchloop-signature'], expected);
  assert.equal(req.headers['x-patchloop-delivery'], p.id);
  assert.equal(slackPosts().length, 0, 'the db rule took nothing');

  assert.equal(smtp.mails.length, 1);
  const mail = smtp.mails[0];
  assert.equal(mail.secure, true, 'upgraded with STARTTLS');
  assert.equal(mail.user, 'patchloop');
  assert.deepEqual(mail.to, ['oncall@example.test', 'sec@example.test']);
  const text = mailText(mail.raw);
  assert.match(
    text,
    /Subject: \[patchloop\] New finding: CVE-2099-1001 \(high, P2\) in libssl-dev 3\.0\.19-1~deb12u2 on web-1/,
  );
  // The Message-ID is the delivery id: a retry of this message is recognisably the same mail.
  const delivery = /X-Patchloop-Delivery: ([0-9a-f-]{36})/.exec(text)?.[1];
  assert.ok(delivery);
  assert.match(text, new RegExp(`Message-ID: <${delivery}@patchloop>`, 'i'));

  // Rounds again, and a resend of the same report: nothing more.
  await notify().runOnce();
  await api(s.url, '/api/v1/reports', { token: hostToken, body: fullReportOf(inv, 'web-1'), gzip: true });
  await notify().runOnce();
  assert.equal(webhookPosts().length, 1);
  assert.equal(smtp.mails.length, 1);
});

test('failed and partly failed patch runs reach Slack; a throttled rule gathers the runs of its window', async () => {
  await rule({ name: 'runs to chat', trigger: 'patch_run_failed', filter: { groups: ['web'] }, channels: ['chat'] });
  await rule({ name: 'runs throttled', trigger: 'patch_run_failed', channels: ['hook'], throttle_seconds: 3600 });
  await failedRun('run-1');
  await notify().runOnce();
  assert.equal(slackPosts().length, 1);
  assert.match(slackPosts()[0].text, /^\*\[patchloop\] Patch run failed on web-1 \(policy web/);
  const before = webhookPosts().length;
  assert.equal(before, 2, 'the throttled rule sends its first message at once');

  s.clock.advance(60_000);
  await failedRun('run-2', 'partial');
  s.clock.advance(60_000);
  await failedRun('run-3');
  await notify().runOnce();
  // Events of one round go together: the unthrottled rule tells both runs in one message.
  assert.equal(slackPosts().length, 2);
  assert.match(slackPosts()[1].text, /^\*\[patchloop\] runs to chat: 2 failed patch runs\*/);
  assert.equal(webhookPosts().length, before, 'held back by the throttle');
  s.clock.advance(3600_000);
  await notify().runOnce();
  const last = webhookPosts().at(-1)!;
  assert.equal(webhookPosts().length, before + 1);
  assert.equal(last.events_total, 2);
  assert.deepEqual(last.events.map((e) => e.detail.run_id).sort(), ['run-2', 'run-3']);
  assert.equal(last.title, '[patchloop] runs throttled: 2 failed patch runs');

  // A run held back by the throttle, then the rule moved to another channel: the held run is
  // dropped for the channel the rule no longer names.
  await failedRun('run-3b');
  await notify().runOnce();
  const rules = (await api(s.url, '/api/v1/notifications/rules', { token: s.adminToken })).body as {
    id: number;
    name: string;
  }[];
  const throttled = rules.find((r) => r.name === 'runs throttled')!;
  const moved = await api(s.url, `/api/v1/notifications/rules/${throttled.id}`, {
    method: 'PUT',
    token: s.adminToken,
    body: { name: 'runs throttled', trigger: 'patch_run_failed', channels: ['chat'], throttle_seconds: 3600 },
  });
  assert.equal(moved.status, 200, moved.text);
  const chat = slackPosts().length;
  s.clock.advance(3600_000);
  await notify().runOnce();
  assert.equal(webhookPosts().length, before + 1);
  assert.equal(slackPosts().length, chat, 'changes apply to events from then on');
});

test('a daily digest waits for its time of day and goes as one mail', async () => {
  await rule({ name: 'digest', trigger: 'patch_run_failed', channels: ['mail'], digest: true });
  const mails = smtp.mails.length;
  await failedRun('run-4');
  s.clock.advance(60_000);
  await failedRun('run-5');
  await notify().runOnce();
  assert.equal(smtp.mails.length, mails, 'not before the digest time');
  const now = new Date(s.clock.now());
  let at = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate(), 8, 0);
  if (at <= s.clock.now()) at += 86_400_000;
  s.clock.set(at);
  await notify().runOnce();
  assert.equal(smtp.mails.length, mails + 1);
  assert.match(mailText(smtp.mails.at(-1)!.raw), /Subject: \[patchloop\] digest: 2 failed patch runs \(daily digest\)/);
});

test('a stale host reaches Teams once', async () => {
  await rule({ name: 'stale', trigger: 'host_stale', filter: { hosts: ['web-1'] }, channels: ['teams'] });
  await notify().runOnce();
  assert.equal(teamsPosts().length, 0, 'web-1 reported recently');
  s.clock.advance(3 * 86_400_000);
  await notify().runOnce();
  await notify().runOnce();
  const posts = teamsPosts();
  assert.equal(posts.length, 1);
  const card = posts[0].attachments[0];
  assert.equal(card.contentType, 'application/vnd.microsoft.card.adaptive');
  assert.match(card.content.body[0].text, /web-1 has not reported since/);
});

test('a failed feed refresh: retried with backoff, dead-lettered, shown, retried by an operator', async () => {
  await rule({ name: 'feeds', trigger: 'feed_refresh_failed', channels: ['broken'] });
  const r = await s.running.refreshNow();
  assert.equal(r?.outcome, 'failed');
  await notify().runOnce();
  assert.equal(failing.received.length, 1);
  for (let i = 0; i < 2; i++) {
    s.clock.advance(5_000);
    await notify().runOnce();
  }
  assert.equal(failing.received.length, 3, 'max_attempts 3');
  s.clock.advance(60_000);
  await notify().runOnce();
  assert.equal(failing.received.length, 3, 'dead: not tried again');

  const dead = await api(s.url, '/api/v1/notifications/messages?state=dead', { token: s.adminToken });
  const page = dead.body as { items: { id: number; channel: string; attempts: number; last_error: string }[] };
  assert.equal(page.items.length, 1);
  assert.equal(page.items[0].channel, 'broken');
  assert.equal(page.items[0].attempts, 3);
  // The receiver's refusal repeats the URL's path: the error keeps it out.
  assert.equal(page.items[0].last_error, 'HTTP 503: refused [redacted]');

  failing.status = 200;
  const retried = await api(s.url, `/api/v1/notifications/messages/${page.items[0].id}/retry`, {
    method: 'POST',
    token: s.adminToken,
  });
  assert.equal(retried.status, 200, retried.text);
  await notify().runOnce();
  assert.equal(failing.received.length, 4);
  const body = WebhookPayloadSchema.parse(JSON.parse(failing.received[3].body));
  assert.equal(body.events[0].trigger, 'feed_refresh_failed');
  const again = await api(s.url, `/api/v1/notifications/messages/${page.items[0].id}/retry`, {
    method: 'POST',
    token: s.adminToken,
  });
  assert.equal(again.status, 409, 'only a dead message is retried');
});

test('an exception about to end is told once; when it ends, its finding reopens and is told once', async () => {
  await rule({
    name: 'expiring',
    trigger: 'exception_expiring',
    filter: { hosts: ['web-1'] },
    channels: ['hook'],
    days: 7,
  });
  await rule({ name: 'medium', trigger: 'new_finding', filter: { severities: ['medium'] }, channels: ['hook'] });
  const made = await api(s.url, '/api/v1/exceptions', {
    token: s.adminToken,
    body: {
      scope: { vulnerability: 'CVE-2099-1002', host: 'web-1' },
      kind: 'accepted_risk',
      justification: 'zlib is not reachable from outside',
      owner: 'ops',
      expires_at: new Date(s.clock.now() + 3 * 86_400_000).toISOString(),
    },
  });
  assert.equal(made.status, 201, made.text);
  const id = (made.body as { id: number }).id;
  const before = webhookPosts().length;
  await notify().runOnce();
  await notify().runOnce();
  const told = webhookPosts().slice(before);
  assert.equal(told.length, 1);
  assert.equal(told[0].events[0].trigger, 'exception_expiring');
  assert.equal(told[0].events[0].detail.exception_id, id);
  assert.match(told[0].title, /Exception \d+ \(accepted risk: vulnerability CVE-2099-1002, host web-1\) ends/);

  s.clock.advance(4 * 86_400_000);
  endDueExceptions(s.running.ctx.store);
  await notify().runOnce();
  await notify().runOnce();
  const reopened = webhookPosts().slice(before + 1);
  assert.equal(reopened.length, 1);
  assert.equal(reopened[0].rule?.name, 'medium');
  assert.deepEqual(
    reopened[0].events.map((e) => e.vulnerability),
    ['CVE-2099-1002'],
  );
  assert.match(reopened[0].events[0].summary, /^Reopened: CVE-2099-1002 \(medium/);
});

test('test send: a working channel and a refused login, audited', async () => {
  const ok = await api(s.url, '/api/v1/notifications/channels/mail/test', { method: 'POST', token: s.adminToken });
  assert.equal(ok.status, 200, ok.text);
  assert.deepEqual((ok.body as { ok: boolean; error: null }).ok, true);
  assert.match(mailText(smtp.mails.at(-1)!.raw), /Subject: \[patchloop\] Test message for channel mail/);
  // TLS from the start (port 465 style), the password from the environment.
  const tls = await api(s.url, '/api/v1/notifications/channels/mail-tls/test', { method: 'POST', token: s.adminToken });
  assert.equal((tls.body as { ok: boolean }).ok, true, tls.text);
  assert.equal(smtps.mails.length, 1);
  assert.equal(smtps.mails[0].secure, true);
  assert.equal(smtps.mails[0].user, 'patchloop');
  const refused = await api(s.url, '/api/v1/notifications/channels/badmail/test', {
    method: 'POST',
    token: s.adminToken,
  });
  assert.equal(refused.status, 200, refused.text);
  const result = refused.body as { ok: boolean; error: string };
  assert.equal(result.ok, false);
  assert.match(result.error, /^EAUTH: Invalid login/);
  assert.ok(!result.error.includes('not the password'));
  assert.equal(smtp.refusedLogins, 1);
  const unknown = await api(s.url, '/api/v1/notifications/channels/nope/test', { method: 'POST', token: s.adminToken });
  assert.equal(unknown.status, 404);
  const audit = await api(s.url, '/api/v1/audit?action=notification.test', { token: s.adminToken });
  assert.match(audit.text, /notification_channel/);
});

test('sendToChannels: a report with an HTML body and a PDF goes by e-mail with the file, by webhook naming it', async () => {
  const pdf = Buffer.from('%PDF-1.7\n% patchloop test report\n%%EOF\n');
  const mails = smtp.mails.length;
  const posts = webhookPosts().length;
  const ids = sendToChannels(notify(), {
    channels: ['mail', 'hook'],
    title: 'patchloop report 2026-11',
    text: 'Fleet exposure in November.',
    html: '<h1>Fleet exposure in November</h1>',
    attachments: [{ filename: 'patchloop-2026-11.pdf', contentType: 'application/pdf', content: pdf }],
  });
  assert.equal(ids.length, 2);
  assert.throws(() => sendToChannels(notify(), { channels: ['nope'], title: 't', text: 't' }), /no channel nope/);
  await notify().runOnce();
  assert.equal(smtp.mails.length, mails + 1);
  const mail = mailText(smtp.mails.at(-1)!.raw);
  assert.match(mail, /Subject: patchloop report 2026-11/);
  assert.match(mail, /Content-Type: text\/html/);
  assert.match(mail, /Content-Disposition: attachment; filename=patchloop-2026-11\.pdf/);
  assert.ok(mail.includes(pdf.toString('base64').slice(0, 40)));
  const post = webhookPosts().slice(posts);
  assert.equal(post.length, 1);
  assert.equal(post[0].kind, 'report');
  assert.deepEqual(post[0].attachments, [
    { filename: 'patchloop-2026-11.pdf', content_type: 'application/pdf', size: pdf.length },
  ]);
});

test('no API answer holds a secret', async () => {
  const answers = await Promise.all(
    [
      '/api/v1/notifications/channels',
      '/api/v1/notifications/rules',
      '/api/v1/notifications/messages?limit=500',
      '/api/v1/audit?limit=500',
      '/api/docs',
    ].map((p) => api(s.url, p, { token: s.adminToken })),
  );
  for (const a of answers) {
    assert.equal(a.status, 200);
    for (const secret of [HOOK_SECRET, SMTP_PASSWORD, SLACK_TOKEN, TEAMS_TOKEN, FAILING_TOKEN, 'slack/', hooks.url])
      assert.ok(!a.text.includes(secret), `an answer holds ${secret}`);
  }
  const channels = answers[0].body as { name: string; type: string; summary: string }[];
  assert.deepEqual(
    channels.map((c) => c.name),
    ['hook', 'chat', 'teams', 'mail', 'mail-tls', 'badmail', 'broken'],
  );
  assert.match(channels[3].summary, /127\.0\.0\.1:\d+ \(starttls, as patchloop\) to oncall@example.test/);
});

test('rules are validated: unknown channels, duplicate names', async () => {
  const bad = await api(s.url, '/api/v1/notifications/rules', {
    token: s.adminToken,
    body: { name: 'x', trigger: 'new_finding', channels: ['nope'] },
  });
  assert.equal(bad.status, 400);
  const dup = await api(s.url, '/api/v1/notifications/rules', {
    token: s.adminToken,
    body: { name: 'digest', trigger: 'host_stale', channels: ['mail'] },
  });
  assert.equal(dup.status, 409);
  const list = (await api(s.url, '/api/v1/notifications/rules', { token: s.adminToken })).body as {
    id: number;
    name: string;
  }[];
  const id = list.find((r) => r.name === 'db only')!.id;
  const put = await api(s.url, `/api/v1/notifications/rules/${id}`, {
    method: 'PUT',
    token: s.adminToken,
    body: { name: 'db only', trigger: 'new_finding', filter: { groups: ['db'] }, channels: ['chat'], enabled: false },
  });
  assert.equal(put.status, 200, put.text);
  assert.equal((put.body as { enabled: boolean }).enabled, false);
  const del = await api(s.url, `/api/v1/notifications/rules/${id}`, { method: 'DELETE', token: s.adminToken });
  assert.equal(del.status, 204);
  // Each change is in the audit log with the rule before and after.
  const entry = async (action: string) =>
    (
      (await api(s.url, `/api/v1/audit?action=${action}`, { token: s.adminToken })).body as {
        items: {
          target: { type: string; id: string } | null;
          before: { enabled?: boolean } | null;
          after: { enabled?: boolean } | null;
          outcome: string;
        }[];
      }
    ).items[0];
  const update = await entry('notification_rule.update');
  assert.deepEqual(update.target, { type: 'notification_rule', id: String(id) });
  assert.equal(update.before?.enabled, true);
  assert.equal(update.after?.enabled, false);
  const deleted = await entry('notification_rule.delete');
  assert.equal(deleted.after, null);
  assert.equal(deleted.before?.enabled, false);
  const refused = await entry('notification_rule.create');
  assert.equal(refused.outcome, 'failure', 'the duplicate name, refused with 409');
});

test('a reboot pending longer than the rule’s days is told once', async () => {
  await rule({ name: 'reboots', trigger: 'reboot_pending', channels: ['hook'], days: 2 });
  const run = samplePatchRun({
    id: 'run-reboot',
    hostname: 'web-1',
    finishedAt: new Date(s.clock.now()).toISOString(),
    group: 'web',
    policy: 'web',
  });
  const waiting = {
    ...run,
    reboot: { ...run.reboot, required: true, because: ['reboot-required'], status: 'pending_window' },
  };
  assert.equal((await api(s.url, '/api/v1/agent/patch-runs', { token: hostToken, body: waiting })).status, 201);
  const before = webhookPosts().length;
  await notify().runOnce();
  assert.equal(webhookPosts().length, before, 'not pending long enough yet');
  s.clock.advance(3 * 86_400_000);
  await notify().runOnce();
  await notify().runOnce();
  const told = webhookPosts().slice(before);
  assert.deepEqual(
    told.map((p) => p.rule?.name),
    ['reboots'],
  );
  assert.equal(told[0].events[0].detail.run_id, 'run-reboot');
  assert.match(told[0].events[0].summary, /^web-1 has waited for a reboot since .* \(pending_window\)$/);
});

test('an exposure passing its SLA is told once, when it passes', async () => {
  await rule({ name: 'sla high', trigger: 'sla_breach', filter: { severities: ['high'] }, channels: ['hook'] });
  const before = webhookPosts().length;
  await notify().runOnce();
  assert.equal(webhookPosts().length, before, 'within the SLA still');
  // CVE-2099-1001 (high, 30 days) was detected at the clock's start, 2026-11-01.
  s.clock.set('2026-12-01T00:00:01Z');
  await notify().runOnce();
  await notify().runOnce();
  const told = webhookPosts().slice(before);
  assert.deepEqual(
    told.map((p) => p.rule?.name),
    ['sla high'],
  );
  assert.equal(told[0].events_total, 1);
  assert.equal(told[0].events[0].vulnerability, 'CVE-2099-1001');
  assert.equal(told[0].events[0].at, '2026-12-01T00:00:00.000Z');
  assert.equal(told[0].events[0].detail.sla_days, 30);
});

test('events of the log told a month ago and old messages are purged; state events stay remembered', async () => {
  const store = s.running.ctx.store;
  const rows = (prefix: string): number =>
    store.get<{ n: number }>('SELECT count(*) AS n FROM notify_pending WHERE event_key LIKE ?', `${prefix}%`)!.n;
  const stale = rows('host_stale:');
  const messages = (): number => store.get<{ n: number }>('SELECT count(*) AS n FROM notify_messages')!.n;
  const before = messages();
  assert.ok(rows('finding:') > 0);
  assert.ok(stale > 0);
  s.clock.advance(200 * 86_400_000);
  const posts = teamsPosts().length;
  await notify().runOnce();
  assert.equal(rows('finding:'), 0);
  assert.equal(rows('patch_run:'), 0);
  assert.equal(rows('host_stale:'), stale, 'a host still stale since the same report is not told again');
  assert.equal(teamsPosts().length, posts);
  const page = (await api(s.url, '/api/v1/notifications/messages?limit=500', { token: s.adminToken })).body as {
    items: { created_at: string }[];
  };
  const oldest = s.clock.now() - 180 * 86_400_000;
  assert.ok(page.items.every((m) => Date.parse(m.created_at) >= oldest));
  assert.ok(messages() < before, `${messages()} messages of ${before} left`);
});
