// Maintenance windows in their own time zone: wall-clock fields of an instant, the instant of
// a wall-clock time (DST-correct, through Intl), the concrete occurrences of a recurring
// window, and how an instant or an occurrence is told to a person.
import { WEEKDAYS, type MaintenanceWindow } from './schema.ts';

export const MINUTE = 60_000;
export const HOUR = 60 * MINUTE;
export const DAY = 24 * HOUR;

const formatters = new Map<string, Intl.DateTimeFormat>();
function formatter(tz: string): Intl.DateTimeFormat {
  let f = formatters.get(tz);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: tz,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(tz, f);
  }
  return f;
}

/** Wall-clock fields of an instant in a zone (month 1–12, weekday 0 = Sunday). */
export interface ZonedTime {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
  weekday: number;
}

export function zonedTime(instant: number, tz: string): ZonedTime {
  const parts: Record<string, number> = {};
  for (const p of formatter(tz).formatToParts(new Date(instant))) {
    if (p.type !== 'literal') parts[p.type] = Number(p.value);
  }
  const { year, month, day, hour, minute, second } = parts;
  return { year, month, day, hour, minute, second, weekday: new Date(Date.UTC(year, month - 1, day)).getUTCDay() };
}

/** The zone's UTC offset at an instant, in milliseconds (east positive). */
function offsetAt(instant: number, tz: string): number {
  const t = zonedTime(instant, tz);
  const wall = Date.UTC(t.year, t.month - 1, t.day, t.hour, t.minute, t.second);
  return wall - Math.floor(instant / 1000) * 1000;
}

/**
 * The instant at which a zone's clocks show the given wall time. A time skipped by a DST
 * change is read with the offset before the change (02:30 on a spring-forward night becomes
 * 03:30); a time that occurs twice resolves to the first occurrence.
 */
export function zonedToInstant(
  year: number,
  month: number,
  day: number,
  hour: number,
  minute: number,
  tz: string,
): number {
  const wall = Date.UTC(year, month - 1, day, hour, minute);
  const before = offsetAt(wall - DAY, tz);
  const after = offsetAt(wall + DAY, tz);
  const candidates = [...new Set([wall - before, wall - after])].sort((a, b) => a - b);
  const valid = candidates.filter((c) => c + offsetAt(c, tz) === wall);
  return valid.length > 0 ? valid[0] : wall - before;
}

function minutesOf(hhmm: string): number {
  return Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));
}

/** One concrete occurrence of a window, as instants (ms since the epoch). */
export interface WindowInterval {
  start: number;
  end: number;
  window: MaintenanceWindow;
}

/** The occurrence of `w` that starts on the local date (y, m, d), if w runs that weekday. */
function occurrenceOn(w: MaintenanceWindow, y: number, m: number, d: number): WindowInterval | null {
  const date = new Date(Date.UTC(y, m - 1, d));
  if (!w.days.includes(WEEKDAYS[date.getUTCDay()])) return null;
  const s = minutesOf(w.start);
  const e = minutesOf(w.end);
  const start = zonedToInstant(
    date.getUTCFullYear(),
    date.getUTCMonth() + 1,
    date.getUTCDate(),
    Math.floor(s / 60),
    s % 60,
    w.time_zone,
  );
  const endDate = new Date(Date.UTC(y, m - 1, d + (e <= s || e === 24 * 60 ? 1 : 0)));
  const endMin = e === 24 * 60 ? 0 : e;
  const end = zonedToInstant(
    endDate.getUTCFullYear(),
    endDate.getUTCMonth() + 1,
    endDate.getUTCDate(),
    Math.floor(endMin / 60),
    endMin % 60,
    w.time_zone,
  );
  return end > start ? { start, end, window: w } : null;
}

/** Occurrences of a window starting on local days from (today + fromDay) to (today + toDay). */
function occurrences(w: MaintenanceWindow, now: number, fromDay: number, toDay: number): WindowInterval[] {
  const t = zonedTime(now, w.time_zone);
  const out: WindowInterval[] = [];
  for (let k = fromDay; k <= toDay; k++) {
    const occ = occurrenceOn(w, t.year, t.month, t.day + k);
    if (occ) out.push(occ);
  }
  return out;
}

/** The window occurrence containing `now`, or null (no windows at all: also null). */
export function activeWindow(windows: readonly MaintenanceWindow[], now: number): WindowInterval | null {
  let best: WindowInterval | null = null;
  for (const w of windows) {
    for (const occ of occurrences(w, now, -1, 0)) {
      if (occ.start <= now && now < occ.end && (!best || occ.end > best.end)) best = occ;
    }
  }
  return best;
}

/** The current window occurrence, or else the next one to open (searched 8 days ahead). */
export function nextWindow(windows: readonly MaintenanceWindow[], now: number): WindowInterval | null {
  const active = activeWindow(windows, now);
  if (active) return active;
  let best: WindowInterval | null = null;
  for (const w of windows) {
    for (const occ of occurrences(w, now, 0, 8)) {
      if (occ.start > now && (!best || occ.start < best.start)) best = occ;
    }
  }
  return best;
}

/** Whether patching may run at `now`: inside a window, or always when there are none. */
export function insideWindow(windows: readonly MaintenanceWindow[], now: number): boolean {
  return windows.length === 0 || activeWindow(windows, now) !== null;
}

function pad(n: number): string {
  return String(n).padStart(2, '0');
}

/** `2026-03-29 01:00 Europe/Berlin (2026-03-29T00:00:00.000Z)` */
export function describeInstant(instant: number, tz: string): string {
  const t = zonedTime(instant, tz);
  return `${t.year}-${pad(t.month)}-${pad(t.day)} ${pad(t.hour)}:${pad(t.minute)} ${tz} (${new Date(instant).toISOString()})`;
}

/** An occurrence in its window's zone: `2026-06-03 01:00 Europe/Berlin (…) until 04:00`. */
export function describeInterval(i: WindowInterval): string {
  const tz = i.window.time_zone;
  const e = zonedTime(i.end, tz);
  return `${describeInstant(i.start, tz)} until ${pad(e.hour)}:${pad(e.minute)}`;
}
