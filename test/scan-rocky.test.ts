// End to end on Rocky Linux 8.7 and 9.4 roots whose rpmdb.sqlite rpm itself wrote, against the
// real Rocky OSV records. Rocky's records name source packages: every binary built from one is
// judged by its source rpm's version.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
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

after(removeTemporaries);

// RLSA-2021:3891 (Rocky 8, Important): java-11-openjdk fixed in 1:11.0.13.0.8-1.el8_4, 10 CVEs.
// RLSA-2023:3220 (Rocky 8, Important): firefox fixed in 102.11.0-2.el8_7, 7 CVEs.
// RLSA-2024:3671 (Rocky 9, Moderate, ruby:3.3): ruby 3.3.1-2.module+el9.4.0+20787+4c237fd3,
// rubygem-pg 1.5.4-1.…, rubygem-mysql2 0.5.5-1.…, 3 CVEs. The repository updateinfo.xml beside
// them names binary packages: RLSA-2021:2575 (Moderate, CVE-2021-3520) lz4 1.8.3-3.el8_4;
// RLSA-2021:3057 (Important, 3 CVEs) kernel 4.18.0-305.12.1.el8_4; RLSA-2019:1972 (ruby:2.5).
const ROCKY = join(FEEDS, 'rocky');

test('Rocky Linux 8.7: binaries of a source package named by an RLSA are found, epochs kept', async () => {
  const dataDir = await importFeed('rocky', [ROCKY]);
  const report = await scanJson(rpmRoot('rocky-8.7.tsv', 'rocky-8.7'), dataDir, [
    '--kernel',
    '4.18.0-425.3.1.el8.x86_64',
  ]);
  assert.deepEqual([report.host.distro, report.host.release, report.host.package_count], ['rocky', '8', 10]);
  const java = '1:11.0.12.0.7-0.el8_4';
  // Each advisory's CVEs, a finding each (the advisory in advisory_ids and aliases).
  const firefoxCves = [
    'CVE-2023-32205',
    'CVE-2023-32206',
    'CVE-2023-32207',
    'CVE-2023-32211',
    'CVE-2023-32212',
    'CVE-2023-32213',
    'CVE-2023-32215',
  ];
  const javaCves = [
    'CVE-2021-35550',
    'CVE-2021-35556',
    'CVE-2021-35559',
    'CVE-2021-35561',
    'CVE-2021-35564',
    'CVE-2021-35565',
    'CVE-2021-35567',
    'CVE-2021-35578',
    'CVE-2021-35586',
    'CVE-2021-35603',
  ];
  const kernelCves = ['CVE-2021-22543', 'CVE-2021-22555', 'CVE-2021-3609'];
  const expected: Row[] = [
    ...firefoxCves.map((id): Row => ['firefox', '102.10.0-1.el8_7', id, 'fixed', '102.11.0-2.el8_7', 'high', false]),
    ...javaCves.map((id): Row => ['java-11-openjdk', java, id, 'fixed', '1:11.0.13.0.8-1.el8_4', 'high', false]),
    // Named nowhere in the record: it is a binary of the java-11-openjdk source rpm.
    ...javaCves.map((id): Row => [
      'java-11-openjdk-headless',
      java,
      id,
      'fixed',
      '1:11.0.13.0.8-1.el8_4',
      'high',
      false,
    ]),
    // updateinfo names the binary lz4 only: lz4-libs of the same build is not named there.
    ['lz4', '1.8.3-2.el8', 'CVE-2021-3520', 'fixed', '1.8.3-3.el8_4', 'medium', false],
    // The 8.4 kernel is installed, not running; the running 8.7 kernel is newer than the fix.
    ...kernelCves.map((id): Row => [
      'kernel',
      '4.18.0-305.10.2.el8_4',
      id,
      'fixed',
      '4.18.0-305.12.1.el8_4',
      'high',
      true,
    ]),
  ];
  assertFindings(report, expected);
  const f = findingOf(report, 'java-11-openjdk-headless', 'CVE-2021-35603');
  assert.deepEqual(
    [f.feed, f.advisory_ids, f.aliases, f.package.source],
    ['rocky', ['RLSA-2021:3891'], ['RLSA-2021:3891'], 'java-11-openjdk'],
  );
  assert.deepEqual(findingOf(report, 'lz4', 'CVE-2021-3520').advisory_ids, ['RLSA-2021:2575']);
  // java-11-openjdk and -headless are one source: ten exposures; the kernel's three are dormant.
  assert.deepEqual(
    [report.summary.total, report.summary.kernel_not_running, report.kernel.newer_installed],
    [7 + 10 + 1, 3, false],
  );
  assert.deepEqual(report.warnings, []);
});

test('Rocky Linux 9.4 on ruby:3.3: an earlier build of the stream is found, the fixed build is not', async () => {
  const dataDir = await importFeed('rocky', [ROCKY]);
  const report = await scanJson(rpmRoot('rocky-9.4.tsv', 'rocky-9.4'), dataDir);
  assert.deepEqual([report.host.distro, report.host.release, report.host.package_count], ['rocky', '9', 5]);
  const old = '3.3.0-1.module+el9.4.0+20550+c7d0c0f4';
  const fixed = '3.3.1-2.module+el9.4.0+20787+4c237fd3';
  const cves = ['CVE-2024-27280', 'CVE-2024-27281', 'CVE-2024-27282'];
  const expected: Row[] = cves.flatMap((id): Row[] => [
    ['ruby', old, id, 'fixed', fixed, 'medium', false],
    ['ruby-libs', old, id, 'fixed', fixed, 'medium', false],
    // A sub-package with a version of its own is judged by its source rpm's version.
    ['rubygem-json', '2.7.1-1.module+el9.4.0+20550+c7d0c0f4', id, 'fixed', fixed, 'medium', false],
    // rubygem-pg and its noarch -doc are the fixed build: nothing.
  ]);
  assertFindings(report, expected);
  assert.deepEqual(findingOf(report, 'ruby-libs', 'CVE-2024-27281').advisory_ids, ['RLSA-2024:3671']);
  // Three binaries of the ruby source: one exposure per CVE.
  assert.deepEqual([report.summary.total, report.summary.findings], [3, 9]);
});
