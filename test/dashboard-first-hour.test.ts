// The dashboard as a person meets it in the first hour, in Debian's chromium against real
// servers on loopback: a fleet with 30 days of history (built through the API, as in
// dashboard.test.ts) and a new server with no host yet. Trend charts begin where the data
// does and their legends always say something; the hosts table sorts by every severity on the
// server and says what reboot, support and agent mean; an advisory keeps its paragraphs,
// lists and links (and nothing in it runs); empty states name the next step in the product;
// /api/docs is a readable reference with its JSON and YAML beside it.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { parse as parseYaml } from 'yaml';
import { launchBrowser, logIn } from './support/browser.ts';
import { buildFleet, startFleetServer, type Fleet } from './support/dashboard-fleet.ts';
import { REPO_ROOT } from './support/paths.ts';
import type { ServerProcess } from './support/server-process.ts';
import { ADMIN_PASSWORD, startTestServer, type TestServer } from './support/server.ts';
import type { HostSummary, Overview, Page as ApiPage, Trends } from '../web/src/api/types.ts';
import { SEVERITIES } from '../src/core/types.ts';

const ADVISORY = [
  'openssl: a heap overflow in the X.509 name check',
  '',
  'A crafted certificate can overflow a buffer:',
  '',
  '* when a client checks a server name',
  '* when a server asks for client',
  '  certificates',
  '',
  'Fixed upstream in 3.0.19; see https://www.openssl.org/news/secadv/20991231.txt. Also',
  'on [the tracker](https://security-tracker.debian.org/tracker/CVE-2099-3001).',
  '',
  '<script>window.__injected = 1</script><img src=x onerror="window.__injected = 2"> [run](javascript:alert(1))',
].join('\n');

const FEED = {
  openssl: {
    'CVE-2099-3001': {
      description: ADVISORY,
      scope: 'remote',
      releases: { bookworm: { status: 'open', repositories: { bookworm: '3.0.17-1~deb12u2' }, urgency: 'high' } },
    },
  },
};

let dir: string;
let fleet: Fleet;
let server: ServerProcess;
let fresh: TestServer;
let browser: Browser;
let context: BrowserContext;
let page: Page;
/** The new server's own browser context (cookies are per host, not per port). */
let freshContext: BrowserContext;

before(async () => {
  execFileSync('sh', [join(REPO_ROOT, 'scripts/build-web')], { stdio: 'pipe' });
  dir = mkdtempSync(join(tmpdir(), 'patchloop-first-hour-'));
  fleet = await buildFleet(dir, { hosts: 12, days: 30, cves: 600, seed: 3, feedUpdates: 2 });
  server = await startFleetServer(fleet);
  fresh = await startTestServer(FEED);
  browser = await launchBrowser();
  context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  page = await context.newPage();
  await logIn(page, server.url, fleet.password);
  freshContext = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const login = await freshContext.newPage();
  await logIn(login, fresh.url, ADMIN_PASSWORD);
  await login.close();
});

