// End to end on Alpine roots against the real Alpine secdb (v3.11, v3.12 and edge as JSON,
// v3.15 as YAML). The branch a host follows comes from /etc/apk/repositories and must be the
// branch of the secdb that judges it. Roots: real installed databases from the shared data, and
// one written here with Alpine 3.15 packages (no shared database has packages the secdb fixes).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SHARED_DATA } from './support/paths.ts';
import {
  assertFindings,
  ESTATE,
  FEEDS,
  findingOf,
  importFeed,
  removeTemporaries,
  scanJson,
  temporary,
  type Row,
} from './support/estate.ts';

after(removeTemporaries);

/** A root with an installed database and the /etc (os-release, alpine-release, apk/repositories) of one branch. */
function apkRoot(installed: string, etc: string): string {
  const root = temporary(`alpine-${etc}`);
  cpSync(join(ESTATE, 'alpine', etc), join(root, 'etc'), { recursive: true });
  mkdirSync(join(root, 'lib/apk/db'), { recursive: true });
  cpSync(installed, join(root, 'lib/apk/db/installed'));
  return root;
}

let dataDir = '';
before(async () => {
  dataDir = await importFeed('alpine', [join(FEEDS, 'alpine/secdb-json'), join(FEEDS, 'alpine/secdb-yaml')]);
});

test('Alpine 3.15: the YAML secdb of v3.15 judges each package by its origin; older, equal and newer builds', async () => {
  const report = await scanJson(apkRoot(join(ESTATE, 'alpine/installed-3.15'), 'etc-3.15'), dataDir);
  assert.deepEqual([report.host.distro, report.host.release, report.host.package_count], ['alpine', '3.15', 8]);
  // secdb v3.15: xz 5.2.5-r1 CVE-2022-1271; zlib 1.2.12-r0 CVE-2018-25032, 1.2.12-r2
  // CVE-2022-37434; zsh 5.4.2-r1, 5.8-r0 CVE-2019-20044, 5.8.1-r0 CVE-2021-45444; zstd up to
  // 1.4.9-r0; community: advancecomp 2.1-r2 CVE-2019-9210. Alpine rates nothing: unknown.
  const expected: Row[] = [
    ['xz', '5.2.5-r0', 'CVE-2022-1271', 'fixed', '5.2.5-r1', 'unknown', false],
    // A sub-package: its origin is xz.
    ['xz-libs', '5.2.5-r0', 'CVE-2022-1271', 'fixed', '5.2.5-r1', 'unknown', false],
    // 1.2.12-r0 is the first fix itself; the second is still to come.
    ['zlib', '1.2.12-r0', 'CVE-2022-37434', 'fixed', '1.2.12-r2', 'unknown', false],
    ['zsh', '5.8-r3', 'CVE-2021-45444', 'fixed', '5.8.1-r0', 'unknown', false],
    ['advancecomp', '2.1-r1', 'CVE-2019-9210', 'fixed', '2.1-r2', 'unknown', false],
    // zstd-libs 1.5.0-r0 is newer than every zstd fix; musl and busybox have none: nothing.
  ];
  assertFindings(report, expected);
  const f = findingOf(report, 'xz-libs', 'CVE-2022-1271');
  assert.deepEqual([f.feed, f.package.source], ['alpine', 'xz']);
  assert.equal(report.support.state, 'ended', 'Alpine 3.15 support ended on 2023-11-01');
  assert.ok(
    report.warnings.includes(
      'Alpine Linux 3.15 reached the end of its security support on 2023-11-01: no new fixes are published for it',
    ),
    report.warnings.join('\n'),
  );
});

test('Alpine edge with a real installed database (apk-tools 2.12.10-r1): newer than both edge fixes, nothing to report', async () => {
  const report = await scanJson(apkRoot(join(SHARED_DATA, 'pkgdb/apk/osv-scanner-installed'), 'etc-edge'), dataDir);
  assert.deepEqual([report.host.distro, report.host.release, report.host.package_count], ['alpine', 'edge', 1]);
  assertFindings(report, []);
  assert.equal(report.support.state, 'unknown');
  assert.deepEqual(report.warnings, []);
});

test('Alpine 3.11 with a real installed database: the release ended, the scan says so', async () => {
  const report = await scanJson(
    apkRoot(join(SHARED_DATA, 'pkgdb/apk/trivy/lib/apk/db/installed'), 'etc-3.11'),
    dataDir,
  );
  assert.deepEqual([report.host.distro, report.host.release, report.host.package_count], ['alpine', '3.11', 1]);
  assertFindings(report, []);
  assert.deepEqual(report.support, { state: 'ended', ended: '2021-11-01' });
  assert.ok(
    report.warnings.includes(
      'Alpine Linux 3.11 reached the end of its security support on 2021-11-01: no new fixes are published for it',
    ),
    report.warnings.join('\n'),
  );
});

test('the same 3.15 packages on a host following v3.12 are judged by v3.12 data, not v3.15', async () => {
  // alpine-release and os-release say 3.15, the repositories v3.12: packages come from v3.12.
  const root = apkRoot(join(ESTATE, 'alpine/installed-3.15'), 'etc-3.15');
  writeFileSync(join(root, 'etc/apk/repositories'), 'https://dl-cdn.alpinelinux.org/alpine/v3.12/main\n');
  const report = await scanJson(root, dataDir);
  assert.equal(report.host.release, '3.12');
  assertFindings(report, []);
  assert.ok(
    report.warnings.some((w) =>
      w.endsWith('etc/alpine-release says 3.15.4 (branch 3.15) but the repositories use branch 3.12; using 3.12'),
    ),
    report.warnings.join('\n'),
  );
  assert.ok(
    report.warnings.includes(
      'Alpine Linux 3.12 reached the end of its security support on 2022-05-01: no new fixes are published for it',
    ),
  );
});
