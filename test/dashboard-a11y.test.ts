// Accessibility of the dashboard in Debian's chromium against a real server over a small
// fleet: axe-core (the npm package, run inside each page) finds no serious or critical
// violation on any page the sidebar reaches, a host's tabs, a vulnerability, a policy, the
// login page and the API reference; the keyboard reaches every control of the main pages with
// a visible focus ring; severities are written, not only coloured.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { launchBrowser, logIn } from './support/browser.ts';
import { buildFleet, startFleetServer, type Fleet } from './support/dashboard-fleet.ts';
import { REPO_ROOT } from './support/paths.ts';
import type { ServerProcess } from './support/server-process.ts';
import type { HostSummary, Page as ApiPage, VulnSummary } from '../web/src/api/types.ts';

const AXE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

let dir: string;
let fleet: Fleet;
let server: ServerProcess;
let browser: Browser;
let page: Page;

before(async () => {
  execFileSync('sh', [join(REPO_ROOT, 'scripts/build-web')], { stdio: 'pipe' });
  dir = mkdtempSync(join(tmpdir(), 'patchloop-a11y-'));
  fleet = await buildFleet(dir, { hosts: 10, days: 20, cves: 500, seed: 7, feedUpdates: 1 });
  server = await startFleetServer(fleet);
  browser = await launchBrowser();
  page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
});

after(async () => {
  await browser?.close();
  await server?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

interface Violation {
  id: string;
  impact: string;
  help: string;
  nodes: string[];
}

/** Rules held on every page whatever axe-core's impact says: tables name every column. */
const ALWAYS = new Set(['empty-table-header']);

/**
 * axe-core's serious and critical violations on the page as it is now (and those of ALWAYS). The script is evaluated
 * through the browser's debugging protocol: the pages' content security policy (rightly) refuses
 * an injected script element.
 */
async function axeViolations(p: Page): Promise<Violation[]> {
  await p.evaluate(AXE);
  const found = await p.evaluate(async () => {
    const axe = (window as unknown as { axe: { run(ctx: Document): Promise<{ violations: unknown[] }> } }).axe;
    const result = await axe.run(document);
    return result.violations as {
      id: string;
      impact: string;
      help: string;
      nodes: { target: string[]; failureSummary?: string }[];
    }[];
  });
  return found
    .filter((v) => v.impact === 'serious' || v.impact === 'critical' || ALWAYS.has(v.id))
    .map((v) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      nodes: v.nodes.slice(0, 5).map((n) => `${n.target.join(' ')}: ${n.failureSummary ?? ''}`),
    }));
}

async function settle(p: Page, ready: string): Promise<void> {
  await p.locator(ready).first().waitFor();
  await p.waitForLoadState('networkidle');
  await p.locator('.loading, .table-wrap.is-loading').first().waitFor({ state: 'detached' });
}

async function apiGet<T>(path: string): Promise<T> {
  const res = await page.request.get(`${server.url}${path}`);
  assert.equal(res.status(), 200, path);
  return (await res.json()) as T;
}

test('axe-core: no serious or critical violation on any page', { timeout: 300_000 }, async () => {
  const failures: Record<string, Violation[]> = {};
  const check = async (name: string) => {
    const v = await axeViolations(page);
    if (v.length) failures[name] = v;
  };

  await page.goto(server.url);
  await settle(page, 'form');
  await check('login');
  await logIn(page, server.url, fleet.password);

  // Every page of the sidebar (the admin sees them all).
  const nav = await page.locator('.sidebar a.nav').evaluateAll((as) => as.map((a) => a.getAttribute('href')!));
  assert.ok(nav.length >= 6, nav.join(' '));
  const host = (await apiGet<ApiPage<HostSummary>>('/api/v1/hosts?sort=high&per_page=1')).items[0];
  const vuln = (await apiGet<ApiPage<VulnSummary>>('/api/v1/vulnerabilities?per_page=1')).items[0];
  const pages = [
    ...nav,
    ...['findings', 'packages', 'history', 'patching'].map((tab) => `/hosts/${host.id}?tab=${tab}`),
    `/vulnerabilities/${encodeURIComponent(vuln.id)}`,
    `/policies/${encodeURIComponent(fleet.policies[0])}`,
  ];
  for (const path of pages) {
    await page.goto(`${server.url}${path}`);
    await settle(page, 'main h1').catch((err: Error) => assert.fail(`${path}: ${err.message}`));
    await check(path);
  }

  // The API reference, with an operation opened.
  await page.goto(`${server.url}/api/docs`);
  await settle(page, '.opblock');
  await page.locator('.opblock .opblock-summary-control').first().click();
  await settle(page, '.opblock-body');
  await check('/api/docs');

  assert.deepEqual(failures, {});
});

