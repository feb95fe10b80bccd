// The patch policy model: what a group of hosts installs, when, in which ring, and how it
// reboots. A zod schema for the central, versioned policy document, and pure evaluation:
// maintenance windows in their own time zone (DST-correct, through Intl), ring gates from the
// previous ring's run history, reboot-lease decisions and the per-host "what will happen
// tonight, and why". No I/O: the server and the agent both call these with their own clock.
import { z } from 'zod';
import { MAX, text } from './bounds.ts';

/** Most entries a policy list may hold: far beyond a real policy, small enough to evaluate on every request. */
const LIST = 1_000;

// ---------------------------------------------------------------------------------------------
// Schema

export const WEEKDAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] as const;
export type Weekday = (typeof WEEKDAYS)[number];

const timeOfDay = z.string().regex(/^(([01]\d|2[0-3]):[0-5]\d|24:00)$/, 'expected HH:MM (00:00 to 24:00)');

/** Whether Intl knows `tz` as a time zone (IANA name or UTC). */
export function isTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

/**
 * A recurring maintenance window, in wall-clock time of its own zone. `days` are the days the
 * window starts on; an `end` at or before `start` ends on the next day; `24:00` is midnight at
 * the end of the start day. During a DST change the window keeps its wall-clock edges, so it
 * can be an hour shorter or longer in real time.
 */
export const WindowSchema = z
  .strictObject({
    days: z.array(z.enum(WEEKDAYS)).min(1).max(7).default(() => [...WEEKDAYS]),
    start: timeOfDay.refine((s) => s !== '24:00', 'a window cannot start at 24:00'),
    end: timeOfDay,
    time_zone: text(64).refine(isTimeZone, { error: (iss) => `unknown time zone "${String(iss.input)}" (use an IANA name such as Europe/Berlin or UTC)` }),
  })
  .refine((w) => w.start !== w.end, { message: 'start and end are equal: use 00:00 to 24:00 for a whole day', path: ['end'] });
export type MaintenanceWindow = z.infer<typeof WindowSchema>;

/**
 * Package name patterns: a name as the package manager spells it, optionally with `*` for any
 * run of characters. Turned into anchored regexes for unattended-upgrades and into globs for
 * dnf and apk, so the character set is kept to what package names use.
 */
export const PACKAGE_PATTERN = /^[A-Za-z0-9*][A-Za-z0-9+._*-]*$/;
const packagePattern = text(256).regex(PACKAGE_PATTERN, 'expected a package name, optionally with * wildcards');

