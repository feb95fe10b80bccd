// The monthly job's decision: last month's report, once; a failure waits a day.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { monthDue, RETRY_AFTER_MS } from './job.ts';

const at = (iso: string) => Date.parse(iso);

test("early in a month the job makes last month's report, once", () => {
  const none = () => false;
  assert.equal(monthDue(at('2026-12-01T00:20:00Z'), none, undefined), '2026-11');
  assert.equal(monthDue(at('2027-01-15T10:00:00Z'), none, undefined), '2026-12');
  // January's job reports on December of the year before.
  assert.equal(monthDue(at('2027-01-01T00:00:00Z'), none, undefined), '2026-12');
  // A report made (its PDF is there) is not made again.
  assert.equal(
    monthDue(at('2026-12-03T00:00:00Z'), (m) => m === '2026-11', undefined),
    null,
  );
});

test('after a failed attempt the job waits a day', () => {
  const tried = at('2026-12-01T01:00:00Z');
  assert.equal(
    monthDue(tried + 60 * 60_000, () => false, tried),
    null,
  );
  assert.equal(
    monthDue(tried + RETRY_AFTER_MS - 1, () => false, tried),
    null,
  );
  assert.equal(
    monthDue(tried + RETRY_AFTER_MS, () => false, tried),
    '2026-11',
  );
});
