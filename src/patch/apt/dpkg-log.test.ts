import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DpkgLogError, failedPackages, parseDpkgLog } from './dpkg-log.ts';
import { fixture, patchlab } from '../../../test/support/patch-logs.ts';

test('patchlab dpkg log: one block per MinimalSteps set, progress noise ignored, no failures', () => {
  const blocks = parseDpkgLog(patchlab('uu-dpkg.log'), 'uu-dpkg.log');
  assert.equal(blocks.length, 15);
  assert.ok(blocks.every((b) => b.started && b.ended && b.failures.length === 0 && b.apt_errors.length === 0));
  const unpacked = blocks.flatMap((b) => b.unpacked);
  assert.deepEqual(
    unpacked.find((u) => u.name === 'libssl3'),
    { name: 'libssl3', version: '3.0.22-1~deb12u2', over: '3.0.20-1~deb12u2' },
  );
  assert.deepEqual(
    unpacked.find((u) => u.name === 'linux-image-6.1.0-56-amd64'),
    { name: 'linux-image-6.1.0-56-amd64', version: '6.1.192-2', over: null },
  );
  assert.equal(blocks.flatMap((b) => b.setup).length, unpacked.length);
  assert.equal(blocks[0].started, '2026-11-27  03:00:29');
});

test('a failing maintainer script: dpkg names the package, apt adds its E: line', () => {
  const blocks = parseDpkgLog(fixture('broken-dpkg/unattended-upgrades-dpkg.log'), 'dpkg.log');
  const failed = failedPackages(blocks);
  assert.deepEqual([...failed.keys()], ['patchloop-broken']);
  const f = failed.get('patchloop-broken');
  assert.equal(blocks.length, 2);
  assert.equal(f?.phase, 'configure');
  assert.equal(
    f?.detail,
    'installed patchloop-broken package post-installation script subprocess returned error exit status 1',
  );
  assert.deepEqual(
    blocks.flatMap((b) => b.apt_errors.map((e) => e.message)),
    ['Sub-process /usr/bin/dpkg returned an error code (1)'],
  );
});

test('the failed set: dpkg names the package whose postinst failed, apt adds its E: line', () => {
  const blocks = parseDpkgLog(fixture('broken-dpkg/unattended-upgrades-dpkg.log'), 'dpkg.log');
  // the canary went in in its own set before the failing one
  assert.ok(blocks.flatMap((b) => b.setup).some((s) => s.name === 'patchloop-canary' && s.version === '1.0+deb12u1'));
  assert.equal(blocks.at(-1)?.failures.length, 1);
});

test('a locally changed config file kept by --force-confold is reported with its package', () => {
  const blocks = parseDpkgLog(fixture('conffile-kept-local/unattended-upgrades-dpkg.log'), 'dpkg.log');
  assert.deepEqual(
    blocks.flatMap((b) => b.conffiles_kept.map((c) => [c.path, c.package])),
    [['/etc/patchloop-canary-conf.conf', 'patchloop-canary-conf']],
  );
});

test('dpkg errors of every shape dpkg prints', () => {
  // Written for this test in dpkg's wording (src/main/errors.c, archives.c, packages.c).
  const text = [
    'Log started: 2026-01-10  10:00:00',
    'dpkg: error processing archive /var/cache/apt/archives/libfoo1_1.1-1_amd64.deb (--unpack):',
    " trying to overwrite '/usr/lib/x86_64-linux-gnu/libfoo.so.1', which is also in package libbar1:amd64 2.0-1",
    'dpkg: dependency problems prevent configuration of foo-tools:',
    ' foo-tools depends on libfoo1 (>= 1.1); however:',
    '  Version of libfoo1:amd64 on system is 1.0-1.',
    'dpkg: error processing package foo-tools (--configure):',
    ' dependency problems - leaving unconfigured',
    'Errors were encountered while processing:',
    ' /var/cache/apt/archives/libfoo1_1.1-1_amd64.deb',
    ' foo-tools',
    'E: Sub-process /usr/bin/dpkg returned an error code (1)',
    'Log ended: 2026-01-10  10:00:03',
    '',
  ].join('\n');
  const [b] = parseDpkgLog(text, 'dpkg.log');
  assert.deepEqual(
    b.failures.map((f) => [f.package, f.phase]),
    [
      ['libfoo1', 'unpack'],
      ['foo-tools', 'dependencies'],
      ['foo-tools', 'configure'],
    ],
  );
  assert.match(b.failures[0].detail, /which is also in package libbar1/);
  assert.equal(
    b.failures[1].detail,
    'foo-tools depends on libfoo1 (>= 1.1); however:\nVersion of libfoo1:amd64 on system is 1.0-1.',
  );
  assert.deepEqual([...failedPackages([b]).keys()], ['libfoo1', 'foo-tools']);
});

test('text that is not a dpkg log is rejected with its line', () => {
  assert.throws(
    () => parseDpkgLog('hello world\n', 'x.log'),
    (e: unknown) => e instanceof DpkgLogError && e.message.startsWith('x.log:1: not an unattended-upgrades dpkg log'),
  );
  assert.throws(
    () => parseDpkgLog('Log ended: 2026-01-10  10:00:03\n', 'x.log'),
    /x\.log:1: "Log ended" without "Log started"/,
  );
  assert.deepEqual(parseDpkgLog('', 'x.log'), []);
});
