import { test } from 'node:test';
import assert from 'node:assert/strict';
import { progressLog } from './refresh-scheduler.ts';

test('a long re-match says how far it has come every five seconds; a short one and the last batch say nothing', () => {
  const lines: { obj: { done: number; total: number; seconds: number }; msg: string }[] = [];
  const log = { info: (obj: never, msg: string) => void lines.push({ obj, msg }) };
  let now = 0;
  const tell = progressLog(log as never, () => now);
  now = 1_000;
  tell(50, 12_000);
  assert.equal(lines.length, 0);
  now = 5_000;
  tell(300, 12_000);
  now = 7_000;
  tell(400, 12_000);
  now = 10_500;
  tell(1_250, 12_000);
  now = 20_000;
  tell(12_000, 12_000);
  assert.deepEqual(
    lines.map((l) => [l.msg, l.obj.done, l.obj.seconds]),
    [
      ['re-matching hosts: 300 of 12,000 hosts', 300, 5],
      ['re-matching hosts: 1,250 of 12,000 hosts', 1_250, 11],
    ],
  );
});
