// One patch run for a root under a policy, start to end, as the PatchRun record the server
// receives: window check, findings before, the backend run (or, when the distribution's timer
// runs the package manager, the collection of its results), restart and reboot state,
// service restarts per policy, findings after and the vulnerabilities closed.
import { randomUUID } from 'node:crypto';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import {
  insideWindow,
  nextWindow,
  describeInstant,
  rebootAllowedNow,
  globMatch,
  type PatchPolicy,
} from '../core/policy/index.ts';
import type { Finding, OsInfo } from '../core/types.ts';
import { isHostRoot } from '../inventory/rootfs.ts';
import { runningKernel } from '../inventory/kernel.ts';
import { readOsInfo } from '../inventory/os-release.ts';
import { startReport, type BackendReport } from './backend.ts';
import { backendFor, patchableDistributions } from './backends.ts';
import { execInRoot } from './exec.ts';
import {
  installedKernels,
  kernelState,
  parseNeedrestartBatch,
  readRebootFlag,
  type NeedrestartBatch,
} from './reboot-state.ts';
import { rootHostname, rootMachineId } from './root-files.ts';
import { PATCH_RUN_SCHEMA, PatchRunSchema, type PatchRun, type RebootState, type RestartState } from './types.ts';

export interface PatchHostOptions {
  root: string;
  policy: PatchPolicy;
  dryRun?: boolean;
  /** Run even outside the policy's maintenance windows (an operator's explicit choice). */
  ignoreWindow?: boolean;
  /** apt-get update / apk update before a real run (default true). */
  refreshLists?: boolean;
  /** Running kernel of a root that is not this system (as `patchloop scan --kernel`). */
  kernel?: string;
  /** The scanner: findings of the root now. Called before and after a real run for cves_closed. */
  scan?: (root: string) => Promise<Finding[]>;
  now?: () => number;
  log?: (message: string) => void;
}

/** Vulnerability ids with a finding before and none after, sorted. */
export function cvesClosed(before: readonly Finding[], after: readonly Finding[]): string[] {
  const remaining = new Set(after.map((f) => f.id));
  return [...new Set(before.map((f) => f.id))].filter((id) => !remaining.has(id)).sort();
}

async function needrestart(root: string, warnings: string[]): Promise<NeedrestartBatch | null> {
  try {
    await stat(path.join(root, 'usr/sbin/needrestart'));
  } catch {
    return null;
  }
  // batch mode lists and never restarts anything
  const r = await execInRoot(root, ['needrestart', '-b'], { timeoutMs: 300_000 });
  try {
    return parseNeedrestartBatch(r.stdout);
  } catch (err) {
    warnings.push(`needrestart -b: ${(err as Error).message}`);
    return null;
  }
}

export async function rebootState(
  root: string,
  policy: PatchPolicy,
  nr: NeedrestartBatch | null,
  now: number,
  kernelOverride?: string,
): Promise<RebootState> {
  const flag = await readRebootFlag(root);
  const kernel = kernelState(runningKernel(root, kernelOverride), await installedKernels(root), nr);
  const because: RebootState['because'] = [];
  if (flag.required) because.push('reboot-required');
  if (kernel.reboot_needed || (kernel.needrestart_status !== null && kernel.needrestart_status >= 2))
    because.push('kernel');
  const required = because.length > 0;
  let status: RebootState['status'] = 'not_required';
  let detail = '';
  if (required) {
    const allowed = rebootAllowedNow(policy, now);
    if (policy.reboot.mode === 'never') status = 'policy_never';
    else status = allowed.allowed ? 'pending_lease' : 'pending_window';
    detail = allowed.reason;
  }
  return {
    required,
    because,
    packages: flag.packages,
    kernel,
    status,
    detail,
    lease_id: null,
    requested_at: null,
    back_at: null,
    boot_id_before: null,
  };
}

