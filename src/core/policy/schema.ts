// The patch policy document: a zod schema for the central, versioned policy of a group of
// hosts (what it installs, when, in which ring, how it reboots and restarts services), its
// validation with the path of every problem, and the built-in default.
import { z } from 'zod';
import { MAX, text } from '../bounds.ts';
import { PatchloopError } from '../errors.ts';

/** Most entries a policy list may hold: far beyond a real policy, small enough to evaluate on every request. */
const LIST = 1_000;

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
    days: z
      .array(z.enum(WEEKDAYS))
      .min(1)
      .max(7)
      .default(() => [...WEEKDAYS]),
    start: timeOfDay.refine((s) => s !== '24:00', 'a window cannot start at 24:00'),
    end: timeOfDay,
    time_zone: text(64).refine(isTimeZone, {
      error: (iss) => `unknown time zone "${String(iss.input)}" (use an IANA name such as Europe/Berlin or UTC)`,
    }),
  })
  .refine((w) => w.start !== w.end, {
    message: 'start and end are equal: use 00:00 to 24:00 for a whole day',
    path: ['end'],
  });
export type MaintenanceWindow = z.infer<typeof WindowSchema>;

/**
 * Package name patterns: a name as the package manager spells it, optionally with `*` for any
 * run of characters. Turned into anchored regexes for unattended-upgrades and into globs for
 * dnf and apk, so the character set is kept to what package names use.
 */
export const PACKAGE_PATTERN = /^[A-Za-z0-9*][A-Za-z0-9+._*-]*$/;
const packagePattern = text(256).regex(PACKAGE_PATTERN, 'expected a package name, optionally with * wildcards');

/** One extra apt origin, in unattended-upgrades' Origins-Pattern keywords (all must match). */
const originValue = text(256)
  .min(1)
  .regex(/^[^"\n\r\\]+$/, 'must not contain quotes, backslashes or line breaks');
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
  soak_hours: z
    .number()
    .min(0)
    .max(24 * 90)
    .default(0),
  /** Runs older than this are no evidence: a previous-ring host silent for longer blocks. */
  evidence_max_age_hours: z
    .number()
    .min(1)
    .max(24 * 365)
    .default(24 * 7),
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
  lease_ttl_minutes: z
    .number()
    .int()
    .min(1)
    .max(24 * 60)
    .default(30),
});
export type RebootPolicy = z.infer<typeof RebootSchema>;

export const RestartSchema = z.strictObject({
  /** `restart`: restart the services needrestart reports as using replaced files. */
  services: z.enum(['report', 'restart']).default('report'),
  /** Unit name globs never restarted by patchloop (they wait for the reboot). */
  exclude: z
    .array(text(256).min(1))
    .max(LIST)
    .default(['dbus.service', 'systemd-logind.service', 'getty@*.service', 'serial-getty@*.service', 'user@*.service']),
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
    rings: z
      .array(RingSchema)
      .min(1)
      .max(32)
      .default(() => [RingSchema.parse({ name: 'all' })]),
    reboot: RebootSchema.default(() => RebootSchema.parse({})),
    restart: RestartSchema.default(() => RestartSchema.parse({})),
  })
  .superRefine((p, ctx) => {
    const seen = new Set<string>();
    p.rings.forEach((r, i) => {
      if (seen.has(r.name))
        ctx.addIssue({ code: 'custom', path: ['rings', i, 'name'], message: `duplicate ring name "${r.name}"` });
      seen.add(r.name);
    });
    if (p.rings[0].soak_hours !== 0) {
      ctx.addIssue({
        code: 'custom',
        path: ['rings', 0, 'soak_hours'],
        message: 'the first ring has no ring before it to soak after; use 0',
      });
    }
    const blocked = new Set(p.install.blocklist);
    for (const [i, name] of p.install.allowlist.entries()) {
      if (blocked.has(name))
        ctx.addIssue({
          code: 'custom',
          path: ['install', 'allowlist', i],
          message: `"${name}" is on both the allowlist and the blocklist`,
        });
    }
  });
export type PatchPolicy = z.infer<typeof PolicySchema>;

/** A policy document that does not validate; `issues` name the field (`rings[1].soak_hours`). */
export class PolicyError extends PatchloopError {
  readonly issues: { path: string; message: string }[];
  constructor(source: string, issues: { path: string; message: string }[]) {
    super(
      'PL_E_POLICY',
      `${source}: invalid policy:\n${issues.map((i) => `  ${i.path || '(document)'}: ${i.message}`).join('\n')}`,
    );
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
    throw new PolicyError(
      source,
      res.error.issues.map((i) => ({ path: formatIssuePath(i.path), message: i.message })),
    );
  }
  return res.data;
}

/** The policy applied when none is given: security updates, any time, report reboots only. */
export function defaultPolicy(group = 'default'): PatchPolicy {
  return parsePolicy({ name: 'default', version: 1, group, reboot: { mode: 'never' } }, 'built-in default policy');
}
