// What to fix first, in a real browser (Debian's chromium via playwright-core) against the real
// server on loopback, over the mixed fleet of real data (Debian bookworm, AlmaLinux 9.4, Alpine
// 3.15) with CISA's real KEV catalogue: the overview's "known exploited, open" and P1 tiles and
// the hosts behind them, the vulnerabilities list (priority first, with CVSS, EPSS and KEV
// badges), and the Remediation page with its CSV — every figure read off the screen is the API's.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import type { HostRemediation, Overview, Page as ApiPage, Remediation, VulnSummary } from '../web/src/api/types.ts';
import { launchBrowser, logIn } from './support/browser.ts';
import { FEEDS, removeTemporaries } from './support/estate.ts';
import { startMixedFleet, type MixedFleet } from './support/mixed-fleet.ts';
import { REPO_ROOT } from './support/paths.ts';
import { ADMIN_PASSWORD } from './support/server.ts';

let fleet: MixedFleet;
let browser: Browser;
let context: BrowserContext;
let page: Page;
let base: string;

before(async () => {
  execFileSync('sh', [join(REPO_ROOT, 'scripts/build-web')], { stdio: 'pipe' });
  fleet = await startMixedFleet([['kev', [join(FEEDS, 'kev/known_exploited_vulnerabilities.json')]]], {
    web_dir: join(REPO_ROOT, 'web/dist'),
  });
  base = fleet.server.url;
  browser = await launchBrowser();
  context = await browser.newContext({ viewport: { width: 1400, height: 900 }, acceptDownloads: true });
  page = await context.newPage();
  await logIn(page, base, ADMIN_PASSWORD, '/');
});

after(async () => {
  await browser?.close();
  await fleet?.server.close();
  removeTemporaries();
});

async function apiGet<T>(path: string): Promise<T> {
  const res = await context.request.get(`${base}${path}`);
  assert.equal(res.status(), 200, `${path}: ${await res.text()}`);
  return (await res.json()) as T;
}

const num = (text: string | null): number => {
  assert.ok(text !== null && /\d/.test(text), `expected a number, got ${JSON.stringify(text)}`);
  return Number(text.replace(/[^\d]/g, ''));
};

/** The cells of one column of a table on screen, in row order. */
async function column(table: string, col: string): Promise<string[]> {
  return page.locator(`table[data-table="${table}"] tbody td[data-col="${col}"]`).allTextContents();
}

test('overview: known exploited open and P1 tiles are the API’s, with links to the hosts', async () => {
  await page.goto(`${base}/`);
  await page.locator('[data-kpi="kev"] [data-value]').waitFor();
  const ov = await apiGet<Overview>('/api/v1/stats/overview');
  assert.ok(ov.known_exploited.open > 0, 'the real catalogue names some of the fleet’s CVEs');
  assert.equal(num(await page.locator('[data-kpi="kev"] [data-value]').textContent()), ov.known_exploited.open);
  assert.equal(num(await page.locator('[data-kpi="p1"] [data-value]').textContent()), ov.priority.P1);
  assert.match(
    (await page.locator('[data-kpi="kev"]').textContent()) ?? '',
    new RegExp(`${ov.known_exploited.vulnerabilities} in CISA KEV · on ${ov.known_exploited.hosts} hosts`),
  );
  const links = page.locator('[data-list="kev-hosts"] a[data-host]');
  assert.deepEqual(
    await links.allTextContents(),
    ov.known_exploited.host_list.map((h) => h.hostname),
  );
  // A host's link opens its page.
  await links.first().click();
  await page.waitForURL(`${base}/hosts/${ov.known_exploited.host_list[0].id}`);
});

test('a host with known exploited findings: "what to upgrade" lists its upgrades as the API gives them', async () => {
  await page.goto(`${base}/`);
  const ov = await apiGet<Overview>('/api/v1/stats/overview');
  const first = ov.known_exploited.host_list[0];
  await page.locator(`[data-host-fix="${first.id}"]`).click();
  await page.waitForURL(`${base}/remediation?host=${first.id}`);
  await page.locator('table[data-table="host-remediation"] tbody tr').first().waitFor();
  const api = await apiGet<{ items: HostRemediation[] }>(`/api/v1/hosts/${first.id}/remediation`);
  assert.deepEqual(
    await column('host-remediation', 'summary'),
    api.items.map((r) => r.summary),
  );
  assert.ok(api.items[0].known_exploited > 0, 'known exploited first');
  assert.deepEqual(
    (await column('host-remediation', 'stays')).map(num),
    api.items.map((r) => r.still_open_without_fix),
  );
  await page.getByRole('heading', { name: `Remediation on ${first.hostname}` }).waitFor();
});

test('a host\'s page links to its remediation: "what to upgrade" opens the upgrades of that host', async () => {
  const ov = await apiGet<Overview>('/api/v1/stats/overview');
  const host = ov.known_exploited.host_list[0];
  await page.goto(`${base}/hosts/${host.id}`);
  await page.locator('a[data-host-remediation]').click();
  await page.waitForURL(`${base}/remediation?host=${host.id}`);
  await page.getByRole('heading', { name: `Remediation on ${host.hostname}` }).waitFor();
  const api = await apiGet<{ items: HostRemediation[] }>(`/api/v1/hosts/${host.id}/remediation`);
  await page.locator('table[data-table="host-remediation"] tbody tr').first().waitFor();
  assert.deepEqual(
    await column('host-remediation', 'summary'),
    api.items.map((r) => r.summary),
  );
});

