import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hostOutlook } from './outlook.ts';
import type { HostHistory } from './rings.ts';
import { at, rings, run } from '../../../test/support/ring-policy.ts';

test('what will happen tonight, and why', () => {
  const histories: HostHistory[][] = [
    [{ host: 'web-canary-1', runs: [run('2026-06-01T23:30:00Z', 'success')] }],
    [],
    [],
  ];
  // Tuesday 2 June 2026, 15:00 Berlin
  const now = at('2026-06-02T13:00:00Z');
  const canary = hostOutlook(rings, { hostname: 'web-canary-1' }, histories, now);
  assert.equal(canary.will_patch, true);
  assert.equal(canary.ring?.name, 'canary');
  assert.equal(canary.patch_at, '2026-06-02T23:00:00.000Z');
  assert.match(canary.lines.join('\n'), /Next maintenance window: 2026-06-03 01:00 Europe\/Berlin/);
  assert.match(canary.reboot, /at most 2 hosts of web at once/);

  // The canary finished 23:30Z; the 24 h soak ends inside tonight's window, so ring early
  // starts then rather than at the window's opening.
  const early = hostOutlook(rings, { hostname: 'web-01' }, histories, now);
  assert.equal(early.will_patch, true);
  assert.equal(early.patch_at, '2026-06-02T23:30:00.000Z');

  // Ring rest soaks 48 h: not tonight.
  const rest = hostOutlook(rings, { hostname: 'db-1' }, histories, now);
  assert.equal(rest.will_patch, false);
  assert.equal(rest.gate.state, 'waiting');
  assert.match(rest.lines.join('\n'), /soaking 48 h until 2026-06-03T23:30:00.000Z/);
  assert.match(rest.lines.join('\n'), /Nothing will be installed in this window/);

  const blocked = hostOutlook(
    rings,
    { hostname: 'web-01' },
    [[{ host: 'web-canary-1', runs: [run('2026-06-01T23:30:00Z', 'failed')] }], [], []],
    now,
  );
  assert.equal(blocked.will_patch, false);
  assert.match(blocked.lines.join('\n'), /Ring gate blocked: ring canary is not healthy/);

  // Friday afternoon: the next window is Monday night, more than 24 h away.
  const weekend = hostOutlook(rings, { hostname: 'web-canary-1' }, histories, at('2026-06-05T13:00:00Z'));
  assert.equal(weekend.will_patch, false);
  assert.match(
    weekend.lines.join('\n'),
    /No maintenance window opens in the next 24 hours; the next one is 2026-06-08 01:00/,
  );
});
