import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { HostSet } from './vuln-index.ts';

test('a host set behaves as a set of integers, across its switch to a bitmap', () => {
  fc.assert(
    fc.property(
      fc.array(fc.tuple(fc.boolean(), fc.integer({ min: 0, max: 5000 })), { maxLength: 2000, size: 'max' }),
      (ops) => {
        const s = new HostSet();
        const model = new Set<number>();
        for (const [add, id] of ops) {
          if (add) {
            s.add(id);
            model.add(id);
          } else {
            s.delete(id);
            model.delete(id);
          }
        }
        assert.equal(s.size, model.size);
        assert.deepEqual(
          s.sorted(),
          [...model].sort((a, b) => a - b),
        );
        for (const id of [0, 31, 32, 4999, 5000]) assert.equal(s.has(id), model.has(id));
      },
    ),
    { numRuns: 200 },
  );
});