/** One extra apt origin, in unattended-upgrades' Origins-Pattern keywords (all must match). */
const originValue = text(256).min(1).regex(/^[^"\n\r\\]+$/, 'must not contain quotes, backslashes or line breaks');
export const AptOriginSchema = z
  .strictObject({
    origin: originValue.optional(),
    label: originValue.optional(),
    codename: originValue.optional(),
    archive: originValue.optional(),
    component: originValue.optional(),
    site: originValue.optional(),
  })
  .refine((o) => Object.values(o).some((v) => v !== undefined), 'an origin needs at least one keyword');
export type AptOrigin = z.infer<typeof AptOriginSchema>;

export const InstallSchema = z.strictObject({
  /** `security`: only updates published as security fixes; `all`: every stable update. */
  updates: z.enum(['security', 'all']).default('security'),
  /** Never changed by patchloop (exact names or `*` globs). */
  blocklist: z.array(packagePattern).max(LIST).default([]),
  /** When non-empty, only these may be upgraded (plus, unless strict, what they need). */
  allowlist: z.array(packagePattern).max(LIST).default([]),
  allowlist_strict: z.boolean().default(false),
  /**
   * A package whose configuration file was changed locally: `keep_local` upgrades it and keeps
   * the local file (dpkg --force-confdef --force-confold); `skip_package` leaves the package
   * out and reports it as held back for a config prompt.
   */
  config_files: z.enum(['keep_local', 'skip_package']).default('keep_local'),
  remove_unused_kernels: z.boolean().default(true),
  /** Further apt repositories whose updates count (third-party vendors, local mirrors). */
  extra_apt_origins: z.array(AptOriginSchema).max(100).default([]),
});
export type InstallPolicy = z.infer<typeof InstallSchema>;

export const ScheduleSchema = z.strictObject({
  /**
   * `patchloop`: patchloop runs the package manager itself inside a window. `timer`: the
   * distribution's own timer (apt-daily-upgrade.timer, dnf-automatic.timer) runs it, scheduled
   * from the windows; patchloop only configures it and collects the results.
   */
  runner: z.enum(['patchloop', 'timer']).default('patchloop'),
  /** No windows: patching (and rebooting) may happen at any time. */
  windows: z.array(WindowSchema).max(100).default([]),
  /** How long to wait for another package manager to release the dpkg/rpm lock. */
  lock_timeout_seconds: z.number().int().min(0).max(3600).default(300),
});
export type SchedulePolicy = z.infer<typeof ScheduleSchema>;

export const RingSchema = z.strictObject({
    name: z.string().regex(/^[a-z0-9][a-z0-9_-]{0,63}$/, 'expected a lower-case name (a-z, 0-9, _ and -, up to 64)'),
    /** Host name globs (`web-*`); a host belongs to the first ring that selects it. */
    hosts: z.array(text(253).min(1)).max(10_000).default([]),
    /** Host tags; a ring with neither hosts nor tags takes every host not selected before it. */
    tags: z.array(text(100).min(1)).max(LIST).default([]),
    /** Hours the previous ring must have been healthy before this ring patches. */
    soak_hours: z.number().min(0).max(24 * 90).default(0),
    /** Runs older than this are no evidence: a previous-ring host silent for longer blocks. */
    evidence_max_age_hours: z.number().min(1).max(24 * 365).default(24 * 7),
  });
export type Ring = z.infer<typeof RingSchema>;

export const RebootSchema = z.strictObject({
  /** `never`: report only. `when_required`: reboot when the host says it needs one. */
  mode: z.enum(['never', 'when_required']).default('when_required'),
  /** Reboot only inside a maintenance window (with no windows: at any time). */
  only_in_window: z.boolean().default(true),
  /** At most this many hosts of the group reboot at once (the server's lease semaphore). */
  max_concurrent: z.number().int().min(1).max(10000).default(1),
  /** A lease not renewed or released in time expires, so a host that died does not hold it. */
  lease_ttl_minutes: z.number().int().min(1).max(24 * 60).default(30),
});
export type RebootPolicy = z.infer<typeof RebootSchema>;

export const RestartSchema = z.strictObject({
  /** `restart`: restart the services needrestart reports as using replaced files. */
  services: z.enum(['report', 'restart']).default('report'),
  /** Unit name globs never restarted by patchloop (they wait for the reboot). */
  exclude: z.array(text(256).min(1)).max(LIST).default(['dbus.service', 'systemd-logind.service', 'getty@*.service', 'serial-getty@*.service', 'user@*.service']),
});
export type RestartPolicy = z.infer<typeof RestartSchema>;

const slug = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/, 'expected letters, digits, ".", "_" and "-"');

export const PolicySchema = z
  .strictObject({
    schema: z.literal('patchloop.policy/v1').default('patchloop.policy/v1'),
    name: slug,
    /** Increases with every change; every patch run records the version it ran under. */
    version: z.number().int().min(1).max(1_000_000_000),
    /** The group of hosts this policy governs. */
    group: slug,
    description: text(MAX.longText).default(''),
    install: InstallSchema.default(() => InstallSchema.parse({})),
    schedule: ScheduleSchema.default(() => ScheduleSchema.parse({})),
    rings: z.array(RingSchema).min(1).max(32).default(() => [RingSchema.parse({ name: 'all' })]),
    reboot: RebootSchema.default(() => RebootSchema.parse({})),
    restart: RestartSchema.default(() => RestartSchema.parse({})),
  })
  .superRefine((p, ctx) => {
    const seen = new Set<string>();
    p.rings.forEach((r, i) => {
      if (seen.has(r.name)) ctx.addIssue({ code: 'custom', path: ['rings', i, 'name'], message: `duplicate ring name "${r.name}"` });
      seen.add(r.name);
    });
    if (p.rings[0].soak_hours !== 0) {
      ctx.addIssue({ code: 'custom', path: ['rings', 0, 'soak_hours'], message: 'the first ring has no ring before it to soak after; use 0' });
    }
    const blocked = new Set(p.install.blocklist);
    for (const [i, name] of p.install.allowlist.entries()) {
      if (blocked.has(name)) ctx.addIssue({ code: 'custom', path: ['install', 'allowlist', i], message: `"${name}" is on both the allowlist and the blocklist` });
    }
  });
export type PatchPolicy = z.infer<typeof PolicySchema>;

/** A policy document that does not validate; `issues` name the field (`rings[1].soak_hours`). */
export class PolicyError extends Error {
  readonly issues: { path: string; message: string }[];
  constructor(source: string, issues: { path: string; message: string }[]) {
    super(`${source}: invalid policy:\n${issues.map((i) => `  ${i.path || '(document)'}: ${i.message}`).join('\n')}`);
    this.name = 'PolicyError';
    this.issues = issues;
  }
}

/** `rings[1].soak_hours` style path for an issue. */
export function formatIssuePath(path: readonly PropertyKey[]): string {
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : `${i === 0 ? '' : '.'}${String(p)}`)).join('');
}