/** Every visible control of the page, tagged with an index to know it again when it has focus. */
async function tagControls(p: Page): Promise<string[]> {
  return p.evaluate(() => {
    const sel =
      'a[href], button:not([disabled]), input:not([type="hidden"]):not([disabled]), select:not([disabled]), textarea:not([disabled]), summary, [tabindex]:not([tabindex="-1"])';
    return [...document.querySelectorAll<HTMLElement>(sel)]
      .filter((e) => e.getClientRects().length > 0 && getComputedStyle(e).visibility !== 'hidden')
      .map((e, i) => {
        e.dataset.control = String(i);
        return `${e.tagName.toLowerCase()} ${(e.textContent ?? e.getAttribute('aria-label') ?? '').trim().slice(0, 40)}`;
      });
  });
}

test('the keyboard reaches every control of the main pages, and focus is visible', { timeout: 300_000 }, async () => {
  const host = (await apiGet<ApiPage<HostSummary>>('/api/v1/hosts?sort=high&per_page=1')).items[0];
  const vuln = (await apiGet<ApiPage<VulnSummary>>('/api/v1/vulnerabilities?per_page=1')).items[0];
  for (const [path, ready] of [
    ['/', '[data-card="trend"] canvas'],
    ['/hosts', 'table[data-table="hosts"] tbody tr'],
    [`/hosts/${host.id}`, 'table tbody tr'],
    [`/vulnerabilities/${encodeURIComponent(vuln.id)}`, 'table tbody tr'],
    ['/patching', 'table[data-table="runs"] tbody tr'],
  ]) {
    await page.goto(`${server.url}${path}`);
    await settle(page, ready);
    const controls = await tagControls(page);
    assert.ok(controls.length > 5, `${path}: ${controls.length} controls`);
    const reached = new Set<string>();
    const unseen: string[] = [];
    await page.locator('body').focus();
    // Twice as many presses as controls: every one comes in turn (nothing traps the focus).
    for (let i = 0; i < controls.length * 2 && reached.size < controls.length; i++) {
      await page.keyboard.press('Tab');
      const focused = await page.evaluate(() => {
        const e = document.activeElement as HTMLElement | null;
        if (!e || e === document.body) return null;
        const s = getComputedStyle(e);
        const ring = s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) >= 2;
        return { id: e.dataset.control ?? null, ring, what: `${e.tagName} ${e.textContent?.trim().slice(0, 40)}` };
      });
      if (!focused?.id) continue;
      reached.add(focused.id);
      if (!focused.ring) unseen.push(focused.what);
    }
    const missed = controls.filter((_, i) => !reached.has(String(i)));
    assert.deepEqual(missed, [], `${path}: controls the keyboard does not reach`);
    assert.deepEqual(unseen, [], `${path}: focus without a visible ring`);
  }
});

test('severity is written wherever it is coloured', async () => {
  const labels = ['Critical', 'High', 'Medium', 'Low', 'Negligible', 'Unknown'];
  for (const [path, ready] of [
    ['/', '[data-chart="open-by-severity"]'],
    ['/findings', 'table tbody tr'],
    ['/vulnerabilities', 'table tbody tr'],
    ['/hosts', 'table[data-table="hosts"] tbody tr'],
  ]) {
    await page.goto(`${server.url}${path}`);
    await settle(page, ready);
    // Badges carry their label; bars and dots sit beside theirs.
    for (const text of await page.locator('.sev').allTextContents())
      assert.ok(labels.includes(text.trim()), `${path}: severity badge "${text}"`);
    for (const text of await page.locator('.sevbar-label').allTextContents())
      assert.ok(labels.includes(text.trim()), `${path}: bar label "${text}"`);
    // Coloured counts are in a column whose header names the severity.
    const headers = await page
      .locator('th:has(.sort) abbr[title], th abbr[title]')
      .evaluateAll((els) => els.map((e) => e.getAttribute('title')));
    if (path === '/hosts')
      for (const s of labels)
        assert.ok(
          headers.some((h) => h?.toLowerCase().includes(s.toLowerCase())),
          s,
        );
  }
  assert.ok(
    (await page.locator('table[data-table="hosts"] .count-critical, table[data-table="hosts"] .count-high').count()) >
      0,
  );
});
