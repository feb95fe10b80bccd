import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { backoffDelay, isRetryableStatus } from './retry.ts';

test('backoff: full jitter below a ceiling that doubles per attempt and stops at the maximum', () => {
  const policy = { maxRetries: 5, baseDelayMs: 500, maxDelayMs: 30_000 };
  assert.equal(backoffDelay(0, policy, () => 0.999999), 499);
  assert.equal(backoffDelay(3, policy, () => 0.999999), 3_999);
  assert.equal(backoffDelay(20, policy, () => 0.999999), 29_999);
  assert.equal(backoffDelay(4, policy, () => 0), 0);
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 40 }), fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), (attempt, r) => {
      const delay = backoffDelay(attempt, policy, () => r);
      assert.ok(delay >= 0 && delay < Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** attempt));
    }),
  );
});

test('retryable statuses: overload and unavailability, not the request\'s own faults', () => {
  assert.deepEqual([429, 500, 502, 503, 504].map(isRetryableStatus), [true, true, true, true, true]);
  assert.deepEqual([400, 401, 403, 404, 409, 413, 501].map(isRetryableStatus), [false, false, false, false, false, false, false]);
});
