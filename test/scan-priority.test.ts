// What to fix first, on a real host: the AlmaLinux 9.4 root (rpm database written by rpm,
// test/fixtures/estate/rpm/almalinux-9.4.tsv: kernel 427.13.1 running, 427.18.1 installed), real
// ALSA records, CISA's real KEV catalogue and an EPSS file in FIRST's shape, through the real
// CLI. CVE-2024-36971 (ALSA-2024:5363, kernel 427.31.1) is in the catalogue since 2024-08-07.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { FEEDS, importFeed, removeTemporaries, rpmRoot, scanJson, temporary, type Report } from './support/estate.ts';
import { runCli } from './support/cli.ts';
import { writeEpssFile } from './support/epss-generator.ts';

const ALMA9 = join(FEEDS, 'almalinux/osv/almalinux9');
const KEV = join(FEEDS, 'kev/known_exploited_vulnerabilities.json');
const RUNNING = '5.14.0-427.13.1.el9_4.x86_64';
const K13 = '5.14.0-427.13.1.el9_4';
const K18 = '5.14.0-427.18.1.el9_4';
const ADVISORIES = ['ALSA-2024:5363', 'ALSA-2024:6783', 'ALSA-2024:0811'].map((id) => join(ALMA9, `${id}.json`));

interface Enriched {
  id: string;
  package: { name: string; version: string };
  severity: string;
  kev?: { date_added: string; due_date: string; ransomware: boolean | null };
  epss?: { score: number; percentile: number; date?: string };
  priority?: { level: string; reason: string };
  kernel_not_running?: boolean;
}

let root: string;
let dataDir: string;
let plainDir: string;

before(async () => {
  root = rpmRoot('almalinux-9.4.tsv', 'almalinux-9.4');
  plainDir = await importFeed('almalinux', ADVISORIES);
  dataDir = await importFeed('almalinux', ADVISORIES);
  await importFeed('kev', [KEV], dataDir);
  // sudo's CVE-2023-28486 likely to be exploited soon; openssl's CVE-2024-6119 barely.
  const epss = writeEpssFile(join(temporary('epss'), 'epss_scores-current.csv.gz'), {
    rows: 50_000,
    known: [
      { cve: 'CVE-2023-28486', score: 0.61, percentile: 0.991 },
      { cve: 'CVE-2024-6119', score: 0.0021, percentile: 0.42 },
    ],
  });
  await importFeed('epss', [epss], dataDir);
});
after(removeTemporaries);

const findings = (r: Report): Enriched[] => r.findings as unknown as Enriched[];
const one = (r: Report, pkg: string, id: string, version: string): Enriched => {
  const hits = findings(r).filter((f) => f.package.name === pkg && f.id === id && f.package.version === version);
  assert.equal(hits.length, 1, `${pkg} ${version} ${id}`);
  return hits[0];
};

test('a real known exploited kernel CVE on the running kernel is P1 with its reason; on the idle kernel P4', async () => {
  const report = await scanJson(root, dataDir, ['--kernel', RUNNING]);
  const running = one(report, 'kernel-core', 'CVE-2024-36971', K13);
  assert.deepEqual(running.kev, { date_added: '2024-08-07', due_date: '2024-08-28', ransomware: false });
  assert.deepEqual(running.priority, { level: 'P1', reason: 'known exploited, fix available, running kernel' });
  const idle = one(report, 'kernel-core', 'CVE-2024-36971', K18);
  assert.equal(idle.kernel_not_running, true);
  assert.deepEqual(idle.priority, {
    level: 'P4',
    reason: 'known exploited, fix available, kernel installed but not running',
  });
  // The other CVEs of the advisory are not in the catalogue: severity decides (Important → high → P2).
  const other = one(report, 'kernel-core', 'CVE-2024-26808', K13);
  assert.equal(other.kev, undefined);
  assert.deepEqual(other.priority, { level: 'P2', reason: 'high, fix available, running kernel' });
  // EPSS raises a medium one level; a low score is carried but says nothing.
  const sudo = one(report, 'sudo', 'CVE-2023-28486', '1.9.5p2-9.el9');
  assert.deepEqual(sudo.epss, { score: 0.61, percentile: 0.991, date: '2026-11-01' });
  assert.deepEqual(sudo.priority, { level: 'P2', reason: 'medium, EPSS 0.61 (top 0.9 %), fix available' });
  const openssl = one(report, 'openssl-libs', 'CVE-2024-6119', '1:3.0.7-27.el9');
  assert.deepEqual(openssl.priority, { level: 'P3', reason: 'medium, fix available' });
  assert.equal(openssl.epss?.score, 0.0021);

  // Counted per exposure: the kernel's 46 CVEs are 46 exposures, one known exploited.
  const s = report.summary as Report['summary'] & { by_priority: Record<string, number>; known_exploited: number };
  assert.deepEqual(s.by_priority, { P1: 1, P2: 46, P3: 3, P4: 0 });
  assert.equal(s.known_exploited, 1);
  assert.deepEqual(
    (report as unknown as { db: { feed: string }[] }).db.map((d) => d.feed),
    ['almalinux', 'epss', 'kev'],
  );
});

test('without KEV and EPSS the same CVE is ranked by severity alone', async () => {
  const report = await scanJson(root, plainDir, ['--kernel', RUNNING]);
  const running = one(report, 'kernel-core', 'CVE-2024-36971', K13);
  assert.equal(running.kev, undefined);
  assert.deepEqual(running.priority, { level: 'P2', reason: 'high, fix available, running kernel' });
});

