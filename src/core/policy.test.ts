import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  PolicyError,
  activeWindow,
  decideLease,
  defaultPolicy,
  hostOutlook,
  insideWindow,
  nextWindow,
  parsePolicy,
  rebootAllowedNow,
  ringGate,
  ringOf,
  zonedTime,
  zonedToInstant,
  type HostHistory,
  type Lease,
  type MaintenanceWindow,
  type RunEvidence,
} from './policy.ts';

const H = 3_600_000;
const at = (iso: string): number => Date.parse(iso);
const win = (w: Partial<MaintenanceWindow> & Pick<MaintenanceWindow, 'start' | 'end' | 'time_zone'>): MaintenanceWindow =>
  parsePolicy({ name: 'p', version: 1, group: 'g', schedule: { windows: [w] } }).schedule.windows[0];

test('a minimal policy gets safe defaults', () => {
  const p = parsePolicy({ name: 'web', version: 3, group: 'web' });
  assert.equal(p.install.updates, 'security');
  assert.equal(p.install.config_files, 'keep_local');
  assert.deepEqual(p.schedule.windows, []);
  assert.equal(p.schedule.runner, 'patchloop');
  assert.deepEqual(p.rings.map((r) => r.name), ['all']);
  assert.equal(p.reboot.max_concurrent, 1);
  assert.equal(defaultPolicy().reboot.mode, 'never');
  // defaults are fresh objects, not one shared instance
  const q = parsePolicy({ name: 'web', version: 3, group: 'web' });
  q.install.blocklist.push('x');
  assert.deepEqual(p.install.blocklist, []);
});

test('invalid policies are rejected with the path of every problem', () => {
  const bad = {
    name: 'web',
    version: 0,
    group: 'web',
    install: { blocklist: ['libc6', 'bad name'] },
    schedule: { windows: [{ start: '02:00', end: '02:00', time_zone: 'Europe/Berln' }] },
    reboot: { mode: 'sometimes' },
    surprise: true,
  };
  try {
    parsePolicy(bad, 'policies/web.yaml');
    assert.fail('expected a PolicyError');
  } catch (err) {
    assert.ok(err instanceof PolicyError);
    const paths = err.issues.map((i) => i.path);
    for (const p of ['version', 'install.blocklist[1]', 'schedule.windows[0].time_zone', 'reboot.mode', 'schedule.windows[0].end']) {
      assert.ok(paths.includes(p), `missing issue for ${p}: ${JSON.stringify(err.issues)}`);
    }
    assert.ok(paths.includes('') || err.message.includes('surprise'), 'unknown keys are reported');
    assert.match(err.message, /^policies\/web\.yaml: invalid policy/);
    assert.match(err.message, /unknown time zone "Europe\/Berln"/);
  }
  // Rules across fields are checked once every field is valid on its own.
  assert.throws(
    () => parsePolicy({ name: 'web', version: 1, group: 'web', install: { blocklist: ['libc6'], allowlist: ['libc6'] }, rings: [{ name: 'canary', soak_hours: 4 }, { name: 'canary' }] }),
    (err: unknown) => {
      assert.ok(err instanceof PolicyError);
      assert.deepEqual(err.issues.map((i) => i.path).sort(), ['install.allowlist[0]', 'rings[0].soak_hours', 'rings[1].name']);
      return true;
    },
  );
});

test('wall time to instant across DST changes (Europe/Berlin, America/New_York, Lord Howe)', () => {
  // EU 2026: clocks go forward on 29 March at 01:00 UTC, back on 25 October at 01:00 UTC.
  assert.equal(zonedToInstant(2026, 3, 29, 1, 30, 'Europe/Berlin'), at('2026-03-29T00:30:00Z'));
  // 02:30 does not exist that night: read with the offset before the change, i.e. 03:30 CEST.
  assert.equal(zonedToInstant(2026, 3, 29, 2, 30, 'Europe/Berlin'), at('2026-03-29T01:30:00Z'));
  assert.equal(zonedToInstant(2026, 3, 29, 3, 30, 'Europe/Berlin'), at('2026-03-29T01:30:00Z'));
  // 02:30 happens twice on 25 October: the first (CEST) one is taken.
  assert.equal(zonedToInstant(2026, 10, 25, 2, 30, 'Europe/Berlin'), at('2026-10-25T00:30:00Z'));
  assert.equal(zonedToInstant(2026, 10, 25, 3, 30, 'Europe/Berlin'), at('2026-10-25T02:30:00Z'));
  // US 2026: 8 March and 1 November, at 02:00 local.
  assert.equal(zonedToInstant(2026, 3, 8, 2, 15, 'America/New_York'), at('2026-03-08T07:15:00Z'));
  assert.equal(zonedToInstant(2026, 11, 1, 1, 15, 'America/New_York'), at('2026-11-01T05:15:00Z'));
  // Lord Howe Island moves by 30 minutes (02:00 -> 02:30 on 4 October 2026, +10:30 -> +11).
  assert.equal(zonedToInstant(2026, 10, 4, 2, 15, 'Australia/Lord_Howe'), at('2026-10-03T15:45:00Z'));
  assert.equal(zonedToInstant(2026, 7, 1, 12, 0, 'Asia/Kolkata'), at('2026-07-01T06:30:00Z'));
});

