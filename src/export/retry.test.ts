import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isRetryableStatus } from './retry.ts';

test('retryable statuses: overload and unavailability, not the request\'s own faults', () => {
  assert.deepEqual([429, 500, 502, 503, 504].map(isRetryableStatus), [true, true, true, true, true]);
  assert.deepEqual([400, 401, 403, 404, 409, 413, 501].map(isRetryableStatus), [false, false, false, false, false, false, false]);
});
