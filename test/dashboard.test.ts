// The dashboard in a real browser (Debian's chromium via playwright-core) against a real
// `patchloop server` process on loopback, over a fleet built through the server's API. Every
// number read off the screen is checked against the API's own answer.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { launchBrowser, logIn } from '../web/src/testing/browser.ts';
import { buildFleet, type Fleet } from '../web/src/testing/fleet.ts';
import { startServerProcess, type ServerProcess } from '../web/src/testing/server-process.ts';
import type { Finding, HostDetail, HostSummary, Overview, Page as ApiPage, Trends } from '../web/src/api/types.ts';
import { percent } from '../web/src/lib/format.ts';
import { SEVERITIES } from '../src/core/types.ts';

const REPO = fileURLToPath(new URL('../', import.meta.url));

let dir: string;
let fleet: Fleet;
let server: ServerProcess;
let browser: Browser;
let context: BrowserContext;
let page: Page;

before(async () => {
  execFileSync('sh', [join(REPO, 'scripts/build-web')], { stdio: 'pipe' });
  dir = mkdtempSync(join(tmpdir(), 'patchloop-dashboard-'));
  fleet = await buildFleet(dir, { hosts: 28, days: 60, cves: 1500, seed: 11, feedUpdates: 4 });
  server = await startServerProcess(fleet);
  browser = await launchBrowser();
  context = await browser.newContext({ viewport: { width: 1280, height: 800 }, acceptDownloads: true });
  page = await context.newPage();
});