test('zoned round trip: the instant found shows the same wall time and is the earliest such', () => {
  const zones = ['Europe/Berlin', 'America/New_York', 'Australia/Lord_Howe', 'Asia/Kolkata', 'America/St_Johns', 'UTC', 'Pacific/Chatham'];
  fc.assert(
    fc.property(fc.integer({ min: at('2020-01-01T00:00:00Z') / 60_000, max: at('2035-01-01T00:00:00Z') / 60_000 }), fc.constantFrom(...zones), (minute, tz) => {
      const t = minute * 60_000;
      const w = zonedTime(t, tz);
      const r = zonedToInstant(w.year, w.month, w.day, w.hour, w.minute, tz);
      const back = zonedTime(r, tz);
      assert.deepEqual([back.year, back.month, back.day, back.hour, back.minute], [w.year, w.month, w.day, w.hour, w.minute]);
      assert.ok(r <= t, 'ambiguous wall times resolve to the first occurrence');
    }),
    { numRuns: 400 },
  );
});

test('a window keeps its wall-clock edges through DST: 01:00-05:00 Berlin is 3 h in spring, 5 h in autumn', () => {
  const w = win({ start: '01:00', end: '05:00', time_zone: 'Europe/Berlin' });
  const spring = activeWindow([w], at('2026-03-29T00:30:00Z'));
  assert.ok(spring);
  assert.equal(spring.start, at('2026-03-29T00:00:00Z'));
  assert.equal(spring.end - spring.start, 3 * H);
  const autumn = activeWindow([w], at('2026-10-25T03:30:00Z'));
  assert.ok(autumn);
  assert.equal(autumn.end - autumn.start, 5 * H);
  assert.equal(activeWindow([w], at('2026-10-25T04:00:00Z')), null, '05:00 CET is 04:00 UTC: closed');
});

test('windows across midnight belong to the day they start; 24:00 ends at midnight', () => {
  const sat = win({ days: ['sat'], start: '22:00', end: '02:00', time_zone: 'America/New_York' });
  // Sunday 01:00 in New York (05:00 UTC, EST after 1 Nov): inside Saturday's window
  assert.ok(activeWindow([sat], at('2026-11-08T06:00:00Z')));
  // Saturday 21:59 local: not yet
  assert.equal(activeWindow([sat], at('2026-11-08T02:59:00Z')), null);
  // Monday 01:00 local: Sunday is not a window day
  assert.equal(activeWindow([sat], at('2026-11-09T06:00:00Z')), null);
  const next = nextWindow([sat], at('2026-11-11T12:00:00Z'));
  assert.ok(next);
  assert.equal(new Date(next.start).toISOString(), '2026-11-15T03:00:00.000Z');
  assert.equal(new Date(next.end).toISOString(), '2026-11-15T07:00:00.000Z');

  const day = win({ days: ['mon'], start: '00:00', end: '24:00', time_zone: 'Asia/Kolkata' });
  const occ = nextWindow([day], at('2026-07-04T00:00:00Z'));
  assert.ok(occ);
  assert.equal(new Date(occ.start).toISOString(), '2026-07-05T18:30:00.000Z');
  assert.equal(occ.end - occ.start, 24 * H);
  assert.ok(insideWindow([], at('2026-07-04T00:00:00Z')), 'no windows: any time');
});