/** Validates a policy document (already parsed from YAML/JSON). Throws PolicyError. */
export function parsePolicy(input: unknown, source = 'policy'): PatchPolicy {
  const res = PolicySchema.safeParse(input);
  if (!res.success) {
    throw new PolicyError(source, res.error.issues.map((i) => ({ path: formatIssuePath(i.path), message: i.message })));
  }
  return res.data;
}

/** The policy applied when none is given: security updates, any time, report reboots only. */
export function defaultPolicy(group = 'default'): PatchPolicy {
  return parsePolicy({ name: 'default', version: 1, group, reboot: { mode: 'never' } }, 'built-in default policy');
}

// ---------------------------------------------------------------------------------------------
// Time zones and windows

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

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
export function zonedToInstant(year: number, month: number, day: number, hour: number, minute: number, tz: string): number {
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
  const start = zonedToInstant(date.getUTCFullYear(), date.getUTCMonth() + 1, date.getUTCDate(), Math.floor(s / 60), s % 60, w.time_zone);
  const endDate = new Date(Date.UTC(y, m - 1, d + (e <= s || e === 24 * 60 ? 1 : 0)));
  const endMin = e === 24 * 60 ? 0 : e;
  const end = zonedToInstant(endDate.getUTCFullYear(), endDate.getUTCMonth() + 1, endDate.getUTCDate(), Math.floor(endMin / 60), endMin % 60, w.time_zone);
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

// ---------------------------------------------------------------------------------------------
// Rings

export interface HostRef {
  hostname: string;
  tags?: readonly string[];
}

function globToRegExp(glob: string): RegExp {
  return new RegExp(`^${glob.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*')}$`);
}

/** Whether a name matches a `*` glob (the only wildcard policies use). */
export function globMatch(glob: string, name: string): boolean {
  return globToRegExp(glob).test(name);
}

/** Index of the ring a host belongs to, or -1 when no ring selects it. */
export function ringOf(policy: PatchPolicy, host: HostRef): number {
  return policy.rings.findIndex((r) => {
    if (r.hosts.length === 0 && r.tags.length === 0) return true;
    return r.hosts.some((g) => globMatch(g, host.hostname)) || r.tags.some((t) => host.tags?.includes(t));
  });
}

/**
 * The part of a patch run that ring gating looks at (a PatchRun record satisfies it).
 * `reboot.status`: see PatchRun; `back_at` is when the host first reported after that reboot.
 */
export interface RunEvidence {
  finished_at: string;
  outcome: 'success' | 'nothing_to_do' | 'partial' | 'failed' | 'skipped' | 'dry_run';
  reboot?: { status: string; back_at?: string | null };
}

export interface HostHistory {
  host: string;
  runs: readonly RunEvidence[];
}

export type GateDecision =
  | { state: 'open'; reasons: string[] }
  /** Healthy so far; opens at `until` unless something fails before. */
  | { state: 'waiting'; until: string; reasons: string[] }
  | { state: 'blocked'; reasons: string[] };

/** Runs that tell something about the host's health: not skips, not dry runs. */
function realRuns(runs: readonly RunEvidence[]): RunEvidence[] {
  return runs
    .filter((r) => r.outcome !== 'skipped' && r.outcome !== 'dry_run')
    .toSorted((a, b) => Date.parse(a.finished_at) - Date.parse(b.finished_at));
}

const REBOOT_PENDING = new Set(['pending_window', 'pending_lease', 'scheduled', 'rebooting']);

/**
 * Since when a host has been healthy: the end of the oldest run in its trailing streak of
 * successful runs (or its return from the last reboot, if later). null with a reason when the
 * host is not healthy. Soaking counts from the start of the streak, so a ring that patches
 * every night still soaks; it measures run health, not the age of individual package versions.
 */
function healthySince(h: HostHistory, now: number, ring: Ring): { since: number } | { reason: string } {
  const runs = realRuns(h.runs).filter((r) => Date.parse(r.finished_at) <= now);
  const last = runs.at(-1);
  if (!last) return { reason: `${h.host} has no patch run yet` };
  if (now - Date.parse(last.finished_at) > ring.evidence_max_age_hours * HOUR) {
    return { reason: `${h.host} last patched ${last.finished_at}, longer ago than ${ring.evidence_max_age_hours} h` };
  }
  if (last.outcome === 'failed' || last.outcome === 'partial') {
    return { reason: `${h.host}'s run at ${last.finished_at} ${last.outcome === 'failed' ? 'failed' : 'partly failed'}` };
  }
  const status = last.reboot?.status;
  if (status && REBOOT_PENDING.has(status)) return { reason: `${h.host} still has to reboot (${status.replace('_', ' ')})` };
  if (status === 'rebooted' && !last.reboot?.back_at) return { reason: `${h.host} rebooted after its run at ${last.finished_at} and has not reported back` };
  if (status === 'failed') return { reason: `${h.host}'s reboot after its run at ${last.finished_at} failed` };
  let i = runs.length - 1;
  while (i > 0 && (runs[i - 1].outcome === 'success' || runs[i - 1].outcome === 'nothing_to_do')) i--;
  let since = Date.parse(runs[i].finished_at);
  const back = last.reboot?.back_at ? Date.parse(last.reboot.back_at) : NaN;
  if (back > since) since = back;
  return { since };
}

/**
 * May ring `ringIndex` patch at `now`? Ring 0 always may. A later ring may once every host of
 * the nearest non-empty ring before it has been healthy (last run succeeded, back from any
 * reboot, evidence recent) for that ring's `soak_hours`. `histories[i]` lists ring i's hosts.
 */
export function ringGate(policy: PatchPolicy, ringIndex: number, histories: readonly (readonly HostHistory[])[], now: number): GateDecision {
  if (ringIndex <= 0) return { state: 'open', reasons: [`ring ${policy.rings[0]?.name ?? 0} goes first`] };
  const ring = policy.rings[ringIndex];
  let prev = ringIndex - 1;
  while (prev >= 0 && (histories[prev]?.length ?? 0) === 0) prev--;
  if (prev < 0) return { state: 'open', reasons: ['no host is in an earlier ring'] };
  const prevName = policy.rings[prev].name;
  const problems: string[] = [];
  let latestSince = -Infinity;
  for (const h of histories[prev]) {
    const health = healthySince(h, now, ring);
    if ('reason' in health) problems.push(health.reason);
    else latestSince = Math.max(latestSince, health.since);
  }
  if (problems.length > 0) {
    return { state: 'blocked', reasons: [`ring ${prevName} is not healthy:`, ...problems] };
  }
  const opensAt = latestSince + ring.soak_hours * HOUR;
  const all = `all ${histories[prev].length} host(s) of ring ${prevName} patched successfully`;
  if (opensAt > now) {
    return { state: 'waiting', until: new Date(opensAt).toISOString(), reasons: [`${all}; soaking ${ring.soak_hours} h until ${new Date(opensAt).toISOString()}`] };
  }
  return { state: 'open', reasons: [`${all} and have been healthy for at least ${ring.soak_hours} h`] };
}

// ---------------------------------------------------------------------------------------------
// Reboot leases (the counting semaphore the server keeps per group)

export interface Lease {
  lease_id: string;
  host: string;
  acquired_at: string;
  expires_at: string;
}

export type LeaseDecision =
  | { granted: true; lease: Lease; renewed: boolean }
  | { granted: false; holders: Lease[]; retry_at: string; reason: string };

/** Leases still in force at `now` (an expired lease no longer counts: its host is presumed dead). */
export function liveLeases(leases: readonly Lease[], now: number): Lease[] {
  return leases.filter((l) => Date.parse(l.expires_at) > now);
}

/**
 * Decides a lease request: a host that already holds a live lease gets it renewed; otherwise
 * it is granted while fewer than `max_concurrent` live leases exist. `newId` names a new lease.
 */
export function decideLease(
  leases: readonly Lease[],
  request: { host: string; now: number; newId: string },
  reboot: Pick<RebootPolicy, 'max_concurrent' | 'lease_ttl_minutes'>,
): LeaseDecision {
  const live = liveLeases(leases, request.now);
  const expires_at = new Date(request.now + reboot.lease_ttl_minutes * MINUTE).toISOString();
  const own = live.find((l) => l.host === request.host);
  if (own) return { granted: true, lease: { ...own, expires_at }, renewed: true };
  if (live.length < reboot.max_concurrent) {
    return {
      granted: true,
      lease: { lease_id: request.newId, host: request.host, acquired_at: new Date(request.now).toISOString(), expires_at },
      renewed: false,
    };
  }
  const soonest = Math.min(...live.map((l) => Date.parse(l.expires_at)));
  return {
    granted: false,
    holders: live,
    retry_at: new Date(soonest).toISOString(),
    reason: `${live.length} of ${reboot.max_concurrent} reboot slot(s) taken (${live.map((l) => l.host).join(', ')})`,
  };
}

/**
 * Whether a host that needs a reboot may start one now (before asking for a lease).
 */
export function rebootAllowedNow(policy: PatchPolicy, now: number): { allowed: boolean; reason: string } {
  if (policy.reboot.mode === 'never') return { allowed: false, reason: 'the policy never reboots' };
  if (policy.reboot.only_in_window && !insideWindow(policy.schedule.windows, now)) {
    const next = nextWindow(policy.schedule.windows, now);
    return { allowed: false, reason: `outside the maintenance window${next ? `; next opens ${describeInterval(next)}` : ''}` };
  }
  return { allowed: true, reason: policy.schedule.windows.length === 0 ? 'no maintenance windows: any time' : 'inside the maintenance window' };
}

// ---------------------------------------------------------------------------------------------
// "What will happen tonight, and why"

function pad(n: number): string {
  return String(n).padStart(2, '0');
}

/** `2026-03-29 01:00 Europe/Berlin (2026-03-29T00:00:00.000Z)` */
export function describeInstant(instant: number, tz: string): string {
  const t = zonedTime(instant, tz);
  return `${t.year}-${pad(t.month)}-${pad(t.day)} ${pad(t.hour)}:${pad(t.minute)} ${tz} (${new Date(instant).toISOString()})`;
}

function describeInterval(i: WindowInterval): string {
  const tz = i.window.time_zone;
  const e = zonedTime(i.end, tz);
  return `${describeInstant(i.start, tz)} until ${pad(e.hour)}:${pad(e.minute)}`;
}

/** A human sentence for the install rules. */
export function describeInstall(install: InstallPolicy): string {
  const parts = [install.updates === 'security' ? 'security updates only' : 'all stable updates'];
  if (install.allowlist.length > 0) {
    parts.push(`${install.allowlist_strict ? 'strictly ' : ''}limited to ${install.allowlist.join(', ')}${install.allowlist_strict ? '' : ' and what they need'}`);
  }
  if (install.blocklist.length > 0) parts.push(`never ${install.blocklist.join(', ')}`);
  parts.push(install.config_files === 'keep_local' ? 'locally changed config files are kept' : 'packages with locally changed config files are skipped');
  return parts.join('; ');
}

export interface HostOutlook {
  host: string;
  group: string;
  policy: { name: string; version: number };
  ring: { index: number; name: string } | null;
  /** The window the run falls in (current or next within 24 h); null: none, or no windows. */
  window: { start: string; end: string; time_zone: string } | null;
  gate: GateDecision;
  will_patch: boolean;
  /** When patching will (or could) start; null when it will not happen in the next 24 h. */
  patch_at: string | null;
  install: string;
  reboot: string;
  /** The explanation, one sentence per line. */
  lines: string[];
}

/**
 * What will happen to `host` in the next 24 hours under `policy`, and why: its ring, the window,
 * the ring gate evaluated at the window's start, what gets installed and how reboots go.
 */
export function hostOutlook(policy: PatchPolicy, host: HostRef, histories: readonly (readonly HostHistory[])[], now: number): HostOutlook {
  const lines: string[] = [];
  const ringIndex = ringOf(policy, host);
  const base = {
    host: host.hostname,
    group: policy.group,
    policy: { name: policy.name, version: policy.version },
    install: describeInstall(policy.install),
  };
  lines.push(`Policy ${policy.name} v${policy.version} for group ${policy.group}.`);
  if (ringIndex < 0) {
    lines.push(`No ring selects ${host.hostname}, so it is not patched. Add it to a ring (by name or tag).`);
    return { ...base, ring: null, window: null, gate: { state: 'blocked', reasons: ['not in any ring'] }, will_patch: false, patch_at: null, reboot: 'no reboot', lines };
  }
  const ring = { index: ringIndex, name: policy.rings[ringIndex].name };
  lines.push(`${host.hostname} is in ring ${ring.name} (${ringIndex + 1} of ${policy.rings.length}).`);

  const windows = policy.schedule.windows;
  let interval: WindowInterval | null = null;
  let at = now;
  if (windows.length > 0) {
    interval = nextWindow(windows, now);
    if (!interval || interval.start > now + DAY) {
      lines.push(`No maintenance window opens in the next 24 hours${interval ? `; the next one is ${describeInterval(interval)}` : ''}.`);
      const gate = ringGate(policy, ringIndex, histories, now);
      return { ...base, ring, window: null, gate, will_patch: false, patch_at: null, reboot: describeReboot(policy, null), lines };
    }
    at = Math.max(now, interval.start);
    lines.push(interval.start <= now ? `The maintenance window is open now: ${describeInterval(interval)}.` : `Next maintenance window: ${describeInterval(interval)}.`);
  } else {
    lines.push('The policy has no maintenance windows: patching may run at any time.');
  }

  // Evaluate the gate at the window's start, and if it is still soaking then, at its end.
  let gate = ringGate(policy, ringIndex, histories, at);
  if (gate.state === 'waiting' && interval && Date.parse(gate.until) < interval.end) {
    at = Date.parse(gate.until);
    gate = ringGate(policy, ringIndex, histories, at);
  }
  lines.push(...gate.reasons.map((r, i) => (i === 0 ? `Ring gate ${gate.state}: ${r}` : `  - ${r}`)));
  const willPatch = gate.state === 'open';
  if (willPatch) {
    lines.push(
      policy.schedule.runner === 'timer'
        ? `The distribution's timer installs ${describeInstall(policy.install)}.`
        : `patchloop will install ${describeInstall(policy.install)}, from ${interval ? describeInstant(at, interval.window.time_zone) : 'now'}.`,
    );
  } else {
    lines.push('Nothing will be installed in this window.');
  }
  const reboot = describeReboot(policy, interval);
  lines.push(`Reboots: ${reboot}.`);
  lines.push(`Services: ${policy.restart.services === 'restart' ? `services using replaced libraries are restarted (except ${policy.restart.exclude.join(', ') || 'none'})` : 'services needing a restart are reported, not restarted'}.`);
  return {
    ...base,
    ring,
    window: interval ? { start: new Date(interval.start).toISOString(), end: new Date(interval.end).toISOString(), time_zone: interval.window.time_zone } : null,
    gate,
    will_patch: willPatch,
    patch_at: willPatch ? new Date(at).toISOString() : null,
    reboot,
    lines,
  };
}

function describeReboot(policy: PatchPolicy, interval: WindowInterval | null): string {
  const r = policy.reboot;
  if (r.mode === 'never') return 'never; a required reboot is only reported';
  const where = r.only_in_window && policy.schedule.windows.length > 0 ? (interval ? `inside the window (${describeInterval(interval)})` : 'only inside a maintenance window') : 'at any time';
  return `when required, ${where}, with a lease from the server (at most ${r.max_concurrent} host(s) of ${policy.group} at once, lease expires after ${r.lease_ttl_minutes} min)`;
}
