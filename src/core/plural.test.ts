import { test } from 'node:test';
import assert from 'node:assert/strict';
import { counted } from './plural.ts';

test('a count takes the noun in its number', () => {
  assert.equal(counted(0, 'finding'), '0 findings');
  assert.equal(counted(1, 'package'), '1 package');
  assert.equal(counted(2, 'warning'), '2 warnings');
  assert.equal(counted(1, 'entry', 'entries'), '1 entry');
  assert.equal(counted(12345, 'entry', 'entries'), '12,345 entries');
});
