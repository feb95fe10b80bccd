// End to end on an AlmaLinux 9.4 root whose rpmdb.sqlite rpm itself wrote: `db update` imports
// real ALSA records from the AlmaLinux OSV database, `scan` reports exactly what they imply.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  assertFindings,
  FEEDS,
  findingOf,
  importFeed,
  removeTemporaries,
  rpmRoot,
  scanJson,
  type Row,
} from './support/estate.ts';
import { runCli } from './support/cli.ts';

after(removeTemporaries);

const ALMA9 = join(FEEDS, 'almalinux/osv/almalinux9');
const RUNNING = '5.14.0-427.13.1.el9_4.x86_64';
const K13 = '5.14.0-427.13.1.el9_4';
const K18 = '5.14.0-427.18.1.el9_4';

// The records imported, and what each says about the host (test/fixtures/estate/rpm/almalinux-9.4.tsv).
const ADVISORIES = [
  'ALSA-2024:6783', // Moderate, CVE-2024-6119: openssl* 1:3.0.7-28.el9_4 > installed 1:3.0.7-27.el9
  'ALSA-2024:2447', // Low, 7 CVEs: openssl* 1:3.0.7-27.el9 = installed: nothing
  'ALSA-2024:0310', // Moderate, CVE-2023-5363: 1:3.0.7-25.el9_3 < installed: nothing
  'ALSA-2024:2779', // Important, nodejs:18, 5 CVEs: nodejs 1:18.20.2-2…, npm 1:10.5.0-1.18.20.2.2… > installed
  'ALSA-2024:1503', // Important, nodejs:18: the installed build itself: nothing
  'ALSA-2024:1688', // Important, nodejs:20: 1:20.11.1-1… is higher, but another stream: nothing
  'ALSA-2024:5534', // Important, CVE-2024-6345: python3-setuptools(-wheel) 53.0.0-12.el9_4.1 (noarch) > installed
  'ALSA-2023:0952', // Moderate, CVE-2022-40897: 53.0.0-10.el9_1.1 < installed: nothing
  'ALSA-2024:3306', // Moderate, 4 CVEs: kernel 427.18.1: the running 427.13.1 only
  'ALSA-2024:3619', // Moderate, 2 CVEs: kernel 427.20.1: both kernels (427.18.1 installed, not running)
  'ALSA-2024:0811', // Moderate, 3 CVEs: sudo 1.9.5p2-10.el9_3 > installed 1.9.5p2-9.el9
  'ALSA-2023:0282', // Important, CVE-2023-22809: sudo 1.9.5p2-7.el9_1.1 < installed: nothing
  'ALSA-2023:0340', // Moderate, CVE-2022-3715: bash 5.1.8-6.el9_1 < installed 5.1.8-9.el9: nothing
].map((id) => join(ALMA9, `${id}.json`));

// The CVEs each multi-CVE advisory fixes: findings are named by CVE, the advisory beside them.
const NODEJS_CVES = ['CVE-2024-22025', 'CVE-2024-25629', 'CVE-2024-27982', 'CVE-2024-27983', 'CVE-2024-28182']; // ALSA-2024:2779
const KERNEL_3306 = ['CVE-2024-26642', 'CVE-2024-26643', 'CVE-2024-26673', 'CVE-2024-26804'];
const KERNEL_3619 = ['CVE-2024-26735', 'CVE-2024-26993'];
const SUDO_CVES = ['CVE-2023-28486', 'CVE-2023-28487', 'CVE-2023-42465']; // ALSA-2024:0811

const kernelRows = (ids: string[], fixed: string, version: string, notRunning: boolean): Row[] =>
  ['kernel', 'kernel-core', 'kernel-modules-core'].flatMap((p) =>
    ids.map((id): Row => [p, version, id, 'fixed', fixed, 'medium', notRunning]),
  );

