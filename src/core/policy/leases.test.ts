import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { decideLease, rebootAllowedNow, type Lease } from './leases.ts';
import { defaultPolicy } from './schema.ts';
import { at, rings } from '../../../test/support/ring-policy.ts';

test('reboot leases: at most K holders, renewal, and expiry of a dead holder', () => {
  const policy = { max_concurrent: 2, lease_ttl_minutes: 20 };
  let leases: Lease[] = [];
  const take = (host: string, now: number, id: string) => {
    const d = decideLease(leases, { host, now, newId: id }, policy);
    if (d.granted) leases = [...leases.filter((l) => l.lease_id !== d.lease.lease_id), d.lease];
    return d;
  };
  const t0 = at('2026-06-01T01:00:00Z');
  assert.ok(take('a', t0, 'L1').granted);
  assert.ok(take('b', t0, 'L2').granted);
  const denied = take('c', t0 + 60_000, 'L3');
  assert.equal(denied.granted, false);
  assert.ok(!denied.granted && denied.retry_at === '2026-06-01T01:20:00.000Z');
  const renewed = take('a', t0 + 10 * 60_000, 'L4');
  assert.ok(renewed.granted && renewed.renewed && renewed.lease.lease_id === 'L1');
  // b never comes back: its lease expires at t0+20 min, and c gets the slot.
  assert.equal(take('c', t0 + 19 * 60_000, 'L5').granted, false);
  const later = take('c', t0 + 20 * 60_000, 'L6');
  assert.ok(later.granted && !later.renewed);
});

test('simulated fleet with a controllable clock: never more than K reboots at once, crashed hosts time out', () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 4 }),
      fc.array(fc.record({ rebootMinutes: fc.integer({ min: 1, max: 15 }), crashes: fc.boolean() }), {
        minLength: 2,
        maxLength: 12,
      }),
      (k, hosts) => {
        const policy = { max_concurrent: k, lease_ttl_minutes: 20 };
        let leases: Lease[] = [];
        const state = hosts.map(() => ({ done: false, until: 0, lease: '' }));
        let now = at('2026-06-01T01:00:00Z');
        let ids = 0;
        for (let step = 0; step < 600 && state.some((s) => !s.done); step++, now += 60_000) {
          state.forEach((s, i) => {
            if (s.done) return;
            if (s.lease && now >= s.until) {
              // back from the reboot: release (a crashed host never does)
              if (!hosts[i].crashes) leases = leases.filter((l) => l.lease_id !== s.lease);
              s.done = true;
              return;
            }
            if (!s.lease) {
              const d = decideLease(leases, { host: `h${i}`, now, newId: `L${ids++}` }, policy);
              if (d.granted) {
                leases = [...leases, d.lease];
                s.lease = d.lease.lease_id;
                s.until = now + hosts[i].rebootMinutes * 60_000;
              }
            }
          });
          const rebooting = state.filter((s, i) => s.lease && !s.done && !(hosts[i].crashes && now >= s.until)).length;
          assert.ok(rebooting <= k, `${rebooting} hosts rebooting at once with K=${k}`);
          assert.ok(leases.filter((l) => Date.parse(l.expires_at) > now).length <= k);
        }
        assert.ok(
          state.every((s) => s.done),
          'every host got its turn, crashed holders notwithstanding',
        );
      },
    ),
    { numRuns: 100 },
  );
});

test('reboots only inside the window when the policy says so', () => {
  assert.equal(rebootAllowedNow(rings, at('2026-06-02T00:00:00Z')).allowed, true, 'Tue 02:00 Berlin');
  const outside = rebootAllowedNow(rings, at('2026-06-02T10:00:00Z'));
  assert.equal(outside.allowed, false);
  assert.match(outside.reason, /next opens 2026-06-03 01:00 Europe\/Berlin/);
  assert.equal(rebootAllowedNow(defaultPolicy(), at('2026-06-02T10:00:00Z')).allowed, false);
});
