import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { parsePolicy, type MaintenanceWindow } from './schema.ts';
import { at } from '../../../test/support/ring-policy.ts';
import { activeWindow, insideWindow, nextWindow, zonedTime, zonedToInstant } from './windows.ts';

const H = 3_600_000;
const win = (
  w: Partial<MaintenanceWindow> & Pick<MaintenanceWindow, 'start' | 'end' | 'time_zone'>,
): MaintenanceWindow =>
  parsePolicy({ name: 'p', version: 1, group: 'g', schedule: { windows: [w] } }).schedule.windows[0];

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
  const zones = [
    'Europe/Berlin',
    'America/New_York',
    'Australia/Lord_Howe',
    'Asia/Kolkata',
    'America/St_Johns',
    'UTC',
    'Pacific/Chatham',
  ];
  fc.assert(
    fc.property(
      fc.integer({ min: at('2020-01-01T00:00:00Z') / 60_000, max: at('2035-01-01T00:00:00Z') / 60_000 }),
      fc.constantFrom(...zones),
      (minute, tz) => {
        const t = minute * 60_000;
        const w = zonedTime(t, tz);
        const r = zonedToInstant(w.year, w.month, w.day, w.hour, w.minute, tz);
        const back = zonedTime(r, tz);
        assert.deepEqual(
          [back.year, back.month, back.day, back.hour, back.minute],
          [w.year, w.month, w.day, w.hour, w.minute],
        );
        assert.ok(r <= t, 'ambiguous wall times resolve to the first occurrence');
      },
    ),
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
  const hhmm = fc
    .tuple(fc.integer({ min: 0, max: 23 }), fc.constantFrom(0, 15, 30, 45))
    .map(([h, m]) => `${String(h).padStart(2, '0')}:${String(m).padStart(2, '0')}`);
  fc.assert(
    fc.property(
      hhmm,
      hhmm,
      fc.constantFrom(...zones),
      fc.integer({ min: 0, max: 3 * 365 * 24 * 4 }),
      (start, end, tz, quarter) => {
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
      },
    ),
    { numRuns: 500 },
  );
});
