// End to end on Rocky Linux 8.7 and 9.4 roots whose rpmdb.sqlite rpm itself wrote, against the
// real Rocky OSV records. Rocky's records name source packages: every binary built from one is
// judged by its source rpm's version.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { assertFindings, FEEDS, findingOf, importFeed, removeTemporaries, rpmRoot, scanJson, type Row } from './fixtures/estate/lib.ts';

after(removeTemporaries);

// RLSA-2021:3891 (Rocky 8, Important): java-11-openjdk fixed in 1:11.0.13.0.8-1.el8_4, 10 CVEs.
// RLSA-2023:3220 (Rocky 8, Important): firefox fixed in 102.11.0-2.el8_7, 7 CVEs.
// RLSA-2024:3671 (Rocky 9, Moderate, ruby:3.3): ruby 3.3.1-2.module+el9.4.0+20787+4c237fd3,
// rubygem-pg 1.5.4-1.…, rubygem-mysql2 0.5.5-1.…, 3 CVEs. The directory also holds an
// updateinfo.xml, which is not OSV and is not read.
const ROCKY = join(FEEDS, 'rocky');

test('Rocky Linux 8.7: binaries of a source package named by an RLSA are found, epochs kept', async () => {
  const dataDir = await importFeed('rocky', [ROCKY]);
  const report = await scanJson(rpmRoot('rocky-8.7.tsv', 'rocky-8.7'), dataDir);
  assert.deepEqual([report.host.distro, report.host.release, report.host.package_count], ['rocky', '8', 3]);
  const java = '1:11.0.12.0.7-0.el8_4';
  const expected: Row[] = [
    ['firefox', '102.10.0-1.el8_7', 'RLSA-2023:3220', 'fixed', '102.11.0-2.el8_7', 'high', false],
    ['java-11-openjdk', java, 'RLSA-2021:3891', 'fixed', '1:11.0.13.0.8-1.el8_4', 'high', false],
    // Named nowhere in the record: it is a binary of the java-11-openjdk source rpm.
    ['java-11-openjdk-headless', java, 'RLSA-2021:3891', 'fixed', '1:11.0.13.0.8-1.el8_4', 'high', false],
  ];
  assertFindings(report, expected);
  const f = findingOf(report, 'java-11-openjdk-headless', 'RLSA-2021:3891');
  assert.deepEqual([f.feed, f.advisory_ids, f.package.source], ['rocky', ['RLSA-2021:3891'], 'java-11-openjdk']);
  assert.equal(f.aliases.length, 10);
  assert.deepEqual(report.warnings, []);
});

test('Rocky Linux 9.4 on ruby:3.3: an earlier build of the stream is found, the fixed build is not', async () => {
  const dataDir = await importFeed('rocky', [ROCKY]);
  const report = await scanJson(rpmRoot('rocky-9.4.tsv', 'rocky-9.4'), dataDir);
  assert.deepEqual([report.host.distro, report.host.release, report.host.package_count], ['rocky', '9', 5]);
  const old = '3.3.0-1.module+el9.4.0+20550+c7d0c0f4';
  const fixed = '3.3.1-2.module+el9.4.0+20787+4c237fd3';
  const expected: Row[] = [
    ['ruby', old, 'RLSA-2024:3671', 'fixed', fixed, 'medium', false],
    ['ruby-libs', old, 'RLSA-2024:3671', 'fixed', fixed, 'medium', false],
    // A sub-package with a version of its own is judged by its source rpm's version.
    ['rubygem-json', '2.7.1-1.module+el9.4.0+20550+c7d0c0f4', 'RLSA-2024:3671', 'fixed', fixed, 'medium', false],
    // rubygem-pg and its noarch -doc are the fixed build: nothing.
  ];
  assertFindings(report, expected);
  assert.deepEqual([...findingOf(report, 'ruby-libs', 'RLSA-2024:3671').aliases].sort(), ['CVE-2024-27280', 'CVE-2024-27281', 'CVE-2024-27282']);
});
