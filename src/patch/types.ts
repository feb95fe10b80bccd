// What a patch run reports, and the interfaces to the server that the host side uses.
// The PatchRun record is what an agent sends after every run (and updates after the reboot);
// the server validates it with PatchRunSchema. The lease and report clients are interfaces
// only: the agent implements them over HTTP, tests over the real server on loopback.
import { z } from 'zod';
import { clientId, isoTime, MAX, text } from '../core/bounds.ts';

/** Most entries one run may report per list: far beyond a real run, small enough to bound the server's work. */
export const PATCH_RUN_LIMITS = {
  changes: 20_000,
  errors: 1_000,
  warnings: 1_000,
  cvesClosed: 100_000,
  services: 2_000,
  kernels: 256,
} as const;

export const PATCH_RUN_SCHEMA = 'patchloop.patch-run/v1';

export const ChangeActionSchema = z.enum(['upgrade', 'install', 'downgrade', 'reinstall', 'remove', 'purge']);

/** One package the run changed (or, in a dry run, would change). */
export const PackageChangeSchema = z.strictObject({
  name: text().min(1),
  /** Architecture as the package manager logged it (`amd64`, `all`, `x86_64`, `noarch`); null when not logged. */
  arch: text().nullable(),
  action: ChangeActionSchema,
  from: text().nullable(),
  to: text().nullable(),
  /** Installed as a dependency rather than asked for. */
  automatic: z.boolean().default(false),
  /** false: the package manager reported an error for this package (e.g. its postinst failed). */
  ok: z.boolean(),
});
export type PackageChange = z.infer<typeof PackageChangeSchema>;

/**
 * Why an upgradable package was not upgraded. `blocklist`: the policy's blocklist;
 * `config_prompt`: a locally changed config file (policy config_files: skip_package);
 * `dependency`: the resolver could not upgrade it on its own (or a related package is kept
 * back); `phased`: the distribution is still phasing the update in; `held`: apt-mark hold /
 * versionlock; `not_allowlisted`: outside the policy's allowlist; `untrusted`: unsigned origin;
 * `interrupted`: the run was stopped (SIGTERM at shutdown, battery) before it got there.
 */
export const HeldReasonSchema = z.enum([
  'blocklist',
  'config_prompt',
  'dependency',
  'phased',
  'held',
  'not_allowlisted',
  'untrusted',
  'interrupted',
  'unknown',
]);
export type HeldReason = z.infer<typeof HeldReasonSchema>;

export const HeldBackSchema = z.strictObject({
  name: text().min(1),
  reason: HeldReasonSchema,
  /** The package manager's own words. */
  detail: text(MAX.longText),
});
export type HeldBack = z.infer<typeof HeldBackSchema>;

export const PatchErrorSchema = z.strictObject({
  /**
   * `lock`: another package manager; `dpkg`/`rpm`/`apk`: the package manager failed on a package; `resolver`;
   * `download`; `interrupted`; `exit`: a failure known only from the exit status.
   */
  kind: z.enum(['lock', 'dpkg', 'rpm', 'apk', 'resolver', 'download', 'interrupted', 'config', 'exit', 'internal']),
  /** `file:line` in the host's log where known. */
  where: text(MAX.longText).nullable(),
  package: text().nullable(),
  message: text(MAX.longText),
});
export type PatchError = z.infer<typeof PatchErrorSchema>;

/**
 * `success`: everything selected was installed; `nothing_to_do`; `partial`: some changes went
 * in, some failed; `failed`: nothing went in and something failed; `skipped`: the package
 * manager did not run (outside the window, lock held, ring gate); `dry_run`: nothing was meant
 * to change. Held-back packages alone do not make a run fail.
 */
export const OutcomeSchema = z.enum(['success', 'nothing_to_do', 'partial', 'failed', 'skipped', 'dry_run']);
export type PatchOutcome = z.infer<typeof OutcomeSchema>;

/**
 * Reboot state. `not_required`; `required` with `policy_never`; `pending_window` (waits for a
 * window), `pending_lease` (waits for the server's semaphore); `rebooting` (command issued,
 * lease held); `rebooted` (the host came back: `back_at`); `failed` (the command failed).
 */
export const RebootStatusSchema = z.enum([
  'not_required',
  'policy_never',
  'pending_window',
  'pending_lease',
  'rebooting',
  'rebooted',
  'failed',
  'unknown',
]);
export type RebootStatus = z.infer<typeof RebootStatusSchema>;

export const KernelStateSchema = z.strictObject({
  /** `uname -r` of the running system; null for a root that is not the running system. */
  running: text().nullable(),
  /** The newest kernel installed in the root. */
  newest_installed: text().nullable(),
  installed: z.array(text()).max(PATCH_RUN_LIMITS.kernels),
  /** needrestart's verdict: 0 unknown, 1 current, 2 ABI-compatible upgrade, 3 version upgrade. */
  needrestart_status: z.number().int().min(0).max(3).nullable(),
  /** Running differs from the newest installed. */
  reboot_needed: z.boolean().nullable(),
});
export type KernelState = z.infer<typeof KernelStateSchema>;

