import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { compareDebVersions, debVersionWarnings, parseDebVersion, validateDebVersion } from './deb.ts';
import { InvalidVersionError } from './scheme.ts';
import {
  debEpoch,
  debInvalid,
  debRevision,
  debUpstream,
  debVersion,
} from '../../../test/support/version-arbitraries.ts';

const cmp = compareDebVersions;

test('deb: ~ sorts before everything, even the end of the string', () => {
  assert.equal(cmp('1.0~rc1', '1.0'), -1);
  assert.equal(cmp('1.0~~', '1.0~'), -1);
  assert.equal(cmp('1.0~', '1.0~a'), -1);
  assert.equal(cmp('1.0-1~bpo1', '1.0-1'), -1);
  assert.equal(cmp('1.0', '1.0-0~'), 1);
});

test('deb: letters sort before non-letters, digits compare by value', () => {
  assert.equal(cmp('1.0a', '1.0+'), -1);
  assert.equal(cmp('1.0Z', '1.0a'), -1);
  assert.equal(cmp('1.0.', '1.0a'), 1);
  assert.equal(cmp('1.09', '1.9'), 0);
  assert.equal(cmp('1.10', '1.9'), 1);
  assert.equal(cmp('2a', '21'), -1);
});

test('deb: epoch, missing revision and leading zeros', () => {
  assert.equal(cmp('1.0', '0:1.0'), 0);
  assert.equal(cmp('1.0', '1.0-0'), 0);
  assert.equal(cmp('1:0.1', '9.9'), 1);
  assert.equal(cmp('007:1', '7:1'), 0);
  assert.equal(cmp('+1:1', '1:1'), 0, 'dpkg reads the epoch with strtol');
  assert.equal(cmp('2147483647:1', '2147483646:9'), 1);
});

test('deb: splits on the first colon and the last hyphen', () => {
  assert.deepEqual(parseDebVersion('1:2.0-a-b-3'), { epoch: 1, upstream: '2.0-a-b', revision: '3' });
  assert.deepEqual(parseDebVersion('7:1-a:b-5'), { epoch: 7, upstream: '1-a:b', revision: '5' });
  assert.deepEqual(parseDebVersion('1.0'), { epoch: 0, upstream: '1.0', revision: '' });
  assert.deepEqual(parseDebVersion(' 1.0-1 '), { epoch: 0, upstream: '1.0', revision: '1' });
});

test('deb: numbers of any length compare exactly', () => {
  const big = '123456789012345678901234567890';
  assert.equal(cmp(`1.${big}`, `1.${big.slice(0, -1)}1`), -1);
  assert.equal(cmp(`1.${big}1`, `1.${big}`), 1);
  assert.equal(cmp(`1.000${big}`, `1.${big}`), 0);
  assert.equal(cmp('9007199254740993', '9007199254740992'), 1);
});

test("deb: refuses what dpkg refuses, with dpkg's reason", () => {
  const cases: [string, RegExp][] = [
    ['', /version string is empty/],
    ['   ', /version string is empty/],
    ['1.0 1', /embedded spaces/],
    ['1.0-', /revision number is empty/],
    ['-', /revision number is empty/],
    [':1.0', /epoch in version is empty/],
    ['a:1.0', /epoch in version is empty/],
    ['1a:1.0', /epoch in version is not number/],
    ['-1:1.0', /epoch in version is negative/],
    ['2147483648:1.0', /epoch in version is too big/],
    ['1:', /nothing after colon/],
    ['1:-1', /upstream version is empty/],
    ['1.0\u00e9', /not printable ASCII/],
  ];
  for (const [v, why] of cases) {
    assert.match(validateDebVersion(v) ?? '', why, JSON.stringify(v));
    assert.throws(
      () => cmp(v, '1.0'),
      (err: unknown) => err instanceof InvalidVersionError && why.test(err.message),
    );
    assert.throws(() => cmp('1.0', v), InvalidVersionError);
  }
});

test('deb: orders what dpkg only warns about, and reports the warnings', () => {
  assert.equal(validateDebVersion('a'), null);
  assert.equal(cmp('a', '.'), -1);
  assert.equal(cmp('2.2.4-47978_Debian_lenny', '2.2.4-47978_Debian_lenny'), 0);
  assert.deepEqual(debVersionWarnings('III-alpha9.8'), ['version number does not start with digit']);
  assert.deepEqual(debVersionWarnings('1.0_x-1_y'), [
    'invalid character in version number: "_"',
    'invalid character in revision number: "_"',
  ]);
  assert.deepEqual(debVersionWarnings('1:2.0+dfsg-3~bpo1'), []);
});

test('deb property: reflexive and antisymmetric', () => {
  fc.assert(
    fc.property(debVersion, debVersion, (a, b) => {
      assert.equal(cmp(a, a), 0);
      assert.equal(cmp(a, b), -cmp(b, a) || 0);
    }),
    { numRuns: 2000 },
  );
});

test('deb property: transitive (a sorted list is ordered pairwise)', () => {
  fc.assert(
    fc.property(fc.array(debVersion, { minLength: 3, maxLength: 12 }), (vs) => {
      const sorted = [...vs].sort(cmp);
      for (let i = 0; i < sorted.length; i++) {
        for (let j = i + 1; j < sorted.length; j++)
          assert.ok(cmp(sorted[i], sorted[j]) <= 0, `${sorted[i]} vs ${sorted[j]}`);
      }
    }),
    { numRuns: 500 },
  );
});

test('deb property: a higher epoch always wins', () => {
  const rest = fc.tuple(debUpstream({ hyphens: true, colons: true }), debRevision).map(([u, r]) => `${u}-${r}`);
  fc.assert(
    fc.property(debEpoch, debEpoch, rest, rest, (e1, e2, x, y) => {
      fc.pre(Number(e1) !== Number(e2));
      const expected = Number(e1) > Number(e2) ? 1 : -1;
      assert.equal(cmp(`${e1}:${x}`, `${e2}:${y}`), expected);
    }),
    { numRuns: 1000 },
  );
});

test('deb property: invalid strings are rejected, never ordered', () => {
  fc.assert(
    fc.property(debInvalid, debVersion, (bad, good) => {
      assert.notEqual(validateDebVersion(bad), null, JSON.stringify(bad));
      assert.throws(() => cmp(bad, good), InvalidVersionError);
      assert.throws(() => cmp(good, bad), InvalidVersionError);
    }),
    { numRuns: 1000 },
  );
});
