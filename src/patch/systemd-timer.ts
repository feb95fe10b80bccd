// systemd timer drop-ins that move a distribution's patch timer (apt-daily-upgrade.timer,
// dnf-automatic.timer) into the policy's maintenance windows, when the policy leaves the
// running to that timer.
import { WEEKDAYS, type MaintenanceWindow, type PatchPolicy } from '../core/policy/schema.ts';

const DAY_NAMES: Record<(typeof WEEKDAYS)[number], string> = {
  sun: 'Sun',
  mon: 'Mon',
  tue: 'Tue',
  wed: 'Wed',
  thu: 'Thu',
  fri: 'Fri',
  sat: 'Sat',
};

function windowMinutes(w: MaintenanceWindow): number {
  const s = Number(w.start.slice(0, 2)) * 60 + Number(w.start.slice(3));
  const e = Number(w.end.slice(0, 2)) * 60 + Number(w.end.slice(3));
  return e > s ? e - s : e + 24 * 60 - s;
}

/** `OnCalendar=` value for a window's start, in the window's own zone (systemd >= 235). */
export function calendarSpec(w: MaintenanceWindow): string {
  const days =
    w.days.length === 7
      ? ''
      : `${WEEKDAYS.filter((d) => w.days.includes(d))
          .map((d) => DAY_NAMES[d])
          .join(',')} `;
  return `${days}*-*-* ${w.start}:00 ${w.time_zone}`;
}

/**
 * The drop-in: fire at each window's start, with a random delay within the first quarter of
 * the shortest window (at most an hour), and not `Persistent` (a host that was off during the
 * window must not catch up at boot, outside it). Unlike patchloop's own scheduling, systemd
 * skips a start time that a DST change removes that night. null when the policy has no
 * windows: the distribution's schedule stays.
 */
export function windowTimerDropIn(policy: PatchPolicy, what: string): string | null {
  const windows = policy.schedule.windows;
  if (windows.length === 0) return null;
  const jitter = Math.min(60, Math.floor(Math.min(...windows.map(windowMinutes)) / 4));
  return [
    `# Written by patchloop from policy ${policy.name} version ${policy.version}: ${what} runs inside the maintenance windows.`,
    '[Timer]',
    'OnCalendar=',
    ...windows.map((w) => `OnCalendar=${calendarSpec(w)}`),
    `RandomizedDelaySec=${jitter}m`,
    'Persistent=false',
    '',
  ].join('\n');
}