after(async () => {
  await browser?.close();
  await server?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** GET from the API with the browser's own session (cookie) after login. */
async function apiGet<T>(path: string): Promise<T> {
  const res = await context.request.get(`${server.url}${path}`);
  assert.equal(res.status(), 200, `${path}: ${await res.text()}`);
  return (await res.json()) as T;
}

const num = (text: string | null): number => {
  assert.ok(text !== null && /\d/.test(text), `expected a number, got ${JSON.stringify(text)}`);
  return Number(text.replace(/[^\d]/g, ''));
};

test('the dashboard needs a login; a wrong password is refused, the admin credential opens it', async () => {
  await page.goto(`${server.url}/hosts?group=db`);
  await page.getByLabel('Password').fill('not the password');
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.getByRole('alert').filter({ hasText: 'Wrong username or password' }).waitFor();
  assert.equal(await page.locator('.sidebar').count(), 0);
  // Without a session the API says 401 and shows nothing.
  assert.equal((await context.request.get(`${server.url}/api/v1/stats/overview`)).status(), 401);

  await logIn(page, server.url, fleet.password, '/hosts?group=db');
  // The deep link survives the login, filters and all.
  assert.equal(new URL(page.url()).search, '?group=db');
  await page.locator('table[data-table="hosts"] tbody tr').first().waitFor();
  // The session cookie is HttpOnly: page scripts cannot read it.
  assert.equal(await page.evaluate(() => document.cookie.includes('patchloop_session')), false);
  const cookies = await context.cookies();
  const session = cookies.find((c) => c.name === 'patchloop_session');
  assert.ok(session?.httpOnly, 'HttpOnly session cookie');
  assert.equal(session.sameSite, 'Strict');
});

test('overview figures are the API\'s figures', async () => {
  await page.goto(`${server.url}/`);
  await page.locator('[data-kpi="open"] [data-value]').waitFor();
  const ov = await apiGet<Overview>('/api/v1/stats/overview');
  const kpi = (id: string) => page.locator(`[data-kpi="${id}"] [data-value]`).textContent();

  assert.ok(ov.open.total > 0, 'the fleet has open findings');
  assert.equal(num(await kpi('open')), ov.open.total);
  assert.equal(num(await kpi('critical')), ov.open.critical);
  assert.equal(num(await kpi('high')), ov.open.high);
  assert.equal(await kpi('sla'), percent(ov.sla.compliance));
  assert.equal(await kpi('reporting'), `${ov.hosts.reporting.toLocaleString('en-US')} / ${ov.hosts.total.toLocaleString('en-US')}`);
  assert.equal(num(await kpi('reboots')), ov.hosts.reboot_pending);
  assert.ok(ov.hosts.stale >= 1 && ov.hosts.never_reported >= 1, 'the fleet has stale and silent hosts');
  assert.match((await page.locator('[data-kpi="reporting"]').textContent()) ?? '', new RegExp(`${ov.hosts.stale} stale · ${ov.hosts.never_reported} never reported`));

  for (const s of SEVERITIES) {
    const row = page.locator(`[data-chart="open-by-severity"] [data-severity="${s}"]`);
    assert.equal(num(await row.locator('[data-open]').textContent()), ov.open[s], `open ${s}`);
    assert.equal(num(await row.locator('[data-fixable]').textContent()), ov.fixable[s], `fixable ${s}`);
  }
  // SLA table: target and breaches per severity.
  for (const s of SEVERITIES) {
    const row = page.locator('table[data-table="sla"] tbody tr').filter({ has: page.locator(`.sev-${s}`) });
    assert.equal(num(await row.locator('td[data-col="target"]').textContent()), ov.sla.targets_days[s]);
    assert.equal(num(await row.locator('td[data-col="overdue"]').textContent()), ov.sla.by_severity[s].overdue, `breaches ${s}`);
  }
  assert.deepEqual([ov.sla.targets_days.critical, ov.sla.targets_days.high, ov.sla.targets_days.medium, ov.sla.targets_days.low], [7, 30, 90, 180]);

  // The 90-day trend: the summary line adds up the API's days, and the chart is drawn.
  const tr = await apiGet<Trends>('/api/v1/stats/trends?days=90');
  assert.equal(tr.days.length, 90);
  const added = tr.days.reduce((n, d) => n + d.new.total, 0);
  const resolved = tr.days.reduce((n, d) => n + d.resolved.total, 0);
  assert.ok(added > 0 && resolved > 0, 'findings were both detected and resolved over the period');
  const summary = (await page.locator('[data-trend-summary]').textContent()) ?? '';
  assert.equal(summary, `${added.toLocaleString('en-US')} new · ${resolved.toLocaleString('en-US')} resolved · open ${tr.days[0].open.total.toLocaleString('en-US')} → ${tr.days[89].open.total.toLocaleString('en-US')}`);
  assert.equal(await page.locator('[data-card="trend"] canvas').count(), 2);

  // End-of-life releases are named with their host counts.
  const eol = ov.releases.filter((r) => r.end_of_life);
  assert.ok(eol.length > 0, 'bullseye hosts are past their support');
  for (const r of eol) {
    const row = page.locator('table[data-table="releases"] tbody tr.row-bad').filter({ hasText: r.release });
    assert.equal(num(await row.locator('td[data-col="hosts"]').textContent()), r.hosts);
  }
});

test('hosts filter, sort and page through the URL, matching the API', async () => {
  await page.goto(`${server.url}/hosts`);
  const rows = page.locator('table[data-table="hosts"] tbody tr');
  await rows.first().waitFor();
  const all = await apiGet<ApiPage<HostSummary>>('/api/v1/hosts?per_page=500');
  assert.equal(num(await page.locator('[data-hosts-total]').textContent()), all.total);
  assert.equal(await rows.count(), Math.min(50, all.total));

  // Filter by group: typed, applied, written into the URL.
  await page.getByLabel('Group').fill('web');
  await page.getByLabel('Group').press('Enter');
  await page.waitForURL(/group=web/);
  const web = await apiGet<ApiPage<HostSummary>>('/api/v1/hosts?group=web&per_page=500');
  assert.ok(web.total > 0 && web.total < all.total);
  await page.locator(`[data-hosts-total="${web.total}"]`).waitFor();
  assert.deepEqual(await rows.locator('td[data-col="group"]').allTextContents(), web.items.map(() => 'web'));
  assert.deepEqual(await rows.locator('td[data-col="hostname"] a').allTextContents(), web.items.map((h) => h.hostname));

  // Sort by high findings (descending first), as the API sorts.
  await Promise.all([page.waitForResponse((r) => /\/api\/v1\/hosts\?.*sort=high/.test(r.url())), page.locator('th[data-col="high"] button').click()]);
  await page.waitForURL(/sort=high/);
  await page.locator('.table-wrap.is-loading').waitFor({ state: 'detached' });
  const byHigh = await apiGet<ApiPage<HostSummary>>('/api/v1/hosts?group=web&sort=high&order=desc&per_page=500');
  assert.deepEqual(await rows.locator('td[data-col="hostname"] a').allTextContents(), byHigh.items.map((h) => h.hostname));
  assert.deepEqual((await rows.locator('td[data-col="high"]').allTextContents()).map(num), byHigh.items.map((h) => h.open.high));

  // Stale hosts, from a shared link.
  await page.goto(`${server.url}/hosts?state=stale`);
  const stale = await apiGet<ApiPage<HostSummary>>('/api/v1/hosts?state=stale&per_page=500');
  assert.ok(stale.total >= 1);
  await page.locator(`[data-hosts-total="${stale.total}"]`).waitFor();
  assert.deepEqual(await rows.locator('td[data-col="hostname"] a').allTextContents(), stale.items.map((h) => h.hostname));
  assert.equal(await rows.locator('.badge', { hasText: 'stale' }).count(), stale.total);
  assert.equal(await page.getByLabel('Reporting').inputValue(), 'stale');
});

test('a host page shows its findings with the reason, its packages and its history', async () => {
  const hosts = await apiGet<ApiPage<HostSummary>>('/api/v1/hosts?sort=high&per_page=1');
  const target = hosts.items[0];
  await page.goto(`${server.url}/hosts?sort=high`);
  await page.locator('table[data-table="hosts"] tbody tr td[data-col="hostname"] a').first().click();
  await page.waitForURL(new RegExp(`/hosts/${target.id}$`));
  const detail = await apiGet<HostDetail>(`/api/v1/hosts/${target.id}`);
  await page.getByRole('heading', { name: detail.hostname }).waitFor();
  for (const s of SEVERITIES) {
    assert.equal(num(await page.locator(`[data-card="host-counts"] [data-severity="${s}"] [data-open]`).textContent()), detail.open[s], s);
  }
  const findings = await apiGet<ApiPage<Finding>>(`/api/v1/hosts/${target.id}/findings?per_page=50`);
  const frows = page.locator('table[data-table="host-findings"] tbody tr');
  await frows.first().waitFor();
  assert.equal(await frows.count(), findings.items.length);
  const first = findings.items[0];
  assert.equal(await frows.first().locator('td[data-col="vulnerability"]').textContent(), first.vulnerability);
  // Why: the feed, the publisher's status and the versions compared.
  const why = (await frows.first().locator('td[data-col="why"]').textContent()) ?? '';
  assert.ok(why.includes(first.feed) && why.includes(first.raw_status), why);
  if (first.fixed_version) assert.ok(why.includes(`< ${first.fixed_version}`), why);
  else assert.ok(why.includes('no fixed version'), why);

  await page.getByRole('tab', { name: /Packages/ }).click();
  await page.locator('table[data-table="host-packages"] tbody tr').first().waitFor();
  assert.equal(num(await page.locator('.pager-info').getAttribute('data-total')), detail.package_count);

  await page.getByRole('tab', { name: 'History' }).click();
  const scans = page.locator('table[data-table="host-scans"] tbody tr');
  await scans.first().waitFor();
  assert.equal(await scans.count(), Math.min(100, (await apiGet<{ scans: unknown[] }>(`/api/v1/hosts/${target.id}/history?limit=500`)).scans.length));

  await page.getByRole('tab', { name: 'Patching' }).click();
  await page.getByText('This server does not publish patch policies yet').waitFor();
});

test('CSV exports hold exactly the rows of the filtered table', async () => {
  await page.goto(`${server.url}/hosts?group=db`);
  await page.locator('table[data-table="hosts"] tbody tr').first().waitFor();
  const [download] = await Promise.all([page.waitForEvent('download'), page.locator('[data-export="hosts"]').click()]);
  assert.match(download.suggestedFilename(), /^patchloop-hosts-\d{4}-\d{2}-\d{2}\.csv$/);
  const csv = readFileSync((await download.path())!, 'utf8').trimEnd().split('\r\n');
  const header = csv[0].split(',');
  const api = await apiGet<ApiPage<HostSummary>>('/api/v1/hosts?group=db&per_page=500');
  assert.equal(csv.length - 1, api.total);
  const col = (name: string) => csv.slice(1).map((l) => l.split(',')[header.indexOf(name)]);
  assert.deepEqual(col('hostname'), api.items.map((h) => h.hostname));
  assert.deepEqual(col('open_total').map(Number), api.items.map((h) => h.open.total));

  // The findings export is the server's own (same filters as the table on screen).
  const host = api.items.find((h) => h.open.high > 0)!;
  await page.goto(`${server.url}/hosts/${host.id}?severity=high`);
  await page.locator('table[data-table="host-findings"] tbody tr').first().waitFor();
  const [findingsCsv] = await Promise.all([page.waitForEvent('download'), page.locator('[data-export="host-findings"]').click()]);
  const lines = readFileSync((await findingsCsv.path())!, 'utf8').trimEnd().split('\r\n');
  assert.equal(lines.length - 1, host.open.high);
  assert.ok(lines.slice(1).every((l) => l.includes(',high,')));
});

test('vulnerabilities: search by CVE id, open one, see its hosts and fixed versions', async () => {
  const top = await apiGet<ApiPage<{ id: string; open_hosts: number; fixed_versions: string[] }>>('/api/v1/vulnerabilities?sort=hosts&per_page=5&fixable=true');
  const v = top.items[0];
  await page.goto(`${server.url}/vulnerabilities`);
  await page.getByLabel('CVE or advisory id').fill(v.id);
  await page.getByLabel('CVE or advisory id').press('Enter');
  await page.waitForURL(new RegExp(`search=${v.id}`));
  const row = page.locator('table[data-table="vulns"] tbody tr').filter({ hasText: v.id });
  await row.waitFor();
  assert.equal(num(await row.locator('td[data-col="hosts"]').textContent()), v.open_hosts);
  await row.locator('a').first().click();
  await page.locator('[data-kpi="vuln-hosts"] [data-value]').waitFor();
  assert.equal(num(await page.locator('[data-kpi="vuln-hosts"] [data-value]').textContent()), v.open_hosts);
  const facts = (await page.locator('[data-card="vuln-facts"]').textContent()) ?? '';
  for (const fv of v.fixed_versions) assert.ok(facts.includes(fv), `${fv} in ${facts}`);
  const affected = await apiGet<ApiPage<Finding>>(`/api/v1/findings?vulnerability=${encodeURIComponent(v.id)}&per_page=50`);
  await page.locator('table[data-table="vuln-findings"] tbody tr').first().waitFor();
  assert.equal(await page.locator('table[data-table="vuln-findings"] tbody tr').count(), affected.items.length);

  // An id no feed knows is said to be unknown, not shown as an empty vulnerability.
  await page.goto(`${server.url}/vulnerabilities/CVE-1999-99999`);
  await page.getByText('CVE-1999-99999 is not known to this server').waitFor();
});

test('patching lists the hosts waiting for a reboot and says what the server does not record yet', async () => {
  await page.goto(`${server.url}/patching`);
  const pending = await apiGet<ApiPage<HostSummary>>('/api/v1/hosts?reboot_pending=true&sort=critical&per_page=25');
  assert.ok(pending.total > 0);
  const rows = page.locator('table[data-table="reboots"] tbody tr');
  await rows.first().waitFor();
  assert.deepEqual(await rows.locator('td[data-col="hostname"]').allTextContents(), pending.items.map((h) => h.hostname));
  await page.getByText('No patch runs recorded yet').waitFor();
});

test('logging out ends the session on the server', async () => {
  await page.goto(`${server.url}/`);
  await page.getByRole('button', { name: 'Log out' }).click();
  await page.getByLabel('Password').waitFor();
  assert.equal((await context.request.get(`${server.url}/api/v1/stats/overview`)).status(), 401);
});
