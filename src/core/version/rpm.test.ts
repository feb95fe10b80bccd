import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { compareEvr, compareRpmVersions, parseEvr, rpmvercmp, validateEvr } from './rpm.ts';
import { InvalidVersionError } from './scheme.ts';
import { rpmEpoch, rpmEvr, rpmField, rpmInvalid } from '../../../test/support/version-arbitraries.ts';

const cmp = compareRpmVersions;

test('rpmvercmp: ~ sorts before everything, ^ after the end but before anything else', () => {
  assert.equal(rpmvercmp('1.0~rc1', '1.0'), -1);
  assert.equal(rpmvercmp('1.0~rc1~git1', '1.0~rc1'), -1);
  assert.equal(rpmvercmp('1.0^', '1.0'), 1);
  assert.equal(rpmvercmp('1.0^git1', '1.0.1'), -1);
  assert.equal(rpmvercmp('1.0^git1', '1.01'), -1);
  assert.equal(rpmvercmp('1.0~rc1^git1', '1.0~rc1'), 1);
  assert.equal(rpmvercmp('1.0^git1~pre', '1.0^git1'), -1);
  assert.equal(rpmvercmp('1.0^20160102', '1.0^20160101^git1'), 1);
});

test('rpmvercmp: segments, separators and leading zeros', () => {
  assert.equal(rpmvercmp('2.0', '2_0'), 0, 'separators are interchangeable');
  assert.equal(rpmvercmp('1.', '1'), 0, 'a trailing separator adds nothing');
  assert.equal(rpmvercmp('10.0001', '10.1'), 0);
  assert.equal(rpmvercmp('6.0.rc1', '6.0'), 1, 'more segments win, even letters');
  assert.equal(rpmvercmp('1.0a', '1.0.1'), -1, 'digits beat letters');
  assert.equal(rpmvercmp('xyz.4', '8'), -1);
  assert.equal(rpmvercmp('1.0aa', '1.0a'), 1);
  assert.equal(rpmvercmp('1.1.\u03b1', '1.1.\u03b2'), 0, 'non-ASCII characters are separators');
  assert.equal(rpmvercmp('', '0'), -1);
});

test('rpmvercmp: numbers of any length compare exactly', () => {
  const big = '123456789012345678901234567890';
  assert.equal(rpmvercmp(`1.${big}`, `1.${big.slice(0, -1)}1`), -1);
  assert.equal(rpmvercmp(`000${big}`, big), 0);
  assert.equal(rpmvercmp('9007199254740993', '9007199254740992'), 1);
});

test('rpm EVR: split like rpm (epoch digits before a colon, release after the last hyphen)', () => {
  assert.deepEqual(parseEvr('1:2.0-3.el9'), { epoch: '1', version: '2.0', release: '3.el9' });
  assert.deepEqual(parseEvr('2.0'), { epoch: null, version: '2.0', release: null });
  assert.deepEqual(parseEvr(':2.0'), { epoch: '0', version: '2.0', release: null });
  assert.deepEqual(parseEvr('1.0-1-2'), { epoch: null, version: '1.0-1', release: '2' });
  assert.deepEqual(parseEvr('a:1'), { epoch: null, version: 'a:1', release: null });
  assert.deepEqual(parseEvr('1.0-'), { epoch: null, version: '1.0', release: '' });
});

test('rpm EVR: missing epoch is 0; a missing release sorts before any release', () => {
  assert.equal(cmp('0:1.0-1', '1.0-1'), 0);
  assert.equal(cmp('1:1.0', '2.0'), 1);
  assert.equal(cmp('01:1', '1:1'), 0);
  assert.equal(cmp('1.0', '1.0-1'), -1);
  assert.equal(cmp('1.0-1', '1.0'), 1);
  assert.equal(cmp('1.0', '1.0-'), -1);
  assert.equal(cmp('1.0-', '1.0-'), 0);
  assert.equal(cmp('1.0-1.el9', '1.0-1.el9_2'), -1);
  assert.equal(cmp('2:1.0-1', '10:0.1-1'), -1);
  assert.equal(compareEvr(parseEvr('1.0'), parseEvr('0:1.0')), 0);
  assert.equal(compareEvr(parseEvr('1.0'), parseEvr('1.0-1')), -1);
});

test('rpm: refuses the empty string and whitespace or control characters', () => {
  for (const v of ['', '1.0 1', '1.0\t', '\n', '1\u0000', '1\u007f']) {
    assert.notEqual(validateEvr(v), null, JSON.stringify(v));
    assert.throws(() => cmp(v, '1'), InvalidVersionError);
    assert.throws(() => cmp('1', v), InvalidVersionError);
  }
  assert.equal(validateEvr('1.1.\u03b1'), null);
});

test('rpmvercmp property: reflexive, antisymmetric and transitive on single fields', () => {
  fc.assert(
    fc.property(rpmField, rpmField, (a, b) => {
      assert.equal(rpmvercmp(a, a), 0);
      assert.equal(rpmvercmp(a, b), -rpmvercmp(b, a) || 0);
    }),
    { numRuns: 2000 },
  );
  fc.assert(
    fc.property(fc.array(rpmField, { minLength: 3, maxLength: 12 }), (vs) => {
      const sorted = [...vs].sort(rpmvercmp);
      for (let i = 0; i < sorted.length; i++) {
        for (let j = i + 1; j < sorted.length; j++)
          assert.ok(rpmvercmp(sorted[i], sorted[j]) <= 0, `${sorted[i]} vs ${sorted[j]}`);
      }
    }),
    { numRuns: 500 },
  );
});

test('rpm EVR property: reflexive, antisymmetric and transitive', () => {
  fc.assert(
    fc.property(rpmEvr, rpmEvr, (a, b) => {
      assert.equal(cmp(a, a), 0);
      assert.equal(cmp(a, b), -cmp(b, a) || 0);
      assert.equal(cmp(a, b), compareEvr(parseEvr(a), parseEvr(b)), 'string and parsed comparisons agree');
    }),
    { numRuns: 2000 },
  );
  fc.assert(
    fc.property(fc.array(rpmEvr, { minLength: 3, maxLength: 12 }), (vs) => {
      const sorted = [...vs].sort(cmp);
      for (let i = 0; i < sorted.length; i++) {
        for (let j = i + 1; j < sorted.length; j++)
          assert.ok(cmp(sorted[i], sorted[j]) <= 0, `${sorted[i]} vs ${sorted[j]}`);
      }
    }),
    { numRuns: 500 },
  );
});

test('rpm EVR property: a higher epoch always wins', () => {
  const rest = fc
    .tuple(rpmField, fc.option(rpmField, { nil: undefined }))
    .map(([v, r]) => (r === undefined ? v : `${v}-${r}`));
  fc.assert(
    fc.property(rpmEpoch, rpmEpoch, rest, rest, (e1, e2, x, y) => {
      fc.pre(BigInt(e1) !== BigInt(e2));
      assert.equal(cmp(`${e1}:${x}`, `${e2}:${y}`), BigInt(e1) > BigInt(e2) ? 1 : -1);
    }),
    { numRuns: 1000 },
  );
});

test('rpm property: invalid strings are rejected, never ordered', () => {
  fc.assert(
    fc.property(rpmInvalid, rpmEvr, (bad, good) => {
      assert.notEqual(validateEvr(bad), null);
      assert.throws(() => cmp(bad, good), InvalidVersionError);
      assert.throws(() => cmp(good, bad), InvalidVersionError);
    }),
    { numRuns: 1000 },
  );
});
