// End to end on RHEL 9.4, 8.8 and 7.9 roots whose rpmdb.sqlite rpm itself wrote, against real
// Red Hat data: CSAF advisories (binary packages per mainline release, module streams) and
// Security Data API documents (fixes named by source package).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli } from './support/cli.ts';
import {
  assertFindings,
  FEEDS,
  findingOf,
  importFeed,
  removeTemporaries,
  rpmRoot,
  scanJson,
  temporary,
  type Row,
} from './support/estate.ts';

after(removeTemporaries);

// CSAF: RHSA-2024:0811 (sudo, RHEL 8 and 9 mainline: 1.9.5p2-10.el9_3, 3 CVEs, Moderate);
// RHSA-2023:3821 / RHSA-2023:7025 / RHSA-2024:1431 (ruby:2.7 / ruby:2.5 / ruby:3.1 on RHEL 8);
// RHSA-2024:6163 and RHSA-2024:9371 list only the python3.9 source rpm (source-keyed fixes);
// RHSA-2025:23414 is RHEL 6 ELS. Security Data API: CVE-2021-25220 (bind fixed in
// 32:9.16.23-5.el9_1 on RHEL 9, 32:9.11.4-26.P2.el7_9.13 on RHEL 7; dhcp 12:4.4.2-17.b1.el9),
// CVE-2024-8088 (python3.9 3.9.18-3.el9_4.5 and 3.9.19-8.el9). Both Moderate.
const INPUTS = [join(FEEDS, 'redhat/csaf/advisories'), join(FEEDS, 'redhat/csaf/hydra')];
let dataDir = '';
before(async () => {
  dataDir = await importFeed('redhat', INPUTS);
});

test('RHEL 9.4: binary advisories and source-package fixes, epochs, noarch, equal builds', async () => {
  const report = await scanJson(rpmRoot('rhel-9.4.tsv', 'rhel-9.4'), dataDir);
  assert.deepEqual([report.host.distro, report.host.release, report.host.package_count], ['rhel', '9', 7]);
  const bind = '32:9.16.23-1.el9';
  const py = '3.9.18-3.el9';
  const expected: Row[] = [
    ['bind-libs', bind, 'CVE-2021-25220', 'fixed', '32:9.16.23-5.el9_1', 'medium', false],
    ['bind-license', bind, 'CVE-2021-25220', 'fixed', '32:9.16.23-5.el9_1', 'medium', false],
    // Two fixed builds on two version lines: the installed 3.9.18 is held to the 3.9.18 line's.
    ['python3', py, 'CVE-2024-8088', 'fixed', '3.9.18-3.el9_4.5', 'medium', false],
    ['python3-libs', py, 'CVE-2024-8088', 'fixed', '3.9.18-3.el9_4.5', 'medium', false],
    ...['CVE-2023-28486', 'CVE-2023-28487', 'CVE-2023-42465'].map((id): Row => [
      'sudo',
      '1.9.5p2-9.el9',
      id,
      'fixed',
      '1.9.5p2-10.el9_3',
      'medium',
      false,
    ]),
    // dhcp-client and dhcp-common (epoch 12) are the fixed build itself: nothing.
  ];
  assertFindings(report, expected);
  // The advisory that carries that build first, then RHSA-2024:9371, which names the CVE again
  // with the 3.9.19 line's fix: neither fix is installed, so both are the host's to take.
  assert.deepEqual(findingOf(report, 'python3-libs', 'CVE-2024-8088').advisory_ids, [
    'RHSA-2024:6163',
    'RHSA-2024:9371',
  ]);
  assert.deepEqual(findingOf(report, 'bind-libs', 'CVE-2021-25220').advisory_ids, ['RHSA-2022:8068']);
  assert.deepEqual(findingOf(report, 'sudo', 'CVE-2023-42465').advisory_ids, ['RHSA-2024:0811']);
  assert.deepEqual(report.warnings, []);
});

test('RHEL 9.4 with the CSAF advisories alone: python3.9, fixed by advisories that list only its source rpm, is still found', async () => {
  const report = await scanJson(
    rpmRoot('rhel-9.4.tsv', 'rhel-9.4'),
    await importFeed('redhat', [join(FEEDS, 'redhat/csaf/advisories')]),
  );
  const expected: Row[] = [
    ['python3', '3.9.18-3.el9', 'CVE-2024-8088', 'fixed', '3.9.18-3.el9_4.5', 'medium', false],
    ['python3-libs', '3.9.18-3.el9', 'CVE-2024-8088', 'fixed', '3.9.18-3.el9_4.5', 'medium', false],
    ...['CVE-2023-28486', 'CVE-2023-28487', 'CVE-2023-42465'].map((id): Row => [
      'sudo',
      '1.9.5p2-9.el9',
      id,
      'fixed',
      '1.9.5p2-10.el9_3',
      'medium',
      false,
    ]),
  ];
  assertFindings(report, expected);
  assert.deepEqual(findingOf(report, 'python3', 'CVE-2024-8088').advisory_ids, ['RHSA-2024:6163', 'RHSA-2024:9371']);
  assert.deepEqual(report.warnings, []);
});