export const RebootStateSchema = z.strictObject({
  required: z.boolean(),
  /** Why: `reboot-required` (the flag file), `kernel` (a newer kernel than the running one). */
  because: z.array(z.enum(['reboot-required', 'kernel'])),
  /** /run/reboot-required.pkgs */
  packages: z.array(text()).max(PATCH_RUN_LIMITS.changes),
  kernel: KernelStateSchema,
  status: RebootStatusSchema,
  detail: text(MAX.longText).default(''),
  lease_id: clientId.nullable().default(null),
  requested_at: isoTime.nullable().default(null),
  /** First report from the host after the reboot (set by the agent after boot). */
  back_at: isoTime.nullable().default(null),
  boot_id_before: clientId.nullable().default(null),
});
export type RebootState = z.infer<typeof RebootStateSchema>;

export const RestartStateSchema = z.strictObject({
  /** Services needrestart reports as running replaced binaries or libraries. */
  needed: z.array(text()).max(PATCH_RUN_LIMITS.services),
  restarted: z.array(text()).max(PATCH_RUN_LIMITS.services),
  failed: z.array(z.strictObject({ service: text(), message: text(MAX.longText) })).max(PATCH_RUN_LIMITS.services),
  /** Left alone: excluded by the policy, or restarts are report-only. */
  skipped: z.array(text()).max(PATCH_RUN_LIMITS.services),
});
export type RestartState = z.infer<typeof RestartStateSchema>;

export const PatchRunSchema = z.strictObject({
  schema: z.literal(PATCH_RUN_SCHEMA),
  id: clientId,
  host: z.strictObject({
    hostname: text(253).nullable(),
    machine_id: text(64).nullable(),
    /** The root directory patched (`/` for the running system). */
    root: text(MAX.longText),
    os: z.strictObject({ id: text(), version_id: text(), codename: text() }),
  }),
  policy: z.strictObject({ name: text(128), version: z.number().int().min(0).max(1_000_000_000), group: text(200) }),
  /** Which package manager did the work. */
  backend: z.enum(['unattended-upgrades', 'dnf-automatic', 'apk']),
  /** `run`: patchloop ran it; `collect`: the distribution's timer ran it, patchloop read the results. */
  mode: z.enum(['run', 'dry_run', 'collect']),
  started_at: isoTime,
  finished_at: isoTime,
  outcome: OutcomeSchema,
  /** For `skipped`: why. */
  skip_reason: text(MAX.longText).nullable(),
  /** The package manager's exit status (0 also for "nothing to do"); null when it did not run. */
  exit_code: z
    .number()
    .int()
    .min(-(2 ** 31))
    .max(2 ** 31 - 1)
    .nullable(),
  changes: z.array(PackageChangeSchema).max(PATCH_RUN_LIMITS.changes),
  held_back: z.array(HeldBackSchema).max(PATCH_RUN_LIMITS.changes),
  errors: z.array(PatchErrorSchema).max(PATCH_RUN_LIMITS.errors),
  reboot: RebootStateSchema,
  restarts: RestartStateSchema,
  /** Vulnerability ids fixed by this run: in the findings before, gone after (null: not computed). */
  cves_closed: z.array(text(128)).max(PATCH_RUN_LIMITS.cvesClosed).nullable(),
  findings_before: z.number().int().min(0).max(100_000_000).nullable(),
  findings_after: z.number().int().min(0).max(100_000_000).nullable(),
  /** Non-fatal notes (log lines that could not be interpreted, a root that is not the running system). */
  warnings: z.array(text(MAX.longText)).max(PATCH_RUN_LIMITS.warnings),
});
export type PatchRun = z.infer<typeof PatchRunSchema>;

/** Sent by the agent after a reboot patchloop started, once the host is back. */
export const BootReportSchema = z.strictObject({
  run_id: clientId,
  hostname: text(253).nullable(),
  lease_id: clientId.nullable(),
  boot_id: clientId,
  booted_at: isoTime,
  kernel: text().nullable(),
  /** Still needs a reboot after booting (e.g. the newest kernel did not come up). */
  reboot_still_required: z.boolean(),
});
export type BootReport = z.infer<typeof BootReportSchema>;

/** The server's counting semaphore of reboot slots per group (see decideLease in core/policy). */
export interface RebootLeaseClient {
  /** Asks for a slot; `ttl_seconds` bounds how long a silent holder keeps it. */
  acquire(req: {
    group: string;
    host: string;
    run_id: string;
    ttl_seconds: number;
  }): Promise<
    { granted: true; lease_id: string; expires_at: string } | { granted: false; retry_at: string; reason: string }
  >;
  /** Extends a held lease (while a slow shutdown is still going). */
  renew(leaseId: string): Promise<{ expires_at: string }>;
  /** Gives the slot back once the host is up again. */
  release(leaseId: string): Promise<void>;
}

/** Where patch runs go: the server, or a spool the agent ships later. */
export interface PatchReportClient {
  sendRun(run: PatchRun): Promise<void>;
  sendBoot(report: BootReport): Promise<void>;
}
