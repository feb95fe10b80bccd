import { test } from 'node:test';
import assert from 'node:assert/strict';
import { duration, parseDuration } from './duration.ts';

test('durations: units from ms to days, a bare number is seconds, anything else is refused', () => {
  assert.deepEqual(
    ['250ms', '90s', '30m', '24h', '7d', '1.5h', ' 2 m '].map(parseDuration),
    [250, 90_000, 1_800_000, 86_400_000, 604_800_000, 5_400_000, 120_000],
  );
  assert.equal(parseDuration(45), 45_000);
  assert.throws(() => parseDuration('soon'), /invalid duration "soon" \(use e\.g\. 90s, 30m, 24h, 7d\)/);
  assert.throws(() => parseDuration('10w'), /invalid duration/);
  assert.equal(duration.parse('2m'), 120_000);
  assert.equal(duration.safeParse(-1).success, false);
  assert.match(duration.safeParse('1 fortnight').error?.issues[0].message ?? '', /invalid duration/);
});