const EXPECTED: Row[] = [
  ['openssl', '1:3.0.7-27.el9', 'CVE-2024-6119', 'fixed', '1:3.0.7-28.el9_4', 'medium', false],
  ['openssl-libs', '1:3.0.7-27.el9', 'CVE-2024-6119', 'fixed', '1:3.0.7-28.el9_4', 'medium', false],
  ...NODEJS_CVES.map((id): Row => [
    'nodejs',
    '1:18.19.1-1.module_el9.3.0+59+28b95644',
    id,
    'fixed',
    '1:18.20.2-2.module_el9.4.0+99+a01f7676',
    'high',
    false,
  ]),
  ...NODEJS_CVES.map((id): Row => [
    'npm',
    '1:10.2.4-1.18.19.1.1.module_el9.3.0+59+28b95644',
    id,
    'fixed',
    '1:10.5.0-1.18.20.2.2.module_el9.4.0+99+a01f7676',
    'high',
    false,
  ]),
  ['python3-setuptools', '53.0.0-12.el9', 'CVE-2024-6345', 'fixed', '53.0.0-12.el9_4.1', 'high', false],
  ['python3-setuptools-wheel', '53.0.0-12.el9', 'CVE-2024-6345', 'fixed', '53.0.0-12.el9_4.1', 'high', false],
  ...kernelRows(KERNEL_3306, K18, K13, false),
  ...kernelRows(KERNEL_3619, '5.14.0-427.20.1.el9_4', K13, false),
  // Installed but not running: reported as such, not as exposure. kernel-headers and
  // kernel-tools of that build are never reported for kernel advisories.
  ...kernelRows(KERNEL_3619, '5.14.0-427.20.1.el9_4', K18, true),
  ...SUDO_CVES.map((id): Row => ['sudo', '1.9.5p2-9.el9', id, 'fixed', '1.9.5p2-10.el9_3', 'medium', false]),
];

test('AlmaLinux 9.4 root with a real rpmdb.sqlite: exactly the findings the ALSA records imply', async () => {
  const root = rpmRoot('almalinux-9.4.tsv', 'almalinux-9.4');
  const dataDir = await importFeed('almalinux', ADVISORIES);
  const report = await scanJson(root, dataDir, ['--kernel', RUNNING]);
  assert.equal(report.host.distro, 'almalinux');
  assert.equal(report.host.release, '9');
  assert.equal(report.host.package_count, 16);
  assertFindings(report, EXPECTED);

  const openssl = findingOf(report, 'openssl-libs', 'CVE-2024-6119');
  assert.deepEqual(
    [openssl.feed, openssl.advisory_ids, openssl.package.source],
    ['almalinux', ['ALSA-2024:6783'], 'openssl'],
  );
  assert.ok(openssl.aliases.includes('ALSA-2024:6783'));
  const node = findingOf(report, 'nodejs', 'CVE-2024-27983');
  assert.deepEqual([node.advisory_ids, node.aliases], [['ALSA-2024:2779'], ['ALSA-2024:2779']]);

  // Counted per vulnerability and source package: openssl and openssl-libs are one exposure,
  // nodejs and npm (source nodejs) five, kernel, kernel-core and kernel-modules-core six; the
  // CVEs of the kernel installed but not running are the running one's too, so none is dormant.
  assert.equal(report.summary.total, 1 + 5 + 1 + 6 + 3);
  assert.equal(report.summary.findings, 2 + 10 + 2 + 18 + 3);
  assert.equal(report.summary.kernel_not_running, 0);
  assert.deepEqual(report.summary.by_severity, { critical: 0, high: 6, medium: 10, low: 0, negligible: 0, unknown: 0 });
  assert.deepEqual(report.kernel.images.map((i) => [i.name, i.version, i.running]).sort(), [
    ['kernel', K13, true],
    ['kernel', K18, false],
    ['kernel-core', K13, true],
    ['kernel-core', K18, false],
    ['kernel-modules-core', K13, true],
    ['kernel-modules-core', K18, false],
  ]);
  assert.equal(report.kernel.newer_installed, true, 'a newer kernel is installed: a reboot is pending');
  assert.equal(report.support.state, 'supported');
  assert.deepEqual(report.warnings, []);
});

