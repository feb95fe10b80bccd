import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ringGate, ringOf, type HostHistory, type RunEvidence } from './rings.ts';
import { parsePolicy } from './schema.ts';
import { at, rings, run } from '../../../test/support/ring-policy.ts';

test('hosts fall into the first ring that selects them', () => {
  assert.equal(ringOf(rings, { hostname: 'web-canary-1' }), 0);
  assert.equal(ringOf(rings, { hostname: 'web-17', tags: ['canary'] }), 0);
  assert.equal(ringOf(rings, { hostname: 'web-03' }), 1);
  assert.equal(ringOf(rings, { hostname: 'db-1' }), 2);
  const noCatchAll = parsePolicy({ name: 'x', version: 1, group: 'g', rings: [{ name: 'only', hosts: ['a*'] }] });
  assert.equal(ringOf(noCatchAll, { hostname: 'b1' }), -1);
});

test('ring gate: soak after a healthy previous ring, blocked by failures, reboots and silence', () => {
  const canary = (runs: RunEvidence[]): HostHistory[][] => [
    [
      { host: 'web-canary-1', runs },
      { host: 'web-canary-2', runs: [run('2026-05-29T00:10:00Z', 'success'), run('2026-06-01T00:10:00Z', 'success')] },
    ],
    [],
  ];
  assert.equal(ringGate(rings, 0, [], at('2026-06-01T00:00:00Z')).state, 'open');

  const ok = canary([run('2026-06-01T00:20:00Z', 'success')]);
  const waiting = ringGate(rings, 1, ok, at('2026-06-01T12:00:00Z'));
  assert.equal(waiting.state, 'waiting');
  assert.equal(
    waiting.state === 'waiting' && waiting.until,
    '2026-06-02T00:20:00.000Z',
    'soak counts from the last host to become healthy',
  );
  assert.equal(ringGate(rings, 1, ok, at('2026-06-02T00:20:00Z')).state, 'open');

  // Nightly successes keep the streak: the soak counts from the first success in a row.
  const nightly = canary([
    run('2026-05-30T00:20:00Z', 'success'),
    run('2026-05-31T00:20:00Z', 'nothing_to_do'),
    run('2026-06-01T00:20:00Z', 'success'),
  ]);
  assert.equal(ringGate(rings, 1, nightly, at('2026-06-01T01:00:00Z')).state, 'open');
  // A failure in between restarts it.
  const recovered = canary([
    run('2026-05-30T00:20:00Z', 'success'),
    run('2026-05-31T00:20:00Z', 'failed'),
    run('2026-06-01T00:20:00Z', 'success'),
  ]);
  assert.equal(ringGate(rings, 1, recovered, at('2026-06-01T01:00:00Z')).state, 'waiting');

  const failed = ringGate(
    rings,
    1,
    canary([run('2026-05-30T00:20:00Z', 'success'), run('2026-06-01T00:20:00Z', 'failed')]),
    at('2026-06-03T00:00:00Z'),
  );
  assert.equal(failed.state, 'blocked');
  assert.match(failed.reasons.join('\n'), /web-canary-1's run at 2026-06-01T00:20:00Z failed/);
  // skipped and dry runs are no evidence either way
  assert.equal(
    ringGate(
      rings,
      1,
      canary([
        run('2026-05-30T00:20:00Z', 'success'),
        run('2026-06-01T00:20:00Z', 'skipped'),
        run('2026-06-01T00:30:00Z', 'dry_run'),
      ]),
      at('2026-06-01T01:00:00Z'),
    ).state,
    'open',
  );

  const notBack = ringGate(
    rings,
    1,
    canary([run('2026-05-30T00:20:00Z', 'success', { status: 'rebooted', back_at: null })]),
    at('2026-06-03T00:00:00Z'),
  );
  assert.equal(notBack.state, 'blocked');
  assert.match(notBack.reasons.join('\n'), /has not reported back/);
  const back = canary([
    run('2026-05-30T00:20:00Z', 'success', { status: 'rebooted', back_at: '2026-05-31T03:00:00Z' }),
  ]);
  const backGate = ringGate(rings, 1, back, at('2026-06-01T00:00:00Z'));
  assert.equal(backGate.state, 'waiting', 'soak counts from the return after the reboot');
  assert.equal(
    ringGate(
      rings,
      1,
      canary([run('2026-05-30T00:20:00Z', 'success', { status: 'pending_lease' })]),
      at('2026-06-03T00:00:00Z'),
    ).state,
    'blocked',
  );

  const silent = ringGate(rings, 1, canary([run('2026-05-01T00:20:00Z', 'success')]), at('2026-06-03T00:00:00Z'));
  assert.equal(silent.state, 'blocked');
  assert.match(silent.reasons.join('\n'), /longer ago than 168 h/);
  assert.equal(ringGate(rings, 1, canary([]), at('2026-06-03T00:00:00Z')).state, 'blocked');

  // Ring 2 looks at ring 1, or at ring 0 when ring 1 has no hosts.
  const viaCanary = ringGate(
    rings,
    2,
    [[{ host: 'web-canary-1', runs: [run('2026-06-01T00:20:00Z', 'success')] }], []],
    at('2026-06-02T00:00:00Z'),
  );
  assert.equal(viaCanary.state, 'waiting');
  assert.equal(viaCanary.state === 'waiting' && viaCanary.until, '2026-06-03T00:20:00.000Z');
});