/** Restarts what needrestart reported, per policy, on the running system only. */
async function restartServices(
  root: string,
  policy: PatchPolicy,
  nr: NeedrestartBatch | null,
  dryRun: boolean,
  log: (m: string) => void,
): Promise<RestartState> {
  const state: RestartState = { needed: nr?.services ?? [], restarted: [], failed: [], skipped: [] };
  for (const svc of state.needed) {
    const excluded = policy.restart.exclude.some((g) => globMatch(g, svc));
    if (dryRun || policy.restart.services !== 'restart' || excluded || !isHostRoot(root)) {
      state.skipped.push(svc);
      continue;
    }
    log(`systemctl restart ${svc}`);
    const r = await execInRoot(root, ['systemctl', 'restart', svc], { timeoutMs: 300_000 });
    if (r.code === 0) state.restarted.push(svc);
    else state.failed.push({ service: svc, message: r.stderr.trim() || `systemctl exited ${r.code}` });
  }
  return state;
}

function skippedReport(reason: string, now: () => number): BackendReport {
  return startReport(now).finish({ outcome: 'skipped', skip_reason: reason });
}

export async function patchHost(opts: PatchHostOptions): Promise<PatchRun> {
  const { root, policy } = opts;
  const dryRun = opts.dryRun ?? false;
  const now = opts.now ?? Date.now;
  const log = opts.log ?? (() => {});
  const osInfo = await readOsInfo(root);
  const os: OsInfo = osInfo.os;
  const backend = backendFor(os);
  if (!backend) {
    throw new Error(
      `cannot patch ${os.pretty_name || os.id || root}: no backend for this distribution (supported: ${patchableDistributions().join(', ')}, and their derivatives)`,
    );
  }
  const warnings = [...osInfo.warnings];
  if (!isHostRoot(root))
    warnings.push(
      `${root} is not the running system: running kernel ${opts.kernel ? `given as ${opts.kernel}` : 'unknown'}, services are not restarted`,
    );

  let report: BackendReport;
  let before: Finding[] | null = null;
  const mode: PatchRun['mode'] = dryRun ? 'dry_run' : policy.schedule.runner === 'timer' ? 'collect' : 'run';
  if (!dryRun && !opts.ignoreWindow && mode === 'run' && !insideWindow(policy.schedule.windows, now())) {
    const next = nextWindow(policy.schedule.windows, now());
    report = skippedReport(
      `outside the maintenance window${next ? `; the next opens ${describeInstant(next.start, next.window.time_zone)}` : ''}`,
      now,
    );
  } else {
    if (opts.scan && !dryRun) before = await opts.scan(root);
    if (mode === 'collect') {
      report = backend.collect
        ? await backend.collect({ root, policy, os })
        : skippedReport(
            `collecting ${backend.name} timer runs is not implemented yet; use schedule.runner: patchloop`,
            now,
          );
    } else {
      report = await backend.run({ root, policy, os, dryRun, refreshLists: opts.refreshLists ?? true, log });
    }
  }

  const nr = await needrestart(root, warnings);
  const reboot = await rebootState(root, policy, nr, now(), opts.kernel);
  const restarts = await restartServices(root, policy, nr, dryRun || report.outcome === 'skipped', log);
  let after: Finding[] | null = null;
  if (before && opts.scan) after = await opts.scan(root);

  const run: PatchRun = {
    schema: PATCH_RUN_SCHEMA,
    id: randomUUID(),
    host: {
      hostname: await rootHostname(root),
      machine_id: await rootMachineId(root),
      root: path.resolve(root),
      os: { id: os.id, version_id: os.version_id, codename: os.codename },
    },
    policy: { name: policy.name, version: policy.version, group: policy.group },
    backend: backend.name,
    mode,
    started_at: report.started_at,
    finished_at: report.finished_at,
    outcome: report.outcome,
    skip_reason: report.skip_reason,
    exit_code: report.exit_code,
    changes: report.changes,
    held_back: report.held_back,
    errors: report.errors,
    reboot,
    restarts,
    cves_closed: before && after ? cvesClosed(before, after) : null,
    findings_before: before ? before.length : null,
    findings_after: after ? after.length : null,
    warnings: [...warnings, ...report.warnings],
  };
  // the record is a contract with the server: never send one that does not validate
  return PatchRunSchema.parse(run);
}