test('booted into the newer kernel, the older one is the one installed but not running', async () => {
  const root = rpmRoot('almalinux-9.4.tsv', 'almalinux-9.4');
  const dataDir = await importFeed('almalinux', ADVISORIES);
  const report = await scanJson(root, dataDir, ['--kernel', `${K18}.x86_64`]);
  const kernel = report.findings
    .filter((f) => f.package.source === 'kernel')
    .map((f) => [f.package.name, f.package.version, f.id, f.kernel_not_running === true]);
  assert.deepEqual(
    kernel.sort(),
    [
      ...['kernel', 'kernel-core', 'kernel-modules-core'].flatMap((p) => [
        ...KERNEL_3306.map((id) => [p, K13, id, true]),
        ...KERNEL_3619.map((id) => [p, K13, id, true]),
        ...KERNEL_3619.map((id) => [p, K18, id, false]),
      ]),
    ].sort(),
  );
  assert.equal(report.kernel.newer_installed, false);
  // ALSA-2024:3306's four CVEs are only in the kernel that is not running: dormant exposures.
  assert.deepEqual([report.summary.total, report.summary.kernel_not_running], [1 + 5 + 1 + 2 + 3, 4]);
});

test('against the whole AlmaLinux 9 database the nodejs:18 packages get only nodejs:18 advisories', async () => {
  const root = rpmRoot('almalinux-9.4.tsv', 'almalinux-9.4');
  const dataDir = await importFeed('almalinux', [ALMA9]);
  const report = await scanJson(root, dataDir, ['--kernel', RUNNING]);
  // Read straight from the records: the advisories of each module stream.
  const streamOf = new Map<string, string | null>();
  for (const file of readdirSync(ALMA9)) {
    const rec = JSON.parse(readFileSync(join(ALMA9, file), 'utf8')) as { id: string; summary: string };
    streamOf.set(rec.id, /^[A-Za-z]+: ([\w.-]+:[\w.-]+) /.exec(rec.summary)?.[1] ?? null);
  }
  const nodeFindings = report.findings.filter((f) => f.package.source === 'nodejs');
  assert.ok(nodeFindings.length >= 2);
  for (const f of nodeFindings) {
    assert.ok(f.advisory_ids.length > 0);
    for (const a of f.advisory_ids) assert.equal(streamOf.get(a), 'nodejs:18', `${f.package.name} ${f.id} via ${a}`);
  }
  // Everything the selected records said is still said (no other record fixes those ids first).
  const ids = new Set(report.findings.map((f) => `${f.package.name} ${f.package.version} ${f.id} ${f.fixed_version}`));
  for (const [name, version, id, , fixed] of EXPECTED)
    assert.ok(ids.has(`${name} ${version} ${id} ${fixed}`), `${name} ${id}`);
  for (const f of report.findings) {
    assert.ok(!['kernel-headers', 'kernel-tools', 'bash'].includes(f.package.name), `${f.package.name} ${f.id}`);
    if (f.package.version === K18 && f.package.source === 'kernel') assert.equal(f.kernel_not_running, true);
  }
});

// One CVE fixed on two version lines (389-ds-base CVE-2025-2487: 2.5.2-9.el9_5 for 9.5 by
// ALSA-2025:4491, 2.6.1-8.el9_6 for 9.6 by ALSA-2025:7395): a 2.6.1 build before the fix is
// found with both advisories imported, as with the newer one alone, and held to its own line's
// fix, not to the older line's lower one (src/feeds/common/entries.test.ts has the older line).
test("a CVE fixed on two version lines: the newer line's earlier build is still found", async () => {
  const root = rpmRoot('almalinux-9.6.tsv', 'almalinux-9.6');
  const newerLineOnly = await scanJson(root, await importFeed('almalinux', [join(ALMA9, 'ALSA-2025:7395.json')]));
  const expected: Row[] = ['389-ds-base', '389-ds-base-libs'].map((p): Row => [
    p,
    '2.6.1-7.el9_6',
    'CVE-2025-2487',
    'fixed',
    '2.6.1-8.el9_6',
    'medium',
    false,
  ]);
  assertFindings(newerLineOnly, expected);
  const both = await scanJson(
    root,
    await importFeed('almalinux', [join(ALMA9, 'ALSA-2025:4491.json'), join(ALMA9, 'ALSA-2025:7395.json')]),
  );
  assertFindings(both, expected);
  assert.deepEqual(findingOf(both, '389-ds-base-libs', 'CVE-2025-2487').advisory_ids, ['ALSA-2025:7395']);
});

const ALMA8 = join(FEEDS, 'almalinux/osv/almalinux8');