test('activeWindow agrees with a minute-by-minute scan of local wall time', () => {
  const zones = ['Europe/Berlin', 'America/New_York', 'Australia/Lord_Howe'];
  const hhmm = fc.tuple(fc.integer({ min: 0, max: 23 }), fc.constantFrom(0, 15, 30, 45)).map(([h, m]) => `${String(h).padStart(2, '0')}:${String(m).padStart(2, '0')}`);
  fc.assert(
    fc.property(hhmm, hhmm, fc.constantFrom(...zones), fc.integer({ min: 0, max: 3 * 365 * 24 * 4 }), (start, end, tz, quarter) => {
      fc.pre(start !== end);
      const w = win({ start, end, time_zone: tz });
      const t = at('2026-01-01T00:00:00Z') + quarter * 15 * 60_000;
      const occ = activeWindow([w], t);
      const local = zonedTime(t, tz);
      const m = local.hour * 60 + local.minute;
      const s = Number(start.slice(0, 2)) * 60 + Number(start.slice(3));
      const e = Number(end.slice(0, 2)) * 60 + Number(end.slice(3));
      const expected = s < e ? m >= s && m < e : m >= s || m < e;
      // Near a DST change the wall clock jumps; only compare away from it.
      const shifted = zonedTime(t - 2 * H, tz);
      const stable = (local.hour * 60 + local.minute - (shifted.hour * 60 + shifted.minute) + 1440) % 1440 === 120;
      if (stable) assert.equal(occ !== null, expected, `${start}-${end} ${tz} at ${new Date(t).toISOString()}`);
      if (occ) assert.ok(occ.start <= t && t < occ.end);
    }),
    { numRuns: 500 },
  );
});

const rings = parsePolicy({
  name: 'web',
  version: 7,
  group: 'web',
  schedule: { windows: [{ days: ['mon', 'tue', 'wed', 'thu', 'fri'], start: '01:00', end: '04:00', time_zone: 'Europe/Berlin' }] },
  rings: [
    { name: 'canary', hosts: ['web-canary-*'], tags: ['canary'] },
    { name: 'early', hosts: ['web-0*'], soak_hours: 24 },
    { name: 'rest', soak_hours: 48 },
  ],
  reboot: { mode: 'when_required', max_concurrent: 2, lease_ttl_minutes: 20 },
});

const run = (finished_at: string, outcome: RunEvidence['outcome'], reboot?: RunEvidence['reboot']): RunEvidence => ({ finished_at, outcome, reboot });

test('hosts fall into the first ring that selects them', () => {
  assert.equal(ringOf(rings, { hostname: 'web-canary-1' }), 0);
  assert.equal(ringOf(rings, { hostname: 'web-17', tags: ['canary'] }), 0);
  assert.equal(ringOf(rings, { hostname: 'web-03' }), 1);
  assert.equal(ringOf(rings, { hostname: 'db-1' }), 2);
  const noCatchAll = parsePolicy({ name: 'x', version: 1, group: 'g', rings: [{ name: 'only', hosts: ['a*'] }] });
  assert.equal(ringOf(noCatchAll, { hostname: 'b1' }), -1);
});

