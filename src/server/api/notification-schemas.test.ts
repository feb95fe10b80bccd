import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RuleFilterSchema } from './notification-schemas.ts';

test("a rule's filter lists are bounded: each event is compared with every name", () => {
  const names = (n: number) => Array.from({ length: n }, (_, i) => `host-${i}`);
  for (const key of ['hosts', 'groups', 'tags']) {
    assert.equal(RuleFilterSchema.safeParse({ [key]: names(1_000) }).success, true, key);
    const r = RuleFilterSchema.safeParse({ [key]: names(1_001) });
    assert.equal(r.success, false, key);
    assert.deepEqual(r.error!.issues[0].path, [key]);
  }
});
