// Measures the dashboard against a large fleet: the JavaScript shipped (gzipped), the time to
// the first interactive view, and the p95 time of every API call each page makes.
//   node bench/dashboard.ts [--hosts 10000] [--keep DIR] [--runs 30]
// Figures are printed, never asserted: timing belongs to measurements, not to tests.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { launchBrowser, logIn } from '../test/support/browser.ts';
import { REPO_ROOT } from '../test/support/paths.ts';
import { buildFleet, startFleetServer, type Fleet } from '../test/support/dashboard-fleet.ts';

const args = process.argv.slice(2);
const opt = (name: string) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const hosts = Number(opt('--hosts') ?? 10_000);
const runs = Number(opt('--runs') ?? 30);
const dir = opt('--keep') ?? mkdtempSync(join(tmpdir(), 'patchloop-measure-'));
mkdirSync(dir, { recursive: true });
const dist = join(REPO_ROOT, 'web/dist/');
const log = (s: string) => process.stdout.write(`${s}\n`);

for (const f of ['app.js', 'app.css']) {
  const b = readFileSync(join(dist, f));
  log(`${f}: ${(b.length / 1024).toFixed(1)} KiB, ${(gzipSync(b, { level: 9 }).length / 1024).toFixed(1)} KiB gzipped`);
}

let fleet: Fleet;
const saved = join(dir, 'fleet.json');
if (existsSync(saved)) fleet = JSON.parse(readFileSync(saved, 'utf8')) as Fleet;
else {
  const started = performance.now();
  fleet = await buildFleet(dir, { hosts, days: 30, cves: 600, reportEvery: 7, feedUpdates: 2, log });
  writeFileSync(saved, JSON.stringify(fleet));
  log(`fleet of ${hosts} hosts built through the API in ${((performance.now() - started) / 1000).toFixed(0)} s`);
}
const server = await startFleetServer(fleet);
const browser = await launchBrowser();
try {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  await logIn(page, server.url, fleet.password);
  const get = async (path: string) => {
    const t = performance.now();
    const res = await context.request.get(`${server.url}${path}`);
    const body = await res.body();
    if (res.status() !== 200) throw new Error(`${path}: ${res.status()} ${body.toString()}`);
    return { ms: performance.now() - t, json: JSON.parse(body.toString()) as unknown };
  };
  const p95 = async (path: string) => {
    for (let i = 0; i < 3; i++) await get(path);
    const times: number[] = [];
    for (let i = 0; i < runs; i++) times.push((await get(path)).ms);
    times.sort((a, b) => a - b);
    return times[Math.min(times.length - 1, Math.ceil(times.length * 0.95) - 1)];
  };

  const ov = (await get('/api/v1/stats/overview')).json as { hosts: { total: number }; open: { total: number } };
  log(`store: ${ov.hosts.total} hosts, ${ov.open.total} open findings`);
  const top = (await get('/api/v1/hosts?sort=high&order=desc&page=1&per_page=1')).json as { items: { id: number }[] };
  const hostId = top.items[0].id;
  const vulns = (await get('/api/v1/vulnerabilities?sort=hosts&order=desc&page=1&per_page=1')).json as {
    items: { id: string }[];
  };
  const cve = encodeURIComponent(vulns.items[0].id);
  // The calls each page makes, as the pages make them (web/src/pages).
  const pages: Record<string, string[]> = {
    overview: [
      '/api/v1/auth/session',
      '/api/v1/stats/overview',
      '/api/v1/stats/trends?days=90',
      '/api/v1/stats/overview?group=web',
      '/api/v1/stats/trends?group=web&days=90',
      '/api/v1/hosts/facets',
      '/api/v1/patch-runs/summary?days=7',
      '/api/v1/patch-runs/summary?days=7&group=web',
    ],
    hosts: [
      '/api/v1/hosts?sort=hostname&order=asc&page=1&per_page=50',
      '/api/v1/hosts?sort=critical&order=desc&page=1&per_page=50',
      '/api/v1/hosts?sort=open&order=desc&page=20&per_page=50',
      '/api/v1/hosts?group=web&min_severity=high&sort=high&order=desc&page=1&per_page=50',
      '/api/v1/hosts?search=k8s-node-1&sort=hostname&order=asc&page=1&per_page=50',
      '/api/v1/hosts?state=stale&sort=hostname&order=asc&page=1&per_page=50',
      '/api/v1/hosts?tag=canary&sort=hostname&order=asc&page=1&per_page=50',
      '/api/v1/hosts/facets',
    ],
    host: [
      `/api/v1/hosts/${hostId}`,
      `/api/v1/hosts/${hostId}/findings?state=open&sort=severity&order=asc&page=1&per_page=50`,
      `/api/v1/hosts/${hostId}/packages?page=1&per_page=100`,
      `/api/v1/hosts/${hostId}/history?limit=500`,
      `/api/v1/hosts/${hostId}/policy`,
      `/api/v1/patch-runs?host=${hostId}&page=1&per_page=20`,
    ],
    vulnerabilities: [
      '/api/v1/vulnerabilities?sort=hosts&order=desc&page=1&per_page=50',
      '/api/v1/vulnerabilities?sort=severity&order=asc&page=1&per_page=50',
      '/api/v1/vulnerabilities?search=CVE-2024&sort=hosts&order=desc&page=1&per_page=50',
      `/api/v1/vulnerabilities/${cve}`,
      `/api/v1/findings?state=open&vulnerability=${cve}&sort=severity&order=asc&page=1&per_page=50`,
    ],
    findings: [
      '/api/v1/findings?state=open&sort=severity&order=asc&page=1&per_page=50',
      '/api/v1/findings?state=open&severity=high&overdue=true&sort=severity&order=asc&page=1&per_page=50',
      '/api/v1/findings?state=open&fixable=true&group=db&sort=age&order=asc&page=1&per_page=50',
    ],
    patching: [
      '/api/v1/patch-runs/summary?days=7',
      '/api/v1/reboot-leases',
      '/api/v1/rings',
      '/api/v1/patch-runs?outcome=failed%2Cpartial&per_page=8',
      '/api/v1/patch-runs?page=1&per_page=25',
      '/api/v1/patch-runs?outcome=success&since=2000-01-01T00%3A00%3A00.000Z&page=20&per_page=25',
      '/api/v1/hosts?reboot_pending=true&sort=critical&page=1&per_page=25',
      '/api/v1/feeds',
    ],
  };
  for (const [name, paths] of Object.entries(pages)) {
    let worst = 0;
    for (const p of paths) {
      const ms = await p95(p);
      worst = Math.max(worst, ms);
      log(`  ${name.padEnd(16)} p95 ${ms.toFixed(1).padStart(7)} ms  ${p}`);
    }
    log(`${name}: slowest call p95 ${worst.toFixed(1)} ms (target 100 ms)`);
  }

  // First view: a fresh tab with the session, from navigation to the overview's figures and
  // charts on screen (every API answer in and rendered).
  const firsts: number[] = [];
  for (let i = 0; i < 7; i++) {
    const tab = await context.newPage();
    await tab.goto(server.url, { waitUntil: 'commit' });
    await tab.locator('[data-kpi="open"] [data-value]').waitFor();
    await tab.locator('[data-card="trend"] canvas').first().waitFor();
    firsts.push(await tab.evaluate(() => performance.now()));
    await tab.close();
  }
  firsts.sort((a, b) => a - b);
  log(
    `first view interactive: median ${firsts[3].toFixed(0)} ms, worst ${firsts[6].toFixed(0)} ms of 7 (target 1500 ms)`,
  );
} finally {
  await browser.close();
  await server.stop();
}
