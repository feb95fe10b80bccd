// The monthly management report end to end: a fleet with two months of history built through a
// real `patchloop server` process; `patchloop report --month 2026-11` against its API, the same
// report made by the server itself (POST /api/v1/monthly-reports) and from its data directory
// once it is stopped. The PDF is printed by Debian's chromium; its pages are turned into images
// (pdftoppm) that must carry ink, its text (pdftotext) must show the figures, and every figure
// of the report must equal what the API says for the same fleet.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildFleet, startFleetServer, type Fleet } from './support/dashboard-fleet.ts';
import { launchBrowser, logIn } from './support/browser.ts';
import { runCli } from './support/cli.ts';
import { REPO_ROOT } from './support/paths.ts';
import type { ServerProcess } from './support/server-process.ts';
import { MonthlyReportSchema, type MonthlyReport } from '../src/server/report/schema.ts';
import { SEVERITIES } from '../src/core/types.ts';
import { days as daysText, int, percent } from '../web/src/lib/format.ts';

const MONTH = '2026-11';

let dir: string;
let fleet: Fleet;
let server: ServerProcess;
let tokenFile: string;
let cli: MonthlyReport;
let cliOut: string;

before(async () => {
  execFileSync('sh', [join(REPO_ROOT, 'scripts/build-web')], { stdio: 'pipe' });
  dir = mkdtempSync(join(tmpdir(), 'patchloop-report-'));
  fleet = await buildFleet(dir, { hosts: 14, days: 45, cves: 400, seed: 9, feedUpdates: 2 });
  server = await startFleetServer(fleet);
  // A viewer's API token, made by the admin through the API, in a file only its owner reads.
  const admin = await adminSession();
  const made = await fetch(`${server.url}/api/v1/api-tokens`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...admin },
    body: JSON.stringify({ name: 'report', role: 'viewer' }),
  });
  assert.equal(made.status, 201, await made.clone().text());
  tokenFile = join(dir, 'token');
  writeFileSync(tokenFile, `${((await made.json()) as { token: string }).token}\n`, { mode: 0o600 });
});