test('AlmaLinux 8.10 on pki-core:10.6: the stream the advisory summary names first is matched', async () => {
  const report = await scanJson(
    rpmRoot('almalinux-8.10.tsv', 'almalinux-8.10'),
    await importFeed('almalinux', [join(ALMA8, 'ALSA-2022:7470.json')]),
  );
  assert.deepEqual([report.host.distro, report.host.release], ['almalinux', '8']);
  assertFindings(report, [
    [
      'idm-pki-base',
      '10.12.0-2.module_el8.6.0+2764+9fc58d50',
      'CVE-2022-2414',
      'fixed',
      '10.12.0-4.module_el8.7.0+3316+50b99934',
      'high',
      false,
    ],
  ]);
});

// "Moderate: pki-core:10.6 and pki-deps:10.6 security update" names two modules, and the record
// does not say which of them each package is from: every modular fix is filed under both
// streams, so jackson-databind (installed from pki-deps) meets its own fix.
test('an advisory for two module streams reaches the packages of the second one', async () => {
  const report = await scanJson(
    rpmRoot('almalinux-8.10.tsv', 'almalinux-8.10'),
    await importFeed('almalinux', [join(ALMA8, 'ALSA-2024:3061.json')]),
  );
  assertFindings(report, [
    [
      'jackson-databind',
      '2.10.0-1.module_el8.5.0+2577+9e95fe00',
      'CVE-2020-36518',
      'fixed',
      '2.14.2-1.module_el8.10.0+3791+e0637953',
      'medium',
      false,
    ],
  ]);
  assert.deepEqual(findingOf(report, 'jackson-databind', 'CVE-2020-36518').advisory_ids, ['ALSA-2024:3061']);
});

test('both pki advisories together: each package is held to the fix of its own stream', async () => {
  const report = await scanJson(
    rpmRoot('almalinux-8.10.tsv', 'almalinux-8.10'),
    await importFeed('almalinux', [join(ALMA8, 'ALSA-2022:7470.json'), join(ALMA8, 'ALSA-2024:3061.json')]),
  );
  assertFindings(report, [
    [
      'idm-pki-base',
      '10.12.0-2.module_el8.6.0+2764+9fc58d50',
      'CVE-2022-2414',
      'fixed',
      '10.12.0-4.module_el8.7.0+3316+50b99934',
      'high',
      false,
    ],
    [
      'jackson-databind',
      '2.10.0-1.module_el8.5.0+2577+9e95fe00',
      'CVE-2020-36518',
      'fixed',
      '2.14.2-1.module_el8.10.0+3791+e0637953',
      'medium',
      false,
    ],
  ]);
});

test('against the whole AlmaLinux 8 database every finding of a modular package comes from an advisory naming its stream', async () => {
  const report = await scanJson(
    rpmRoot('almalinux-8.10.tsv', 'almalinux-8.10'),
    await importFeed('almalinux', [ALMA8]),
  );
  const streamOfPackage: Record<string, string> = {
    'idm-pki-base': 'pki-core:10.6',
    'jackson-databind': 'pki-deps:10.6',
  };
  const summaries = new Map<string, string>();
  for (const file of readdirSync(ALMA8)) {
    const rec = JSON.parse(readFileSync(join(ALMA8, file), 'utf8')) as { id: string; summary?: string };
    summaries.set(rec.id, rec.summary ?? '');
  }
  assert.ok(report.findings.length >= 2);
  for (const f of report.findings) {
    assert.ok(f.advisory_ids.length > 0, `${f.package.name} ${f.id}`);
    for (const a of f.advisory_ids) {
      const words = (summaries.get(a) ?? '').split(/[\s/,]+/);
      assert.ok(
        words.includes(streamOfPackage[f.package.name]),
        `${f.package.name} ${f.id} via ${a}: "${summaries.get(a)}"`,
      );
    }
  }
  const ids = report.findings.map((f) => `${f.package.name} ${f.id}`);
  assert.ok(
    ids.includes('jackson-databind CVE-2020-36518') && ids.includes('idm-pki-base CVE-2022-2414'),
    ids.join(', '),
  );
});

