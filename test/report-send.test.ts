// The monthly report sent through the notification channels: a real server process configured
// with an SMTP channel (a real SMTP server on loopback, STARTTLS and a login) and a webhook (a
// real HTTP receiver) makes November's report on request and sends it. The e-mail carries the
// PDF the server serves, byte for byte; the webhook names it; both say the report's figures.
// The fleet has an exception rule, which the report lists with its expiry as the API does, and a
// KEV catalogue naming some of its vulnerabilities: the report's known exploited figures are the overview's.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildFleet, type Fleet } from './support/dashboard-fleet.ts';
import {
  secretFile,
  startHttpReceiver,
  startSmtpReceiver,
  type HttpReceiver,
  type SmtpReceiver,
} from './support/notify-receivers.ts';
import { REPO_ROOT, SHARED_DATA } from './support/paths.ts';
import { startServerProcess, type ServerProcess } from './support/server-process.ts';
import { until } from './support/until.ts';
import { MonthlyReportSchema } from '../src/server/report/schema.ts';

const MONTH = '2026-11';
const REAL_KEV = join(SHARED_DATA, 'feeds/kev/known_exploited_vulnerabilities.json');

let dir: string;
let fleet: Fleet;
let server: ServerProcess;
let smtp: SmtpReceiver;
let hook: HttpReceiver;
let admin: Record<string, string>;
let kevFile: string;

