import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { apkVersionCompareUnchecked, compareApkVersions, parseApkVersion, validateApkVersion } from './apk.ts';
import { InvalidVersionError } from './scheme.ts';
import { apkAnyString, apkVersion } from '../../../test/support/version-arbitraries.ts';

const cmp = compareApkVersions;

test('apk: suffix chains: pre-release below the release, post-release above', () => {
  const ascending = [
    '1.0_alpha',
    '1.0_alpha1',
    '1.0_alpha2_beta',
    '1.0_beta',
    '1.0_pre',
    '1.0_rc',
    '1.0_rc1',
    '1.0',
    '1.0-r1',
    '1.0_cvs',
    '1.0_svn',
    '1.0_git',
    '1.0_hg',
    '1.0_p',
    '1.0_p1_rc1',
    '1.0_p1',
    '1.0_p1_p1',
    '1.0a',
    '1.0.1',
  ];
  for (let i = 0; i + 1 < ascending.length; i++) {
    assert.equal(cmp(ascending[i], ascending[i + 1]), -1, `${ascending[i]} < ${ascending[i + 1]}`);
    assert.equal(cmp(ascending[i + 1], ascending[i]), 1);
  }
});

test('apk: revisions, letters, hashes', () => {
  assert.equal(cmp('1.0-r0', '1.0'), 1, 'an explicit -r0 sorts after none');
  assert.equal(cmp('1.0-r9', '1.0-r10'), -1);
  assert.equal(cmp('1.0a', '1.0b'), -1);
  assert.equal(cmp('1.0~1234', '1.0~2345'), -1);
  assert.equal(cmp('1.0~1234-r1', '1.0~1234-r0'), 1);
  assert.equal(cmp('1.0~abc', '1.0'), 1);
});

test('apk: a number after the first starting with 0 compares as a string', () => {
  assert.equal(cmp('1.01', '1.1'), -1);
  assert.equal(cmp('1.0', '1.00'), -1);
  assert.equal(cmp('1.09', '1.1'), -1);
  assert.equal(cmp('01.1', '1.1'), 0, 'the first number is always numeric');
  assert.equal(cmp('1.10', '1.9'), 1);
});

test('apk: numbers of any length compare exactly', () => {
  const big = '123456789012345678901234567890';
  assert.equal(cmp(`1.${big}`, `1.${big.slice(0, -1)}1`), -1);
  assert.equal(cmp(`${big}`, `${big}0`), -1);
  assert.equal(cmp(`1-r18446744073709551616`, '1-r18446744073709551615'), 1, 'past 2^64');
});

test('apk: apk-tools 2.x form with a number after the letter', () => {
  assert.equal(validateApkVersion('6.6.2p1-r0'), null);
  assert.equal(cmp('6.6.2p1', '6.6.2p2'), -1);
  assert.equal(cmp('6.6.2p1', '6.6.2_p1'), 1);
  assert.equal(cmp('6.6.2p1-r0', '6.6.3-r0'), -1);
});

test('apk: refuses what apk-tools refuses, with a reason', () => {
  const cases: [string, RegExp][] = [
    ['', /empty/],
    ['a', /start with a digit/],
    ['.1', /start with a digit/],
    ['0.1bc', /letter may only follow a number/],
    ['0.1a.1', /"\." may only follow a number/],
    ['0.1_pre2~', /hex digits/],
    ['0.1_pre2~1234xbcd', /letter may only follow a number/],
    ['0.1_pre2~1234abcd_pre1', /suffix may not follow/],
    ['0.1_foobar', /unknown suffix "_foobar"/],
    ['0.1_', /unknown suffix "_"/],
    ['0.1-pre1.1', /hyphen must start a "-rN" revision/],
    ['0.1-r', /"-r" must be followed by digits/],
    ['0.1-r2_pre1', /suffix may not follow/],
    ['0.1-r2-r3', /only one "-r" revision/],
    ['0.1-r2.1', /"\." may only follow a number/],
    ['1..2', /"\." must be followed by digits/],
    ['1.0A', /unexpected character "A"/],
    ['1.0 ', /unexpected character " "/],
  ];
  for (const [v, why] of cases) {
    assert.match(validateApkVersion(v) ?? '', why, JSON.stringify(v));
    assert.throws(
      () => cmp(v, '1.0'),
      (err: unknown) => err instanceof InvalidVersionError && why.test(err.message),
    );
    assert.throws(() => cmp('1.0', v), InvalidVersionError);
  }
});

test('apk: an invalid tail is refused even when the difference comes first', () => {
  assert.equal(apkVersionCompareUnchecked('23_foo', '4_beta'), 1, 'apk_version_compare orders it');
  assert.throws(() => cmp('23_foo', '4_beta'), InvalidVersionError);
  assert.throws(() => cmp('4_beta', '23_foo'), InvalidVersionError);
});

test('apk: parse splits off the -rN revision', () => {
  assert.deepEqual(parseApkVersion('1.2.3_rc1-r4'), { version: '1.2.3_rc1', revision: 4 });
  assert.deepEqual(parseApkVersion('1.2.3'), { version: '1.2.3', revision: 0 });
  assert.throws(() => parseApkVersion('1.2-r'), InvalidVersionError);
});

test('apk property: reflexive, antisymmetric and transitive', () => {
  fc.assert(
    fc.property(apkVersion, apkVersion, (a, b) => {
      assert.equal(validateApkVersion(a), null, a);
      assert.equal(cmp(a, a), 0);
      assert.equal(cmp(a, b), -cmp(b, a) || 0);
    }),
    { numRuns: 2000 },
  );
  fc.assert(
    fc.property(fc.array(apkVersion, { minLength: 3, maxLength: 12 }), (vs) => {
      const sorted = [...vs].sort(cmp);
      for (let i = 0; i < sorted.length; i++) {
        for (let j = i + 1; j < sorted.length; j++)
          assert.ok(cmp(sorted[i], sorted[j]) <= 0, `${sorted[i]} vs ${sorted[j]}`);
      }
    }),
    { numRuns: 500 },
  );
});

test('apk property: a higher revision wins only when all else is equal', () => {
  fc.assert(
    fc.property(apkVersion, fc.nat(), fc.nat(), (v, r1, r2) => {
      const base = v.replace(/-r\d+$/, '');
      assert.equal(cmp(`${base}-r${r1}`, `${base}-r${r2}`), r1 < r2 ? -1 : r1 > r2 ? 1 : 0);
    }),
  );
});

test('apk property: any string is either valid and ordered, or refused', () => {
  fc.assert(
    fc.property(apkAnyString, apkVersion, (s, good) => {
      const why = validateApkVersion(s);
      if (why === null) {
        assert.equal(cmp(s, good), -cmp(good, s) || 0);
      } else {
        assert.throws(() => cmp(s, good), InvalidVersionError);
        assert.throws(() => cmp(good, s), InvalidVersionError);
      }
    }),
    { numRuns: 3000 },
  );
});
