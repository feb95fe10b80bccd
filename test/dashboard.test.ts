// The dashboard in a real browser (Debian's chromium via playwright-core) against a real
// `patchloop server` process on loopback, over a fleet built through the server's API (with
// patch policies, patch runs and reboot leases reported the way agents report them). Every
// number read off the screen is checked against the API's own answer.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { parseCsv } from './support/csv.ts';
import { launchBrowser, logIn } from './support/browser.ts';
import { buildFleet, startFleetServer, type Fleet } from './support/dashboard-fleet.ts';
import { REPO_ROOT } from './support/paths.ts';
import type { ServerProcess } from './support/server-process.ts';
import type {
  Finding,
  HostDetail,
  HostFacets,
  HostPolicyView,
  HostSummary,
  LeaseView,
  Overview,
  Page as ApiPage,
  PatchRun,
  PatchRunSummary,
  RingView,
  Trends,
} from '../web/src/api/types.ts';
import { percent } from '../web/src/lib/format.ts';
import { SEVERITIES } from '../src/core/types.ts';

let dir: string;
let fleet: Fleet;
let server: ServerProcess;
let browser: Browser;
let context: BrowserContext;
let page: Page;

before(async () => {
  execFileSync('sh', [join(REPO_ROOT, 'scripts/build-web')], { stdio: 'pipe' });
  dir = mkdtempSync(join(tmpdir(), 'patchloop-dashboard-'));
  fleet = await buildFleet(dir, { hosts: 28, days: 60, cves: 1500, seed: 11, feedUpdates: 4 });
  server = await startFleetServer(fleet);
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

test("overview figures are the API's figures", async () => {
  await page.goto(`${server.url}/`);
  await page.locator('[data-kpi="open"] [data-value]').waitFor();
  const ov = await apiGet<Overview>('/api/v1/stats/overview');
  const kpi = (id: string) => page.locator(`[data-kpi="${id}"] [data-value]`).textContent();

  assert.ok(ov.open.total > 0, 'the fleet has open findings');
  assert.equal(num(await kpi('open')), ov.open.total);
  assert.equal(num(await kpi('critical')), ov.open.critical);
  assert.equal(num(await kpi('high')), ov.open.high);
  assert.equal(await kpi('sla'), percent(ov.sla.compliance));
  assert.equal(
    await kpi('reporting'),
    `${ov.hosts.reporting.toLocaleString('en-US')} / ${ov.hosts.total.toLocaleString('en-US')}`,
  );
  assert.equal(num(await kpi('reboots')), ov.hosts.reboot_pending);
  assert.ok(ov.hosts.stale >= 1 && ov.hosts.never_reported >= 1, 'the fleet has stale and silent hosts');
  assert.match(
    (await page.locator('[data-kpi="reporting"]').textContent()) ?? '',
    new RegExp(`${ov.hosts.stale} stale · ${ov.hosts.never_reported} never reported`),
  );

  for (const s of SEVERITIES) {
    const row = page.locator(`[data-chart="open-by-severity"] [data-severity="${s}"]`);
    assert.equal(num(await row.locator('[data-open]').textContent()), ov.open[s], `open ${s}`);
    assert.equal(num(await row.locator('[data-fixable]').textContent()), ov.fixable[s], `fixable ${s}`);
  }
  // SLA table: target and breaches per severity.
  for (const s of SEVERITIES) {
    const row = page.locator('table[data-table="sla"] tbody tr').filter({ has: page.locator(`.sev-${s}`) });
    assert.equal(num(await row.locator('td[data-col="target"]').textContent()), ov.sla.targets_days[s]);
    assert.equal(
      num(await row.locator('td[data-col="overdue"]').textContent()),
      ov.sla.by_severity[s].overdue,
      `breaches ${s}`,
    );
  }
  assert.deepEqual(
    [ov.sla.targets_days.critical, ov.sla.targets_days.high, ov.sla.targets_days.medium, ov.sla.targets_days.low],
    [7, 30, 90, 180],
  );

  // The 90-day trend: the summary line adds up the API's days, and the chart is drawn.
  const tr = await apiGet<Trends>('/api/v1/stats/trends?days=90');
  assert.equal(tr.days.length, 90);
  const added = tr.days.reduce((n, d) => n + d.new.total, 0);
  const resolved = tr.days.reduce((n, d) => n + d.resolved.total, 0);
  assert.ok(added > 0 && resolved > 0, 'findings were both detected and resolved over the period');
  const summary = (await page.locator('[data-trend-summary]').textContent()) ?? '';
  assert.equal(
    summary,
    `${added.toLocaleString('en-US')} new · ${resolved.toLocaleString('en-US')} resolved · open ${tr.days[0].open.total.toLocaleString('en-US')} → ${tr.days[89].open.total.toLocaleString('en-US')}`,
  );
  assert.equal(await page.locator('[data-card="trend"] canvas').count(), 2);

  // The last patch runs tile is the server's 7-day summary.
  const sum = await apiGet<PatchRunSummary>('/api/v1/patch-runs/summary?days=7');
  const runs7 = Object.values(sum.by_outcome).reduce((n, x) => n + x, 0);
  assert.ok(runs7 > 0, 'hosts reported patch runs in the last 7 days');
  await page.locator(`[data-card="patch-runs"] [data-total="${runs7}"]`).waitFor();
  for (const [o, n] of Object.entries(sum.by_outcome)) {
    const row = page.locator(`[data-card="patch-runs"] [data-outcome-row="${o}"]`);
    if (n === 0) assert.equal(await row.count(), 0, `no ${o} row`);
    else assert.equal(num(await row.locator('[data-n]').textContent()), n, o);
  }
  assert.equal(
    num(await page.locator('[data-card="patch-runs"] [data-hosts-failed]').getAttribute('data-hosts-failed')),
    sum.hosts_failed,
  );

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

  // The group and tag selects offer the fleet's facets with their host counts.
  const facets = await apiGet<HostFacets>('/api/v1/hosts/facets');
  const groupOptions = await page.getByLabel('Group').locator('option').allTextContents();
  assert.deepEqual(groupOptions, [
    'All groups',
    ...facets.groups.filter((g) => g.name !== '').map((g) => `${g.name} (${g.hosts})`),
  ]);
  const tagOptions = await page.getByLabel('Tag').locator('option').allTextContents();
  assert.deepEqual(tagOptions, ['Any tag', ...facets.tags.map((t) => `${t.name} (${t.hosts})`)]);
  assert.equal(
    facets.groups.reduce((n, g) => n + g.hosts, 0),
    all.total,
  );

  // Filter by group: chosen, applied, written into the URL.
  await page.getByLabel('Group').selectOption('web');
  await page.waitForURL(/group=web/);
  const web = await apiGet<ApiPage<HostSummary>>('/api/v1/hosts?group=web&per_page=500');
  assert.ok(web.total > 0 && web.total < all.total);
  assert.equal(web.total, facets.groups.find((g) => g.name === 'web')!.hosts);
  await page.locator(`[data-hosts-total="${web.total}"]`).waitFor();
  assert.deepEqual(
    await rows.locator('td[data-col="group"]').allTextContents(),
    web.items.map(() => 'web'),
  );
  assert.deepEqual(
    await rows.locator('td[data-col="hostname"] a').allTextContents(),
    web.items.map((h) => h.hostname),
  );

  // Sort by high findings (descending first), as the API sorts.
  await Promise.all([
    page.waitForResponse((r) => /\/api\/v1\/hosts\?.*sort=high/.test(r.url())),
    page.locator('th[data-col="high"] button').click(),
  ]);
  await page.waitForURL(/sort=high/);
  await page.locator('.table-wrap.is-loading').waitFor({ state: 'detached' });
  const byHigh = await apiGet<ApiPage<HostSummary>>('/api/v1/hosts?group=web&sort=high&order=desc&per_page=500');
  assert.deepEqual(
    await rows.locator('td[data-col="hostname"] a').allTextContents(),
    byHigh.items.map((h) => h.hostname),
  );
  assert.deepEqual(
    (await rows.locator('td[data-col="high"]').allTextContents()).map(num),
    byHigh.items.map((h) => h.open.high),
  );

  // Stale hosts, from a shared link.
  await page.goto(`${server.url}/hosts?state=stale`);
  const stale = await apiGet<ApiPage<HostSummary>>('/api/v1/hosts?state=stale&per_page=500');
  assert.ok(stale.total >= 1);
  await page.locator(`[data-hosts-total="${stale.total}"]`).waitFor();
  assert.deepEqual(
    await rows.locator('td[data-col="hostname"] a').allTextContents(),
    stale.items.map((h) => h.hostname),
  );
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
    assert.equal(
      num(await page.locator(`[data-card="host-counts"] [data-severity="${s}"] [data-open]`).textContent()),
      detail.open[s],
      s,
    );
  }
  const findings = await apiGet<ApiPage<Finding>>(`/api/v1/hosts/${target.id}/findings?per_page=50`);
  const frows = page.locator('table[data-table="host-findings"] tbody tr');
  await frows.first().waitFor();
  assert.equal(await frows.count(), findings.items.length);
  const first = findings.items[0];
  assert.equal(await frows.first().locator('td[data-col="vulnerability"] a').textContent(), first.vulnerability);
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
  assert.equal(
    await scans.count(),
    Math.min(100, (await apiGet<{ scans: unknown[] }>(`/api/v1/hosts/${target.id}/history?limit=500`)).scans.length),
  );

  await page.getByRole('tab', { name: 'Patching' }).click();
  await page.locator('[data-card="host-policy"] [data-lines] li').first().waitFor();
  const view = await apiGet<HostPolicyView>(`/api/v1/hosts/${target.id}/policy`);
  assert.deepEqual(
    await page.locator('[data-card="host-policy"] [data-lines] li').allTextContents(),
    view.lines.map((l) => l.trim().replace(/^- /, '')),
  );
});

test("a host's patching tab: its policy, ring, gate, next window, tonight's plan and its patch runs, as the API has them", async () => {
  const all = await apiGet<ApiPage<HostSummary>>('/api/v1/hosts?per_page=500');
  const views = await Promise.all(
    all.items.map(async (h) => ({ h, v: await apiGet<HostPolicyView>(`/api/v1/hosts/${h.id}/policy`) })),
  );
  const governed = views.filter((x) => x.v.policy && x.v.ring && x.v.next_window);
  assert.ok(governed.length > 0, 'hosts under a policy with maintenance windows');
  const runsOf = async (id: number) => apiGet<ApiPage<PatchRun>>(`/api/v1/patch-runs?host=${id}&per_page=20`);
  // The governed host with the most patch runs.
  const counted = await Promise.all(governed.map(async (x) => ({ ...x, runs: await runsOf(x.h.id) })));
  const { h, v, runs } = counted.sort((a, b) => b.runs.total - a.runs.total)[0];
  assert.ok(runs.total > 0, `${h.hostname} reported patch runs`);

  await page.goto(`${server.url}/hosts/${h.id}?tab=patching`);
  const card = page.locator('[data-card="host-policy"]');
  await card.locator('[data-lines] li').first().waitFor();
  assert.equal(await card.locator('[data-fact="policy"]').textContent(), `${v.policy!.name} v${v.policy!.version}`);
  assert.equal(await card.locator('[data-fact="ring"]').textContent(), `${v.ring!.name} (${v.ring!.index + 1})`);
  assert.equal(await card.locator('[data-gate]').getAttribute('data-gate'), v.gate!.state);
  assert.equal(
    await card.locator('[data-fact="next-window"]').textContent(),
    `${v.next_window!.start.slice(0, 10)} ${v.next_window!.start.slice(11, 16)} – ${v.next_window!.end.slice(0, 10)} ${v.next_window!.end.slice(11, 16)} UTC`,
  );
  assert.equal(
    await card
      .locator('[data-fact="will-patch"]')
      .textContent()
      .then((t) => t?.startsWith(v.outlook!.will_patch ? 'yes' : 'no')),
    true,
  );
  const lines = await card.locator('[data-lines] li').allTextContents();
  assert.deepEqual(
    lines,
    v.lines.map((l) => l.trim().replace(/^- /, '')),
  );
  assert.ok(
    lines.some((l) => l.includes(`is in ring ${v.ring!.name}`)),
    lines.join('\n'),
  );

  const rows = page.locator('table[data-table="host-runs"] tbody tr');
  await rows.first().waitFor();
  assert.equal(await rows.count(), runs.items.length);
  assert.deepEqual(
    await rows.locator('[data-outcome]').evaluateAll((els) => els.map((e) => e.getAttribute('data-outcome'))),
    runs.items.map((r) => r.outcome),
  );
  assert.deepEqual(
    (await rows.locator('td[data-col="changes"]').allTextContents()).map((t) => Number(t.split(' ')[0])),
    runs.items.map((r) => r.changes.length),
  );

  // A host whose group has no policy says so, and how to give it one.
  const lone = views.find((x) => x.v.policy === null);
  assert.ok(lone, 'a host outside every policy (group infra)');
  await page.goto(`${server.url}/hosts/${lone.h.id}?tab=patching`);
  await page.locator('[data-card="host-policy"] [data-fact="policy"]', { hasText: 'none' }).waitFor();
  assert.match(
    (await page.locator('[data-card="host-policy"] [data-lines]').textContent()) ?? '',
    new RegExp(`No policy governs group "${lone.h.group}"`),
  );
});

test('CSV exports hold exactly the rows of the filtered table', async () => {
  await page.goto(`${server.url}/hosts?group=db`);
  await page.locator('table[data-table="hosts"] tbody tr').first().waitFor();
  const [download] = await Promise.all([page.waitForEvent('download'), page.locator('[data-export="hosts"]').click()]);
  assert.match(download.suggestedFilename(), /^patchloop-hosts-\d{4}-\d{2}-\d{2}\.csv$/);
  const csv = parseCsv(readFileSync((await download.path())!, 'utf8'));
  const header = csv[0];
  const api = await apiGet<ApiPage<HostSummary>>('/api/v1/hosts?group=db&per_page=500');
  assert.equal(csv.length - 1, api.total);
  const col = (name: string) => csv.slice(1).map((l) => l[header.indexOf(name)]);
  assert.deepEqual(
    col('hostname'),
    api.items.map((h) => h.hostname),
  );
  assert.deepEqual(
    col('open_total').map(Number),
    api.items.map((h) => h.open.total),
  );

  // The findings export is the server's own (same filters as the table on screen).
  const host = api.items.find((h) => h.open.high > 0)!;
  await page.goto(`${server.url}/hosts/${host.id}?severity=high`);
  await page.locator('table[data-table="host-findings"] tbody tr').first().waitFor();
  const [findingsCsv] = await Promise.all([
    page.waitForEvent('download'),
    page.locator('[data-export="host-findings"]').click(),
  ]);
  // A row per binary package; the counts (and the table) are of their exposures.
  const rows = parseCsv(readFileSync((await findingsCsv.path())!, 'utf8'));
  const [exposure, severity] = ['exposure', 'severity'].map((c) => rows[0].indexOf(c));
  assert.equal(new Set(rows.slice(1).map((r) => r[exposure])).size, host.open.high);
  assert.ok(rows.slice(1).every((r) => r[severity] === 'high'));
});

test('vulnerabilities: search by CVE id, open one, see its hosts and fixed versions', async () => {
  const top = await apiGet<ApiPage<{ id: string; open_hosts: number; fixed_versions: string[] }>>(
    '/api/v1/vulnerabilities?sort=hosts&per_page=5&fixable=true',
  );
  const v = top.items[0];
  await page.goto(`${server.url}/vulnerabilities`);
  await page.getByLabel('CVE, alias or advisory id').fill(v.id);
  await page.getByLabel('CVE, alias or advisory id').press('Enter');
  await page.waitForURL(new RegExp(`search=${v.id}`));
  const row = page.locator('table[data-table="vulns"] tbody tr').filter({ hasText: v.id });
  await row.waitFor();
  assert.equal(num(await row.locator('td[data-col="hosts"]').textContent()), v.open_hosts);
  await row.locator('a').first().click();
  await page.locator('[data-kpi="vuln-hosts"] [data-value]').waitFor();
  assert.equal(num(await page.locator('[data-kpi="vuln-hosts"] [data-value]').textContent()), v.open_hosts);
  const facts = (await page.locator('[data-card="vuln-facts"]').textContent()) ?? '';
  for (const fv of v.fixed_versions) assert.ok(facts.includes(fv), `${fv} in ${facts}`);
  const affected = await apiGet<ApiPage<Finding>>(
    `/api/v1/findings?vulnerability=${encodeURIComponent(v.id)}&per_page=50`,
  );
  await page.locator('table[data-table="vuln-findings"] tbody tr').first().waitFor();
  assert.equal(await page.locator('table[data-table="vuln-findings"] tbody tr').count(), affected.items.length);

  // An id no feed knows is said to be unknown, not shown as an empty vulnerability.
  await page.goto(`${server.url}/vulnerabilities/CVE-1999-99999`);
  await page.getByText('CVE-1999-99999 is not known to this server').waitFor();
});

test('patching: the 7-day figures, the runs table with its URL filters and CSV, failures, rings with their gates and reboot leases match the API', async () => {
  await page.goto(`${server.url}/patching`);
  const sum = await apiGet<PatchRunSummary>('/api/v1/patch-runs/summary?days=7');
  const kpi = (id: string) => page.locator(`[data-kpi="${id}"] [data-value]`);
  await page.locator(`[data-kpi="runs"] [data-value]`).filter({ hasText: /\d/ }).waitFor();
  const o = sum.by_outcome;
  assert.equal(
    num(await kpi('runs').textContent()),
    Object.values(o).reduce((n, x) => n + x, 0),
  );
  assert.equal(num(await kpi('runs-ok').textContent()), o.success + o.nothing_to_do);
  assert.equal(num(await kpi('runs-failed').textContent()), o.failed + o.partial);
  assert.equal(num(await kpi('hosts-failed').textContent()), sum.hosts_failed);

  // The runs table: newest first, as the API pages it.
  const runs = await apiGet<ApiPage<PatchRun>>('/api/v1/patch-runs?per_page=25');
  assert.ok(runs.total > 25, `the fleet reported many patch runs (${runs.total})`);
  const rows = page.locator('table[data-table="runs"] tbody tr');
  await page.locator(`[data-runs-total="${runs.total}"]`).waitFor();
  assert.deepEqual(
    await rows.locator('td[data-col="host"] a').allTextContents(),
    runs.items.map((r) => r.host.hostname),
  );
  assert.deepEqual(
    await rows.locator('[data-outcome]').evaluateAll((els) => els.map((e) => e.getAttribute('data-outcome'))),
    runs.items.map((r) => r.outcome),
  );
  assert.deepEqual(
    await rows.locator('td[data-col="policy"]').allTextContents(),
    runs.items.map((r) => `${r.policy.name} v${r.policy.version}`),
  );

  // Outcome filter: chosen, written into the URL, the rows are the API's failures.
  await page.getByLabel('Outcome').selectOption('failed,partial');
  await page.waitForURL(/outcome=failed%2Cpartial/);
  const failed = await apiGet<ApiPage<PatchRun>>('/api/v1/patch-runs?outcome=failed,partial&per_page=25');
  assert.ok(failed.total > 0, 'some runs failed');
  await page.locator(`[data-runs-total="${failed.total}"]`).waitFor();
  assert.deepEqual(
    await rows.locator('td[data-col="host"] a').allTextContents(),
    failed.items.map((r) => r.host.hostname),
  );
  // The shared link restores the filter, and the export holds every matching run.
  await page.goto(page.url());
  await page.locator(`[data-runs-total="${failed.total}"]`).waitFor();
  assert.equal(await page.getByLabel('Outcome').inputValue(), 'failed,partial');
  const [csvFile] = await Promise.all([page.waitForEvent('download'), page.locator('[data-export="runs"]').click()]);
  assert.match(csvFile.suggestedFilename(), /^patchloop-patch-runs-\d{4}-\d{2}-\d{2}\.csv$/);
  const lines = readFileSync((await csvFile.path())!, 'utf8')
    .trimEnd()
    .split('\r\n');
  const header = lines[0].split(',');
  assert.equal(lines.length - 1, failed.total);
  const allFailed = await apiGet<ApiPage<PatchRun>>('/api/v1/patch-runs?outcome=failed,partial&per_page=200');
  assert.deepEqual(
    lines.slice(1).map((l) => l.split(',')[header.indexOf('id')]),
    allFailed.items.map((r) => r.id),
  );
  assert.ok(lines.slice(1).every((l) => /,(failed|partial),/.test(l)));

  // Failures: the newest failed runs with the error the agent parsed from the logs.
  const list = page.locator('[data-list="failures"] > li');
  await list.first().waitFor();
  const newest = failed.items.slice(0, 8);
  assert.deepEqual(
    await list.evaluateAll((els) => els.map((e) => e.getAttribute('data-run'))),
    newest.map((r) => r.id),
  );
  assert.ok(((await list.first().textContent()) ?? '').includes(newest[0].errors[0].message));

  // Rings: every policy's rings, their progress and the gate now.
  const rings = await apiGet<RingView[]>('/api/v1/rings');
  assert.ok(rings.length >= 4 && rings.some((r) => r.index > 0), 'ringed policies');
  const ringRows = page.locator('table[data-table="rings"] tbody tr');
  await ringRows.first().waitFor();
  assert.equal(await ringRows.count(), rings.length);
  for (const [i, r] of rings.entries()) {
    const row = ringRows.nth(i);
    assert.equal(await row.locator('td[data-col="ring"]').textContent(), `${r.index + 1}. ${r.ring}`);
    assert.deepEqual(
      [
        num(await row.locator('td[data-col="hosts"]').textContent()),
        num(await row.locator('td[data-col="patched"]').textContent()),
        num(await row.locator('td[data-col="failed"]').textContent()),
      ],
      [r.hosts, r.patched, r.failed],
      `${r.policy}/${r.ring}`,
    );
    assert.equal(await row.locator('[data-gate]').getAttribute('data-gate'), r.gate.state);
    assert.deepEqual(await row.locator('.reasons li').allTextContents(), r.gate.reasons);
  }
  // The db canary always fails, so the db ring after it is blocked.
  assert.equal(rings.find((r) => r.policy === 'db' && r.index === 1)?.gate.state, 'blocked');

  // Reboot leases: k8s reboots one host at a time; one holds the lease, the others wait.
  const leases = await apiGet<LeaseView[]>('/api/v1/reboot-leases');
  assert.equal(leases.filter((l) => l.state === 'held').length, 1);
  assert.ok(
    leases.some((l) => l.state === 'waiting'),
    'hosts wait for the lease',
  );
  const leaseRows = page.locator('table[data-table="leases"] tbody tr');
  await leaseRows.first().waitFor();
  assert.deepEqual(
    await leaseRows.locator('td[data-col="host"]').allTextContents(),
    leases.map((l) => l.host.hostname),
  );
  assert.deepEqual(
    await leaseRows.locator('td[data-col="state"]').allTextContents(),
    leases.map((l) => (l.state === 'held' ? 'rebooting (held)' : 'waiting')),
  );
  assert.equal(num(await kpi('leases').textContent()), 1);

  // Hosts waiting for a reboot are still listed.
  const pending = await apiGet<ApiPage<HostSummary>>('/api/v1/hosts?reboot_pending=true&sort=critical&per_page=25');
  assert.ok(pending.total > 0);
  const reboots = page.locator('table[data-table="reboots"] tbody tr');
  assert.deepEqual(
    await reboots.locator('td[data-col="hostname"]').allTextContents(),
    pending.items.map((h) => h.hostname),
  );
});

test('logging out ends the session on the server', async () => {
  await page.goto(`${server.url}/`);
  await page.getByRole('button', { name: 'Log out' }).click();
  await page.getByLabel('Password').waitFor();
  assert.equal((await context.request.get(`${server.url}/api/v1/stats/overview`)).status(), 401);
});