before(async () => {
  execFileSync('sh', [join(REPO_ROOT, 'scripts/build-web')], { stdio: 'pipe' });
  dir = mkdtempSync(join(tmpdir(), 'patchloop-report-send-'));
  fleet = await buildFleet(dir, { hosts: 8, days: 40, cves: 250, seed: 3, feedUpdates: 1 });
  smtp = await startSmtpReceiver({ username: 'patchloop', password: 'smtp password 1' });
  hook = await startHttpReceiver();
  // Written once the fleet's vulnerabilities are known (the first refresh is the test's).
  kevFile = join(dir, 'known_exploited_vulnerabilities.json');
  const config = join(dir, 'server.yaml');
  writeFileSync(
    config,
    [
      `data_dir: ${JSON.stringify(fleet.dataDir)}`,
      'admin:',
      '  username: admin',
      `  password_hash: ${JSON.stringify(fleet.passwordHash)}`,
      'feeds:',
      '  refresh_interval: 0',
      '  sources:',
      '    - name: debian',
      `      from: [${JSON.stringify(fleet.feedFile)}]`,
      '    - name: kev',
      `      from: [${JSON.stringify(kevFile)}]`,
      'notifications:',
      '  channels:',
      '    - name: management-mail',
      '      type: smtp',
      '      host: 127.0.0.1',
      `      port: ${smtp.port}`,
      `      ca_file: ${JSON.stringify(smtp.certFile)}`,
      '      username: patchloop',
      `      password_file: ${JSON.stringify(secretFile(dir, 'smtp-password', 'smtp password 1'))}`,
      '      from: patchloop@example.org',
      '      to: [cio@example.org]',
      '    - name: reports-hook',
      '      type: webhook',
      `      url_file: ${JSON.stringify(secretFile(dir, 'hook-url', `${hook.url}/reports`))}`,
      `      secret_file: ${JSON.stringify(secretFile(dir, 'hook-secret', 'a webhook signing key'))}`,
      '',
    ].join('\n'),
  );
  server = await startServerProcess(['--config', config], '127.0.0.1:0', {}, { bin: true });
  const login = await fetch(`${server.url}/api/v1/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: 'admin', password: fleet.password }),
  });
  assert.equal(login.status, 200);
  admin = {
    cookie: login.headers
      .getSetCookie()
      .map((c) => c.split(';')[0])
      .join('; '),
    'x-csrf-token': ((await login.json()) as { csrf_token: string }).csrf_token,
  };
});

after(async () => {
  await server?.stop();
  await smtp?.close();
  await hook?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/**
 * A KEV catalogue as CISA publishes it (the real catalogue's first entries) naming `ids`: the
 * fleet's own vulnerabilities are generated, so real entries are given their ids.
 */
function kevCatalogue(ids: string[]): string {
  const real = JSON.parse(readFileSync(REAL_KEV, 'utf8')) as Record<string, unknown> & {
    vulnerabilities: Record<string, unknown>[];
  };
  const vulnerabilities = ids.map((id, i) => ({ ...real.vulnerabilities[i], cveID: id }));
  return JSON.stringify({ ...real, count: vulnerabilities.length, vulnerabilities });
}

async function call<T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
  const res = await fetch(`${server.url}${path}`, {
    method,
    headers: { ...admin, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  assert.ok(res.ok, `${method} ${path}: ${res.status} ${await res.clone().text()}`);
  return (await res.json()) as T;
}

test(
  'the report goes out by e-mail with its PDF and by webhook; exceptions and known exploited as the API says',
  { timeout: 300_000 },
  async () => {
    // Three of the fleet's vulnerabilities are known exploited once the KEV feed is refreshed.
    const top = await call<{ items: { id: string }[] }>('GET', '/api/v1/vulnerabilities?per_page=4&sort=hosts');
    writeFileSync(kevFile, kevCatalogue(top.items.slice(1, 4).map((v) => v.id)));
    await call('POST', '/api/v1/feeds/refresh');
    await until(async () => {
      const o = await call<{ feeds: { feed: string }[] }>('GET', '/api/v1/stats/overview');
      const f = await call<{ refreshing: boolean }>('GET', '/api/v1/feeds');
      return o.feeds.some((x) => x.feed === 'kev') && !f.refreshing;
    }, 'the KEV feed');

    // An accepted risk on the fleet's most widespread vulnerability, expiring in 20 days.
    const vulns = await call<{ items: { id: string }[] }>('GET', '/api/v1/vulnerabilities?per_page=1&sort=hosts');
    const expires = new Date(Date.now() + 20 * 86_400_000).toISOString().slice(0, 10);
    const rule = await call<{ id: number; held: number }>('POST', '/api/v1/exceptions', {
      scope: { vulnerability: vulns.items[0].id },
      kind: 'accepted_risk',
      justification: 'compensating control: the service is not reachable from outside',
      owner: 'platform team',
      expires_at: expires,
    });

    const made = await call<{ sent: number[]; files: { format: string }[] }>('POST', '/api/v1/monthly-reports', {
      month: MONTH,
      send: true,
    });
    assert.equal(made.sent.length, 2, 'one message per channel');
    const report = MonthlyReportSchema.parse(
      await call('GET', `/api/v1/monthly-reports/patchloop-report-${MONTH}.json`),
    );

    // Known exploited: loaded, and the overview's figures.
    const overview = await call<{ known_exploited: Record<string, unknown>; feeds: { feed: string }[] }>(
      'GET',
      '/api/v1/stats/overview',
    );
    assert.ok(
      overview.feeds.some((f) => f.feed === 'kev'),
      'the KEV feed is in',
    );
    assert.deepEqual(report.known_exploited, { loaded: true, ...overview.known_exploited });

    // Exceptions: the API's summary and the rule with its expiry.
    const summary = await call<Record<string, number>>('GET', '/api/v1/exceptions/summary');
    assert.ok(report.exceptions.available);
    assert.equal(report.exceptions.active_rules, summary.active_rules);
    assert.equal(report.exceptions.excepted, summary.excepted);
    assert.equal(report.exceptions.rules_expiring, summary.rules_expiring);
    const listed = report.exceptions.rules.find((r) => r.id === rule.id);
    assert.ok(listed, 'the rule is listed');
    assert.equal(listed.kind, 'accepted_risk');
    assert.equal(listed.owner, 'platform team');
    assert.equal(listed.scope, vulns.items[0].id);
    assert.equal(listed.expires_at?.slice(0, 10), expires);
    assert.ok(listed.held > 0 && listed.held === rule.held, `${listed.held} findings held`);

    const pdf = Buffer.from(
      await (
        await fetch(`${server.url}/api/v1/monthly-reports/patchloop-report-${MONTH}.pdf`, { headers: admin })
      ).arrayBuffer(),
    );
    assert.equal(pdf.subarray(0, 5).toString(), '%PDF-');

    // The e-mail: over STARTTLS with the login, the summary in its text, the PDF attached as served.
    await until(() => smtp.mails.length >= 1, 'the report e-mail');
    const mail = smtp.mails[0];
    assert.equal(mail.secure, true);
    assert.equal(mail.user, 'patchloop');
    assert.deepEqual(mail.to, ['cio@example.org']);
    const raw = mail.raw.replace(/\r\n/g, '\n');
    assert.match(raw, new RegExp(`^Subject: patchloop report ${MONTH}$`, 'm'));
    const attachment = /Content-Type: application\/pdf;?[^\n]*\n(?:[^\n]+\n)*?\n([A-Za-z0-9+/=\n]+?)\n(?:--|\n)/.exec(
      raw,
    );
    assert.ok(attachment, 'a PDF part');
    assert.match(raw, new RegExp(`filename="?patchloop-report-${MONTH}\\.pdf`));
    assert.ok(
      Buffer.from(attachment[1].replace(/\n/g, ''), 'base64').equals(pdf),
      'the attached PDF is the one served',
    );
    assert.match(raw, new RegExp(`Patch runs: ${report.patching.runs}, success rate`));

    // The webhook: title, the summary, the attachment named with its size.
    await until(() => hook.received.length >= 1, 'the report webhook');
    const body = JSON.parse(hook.received[0].body) as {
      title: string;
      text: string;
      attachments: { filename: string; content_type: string; size: number }[];
    };
    assert.equal(hook.received[0].path, '/reports');
    assert.equal(body.title, `patchloop report ${MONTH}`);
    assert.match(
      body.text,
      new RegExp(`Open findings: ${report.exposure.open_start.total} → ${report.exposure.open_end.total}`),
    );
    assert.ok(report.known_exploited.loaded);
    assert.match(
      body.text,
      new RegExp(`Known exploited open: ${report.known_exploited.open} on ${report.known_exploited.hosts} host`),
    );
    assert.match(body.text, new RegExp(`Exceptions: ${report.exceptions.excepted} findings held by`));
    assert.deepEqual(body.attachments, [
      { filename: `patchloop-report-${MONTH}.pdf`, content_type: 'application/pdf', size: pdf.length },
    ]);
    // Each message once.
    assert.equal(smtp.mails.length, 1);
    assert.equal(hook.received.length, 1);
  },
);