// ALSA-2023:5145 fixes CVE-2023-36799 in .NET 7.0.11, ALSA-2023:6247 names it again with 7.0.13.
// A host below both is told of both advisories, with the lowest fix; a host at 7.0.12 has the
// first fix: the CVE is fixed there. The three binaries of the dotnet7.0 source are one exposure.
test('a CVE named again by a later advisory: every advisory not yet installed is named, the lowest fix stays the fixed version', async () => {
  const dataDir = await importFeed('almalinux', [
    join(ALMA8, 'ALSA-2023:5145.json'),
    join(ALMA8, 'ALSA-2023:6247.json'),
  ]);
  const report = await scanJson(rpmRoot('almalinux-8.10-dotnet.tsv', 'almalinux-8.10'), dataDir);
  assertFindings(
    report,
    ['aspnetcore-runtime-7.0', 'dotnet-host', 'dotnet-runtime-7.0'].map((p): Row => [
      p,
      '7.0.10-1.el8_8',
      'CVE-2023-36799',
      'fixed',
      '7.0.11-1.el8_8',
      'medium',
      false,
    ]),
  );
  for (const f of report.findings)
    assert.deepEqual(f.advisory_ids, ['ALSA-2023:5145', 'ALSA-2023:6247'], f.package.name);
  assert.deepEqual([report.summary.total, report.summary.findings], [1, 3]);
  // Between the two fixes: the CVE is fixed (the lowest fix counts), nothing is reported.
  const { VulnDb } = await import('../src/vulndb/reader.ts');
  const { matchInventory } = await import('../src/core/match.ts');
  const db = VulnDb.open(dataDir);
  try {
    const os = { id: 'almalinux', version_id: '8.10', codename: '', pretty_name: 'AlmaLinux 8.10' };
    const pkg = {
      name: 'dotnet-runtime-7.0',
      version: '7.0.12-1.el8_8',
      arch: 'x86_64',
      source: 'dotnet7.0',
      source_version: '7.0.112-1.el8_8',
      format: 'rpm' as const,
    };
    assert.deepEqual(matchInventory({ os, kernel: null, packages: [pkg] }, db).findings, []);
  } finally {
    db.close();
  }
});

test('scan --vuln: a CVE, or an advisory id that finds every CVE it carries; a --kernel no image runs as is a warning', async () => {
  const root = rpmRoot('almalinux-9.4.tsv', 'almalinux-9.4');
  const dataDir = await importFeed('almalinux', ADVISORIES);
  const byAdvisory = await scanJson(root, dataDir, ['--kernel', RUNNING, '--vuln', 'alsa-2024:2779']);
  assert.deepEqual([...new Set(byAdvisory.findings.map((f) => f.id))].sort(), NODEJS_CVES);
  assert.deepEqual([byAdvisory.summary.total, byAdvisory.summary.findings], [5, 10]);
  const byCve = await scanJson(root, dataDir, ['--kernel', RUNNING, '--vuln', 'CVE-2024-26993', 'CVE-2024-6119']);
  assert.deepEqual(
    byCve.findings.map((f) => `${f.package.name} ${f.package.version} ${f.id}`).sort(),
    [
      ...['kernel', 'kernel-core', 'kernel-modules-core'].flatMap((p) => [
        `${p} ${K13} CVE-2024-26993`,
        `${p} ${K18} CVE-2024-26993`,
      ]),
      'openssl 1:3.0.7-27.el9 CVE-2024-6119',
      'openssl-libs 1:3.0.7-27.el9 CVE-2024-6119',
    ].sort(),
  );
  assert.deepEqual([byCve.summary.total, byCve.summary.kernel_not_running], [2, 0]);

  const r = await runCli([
    'scan',
    '--root',
    root,
    '--data-dir',
    dataDir,
    '--kernel',
    '5.14.0-427.13.1.el9_4',
    '--format',
    'json',
  ]);
  assert.equal(r.code, 0, r.stderr);
  const warning =
    'kernel 5.14.0-427.13.1.el9_4 matches no installed kernel image (installed: 5.14.0-427.13.1.el9_4.x86_64, 5.14.0-427.18.1.el9_4.x86_64): every kernel image is treated as installed but not running';
  assert.ok(r.stderr.includes(`patchloop: warning: ${warning}\n`), r.stderr);
  assert.ok((JSON.parse(r.stdout) as { warnings: string[] }).warnings.includes(warning));
  const inventory = await runCli(['inventory', '--root', root, '--kernel', '5.14.0-427.13.1.el9_4']);
  assert.equal(inventory.code, 0);
  assert.ok(inventory.stderr.includes(`patchloop: warning: ${warning}\n`), inventory.stderr);
});