test('the KEV tile opens the known exploited vulnerabilities: each with its badge, P1, as the API lists them', async () => {
  await page.goto(`${base}/`);
  await page.locator('[data-kpi="kev"]').click();
  await page.waitForURL(/\/vulnerabilities\?kev=true$/);
  await page.locator('table[data-table="vulns"] tbody tr').first().waitFor();
  const api = await apiGet<ApiPage<VulnSummary>>(
    '/api/v1/vulnerabilities?kev=true&sort=priority&order=asc&per_page=50',
  );
  const ids = await page.locator('table[data-table="vulns"] tbody td[data-col="id"] a').allTextContents();
  assert.deepEqual(
    ids,
    api.items.map((v) => v.id),
  );
  assert.equal(await page.locator('table[data-table="vulns"] tbody [data-kev]').count(), api.items.length);
  assert.ok((await column('vulns', 'priority')).every((p) => p === 'P1'));
});

test('vulnerabilities: sorted by priority by default, with title, CVSS, EPSS, KEV, hosts and fixable as the API says', async () => {
  await page.goto(`${base}/vulnerabilities`);
  await page.locator('table[data-table="vulns"] tbody tr').first().waitFor();
  const api = await apiGet<ApiPage<VulnSummary>>('/api/v1/vulnerabilities?sort=priority&per_page=50');
  const ids = await page.locator('table[data-table="vulns"] tbody td[data-col="id"] a').allTextContents();
  assert.deepEqual(
    ids,
    api.items.map((v) => v.id),
  );
  const priorities = await column('vulns', 'priority');
  assert.deepEqual(
    priorities,
    api.items.map((v) => v.priority.level),
  );
  assert.deepEqual(priorities, [...priorities].sort(), 'P1 first');
  assert.deepEqual(
    (await column('vulns', 'hosts')).map(num),
    api.items.map((v) => v.open_hosts),
  );
  assert.deepEqual(
    (await column('vulns', 'fixable')).map(num),
    api.items.map((v) => v.fixable_findings),
  );
  assert.deepEqual(
    await column('vulns', 'title'),
    api.items.map((v) => v.title),
  );
  assert.deepEqual(
    await column('vulns', 'cvss'),
    api.items.map((v) => (v.cvss_score === null ? '–' : v.cvss_score.toFixed(1))),
  );
  assert.equal(
    await page.locator('table[data-table="vulns"] tbody [data-kev]').count(),
    api.items.filter((v) => v.kev).length,
  );
  // The priority's reason is on the badge.
  const reason = await page.locator('[data-priority] .badge').first().getAttribute('title');
  assert.equal(reason, api.items[0].priority.reason);
});

test('remediation page: the roll-up lines as the API gives them, known exploited first; its CSV is the whole list', async () => {
  await page.goto(`${base}/`);
  await page.getByRole('link', { name: 'Remediation' }).click();
  await page.waitForURL(`${base}/remediation`);
  await page.locator('table[data-table="remediation"] tbody tr').first().waitFor();
  const api = await apiGet<ApiPage<Remediation>>('/api/v1/remediation?per_page=50');
  const shown = await page.locator('table[data-table="remediation"] tbody td[data-col="summary"]').allTextContents();
  assert.deepEqual(
    shown,
    api.items.map((r) => r.summary),
  );
  assert.deepEqual(
    (await column('remediation', 'hosts')).map(num),
    api.items.map((r) => r.hosts),
  );
  assert.ok(api.items[0].known_exploited > 0, 'a line closing a known exploited vulnerability comes first');
  assert.match(api.items[0].summary, /known exploited\)$/);

  const [download] = await Promise.all([
    page.waitForEvent('download'),
    page.locator('[data-export="remediation"]').click(),
  ]);
  assert.match(download.suggestedFilename(), /^patchloop-remediation-\d{4}-\d{2}-\d{2}\.csv$/);
  const lines = readFileSync((await download.path())!, 'utf8')
    .trim()
    .split('\r\n');
  const header = lines[0].split(',');
  const all: Remediation[] = [];
  for (let p = 1; ; p++) {
    const chunk = await apiGet<ApiPage<Remediation>>(`/api/v1/remediation?per_page=500&page=${p}`);
    all.push(...chunk.items);
    if (chunk.items.length < 500) break;
  }
  assert.equal(lines.length - 1, all.length);
  const cells = lines.slice(1).map((l) => l.split(','));
  assert.deepEqual(
    cells.map((c) => [
      c[header.indexOf('source')],
      c[header.indexOf('fixed_version')],
      Number(c[header.indexOf('hosts')]),
    ]),
    all.map((r) => [r.source, r.fixed_version, r.hosts]),
  );

  // Filtered by source package and known exploited, in the URL.
  await page.goto(`${base}/remediation?kev=true`);
  await page.locator('table[data-table="remediation"] tbody tr').first().waitFor();
  const kev = await apiGet<ApiPage<Remediation>>('/api/v1/remediation?kev=true&per_page=50');
  assert.equal(await page.locator('table[data-table="remediation"] tbody tr').count(), kev.items.length);
});
