// Screenshots of the dashboard's main pages at 1280×800 for docs/screenshots (README):
//   node scripts/screenshots.ts [--hosts N] [--keep DIR]
// Builds a fleet (or reuses the one in DIR), runs the real server on it, and photographs.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { launchBrowser, logIn } from '../test/support/browser.ts';
import { CLI, REPO_ROOT } from '../test/support/paths.ts';
import { writeEpssFile } from '../test/support/epss-generator.ts';
import { buildFleet, startFleetServer, type Fleet } from '../test/support/dashboard-fleet.ts';

const OUT = join(REPO_ROOT, 'docs/screenshots/');
const args = process.argv.slice(2);
const opt = (name: string) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const hosts = Number(opt('--hosts') ?? 150);
const keep = opt('--keep');
const dir = keep ?? mkdtempSync(join(tmpdir(), 'patchloop-shots-'));
mkdirSync(dir, { recursive: true });

let fleet: Fleet;
const saved = join(dir, 'fleet.json');
if (existsSync(saved)) fleet = JSON.parse(readFileSync(saved, 'utf8')) as Fleet;
else {
  fleet = await buildFleet(dir, { hosts, days: 90, cves: 1500, log: (l) => console.log(l) });
  writeFileSync(saved, JSON.stringify(fleet));
}
await knownExploited(fleet);
const server = await startFleetServer(fleet);

/**
 * What to fix first needs KEV and EPSS data about the fleet's (generated) vulnerabilities: CISA's
 * real catalogue with a dozen entries renamed to CVEs of the fleet's tracker, and an EPSS file
 * scoring its CVEs, imported into the fleet's data directory with `patchloop db update`.
 */
async function knownExploited(f: Fleet): Promise<void> {
  const tracker = JSON.parse(readFileSync(f.feedFile, 'utf8')) as Record<string, Record<string, unknown>>;
  const cves = [...new Set(Object.values(tracker).flatMap((byCve) => Object.keys(byCve)))]
    .filter((id) => id.startsWith('CVE-'))
    .sort();
  const real = JSON.parse(
    readFileSync(join(REPO_ROOT, '../shared/data/feeds/kev/known_exploited_vulnerabilities.json'), 'utf8'),
  ) as { vulnerabilities: Record<string, unknown>[] };
  const named = cves.filter((_, i) => i % Math.max(1, Math.floor(cves.length / 12)) === 0).slice(0, 12);
  const kev = join(f.dir, 'kev.json');
  writeFileSync(
    kev,
    JSON.stringify({
      ...real,
      count: named.length,
      vulnerabilities: named.map((cve, i) => ({ ...real.vulnerabilities[i], cveID: cve })),
    }),
  );
  const epss = writeEpssFile(join(f.dir, 'epss.csv.gz'), {
    rows: 20_000,
    known: cves.map((cve, i) => ({ cve, score: i % 37 === 0 ? 0.62 : (i % 100) / 1000, percentile: (i % 100) / 100 })),
  });
  for (const [source, from] of [
    ['kev', kev],
    ['epss', epss],
  ])
    execFileSync(process.execPath, [CLI, 'db', 'update', '--source', source, '--from', from, '--data-dir', f.dataDir], {
      stdio: 'inherit',
    });
}
const browser = await launchBrowser();
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  await page.goto(server.url);
  await page.getByLabel('Password').waitFor();
  mkdirSync(OUT, { recursive: true });
  await page.screenshot({ path: join(OUT, 'login.png') });
  await logIn(page, server.url, fleet.password);
  const shots: [string, string, string][] = [
    ['overview', '/', '[data-card="trend"] canvas'],
    ['hosts', '/hosts?sort=high', 'table[data-table="hosts"] tbody tr'],
    ['vulnerabilities', '/vulnerabilities', 'table[data-table="vulns"] tbody tr'],
    ['remediation', '/remediation', 'table[data-table="remediation"] tbody tr'],
    ['patching', '/patching', 'table[data-table="runs"] tbody tr'],
  ];
  for (const [name, path, ready] of shots) {
    await page.goto(`${server.url}${path}`);
    await page.locator(ready).first().waitFor();
    await page.waitForLoadState('networkidle');
    await page.screenshot({ path: join(OUT, `${name}.png`) });
    console.log(`${name}.png`);
  }
  // A host with findings: the first of the hosts list sorted by critical findings.
  await page.goto(`${server.url}/hosts?sort=high`);
  await page.locator('table[data-table="hosts"] tbody tr a').first().click();
  await page.locator('table[data-table="host-findings"] tbody tr').first().waitFor();
  await page.waitForLoadState('networkidle');
  await page.screenshot({ path: join(OUT, 'host.png') });
  console.log('host.png');
  // A web host's patching tab: policy, ring, next window, tonight's plan and its runs.
  await page.goto(`${server.url}/hosts?group=web&sort=high`);
  await page.locator('table[data-table="hosts"] tbody tr a').first().click();
  await page.getByRole('tab', { name: 'Patching' }).click();
  await page.locator('[data-card="host-policy"] [data-lines] li').first().waitFor();
  await page.waitForLoadState('networkidle');
  await page.screenshot({ path: join(OUT, 'host-patching.png') });
  console.log('host-patching.png');
  // The most widespread vulnerability's page, and the API reference.
  await page.goto(`${server.url}/vulnerabilities`);
  await page.locator('table[data-table="vulns"] tbody tr a').first().click();
  await page.locator('table[data-table="vuln-findings"] tbody tr').first().waitFor();
  await page.waitForLoadState('networkidle');
  await page.screenshot({ path: join(OUT, 'vulnerability.png') });
  console.log('vulnerability.png');
  await page.goto(`${server.url}/api/docs`);
  await page.locator('.opblock').first().waitFor();
  await page.screenshot({ path: join(OUT, 'api-docs.png') });
  console.log('api-docs.png');
} finally {
  await browser.close();
  await server.stop();
}