test('--fail-on kev and p1 gate on exposures; an idle kernel never fails a scan', async () => {
  const base = ['scan', '--root', root, '--data-dir', dataDir, '--kernel', RUNNING, '--format', 'json'];
  assert.equal((await runCli([...base, '--fail-on', 'kev'])).code, 1);
  assert.equal((await runCli([...base, '--fail-on', 'p1'])).code, 1);
  const plain = ['scan', '--root', root, '--data-dir', plainDir, '--kernel', RUNNING, '--format', 'json'];
  assert.equal((await runCli([...plain, '--fail-on', 'kev'])).code, 0);
  assert.equal((await runCli([...plain, '--fail-on', 'p1'])).code, 0);
  assert.equal((await runCli([...plain, '--fail-on', 'p2'])).code, 1);
  // Booted into 427.31.1 (not installed): both kernels are idle, the KEV CVE only on them.
  const idle = ['scan', '--root', root, '--data-dir', dataDir, '--kernel', '5.14.0-427.31.1.el9_4.x86_64'];
  const r = await runCli([...idle, '--format', 'json', '--fail-on', 'kev']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal((await runCli([...base, '--fail-on', 'P9'])).code, 2);
  const grouped = await runCli([...base, '--group-by', 'fix']);
  assert.equal(grouped.code, 2);
  assert.match(grouped.stderr, /--group-by fix groups the table; it does not apply to --format json/);
});

test('table: priority, KEV and EPSS columns, and the remediation roll-up with --group-by fix', async () => {
  const base = ['scan', '--root', root, '--data-dir', dataDir, '--kernel', RUNNING, '--format', 'table'];
  const table = await runCli(base);
  assert.equal(table.code, 0, table.stderr);
  assert.match(table.stdout, /^ {2}PRIORITY +SEVERITY +VULNERABILITY +KEV +EPSS +STATUS +FIXED IN +ADVISORIES$/m);
  assert.match(
    table.stdout,
    /^ {2}P1 +HIGH +CVE-2024-36971 +KEV +- +fixed +5\.14\.0-427\.31\.1\.el9_4 +ALSA-2024:5363$/m,
  );
  assert.match(table.stdout, /^ {2}P2 +MEDIUM +CVE-2023-28486 +- +0\.61 +fixed/m);
  assert.match(table.stdout, /^Priority: P1 1, P2 46, P3 3; known exploited 1$/m);
  // The running kernel's group comes first: it holds the P1.
  const groups = [...table.stdout.matchAll(/^(\S+) (\S+) {2}\(/gm)].map((m) => `${m[1]} ${m[2]}`);
  assert.deepEqual(groups, [`kernel ${K13}`, 'sudo 1.9.5p2-9.el9', 'openssl 1:3.0.7-27.el9', `kernel ${K18}`]);

  const fix = await runCli([...base, '--group-by', 'fix']);
  assert.equal(fix.code, 0, fix.stderr);
  const steps = fix.stdout.split('\n').filter((l) => /^P\d {2}upgrade/.test(l));
  assert.deepEqual(steps, [
    'P1  upgrade kernel to 5.14.0-427.31.1.el9_4: closes 46 CVEs (1 known exploited)  (kernel, kernel-core, kernel-modules-core)',
    'P2  upgrade sudo to 1.9.5p2-10.el9_3: closes 3 CVEs  (sudo)',
    'P3  upgrade openssl to 1:3.0.7-28.el9_4: closes 1 CVE  (openssl, openssl-libs)',
  ]);
  assert.match(fix.stdout, /^ {6}CVE-2021-47606 .* and 34 more$/m);
});

test('SARIF and ECS carry KEV, EPSS and priority', async () => {
  const base = ['scan', '--root', root, '--data-dir', dataDir, '--kernel', RUNNING];
  const sarif = JSON.parse((await runCli([...base, '--format', 'sarif'])).stdout) as {
    runs: {
      tool: { driver: { rules: { id: string; properties: { tags: string[] } }[] } };
      results: { ruleId: string; properties: Record<string, unknown> }[];
    }[];
  };
  const result = sarif.runs[0].results.find((r) => r.ruleId === 'CVE-2024-36971')!;
  assert.equal(result.properties.priority, 'P1');
  assert.equal(result.properties.priority_reason, 'known exploited, fix available, running kernel');
  assert.deepEqual(result.properties.kev, { date_added: '2024-08-07', due_date: '2024-08-28', ransomware: false });
  const rule = sarif.runs[0].tool.driver.rules.find((r) => r.id === 'CVE-2024-36971')!;
  assert.ok(rule.properties.tags.includes('known-exploited'));

  const ecs = (await runCli([...base, '--format', 'ecs'])).stdout
    .trim()
    .split('\n')
    .map(
      (l) =>
        JSON.parse(l) as {
          package: { name: string; version: string };
          vulnerability: { id: string };
          patchloop: Record<string, unknown>;
        },
    );
  const doc = ecs.find(
    (d) => d.vulnerability.id === 'CVE-2024-36971' && d.package.name === 'kernel-core' && d.package.version === K13,
  )!;
  assert.equal(doc.patchloop.known_exploited, true);
  assert.deepEqual(doc.patchloop.kev, { date_added: '2024-08-07', due_date: '2024-08-28', ransomware: false });
  assert.deepEqual(doc.patchloop.priority, {
    level: 'P1',
    rank: 1,
    reason: 'known exploited, fix available, running kernel',
  });
  const sudo = ecs.find((d) => d.vulnerability.id === 'CVE-2023-28486')!;
  assert.equal(sudo.patchloop.known_exploited, false);
  assert.deepEqual(sudo.patchloop.epss, { score: 0.61, percentile: 0.991, date: '2026-11-01' });
});