test('ring gate: soak after a healthy previous ring, blocked by failures, reboots and silence', () => {
  const canary = (runs: RunEvidence[]): HostHistory[][] => [[{ host: 'web-canary-1', runs }, { host: 'web-canary-2', runs: [run('2026-05-29T00:10:00Z', 'success'), run('2026-06-01T00:10:00Z', 'success')] }], []];
  assert.equal(ringGate(rings, 0, [], at('2026-06-01T00:00:00Z')).state, 'open');

  const ok = canary([run('2026-06-01T00:20:00Z', 'success')]);
  const waiting = ringGate(rings, 1, ok, at('2026-06-01T12:00:00Z'));
  assert.equal(waiting.state, 'waiting');
  assert.equal(waiting.state === 'waiting' && waiting.until, '2026-06-02T00:20:00.000Z', 'soak counts from the last host to become healthy');
  assert.equal(ringGate(rings, 1, ok, at('2026-06-02T00:20:00Z')).state, 'open');

  // Nightly successes keep the streak: the soak counts from the first success in a row.
  const nightly = canary([run('2026-05-30T00:20:00Z', 'success'), run('2026-05-31T00:20:00Z', 'nothing_to_do'), run('2026-06-01T00:20:00Z', 'success')]);
  assert.equal(ringGate(rings, 1, nightly, at('2026-06-01T01:00:00Z')).state, 'open');
  // A failure in between restarts it.
  const recovered = canary([run('2026-05-30T00:20:00Z', 'success'), run('2026-05-31T00:20:00Z', 'failed'), run('2026-06-01T00:20:00Z', 'success')]);
  assert.equal(ringGate(rings, 1, recovered, at('2026-06-01T01:00:00Z')).state, 'waiting');

  const failed = ringGate(rings, 1, canary([run('2026-05-30T00:20:00Z', 'success'), run('2026-06-01T00:20:00Z', 'failed')]), at('2026-06-03T00:00:00Z'));
  assert.equal(failed.state, 'blocked');
  assert.match(failed.reasons.join('\n'), /web-canary-1's run at 2026-06-01T00:20:00Z failed/);
  // skipped and dry runs are no evidence either way
  assert.equal(ringGate(rings, 1, canary([run('2026-05-30T00:20:00Z', 'success'), run('2026-06-01T00:20:00Z', 'skipped'), run('2026-06-01T00:30:00Z', 'dry_run')]), at('2026-06-01T01:00:00Z')).state, 'open');

  const notBack = ringGate(rings, 1, canary([run('2026-05-30T00:20:00Z', 'success', { status: 'rebooted', back_at: null })]), at('2026-06-03T00:00:00Z'));
  assert.equal(notBack.state, 'blocked');
  assert.match(notBack.reasons.join('\n'), /has not reported back/);
  const back = canary([run('2026-05-30T00:20:00Z', 'success', { status: 'rebooted', back_at: '2026-05-31T03:00:00Z' })]);
  const backGate = ringGate(rings, 1, back, at('2026-06-01T00:00:00Z'));
  assert.equal(backGate.state, 'waiting', 'soak counts from the return after the reboot');
  assert.equal(ringGate(rings, 1, canary([run('2026-05-30T00:20:00Z', 'success', { status: 'pending_lease' })]), at('2026-06-03T00:00:00Z')).state, 'blocked');

  const silent = ringGate(rings, 1, canary([run('2026-05-01T00:20:00Z', 'success')]), at('2026-06-03T00:00:00Z'));
  assert.equal(silent.state, 'blocked');
  assert.match(silent.reasons.join('\n'), /longer ago than 168 h/);
  assert.equal(ringGate(rings, 1, canary([]), at('2026-06-03T00:00:00Z')).state, 'blocked');

  // Ring 2 looks at ring 1, or at ring 0 when ring 1 has no hosts.
  const viaCanary = ringGate(rings, 2, [[{ host: 'web-canary-1', runs: [run('2026-06-01T00:20:00Z', 'success')] }], []], at('2026-06-02T00:00:00Z'));
  assert.equal(viaCanary.state, 'waiting');
  assert.equal(viaCanary.state === 'waiting' && viaCanary.until, '2026-06-03T00:20:00.000Z');
});

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
      fc.array(fc.record({ rebootMinutes: fc.integer({ min: 1, max: 15 }), crashes: fc.boolean() }), { minLength: 2, maxLength: 12 }),
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
        assert.ok(state.every((s) => s.done), 'every host got its turn, crashed holders notwithstanding');
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

test('what will happen tonight, and why', () => {
  const histories: HostHistory[][] = [[{ host: 'web-canary-1', runs: [run('2026-06-01T23:30:00Z', 'success')] }], [], []];
  // Tuesday 2 June 2026, 15:00 Berlin
  const now = at('2026-06-02T13:00:00Z');
  const canary = hostOutlook(rings, { hostname: 'web-canary-1' }, histories, now);
  assert.equal(canary.will_patch, true);
  assert.equal(canary.ring?.name, 'canary');
  assert.equal(canary.patch_at, '2026-06-02T23:00:00.000Z');
  assert.match(canary.lines.join('\n'), /Next maintenance window: 2026-06-03 01:00 Europe\/Berlin/);
  assert.match(canary.reboot, /at most 2 host\(s\) of web at once/);

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

  const blocked = hostOutlook(rings, { hostname: 'web-01' }, [[{ host: 'web-canary-1', runs: [run('2026-06-01T23:30:00Z', 'failed')] }], [], []], now);
  assert.equal(blocked.will_patch, false);
  assert.match(blocked.lines.join('\n'), /Ring gate blocked: ring canary is not healthy/);

  // Friday afternoon: the next window is Monday night, more than 24 h away.
  const weekend = hostOutlook(rings, { hostname: 'web-canary-1' }, histories, at('2026-06-05T13:00:00Z'));
  assert.equal(weekend.will_patch, false);
  assert.match(weekend.lines.join('\n'), /No maintenance window opens in the next 24 hours; the next one is 2026-06-08 01:00/);
});
