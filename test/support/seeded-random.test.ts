import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pick, seededRandom } from './seeded-random.ts';

test('a seed names one sequence: mulberry32, the same on every platform', () => {
  // The first draws of seed 1, as every generator of the project's data has drawn them.
  const r = seededRandom(1);
  assert.deepEqual(
    Array.from({ length: 3 }, () => r()),
    [0.6270739405881613, 0.002735721180215478, 0.5274470399599522],
  );
  const again = seededRandom(1);
  const other = seededRandom(2);
  const a = Array.from({ length: 100 }, () => again());
  assert.notDeepEqual(
    a,
    Array.from({ length: 100 }, () => other()),
  );
  assert.ok(a.every((x) => x >= 0 && x < 1));
});

test('pick draws every item, and only items', () => {
  const r = seededRandom(7);
  const seen = new Set(Array.from({ length: 200 }, () => pick(r, ['a', 'b', 'c'])));
  assert.deepEqual([...seen].sort(), ['a', 'b', 'c']);
});
