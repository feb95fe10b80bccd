import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fixture } from '../../../test/support/patch-logs.ts';
import { parseApkOutput, parseApkVersionList } from './output.ts';

// The apk texts are written for these tests in apk-tools 2's formats (see test/fixtures/patch/README.md).

test('apk upgrade output: upgrades, installs, OK', () => {
  const r = parseApkOutput(fixture('apk/upgrade.txt'));
  assert.equal(r.ok, true);
  assert.deepEqual(r.errors, []);
  assert.deepEqual(
    r.changes.map((c) => [c.action, c.name, c.from, c.to]),
    [
      ['upgrade', 'musl', '1.2.4-r1', '1.2.4-r2'],
      ['upgrade', 'busybox', '1.36.1-r2', '1.36.1-r5'],
      ['install', 'libcrypto3', null, '3.1.4-r5'],
      ['upgrade', 'libssl3', '3.1.4-r1', '3.1.4-r5'],
    ],
  );
});

test('apk errors name the package; a locked database is a lock error', () => {
  const r = parseApkOutput(fixture('apk/upgrade-error.txt'));
  assert.equal(r.ok, false);
  assert.deepEqual(
    r.errors.map((e) => [e.kind, e.package]),
    [['apk', 'libfoo']],
  );
  assert.deepEqual(
    r.changes.map((c) => [c.name, c.ok]),
    [
      ['zlib', true],
      ['libfoo', false],
    ],
  );
  const locked = parseApkOutput(fixture('apk/locked.txt'));
  assert.equal(locked.locked, true);
  assert.equal(locked.errors[0].kind, 'lock');
});

test('a word that is no apk action is skipped, even one every JavaScript object has (found by the fuzz suite)', () => {
  const r = parseApkOutput(
    '(1/3) __proto__ zlib (1.3-r0 -> 1.3.1-r0)\n(2/3) constructor musl (1.2.4-r1 -> 1.2.4-r2)\n(3/3) Upgrading libfoo (1.0-r0 -> 1.1-r0)\nOK: 10 MiB in 18 packages\n',
  );
  assert.deepEqual(
    r.changes.map((c) => [c.action, c.name]),
    [['upgrade', 'libfoo']],
  );
});

test('apk version -l "<": upgradable packages', () => {
  assert.deepEqual(parseApkVersionList(fixture('apk/version-list.txt')), [
    { name: 'busybox', installed: '1.36.1-r2', available: '1.36.1-r5' },
    { name: 'musl', installed: '1.2.4-r1', available: '1.2.4-r2' },
    { name: 'libssl3', installed: '3.1.4-r1', available: '3.1.4-r5' },
  ]);
});
