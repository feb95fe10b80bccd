// End to end on an Ubuntu 20.04 root (dpkg status with real Ubuntu package names and versions)
// against Canonical's real OSV records and OpenVEX documents, plus two kernel records written
// in Canonical's layout (the shared data has no kernel record).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import {
  assertFindings,
  ESTATE,
  FEEDS,
  findingOf,
  importFeed,
  removeTemporaries,
  scanJson,
  type Row,
} from './support/estate.ts';

after(removeTemporaries);

const ROOT = join(ESTATE, 'ubuntu/focal-root');
const RUNNING = '5.15.0-91-generic';
// UBUNTU-CVE-2016-20013: glibc (Ubuntu:Pro:20.04, unfixed) and sssd (20.04, unfixed); the VEX
//   document says Canonical decided not to fix them ("ignored"). Priority negligible.
// UBUNTU-CVE-2021-3782 / USN-5614-1: wayland fixed in 1.18.0-1ubuntu0.1 on 20.04, medium.
// UBUNTU-CVE-2022-24823: netty fixed on 20.04 only in Ubuntu Pro (1:4.1.45-1ubuntu0.1~esm2), low.
// kernel-records (written here): CVE-2099-1000 linux-hwe-5.15 fixed in 5.15.0-94.104~20.04.1
//   (high), linux in 5.4.0-170.188; CVE-2099-1001 linux-hwe-5.15 fixed in 5.15.0-97.107~20.04.1.
const INPUTS = [
  join(FEEDS, 'ubuntu/osv'),
  join(FEEDS, 'ubuntu/osv-esm-cases'),
  join(FEEDS, 'ubuntu/vex'),
  join(ESTATE, 'ubuntu/kernel-records'),
];
const K91 = '5.15.0-91.101~20.04.1';
const K94 = '5.15.0-94.104~20.04.1';

const COMMON: Row[] = [
  ['libc-bin', '2.31-0ubuntu9.16', 'CVE-2016-20013', 'will_not_fix', null, 'negligible', false],
  ['libc6', '2.31-0ubuntu9.16', 'CVE-2016-20013', 'will_not_fix', null, 'negligible', false],
  ['libnss-sss', '2.2.3-3ubuntu0.13', 'CVE-2016-20013', 'will_not_fix', null, 'negligible', false],
  // libwayland-server0 is already at 1.18.0-1ubuntu0.1: nothing.
  ['libwayland-client0', '1.18.0-1', 'CVE-2021-3782', 'fixed', '1.18.0-1ubuntu0.1', 'medium', false],
  // The running image (signed, from linux-signed-hwe-5.15) is judged as linux-hwe-5.15; the
  // newer image is installed but not running. Headers, modules, linux-libc-dev (source linux)
  // and the linux-image-generic-hwe-20.04 meta package get no kernel findings.
  ['linux-image-5.15.0-91-generic', K91, 'CVE-2099-1000', 'fixed', K94, 'high', false],
  ['linux-image-5.15.0-91-generic', K91, 'CVE-2099-1001', 'fixed', '5.15.0-97.107~20.04.1', 'medium', false],
  ['linux-image-5.15.0-94-generic', K94, 'CVE-2099-1001', 'fixed', '5.15.0-97.107~20.04.1', 'medium', true],
];

let dataDir = '';
before(async () => {
  dataDir = await importFeed('ubuntu', INPUTS);
});

test('Ubuntu 20.04 without Pro: a Pro-only fix leaves the package affected, with no +esm version to install', async () => {
  const report = await scanJson(ROOT, dataDir, ['--kernel', RUNNING]);
  assert.deepEqual([report.host.distro, report.host.release, report.host.package_count], ['ubuntu', '20.04', 12]);
  assertFindings(report, [
    ...COMMON,
    ['libnetty-java', '1:4.1.45-1', 'CVE-2022-24823', 'affected', null, 'low', false],
  ]);
  assert.match(findingOf(report, 'libnetty-java', 'CVE-2022-24823').raw_status, /only through Ubuntu Pro/);
  assert.deepEqual(findingOf(report, 'libwayland-client0', 'CVE-2021-3782').advisory_ids, ['USN-5614-1', 'USN-5614-2']);
  assert.equal(findingOf(report, 'libc6', 'CVE-2016-20013').raw_status, 'ignored');
  assert.deepEqual(report.kernel.images.map((i) => [i.name, i.running]).sort(), [
    ['linux-image-5.15.0-91-generic', true],
    ['linux-image-5.15.0-94-generic', false],
  ]);
  assert.equal(report.kernel.newer_installed, true);
  // glibc's two binaries are one exposure; the image that is not running has CVE-2099-1001,
  // which the running image of the same source has too: counted once, as exposure.
  assert.deepEqual([report.summary.total, report.summary.findings, report.summary.kernel_not_running], [6, 7, 0]);
  // Standard support of 20.04 ended 2025-05-31; Ubuntu Pro carries it to 2030.
  assert.equal(report.support.state, 'extended');
  assert.ok(
    report.warnings.includes(
      'Ubuntu 20.04 is past regular security support; fixes come from Ubuntu Pro (ESM) until 2030-05-31',
    ),
    report.warnings.join('\n'),
  );
});

test('Ubuntu 20.04 attached to Pro (--pro): the esm fix is the fixed version', async () => {
  const report = await scanJson(ROOT, dataDir, ['--kernel', RUNNING, '--pro']);
  assertFindings(report, [
    ...COMMON,
    ['libnetty-java', '1:4.1.45-1', 'CVE-2022-24823', 'fixed', '1:4.1.45-1ubuntu0.1~esm2', 'low', false],
  ]);
  const onlyFixed = await scanJson(ROOT, dataDir, ['--kernel', RUNNING, '--pro', '--only-fixed']);
  assert.deepEqual(
    onlyFixed.findings.map((f) => f.status).filter((s) => s !== 'fixed'),
    [],
  );
  assert.equal(onlyFixed.findings.length, 5);
});
