import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { backoffDelay } from './backoff.ts';

test('backoff: full jitter below a ceiling that doubles per retry and stops at the maximum', () => {
  const policy = { baseDelayMs: 500, maxDelayMs: 30_000 };
  assert.equal(
    backoffDelay(0, policy, () => 0.999999),
    499,
  );
  assert.equal(
    backoffDelay(3, policy, () => 0.999999),
    3_999,
  );
  assert.equal(
    backoffDelay(20, policy, () => 0.999999),
    29_999,
  );
  assert.equal(
    backoffDelay(4, policy, () => 0),
    0,
  );
  assert.equal(
    backoffDelay(1, policy, () => 0.5),
    500,
  );
  fc.assert(
    fc.property(
      fc.integer({ min: 0, max: 40 }),
      fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
      (retry, r) => {
        const delay = backoffDelay(retry, policy, () => r);
        assert.ok(
          Number.isInteger(delay) && delay >= 0 && delay < Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** retry),
        );
      },
    ),
  );
});