test('RHEL 8.8 on ruby:2.7: only the ruby:2.7 advisory applies, not those of ruby:2.5 or ruby:3.1', async () => {
  const report = await scanJson(rpmRoot('rhel-8.8.tsv', 'rhel-8.8'), dataDir);
  assert.deepEqual([report.host.distro, report.host.release], ['rhel', '8']);
  const installed = '2.7.6-138.module+el8.6.0+16021+3a7c4b9e';
  const fixed = '2.7.8-139.module+el8.8.0+18745+f1bef313';
  const expected: Row[] = ['ruby', 'ruby-libs'].flatMap((p) =>
    ['CVE-2021-33621', 'CVE-2023-28755', 'CVE-2023-28756'].map((id): Row => [
      p,
      installed,
      id,
      'fixed',
      fixed,
      'medium',
      false,
    ]),
  );
  assertFindings(report, expected);
  assert.deepEqual(findingOf(report, 'ruby-libs', 'CVE-2021-33621').advisory_ids, ['RHSA-2023:3821']);
});

test('RHEL 7.9, past its end of support: the scan warns, and still reports what the data says', async () => {
  const report = await scanJson(rpmRoot('rhel-7.9.tsv', 'rhel-7.9'), dataDir);
  assert.deepEqual([report.host.distro, report.host.release], ['rhel', '7']);
  assert.deepEqual(report.support, { state: 'ended', ended: '2024-06-30' });
  assert.ok(
    report.warnings.includes(
      'Red Hat Enterprise Linux 7 reached the end of its security support on 2024-06-30: no new fixes are published for it',
    ),
    report.warnings.join('\n'),
  );
  const expected: Row[] = ['bind-libs', 'bind-utils'].map((p): Row => [
    p,
    '32:9.11.4-26.P2.el7_9.9',
    'CVE-2021-25220',
    'fixed',
    '32:9.11.4-26.P2.el7_9.13',
    'medium',
    false,
  ]);
  assertFindings(report, expected);
  assert.deepEqual(findingOf(report, 'bind-utils', 'CVE-2021-25220').advisory_ids, ['RHSA-2023:0402']);
});

// CentOS hosts: the same rpm databases under the os-release files CentOS Linux 7 and CentOS
// Stream 9 ship. CentOS Linux is matched against the Red Hat feed's RHEL data; CentOS Stream,
// to which that data does not apply, is scanned without data and says so.
const CENTOS_7 =
  'NAME="CentOS Linux"\nVERSION="7 (Core)"\nID="centos"\nID_LIKE="rhel fedora"\nVERSION_ID="7"\nPRETTY_NAME="CentOS Linux 7 (Core)"\nCPE_NAME="cpe:/o:centos:centos:7"\n';
const STREAM_9 =
  'NAME="CentOS Stream"\nVERSION="9"\nID="centos"\nID_LIKE="rhel fedora"\nVERSION_ID="9"\nPLATFORM_ID="platform:el9"\nPRETTY_NAME="CentOS Stream 9"\nCPE_NAME="cpe:/o:centos:centos:9"\n';

function centosRoot(list: string, osRelease: string): string {
  const root = rpmRoot(list, 'rhel-7.9');
  writeFileSync(join(root, 'etc/os-release'), osRelease);
  return root;
}

test('CentOS Linux 7: matched against the RHEL 7 data of the Red Hat feed, with its end of life and where its data comes from', async () => {
  const root = centosRoot('rhel-7.9.tsv', CENTOS_7);
  const report = await scanJson(root, dataDir);
  assert.deepEqual([report.host.distro, report.host.release], ['centos', '7']);
  assert.deepEqual(report.support, { state: 'ended', ended: '2024-06-30' });
  const expected: Row[] = ['bind-libs', 'bind-utils'].map((p): Row => [
    p,
    '32:9.11.4-26.P2.el7_9.9',
    'CVE-2021-25220',
    'fixed',
    '32:9.11.4-26.P2.el7_9.13',
    'medium',
    false,
  ]);
  assertFindings(report, expected);
  assert.ok(
    report.warnings.includes(
      'CentOS Linux 7 reached the end of its security support on 2024-06-30: no new fixes are published for it',
    ),
    report.warnings.join('\n'),
  );
  assert.ok(
    report.warnings.some(
      (w) => w.startsWith('no feed carries CentOS Linux data') && w.includes('RHEL 7 data of the Red Hat feed'),
    ),
    report.warnings.join('\n'),
  );

  // Without the Red Hat feed there is nothing to match with: the scan says which feed to fetch.
  const empty = await runCli(['scan', '--root', root, '--data-dir', temporary('empty'), '--format', 'json']);
  assert.equal(empty.code, 3);
  assert.match(
    empty.stderr,
    /no vulnerability data for CentOS Linux in .*; run `patchloop db update --source redhat` first/,
  );
});

test('CentOS Stream 9: scanned with no feed, and the report says no package was checked', async () => {
  const root = centosRoot('rhel-9.4.tsv', STREAM_9);
  for (const dir of [dataDir, temporary('empty')]) {
    const report = await scanJson(root, dir);
    assert.deepEqual(
      [report.host.distro, report.host.release, report.host.package_count, report.findings.length],
      ['centos-stream', '9', 7, 0],
    );
    assert.equal(report.support.ends ?? report.support.ended, '2027-05-31');
    assert.ok(
      report.warnings.some(
        (w) =>
          w.startsWith('no feed carries CentOS Stream data') &&
          w.endsWith('no package of this host was checked for vulnerabilities'),
      ),
      report.warnings.join('\n'),
    );
  }
});