after(async () => {
  await server?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** The admin's session: its cookie and CSRF token as request headers. */
async function adminSession(): Promise<Record<string, string>> {
  const login = await fetch(`${server.url}/api/v1/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: 'admin', password: fleet.password }),
  });
  assert.equal(login.status, 200);
  const cookie = login.headers
    .getSetCookie()
    .map((c) => c.split(';')[0])
    .join('; ');
  return { cookie, 'x-csrf-token': ((await login.json()) as { csrf_token: string }).csrf_token };
}

async function api<T>(path: string, init: RequestInit = {}): Promise<T> {
  const token = readFileSync(tokenFile, 'utf8').trim();
  const res = await fetch(`${server.url}${path}`, {
    ...init,
    headers: { authorization: `Bearer ${token}`, ...(init.headers as Record<string, string>) },
  });
  assert.ok(res.ok, `${path}: ${res.status} ${await res.clone().text()}`);
  return (await res.json()) as T;
}

/** Each page of a PDF as a grey image (PGM from pdftoppm); the share of its pixels that are not white. */
function pageInk(pdf: string, outDir: string): { file: string; ink: number }[] {
  execFileSync('pdftoppm', ['-r', '40', '-gray', pdf, join(outDir, 'page')]);
  return readdirSync(outDir)
    .filter((f) => f.startsWith('page') && f.endsWith('.pgm'))
    .sort()
    .map((f) => {
      const data = readFileSync(join(outDir, f));
      // P5\n<w> <h>\n<max>\n then one byte per pixel.
      const header = /^P5\s+(\d+)\s+(\d+)\s+(\d+)\s/.exec(data.subarray(0, 40).toString('latin1'))!;
      const pixels = data.subarray(header[0].length);
      assert.equal(pixels.length, Number(header[1]) * Number(header[2]), `${f}: a whole page`);
      let dark = 0;
      for (const p of pixels) if (p < 230) dark++;
      return { file: join(outDir, f), ink: dark / pixels.length };
    });
}

/** Whether `value` is printed under `label`, starting in its column, within a few lines. */
function under(text: string, label: string, value: string): boolean {
  const lines = text.split('\n');
  return lines.some((line, i) => {
    const col = line.indexOf(label);
    if (col < 0) return false;
    return lines.slice(i + 1, i + 6).some((l) => Math.abs(l.indexOf(value) - col) <= 2 && l.indexOf(value) >= 0);
  });
}

/** The figures of an HTML report: data-figure name → the text it shows. */
function figures(html: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const m of html.matchAll(/data-figure="([^"]+)"[^>]*>([^<]*)</g))
    out.set(m[1], m[2].replaceAll('&nbsp;', '\u00a0'));
  return out;
}

test('patchloop report --server: PDF, HTML and JSON whose figures are the API’s', { timeout: 300_000 }, async () => {
  cliOut = join(dir, 'cli');
  const r = await runCli([
    'report',
    '--month',
    MONTH,
    '--server',
    server.url,
    '--token-file',
    tokenFile,
    '--out',
    cliOut,
  ]);
  assert.equal(r.code, 0, r.stderr);
  const base = join(cliOut, `patchloop-report-${MONTH}`);
  assert.deepEqual(r.stdout.trim().split('\n'), [`${base}.pdf`, `${base}.html`, `${base}.json`]);
  for (const ext of ['pdf', 'html', 'json']) assert.equal(statSync(`${base}.${ext}`).mode & 0o777, 0o600, ext);
  cli = MonthlyReportSchema.parse(JSON.parse(readFileSync(`${base}.json`, 'utf8')));
  assert.equal(cli.month, MONTH);
  assert.equal(cli.from, '2026-11-01');
  assert.equal(cli.to, '2026-11-30');
  assert.equal(cli.complete, true);

  // Exposure: the trends API's days of November, and what they add up to.
  const span = Math.floor(Date.now() / 86_400_000) - Math.floor(Date.UTC(2026, 10, 1) / 86_400_000) + 1;
  const trends = await api<{ days: MonthlyReport['exposure']['days'] }>(`/api/v1/stats/trends?days=${span}`);
  const november = trends.days.filter((d) => d.date.startsWith(MONTH));
  assert.equal(november.length, 30);
  assert.deepEqual(cli.exposure.days, november);
  assert.deepEqual(cli.exposure.open_start, november[0].open);
  assert.deepEqual(cli.exposure.open_end, november[29].open);
  for (const s of [...SEVERITIES, 'total'] as const) {
    assert.equal(
      cli.exposure.new[s],
      november.reduce((n, d) => n + d.new[s], 0),
      `new ${s}`,
    );
    assert.equal(
      cli.exposure.resolved[s],
      november.reduce((n, d) => n + d.resolved[s], 0),
      `resolved ${s}`,
    );
  }
  assert.ok(cli.exposure.new.total > 0 && cli.exposure.resolved.total > 0, 'findings came and went in November');

  // SLA and time to remediate: the resolution API, whose resolved counts are the trends' own.
  const resolution = await api<MonthlyReport['sla']>(`/api/v1/stats/resolution?month=${MONTH}`);
  const { open_now, ...sla } = cli.sla;
  assert.deepEqual(sla, resolution);
  for (const s of SEVERITIES) assert.equal(resolution.by_severity[s].resolved, cli.exposure.resolved[s], s);
  assert.equal(resolution.total.resolved, cli.exposure.resolved.total);
  const overview = await api<{
    sla: { by_severity: Record<string, { open: number; overdue: number }> };
    hosts: MonthlyReport['fleet']['hosts'];
    releases: MonthlyReport['support']['releases'];
    feeds: { feed: string }[];
  }>('/api/v1/stats/overview');
  for (const s of SEVERITIES) {
    assert.equal(open_now[s].open, overview.sla.by_severity[s].open, `open now ${s}`);
    assert.equal(open_now[s].overdue, overview.sla.by_severity[s].overdue, `overdue now ${s}`);
  }
  for (const k of Object.keys(cli.fleet.hosts) as (keyof MonthlyReport['fleet']['hosts'])[])
    assert.equal(cli.fleet.hosts[k], overview.hosts[k], `hosts ${k}`);
  assert.deepEqual(cli.support.releases, overview.releases);
  assert.equal(
    cli.support.out_of_support,
    overview.releases.filter((x) => x.end_of_life).reduce((n, x) => n + x.hosts, 0),
  );
  assert.ok(cli.support.out_of_support > 0, 'the fleet has hosts on an ended release');

  // Patching: the month's runs as the patch-runs API lists them.
  const runs: { outcome: string; finished_at: string }[] = [];
  for (let page = 1; ; page++) {
    const p = await api<{ total: number; items: { outcome: string; finished_at: string }[] }>(
      `/api/v1/patch-runs?since=2026-11-01T00:00:00.000Z&per_page=200&page=${page}`,
    );
    runs.push(...p.items);
    if (page * 200 >= p.total) break;
  }
  const inMonth = runs.filter((x) => x.finished_at < '2026-12-01');
  assert.ok(inMonth.length > 0, 'hosts patched in November');
  assert.equal(cli.patching.runs, inMonth.length);
  for (const [o, n] of Object.entries(cli.patching.by_outcome))
    assert.equal(n, inMonth.filter((x) => x.outcome === o).length, o);
  const tried = inMonth.filter((x) => ['success', 'nothing_to_do', 'partial', 'failed'].includes(x.outcome));
  const good = tried.filter((x) => x.outcome === 'success' || x.outcome === 'nothing_to_do').length;
  assert.equal(cli.patching.success_rate, Math.round((good / tried.length) * 1000) / 1000);

  // Remediation: the roll-up's first ten lines.
  const remediation = await api<{ total: number; items: Record<string, unknown>[] }>(
    '/api/v1/remediation?per_page=10&sort=impact',
  );
  assert.ok(cli.remediation.available);
  assert.equal(cli.remediation.total, remediation.total);
  assert.deepEqual(
    cli.remediation.top.map((x) => [x.source, x.fixed_version, x.hosts, x.vulnerabilities]),
    remediation.items.map((x) => [x.source, x.fixed_version, x.hosts, x.vulnerabilities]),
  );
  // This fleet's server has no KEV catalogue: the report says so rather than a zero.
  assert.equal(
    overview.feeds.some((f) => f.feed === 'kev'),
    false,
  );
  assert.equal(cli.known_exploited.loaded, false);

  // The HTML: the drawn page without a script, its figures the JSON's, its charts images.
  const html = readFileSync(`${base}.html`, 'utf8');
  assert.doesNotMatch(html, /<script/i);
  assert.match(html, /data-ready="true"/);
  const charts = [...html.matchAll(/<img\b[^>]*>/g)].filter((m) => /class="chart-image"/.test(m[0]));
  assert.equal(charts.length, 2, 'the two trend charts, drawn');
  for (const c of charts) assert.match(c[0], /src="data:image\/png;base64,[A-Za-z0-9+/]{1000,}/);
  const f = figures(html);
  for (const s of [...SEVERITIES, 'total'] as const) {
    assert.equal(f.get(`exposure.open_start.${s}`), int(cli.exposure.open_start[s]));
    assert.equal(f.get(`exposure.open_end.${s}`), int(cli.exposure.open_end[s]));
    assert.equal(f.get(`exposure.new.${s}`), int(cli.exposure.new[s]));
    assert.equal(f.get(`exposure.resolved.${s}`), int(cli.exposure.resolved[s]));
  }
  for (const s of [...SEVERITIES, 'total'] as const) {
    const x = s === 'total' ? cli.sla.total : cli.sla.by_severity[s];
    assert.equal(f.get(`sla.${s}.resolved`), int(x.resolved));
    assert.equal(f.get(`sla.${s}.within_sla`), percent(x.within_sla));
    assert.equal(f.get(`sla.${s}.mttr_days`), daysText(x.mttr_days));
  }
  assert.equal(f.get('patching.runs'), int(cli.patching.runs));
  assert.equal(f.get('patching.success_rate'), percent(cli.patching.success_rate));
  assert.match(f.get('kev.missing') ?? '', /^KEV data not loaded/);

  // The PDF: pages with ink on them, and the figures in its text.
  const pages = pageInk(`${base}.pdf`, mkdtempSync(join(dir, 'pages-')));
  assert.ok(pages.length >= 2, `${pages.length} pages`);
  for (const p of pages) assert.ok(p.ink > 0.01, `${p.file}: ${(p.ink * 100).toFixed(2)} % ink`);
  const text = execFileSync('pdftotext', ['-layout', `${base}.pdf`, '-'], { encoding: 'utf8' }).replaceAll(
    '\u00a0',
    ' ',
  );
  assert.match(text, /Patch and vulnerability report — November 2026/);
  assert.match(text, /2026-11-01 to 2026-11-30/);
  // Each tile's value under its label, in the label's column (pdftotext -layout keeps columns).
  const tiles: [string, string][] = [
    ['Hosts', int(cli.fleet.hosts.total)],
    ['Open at month end', int(cli.exposure.open_end.total)],
    ['New / resolved in the', `${int(cli.exposure.new.total)} / ${int(cli.exposure.resolved.total)}`],
    ['Resolved within SLA', percent(cli.sla.total.within_sla).replace('\u00a0', ' ')],
    ['Mean time to', daysText(cli.sla.total.mttr_days).replace('\u00a0', ' ')],
    ['Known exploited open', 'n/a'],
    ['Patch success rate', percent(cli.patching.success_rate).replace('\u00a0', ' ')],
    ['Hosts out of support', int(cli.support.out_of_support)],
  ];
  for (const [label, value] of tiles) assert.ok(under(text, label, value), `${label}: ${value} under it`);
  assert.match(text, /KEV data not loaded/);
  for (const x of cli.remediation.top.slice(0, 3)) assert.ok(text.includes(x.source), x.source);
  for (const name of [
    'Fleet exposure',
    'SLA compliance by severity',
    'Patching',
    'Top remediation actions',
    'Exceptions',
    'Hosts out of support',
  ])
    assert.ok(text.includes(name), name);
});

test('the server makes the same report itself and serves its files', { timeout: 300_000 }, async () => {
  // An operator's request (the admin's session): the report of November, made now.
  const admin = await adminSession();
  const made = await fetch(`${server.url}/api/v1/monthly-reports`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...admin },
    body: JSON.stringify({ month: MONTH }),
  });
  assert.equal(made.status, 201, await made.clone().text());
  const listed = await api<{ month: string; files: { name: string; format: string }[] }[]>('/api/v1/monthly-reports');
  assert.deepEqual(
    listed.find((x) => x.month === MONTH)?.files.map((x) => x.format),
    ['html', 'json', 'pdf'],
  );
  const pdf = await fetch(`${server.url}/api/v1/monthly-reports/patchloop-report-${MONTH}.pdf`, {
    headers: { authorization: `Bearer ${readFileSync(tokenFile, 'utf8').trim()}` },
  });
  assert.equal(pdf.headers.get('content-type'), 'application/pdf');
  assert.equal(
    Buffer.from(await pdf.arrayBuffer())
      .subarray(0, 5)
      .toString(),
    '%PDF-',
  );
  const own = MonthlyReportSchema.parse(await api(`/api/v1/monthly-reports/patchloop-report-${MONTH}.json`));
  assert.deepEqual({ ...own, generated_at: '', source: '' }, { ...cli, generated_at: '', source: '' });

  // The request is in the audit log, and the token the server used for its own API is revoked.
  const audit = await fetch(`${server.url}/api/v1/audit?action=report.create`, { headers: admin });
  const entry = ((await audit.json()) as { items: { action: string; outcome: string; target: { id: string } }[] })
    .items[0];
  assert.equal(entry.action, 'report.create');
  assert.equal(entry.outcome, 'success');
  assert.equal(entry.target.id, MONTH);
  const tokens = await fetch(`${server.url}/api/v1/api-tokens`, { headers: admin });
  const own_tokens = ((await tokens.json()) as { name: string; revoked: boolean }[]).filter((t) =>
    t.name.startsWith('monthly report'),
  );
  assert.ok(own_tokens.length > 0 && own_tokens.every((t) => t.revoked), JSON.stringify(own_tokens));
});

test(
  'the Reports page lists the reports with their files, and an operator makes one',
  { timeout: 300_000 },
  async () => {
    const browser = await launchBrowser();
    try {
      const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
      await logIn(page, server.url, fleet.password, '/reports');
      const row = page.locator('table[data-table="reports"] tbody tr').filter({ hasText: 'November 2026' });
      await row.waitFor();
      const listed = await api<{ month: string; files: { name: string }[] }[]>('/api/v1/monthly-reports');
      assert.equal(await page.locator('table[data-table="reports"] tbody tr').count(), listed.length);
      const links = await row.locator('a[data-file]').evaluateAll((els) => els.map((e) => e.getAttribute('href')));
      assert.deepEqual(
        links,
        ['pdf', 'html', 'json'].map((f) => `/api/v1/monthly-reports/patchloop-report-${MONTH}.${f}`),
      );
      // The PDF link downloads the PDF with the page's own session.
      const pdf = await page.request.get(`${server.url}${links[0]}`);
      assert.equal(pdf.headers()['content-type'], 'application/pdf');

      await page.locator('select[name="report-month"]').selectOption('2026-10');
      await page.locator('form[data-form="make-report"] button[type="submit"]').click();
      await page.locator('table[data-table="reports"] tbody tr').filter({ hasText: 'October 2026' }).waitFor();
      const october = await api<MonthlyReport>('/api/v1/monthly-reports/patchloop-report-2026-10.json');
      assert.equal(october.month, '2026-10');
      assert.equal(october.to, '2026-10-31');
    } finally {
      await browser.close();
    }
  },
);

test('without Chromium the report says so and what to install', async () => {
  const r = await runCli(
    ['report', '--month', MONTH, '--server', server.url, '--token-file', tokenFile, '--out', join(dir, 'none')],
    {
      env: { PATCHLOOP_CHROMIUM: '/nonexistent/chromium' },
    },
  );
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, /Chromium not found at \/nonexistent\/chromium/);
  const bad = await runCli(['report', '--month', '2026-13', '--server', server.url, '--token-file', tokenFile]);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--month: expected a month as YYYY-MM/);
});

test('patchloop report --data-dir: a stopped server’s report, the same figures', { timeout: 300_000 }, async () => {
  await server.stop();
  const out = join(dir, 'local');
  const r = await runCli(['report', '--month', MONTH, '--data-dir', fleet.dataDir, '--out', out]);
  assert.equal(r.code, 0, r.stderr);
  const local = MonthlyReportSchema.parse(
    JSON.parse(readFileSync(join(out, `patchloop-report-${MONTH}.json`), 'utf8')),
  );
  assert.equal(local.source, fleet.dataDir);
  assert.deepEqual({ ...local, generated_at: '', source: '' }, { ...cli, generated_at: '', source: '' });
});