after(async () => {
  await browser?.close();
  await server?.stop();
  await fresh?.close();
  if (fresh) rmSync(fresh.dataDir, { recursive: true, force: true });
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function apiGet<T>(path: string, ctx = context, base = server.url): Promise<T> {
  const res = await ctx.request.get(`${base}${path}`);
  assert.equal(res.status(), 200, `${path}: ${await res.text()}`);
  return (await res.json()) as T;
}

const num = (text: string | null): number => {
  assert.ok(text !== null && /\d/.test(text), `expected a number, got ${JSON.stringify(text)}`);
  return Number(text.replace(/[^\d]/g, ''));
};

/** A chart's legend as label → value. */
async function legend(chart: ReturnType<Page['locator']>): Promise<Map<string, string>> {
  const rows = await chart
    .locator('.u-legend .u-series')
    .evaluateAll((els) =>
      els.map((e) => [e.querySelector('.u-label')?.textContent ?? '', e.querySelector('.u-value')?.textContent ?? '']),
    );
  return new Map(rows as [string, string][]);
}

test('trend charts start at the first day with data; legends show the latest day, or the hovered one', async () => {
  await page.goto(`${server.url}/`);
  const charts = page.locator('[data-card="trend"] .chart');
  await charts.nth(1).locator('canvas').waitFor();
  const trends = await apiGet<Trends>('/api/v1/stats/trends');
  assert.equal(trends.days.length, 90);
  const first = trends.days.find((d) => d.open.total > 0 || d.new.total > 0 || d.resolved.total > 0)!;
  // The fleet's history is 30 days: two months of the window are before it and are not drawn.
  const skipped = trends.days.indexOf(first);
  assert.ok(skipped >= 55 && skipped <= 62, `first day with data at ${skipped}`);
  assert.equal(await charts.nth(0).getAttribute('data-first-day'), first.date);
  assert.equal(await charts.nth(1).getAttribute('data-first-day'), first.date);

  // Not hovered: the latest day's values, never a blank.
  const last = trends.days.at(-1)!;
  const openLegend = await legend(charts.nth(0));
  assert.equal(openLegend.get('Day'), `latest, ${last.date}`);
  for (const s of SEVERITIES) {
    const label = s[0].toUpperCase() + s.slice(1);
    assert.equal(num(openLegend.get(label) ?? null), last.open[s], `${label} on the latest day`);
  }
  const flowLegend = await legend(charts.nth(1));
  assert.equal(flowLegend.get('Day'), `latest, ${last.date}`);
  assert.equal(num(flowLegend.get('New') ?? null), last.new.total);
  assert.equal(num(flowLegend.get('Resolved') ?? null), last.resolved.total);

  // Hovered: the values of the day under the cursor.
  for (const [i, chart] of [charts.nth(0), charts.nth(1)].entries()) {
    const over = chart.locator('.u-over');
    const box = (await over.boundingBox())!;
    await page.mouse.move(box.x + box.width * 0.4, box.y + box.height / 2);
    const hovered = await legend(chart);
    const dayText = hovered.get('Day') ?? '';
    assert.match(dayText, /^\d{4}-\d{2}-\d{2}$/);
    const day = trends.days.find((d) => d.date === dayText)!;
    assert.ok(day && day.date >= first.date, `hovered ${dayText}`);
    if (i === 0)
      for (const s of SEVERITIES) assert.equal(num(hovered.get(s[0].toUpperCase() + s.slice(1)) ?? null), day.open[s]);
    else {
      assert.equal(num(hovered.get('New') ?? null), day.new.total);
      assert.equal(num(hovered.get('Resolved') ?? null), day.resolved.total);
    }
  }

  // The severity bars' figures are written out: "N open", and under it "M fixable".
  const ov = await apiGet<Overview>('/api/v1/stats/overview');
  for (const s of SEVERITIES) {
    const text = await page
      .locator(`[data-chart="open-by-severity"] [data-severity="${s}"] .sevbar-nums`)
      .textContent();
    assert.equal(
      text
        ?.replace(/open(?=\d)/, 'open ')
        .replace(/\s+/g, ' ')
        .trim(),
      `${ov.open[s].toLocaleString('en-US')} open ${ov.fixable[s].toLocaleString('en-US')} fixable`,
    );
  }
});

test('hosts: every severity column sorts on the server; reboot, support and agent columns in words', async () => {
  await page.goto(`${server.url}/hosts`);
  const rows = page.locator('table[data-table="hosts"] tbody tr');
  await rows.first().waitFor();
  const names = () => rows.locator('td[data-col="hostname"] a').allTextContents();

  for (const s of SEVERITIES) {
    await Promise.all([
      page.waitForResponse((r) => new RegExp(`/api/v1/hosts\\?.*sort=${s}\\b`).test(r.url())),
      page.locator(`th[data-col="${s}"] button`).click(),
    ]);
    await page.waitForURL(new RegExp(`sort=${s}\\b`));
    await page.locator('.table-wrap.is-loading').waitFor({ state: 'detached' });
    const sorted = await apiGet<ApiPage<HostSummary>>(`/api/v1/hosts?sort=${s}&order=desc&per_page=500`);
    assert.deepEqual(
      await names(),
      sorted.items.map((h) => h.hostname),
      `sorted by ${s}`,
    );
    const shown = (await rows.locator(`td[data-col="${s}"]`).allTextContents()).map(num);
    assert.deepEqual(
      shown,
      sorted.items.map((h) => h.open[s]),
    );
    assert.deepEqual(
      shown,
      [...shown].sort((a, b) => b - a),
      `${s} descending`,
    );
  }
  assert.ok(
    (await apiGet<ApiPage<HostSummary>>('/api/v1/hosts?per_page=500')).items.some(
      (h) => h.open.negligible > 0 && h.open.unknown > 0,
    ),
    'the fleet has negligible and unknown findings',
  );

  // The six severity columns add up to Open, whose header says so.
  const all = await apiGet<ApiPage<HostSummary>>('/api/v1/hosts?sort=reboot_pending&order=desc&per_page=500');
  await Promise.all([
    page.waitForResponse((r) => /\/api\/v1\/hosts\?.*sort=reboot_pending/.test(r.url())),
    page.locator('th[data-col="reboot"] button').click(),
  ]);
  await page.locator('.table-wrap.is-loading').waitFor({ state: 'detached' });
  assert.deepEqual(
    await names(),
    all.items.map((h) => h.hostname),
  );
  assert.match((await page.locator('th[data-col="open"] abbr').getAttribute('title')) ?? '', /every severity .*add up/);
  for (const [i, h] of all.items.entries()) {
    const row = rows.nth(i);
    const sum = await Promise.all(
      SEVERITIES.map(async (s) => num(await row.locator(`td[data-col="${s}"]`).textContent())),
    );
    assert.equal(
      sum.reduce((a, b) => a + b, 0),
      num(await row.locator('td[data-col="open"]').textContent()),
    );
    assert.equal(num(await row.locator('td[data-col="open"]').textContent()), h.open.total);
    assert.equal(await row.locator('td[data-col="reboot"]').textContent(), h.reboot_pending ? 'pending' : 'no');
    const support = (await row.locator('td[data-col="support"]').textContent()) ?? '';
    assert.equal(support.split(' ')[0], h.support.state, `${h.hostname} support`);
    if (h.support.state === 'ended') assert.equal(support, `ended ${h.support.ended}`);
    const agent = (await row.locator('td[data-col="agent"]').textContent()) ?? '';
    assert.equal(agent, h.agent_version ?? 'never reported');
  }
  assert.ok(all.items.some((h) => h.reboot_pending) && all.items.some((h) => !h.reboot_pending));
  assert.ok(
    all.items.some((h) => h.support.state === 'ended'),
    'bullseye hosts are out of support',
  );
  assert.ok(all.items.some((h) => h.support.state === 'supported'));
});

test('a vulnerability page keeps the advisory text as paragraphs, a list and links, runs nothing from it', async () => {
  const p = await freshContext.newPage();
  await p.goto(`${fresh.url}/vulnerabilities/CVE-2099-3001`);
  const text = p.locator('[data-advisory-text]');
  await text.waitFor();
  assert.equal(await p.locator('[data-vuln-title]').textContent(), 'openssl: a heap overflow in the X.509 name check');
  assert.deepEqual(await text.locator('ul > li').allTextContents(), [
    'when a client checks a server name',
    'when a server asks for client certificates',
  ]);
  assert.deepEqual(await text.locator('p').allTextContents(), [
    'A crafted certificate can overflow a buffer:',
    'Fixed upstream in 3.0.19; see https://www.openssl.org/news/secadv/20991231.txt. Also on the tracker.',
    '<script>window.__injected = 1</script><img src=x onerror="window.__injected = 2"> [run](javascript:alert(1))',
  ]);
  assert.deepEqual(
    await text.locator('a').evaluateAll((as) => as.map((a) => [a.textContent, a.getAttribute('href')])),
    [
      ['https://www.openssl.org/news/secadv/20991231.txt', 'https://www.openssl.org/news/secadv/20991231.txt'],
      ['the tracker', 'https://security-tracker.debian.org/tracker/CVE-2099-3001'],
    ],
  );
  // The markup in the feed's text is text: no element made of it, nothing ran.
  assert.equal(await text.locator('script, img').count(), 0);
  assert.equal(await p.evaluate(() => (window as { __injected?: number }).__injected), undefined);
  assert.equal(
    await p.locator('[data-card="vuln-facts"] dd').nth(1).textContent(),
    'not given by the feeds',
    'no publication date: said in words',
  );
  await p.close();
});

test('with no host yet: the hosts page gives the enrolment commands, time to remediate says why it has no data', async () => {
  const p = await freshContext.newPage();
  await p.goto(`${fresh.url}/hosts`);
  const empty = p.locator('[data-empty="no-hosts"]');
  await empty.waitFor();
  const commands = (await empty.locator('pre').textContent())!.split('\n');
  assert.deepEqual(commands, [
    'patchloop server enrollment-token --uses 50 --group web',
    `patchloop agent enroll --server ${fresh.url} --token TOKEN`,
  ]);
  // With a filter the same empty table says that nothing matches.
  await p.goto(`${fresh.url}/hosts?group=db`);
  await p.locator('.table-empty', { hasText: 'No host matches these filters.' }).waitFor();

  await p.goto(`${fresh.url}/`);
  const mttr = p.locator('table[data-table="sla"] tbody td[data-col="mttr"]');
  await mttr.first().waitFor();
  const ov = await apiGet<Overview>('/api/v1/stats/overview', p.context(), fresh.url);
  assert.ok(Object.values(ov.mttr_days).every((d) => d === null));
  for (const cell of await mttr.allTextContents())
    assert.equal(cell, 'no data yet' + 'nothing of this severity was resolved in the last 90 days');
  assert.ok((await mttr.count()) >= 4);

  // Rings without a policy point at the Policies page, not at the API.
  await p.goto(`${fresh.url}/patching`);
  // The table says "Loading…" in the same place until the rings have come.
  const rings = p.locator('[data-card="rings"] .table-empty', { hasText: 'No policy yet' });
  await rings.waitFor();
  assert.match((await rings.textContent()) ?? '', /No policy yet\. An operator creates one on the Policies page/);
  assert.equal(await rings.locator('a').getAttribute('href'), '/policies');
  // No patch run: the agent's switch that turns patching on.
  const runs = p.locator('[data-card="runs"] .table-empty', { hasText: 'No patch run' });
  await runs.waitFor();
  assert.equal(
    (await runs.textContent())?.replace(/\s+/g, ' '),
    'No patch run has been reported yet. An agent patches, and reports each run, once its /etc/patchloop/agent.yaml has patch: { enabled: true }; a policy then says when and what.',
  );
  await p.close();
});

test('the dashboard sources tell nobody to use curl or the raw API', () => {
  const files = (d: string): string[] =>
    readdirSync(d).flatMap((f) => (statSync(join(d, f)).isDirectory() ? files(join(d, f)) : [join(d, f)]));
  const offending = files(join(REPO_ROOT, 'web/src'))
    .filter((f) => /\.(tsx?|css)$/.test(f))
    .filter((f) => /\bcurl\b|PUT \/api/.test(readFileSync(f, 'utf8')));
  assert.deepEqual(offending, []);
});

test('/api/docs: a readable reference from this server alone, JSON and YAML beside it', async () => {
  // No login: the API's description is public, as it was.
  const anon = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const p = await anon.newPage();
  const origins = new Set<string>();
  p.on('request', (r) => origins.add(new URL(r.url()).origin));
  const violations: string[] = [];
  await p.exposeFunction('reportViolation', (v: string) => violations.push(v));
  await p.addInitScript(() =>
    document.addEventListener('securitypolicyviolation', (e) =>
      (window as unknown as { reportViolation(v: string): void }).reportViolation(
        `${e.violatedDirective} ${e.blockedURI}`,
      ),
    ),
  );
  const res = await p.goto(`${fresh.url}/api/docs`);
  assert.equal(res?.headers()['content-type'], 'text/html; charset=utf-8');
  assert.match(res?.headers()['content-security-policy'] ?? '', /default-src 'none'; script-src 'self'/);
  const doc = await apiGet<{ paths: Record<string, Record<string, unknown>> }>(
    '/api/docs/openapi.json',
    anon,
    fresh.url,
  );
  const operations = Object.entries(doc.paths)
    .flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`))
    .sort();
  await p.locator('.opblock').first().waitFor();
  // Every operation is listed (one under each of its tags).
  const listed = await p
    .locator('.opblock-summary')
    .evaluateAll((els) =>
      els.map(
        (e) =>
          `${e.querySelector('.opblock-summary-method')?.textContent} ${e.querySelector('.opblock-summary-path')?.getAttribute('data-path')}`,
      ),
    );
  assert.deepEqual([...new Set(listed)].sort(), operations);
  assert.match((await p.locator('.info .title').textContent()) ?? '', /patchloop server API/);
  // An operation opens to its parameters and responses.
  const hosts = p.locator('.opblock', { has: p.locator('.opblock-summary-path[data-path="/api/v1/hosts"]') }).first();
  await hosts.locator('.opblock-summary-control').click();
  await hosts.locator('.opblock-body').waitFor();
  assert.match((await hosts.locator('.opblock-body').textContent()) ?? '', /Parameters.*min_severity.*Responses/s);
  assert.deepEqual(violations, []);
  assert.deepEqual([...origins], [fresh.url], 'everything from this server');

  const [json, yaml] = await Promise.all(
    ['JSON', 'YAML'].map(async (name) => {
      const href = await p.locator('.api-docs-head a', { hasText: name }).getAttribute('href');
      const r = await anon.request.get(`${fresh.url}${href}`);
      assert.equal(r.status(), 200);
      return r;
    }),
  );
  assert.equal(json.headers()['content-type'], 'application/json; charset=utf-8');
  assert.match(yaml.headers()['content-type'], /^application\/yaml/);
  assert.deepEqual(parseYaml(await yaml.text()), await json.json());
  // A client that asks /api/docs for JSON (not HTML) still gets the description there.
  const plain = await anon.request.get(`${fresh.url}/api/docs`, { headers: { accept: 'application/json' } });
  assert.deepEqual(await plain.json(), await json.json());
  // The viewer's bundle: gzipped when asked, and not sent again to a browser that has it.
  const bundle = await fetch(`${fresh.url}/api/docs/swagger-ui-bundle.js`, { headers: { 'accept-encoding': 'gzip' } });
  assert.equal(bundle.headers.get('content-encoding'), 'gzip');
  assert.equal(
    Buffer.from(await bundle.arrayBuffer()).length,
    statSync(join(REPO_ROOT, 'node_modules/swagger-ui-dist/swagger-ui-bundle.js')).size,
  );
  const etag = bundle.headers.get('etag')!;
  assert.match(etag, /^"[\w-]{27}"$/);
  assert.equal(
    (await fetch(`${fresh.url}/api/docs/swagger-ui-bundle.js`, { headers: { 'if-none-match': etag } })).status,
    304,
  );
  // The dashboard's own pages keep their stricter policy.
  const dash = await anon.request.get(`${fresh.url}/hosts`);
  assert.equal(
    dash.headers()['content-security-policy'],
    "default-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
  );
  await anon.close();
});

test('the sidebar links to the API reference, which the browser loads as a page of its own', async () => {
  await page.goto(`${server.url}/hosts`);
  await page.locator('.sidebar').getByRole('link', { name: 'API reference' }).click();
  await page.waitForURL(`${server.url}/api/docs`);
  await page.locator('.opblock').first().waitFor();
  await page.locator('.api-docs-head').getByRole('link', { name: '← patchloop dashboard' }).click();
  await page.locator('[data-card="trend"]').waitFor();
});
