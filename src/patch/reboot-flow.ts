// The host side of a coordinated reboot: only inside the window, only with a lease from the
// server's per-group semaphore, remembered across the boot in a state file, and confirmed
// after the boot (a new boot id) with a report to the server and the lease given back.
// A host that dies while rebooting never gives the lease back: the server lets it expire.
import { readFile } from 'node:fs/promises';
import { rebootAllowedNow, type PatchPolicy } from '../core/policy/index.ts';
import { removeIfPresent, writeIfChanged } from './root-files.ts';
import type { BootReport, PatchReportClient, PatchRun, RebootLeaseClient } from './types.ts';

export interface PendingReboot {
  run_id: string;
  group: string;
  host: string | null;
  lease_id: string;
  boot_id_before: string;
  requested_at: string;
  lease_expires_at: string;
}

export interface RebootDeps {
  policy: PatchPolicy;
  lease: RebootLeaseClient;
  report?: PatchReportClient;
  now: () => number;
  /** Issues the reboot (`systemctl reboot`); resolves when it has been issued. */
  reboot: () => Promise<void>;
  /** Survives the reboot: /var/lib/patchloop/pending-reboot.json */
  stateFile: string;
  /** /proc/sys/kernel/random/boot_id */
  bootId: () => Promise<string>;
}

async function readPending(file: string): Promise<PendingReboot | null> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
  try {
    return JSON.parse(text) as PendingReboot;
  } catch (err) {
    throw new Error(`${file}: not a pending-reboot record: ${(err as Error).message}`, { cause: err });
  }
}

/**
 * Reboots after `run` if it needs one and the policy, the window and the server's semaphore
 * allow it now; otherwise returns the run with why it waits. The run (with status `rebooting`)
 * is reported before the reboot command, so the server knows which host holds the slot.
 */
export async function rebootIfDue(run: PatchRun, deps: RebootDeps): Promise<PatchRun> {
  const r = run.reboot;
  if (!r.required || (r.status !== 'pending_lease' && r.status !== 'pending_window')) return run;
  const now = deps.now();
  const allowed = rebootAllowedNow(deps.policy, now);
  if (!allowed.allowed) {
    return {
      ...run,
      reboot: {
        ...r,
        status: deps.policy.reboot.mode === 'never' ? 'policy_never' : 'pending_window',
        detail: allowed.reason,
      },
    };
  }
  const grant = await deps.lease.acquire({
    group: deps.policy.group,
    host: run.host.hostname ?? run.host.root,
    run_id: run.id,
    ttl_seconds: deps.policy.reboot.lease_ttl_minutes * 60,
  });
  if (!grant.granted) {
    return { ...run, reboot: { ...r, status: 'pending_lease', detail: `${grant.reason}; retry at ${grant.retry_at}` } };
  }
  const pending: PendingReboot = {
    run_id: run.id,
    group: deps.policy.group,
    host: run.host.hostname,
    lease_id: grant.lease_id,
    boot_id_before: await deps.bootId(),
    requested_at: new Date(now).toISOString(),
    lease_expires_at: grant.expires_at,
  };
  await writeIfChanged(deps.stateFile, `${JSON.stringify(pending)}\n`);
  const rebooting: PatchRun = {
    ...run,
    reboot: {
      ...r,
      status: 'rebooting',
      detail: `lease ${grant.lease_id} until ${grant.expires_at}`,
      lease_id: grant.lease_id,
      requested_at: pending.requested_at,
      boot_id_before: pending.boot_id_before,
    },
  };
  await deps.report?.sendRun(rebooting);
  try {
    await deps.reboot();
  } catch (err) {
    await removeIfPresent(deps.stateFile);
    await deps.lease.release(grant.lease_id);
    const failed: PatchRun = {
      ...rebooting,
      reboot: { ...rebooting.reboot, status: 'failed', detail: `the reboot command failed: ${(err as Error).message}` },
    };
    await deps.report?.sendRun(failed);
    return failed;
  }
  return rebooting;
}

export type AfterBoot =
  | { state: 'none' }
  /** Same boot as before the request: the reboot has not happened (yet). */
  | { state: 'not_rebooted'; pending: PendingReboot }
  | { state: 'back'; report: BootReport };

/**
 * Run at agent start: if patchloop asked for a reboot, and this is a new boot, report it and
 * give the lease back.
 */
export async function afterBoot(deps: {
  stateFile: string;
  bootId: () => Promise<string>;
  now: () => number;
  /** When this boot began (now minus /proc/uptime). */
  bootedAt: () => Promise<number>;
  kernel: string | null;
  rebootStillRequired: () => Promise<boolean>;
  lease: RebootLeaseClient;
  report?: PatchReportClient;
}): Promise<AfterBoot> {
  const pending = await readPending(deps.stateFile);
  if (!pending) return { state: 'none' };
  const bootId = await deps.bootId();
  if (bootId === pending.boot_id_before) return { state: 'not_rebooted', pending };
  const report: BootReport = {
    run_id: pending.run_id,
    hostname: pending.host,
    lease_id: pending.lease_id,
    boot_id: bootId,
    booted_at: new Date(await deps.bootedAt()).toISOString(),
    kernel: deps.kernel,
    reboot_still_required: await deps.rebootStillRequired(),
  };
  await deps.report?.sendBoot(report);
  await deps.lease.release(pending.lease_id);
  await removeIfPresent(deps.stateFile);
  return { state: 'back', report };
}
