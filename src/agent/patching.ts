// The agent's patch phase, run by `agent run` after its inventory report when agent.yaml opts
// in: pull the policy, narrow it by the local allowance, patch when the ring gate is open and
// the window allows (or only dry runs, if so configured), report the run, and reboot only
// through rebootIfDue — inside the window, with a lease from the server. A reboot patchloop
// asked for is confirmed at the next start (afterBoot: boot report, lease released).
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { release as osRelease } from 'node:os';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { insideWindow, parsePolicy, PolicyError, type GateDecision } from '../core/policy/index.ts';
import { afterBoot, rebootIfDue, type AfterBoot } from '../patch/reboot-flow.ts';
import { readRebootFlag } from '../patch/reboot-state.ts';
import { PatchRunSchema, type PatchRun } from '../patch/types.ts';
import type { AgentConfig } from './config.ts';
import { writeFileAtomic } from './files.ts';
import type { AgentHttpClient } from './http.ts';
import {
  fetchPolicy,
  PatchReportSpool,
  ServerLeaseClient,
  ServerReportClient,
  type PatchLog,
} from './patch-clients.ts';
import { narrowPolicy } from './patch-config.ts';
import { PatchloopError } from '../core/errors.ts';

export type PatchPhase =
  | { state: 'disabled' }
  | { state: 'no_policy'; reason: string }
  | { state: 'gate'; gate: GateDecision }
  | { state: 'outside_window' }
  | { state: 'nothing_allowed'; notes: string[] }
  | { state: 'reboot_retried'; run: PatchRun }
  | { state: 'ran'; run: PatchRun; notes: string[] };

export interface PatchPhaseDeps {
  log: PatchLog & { error(o: object, m: string): void };
  now: () => number;
  /** Test seams for the host's boot identity; default /proc. */
  bootId?: () => Promise<string>;
  reboot?: (command: string[]) => Promise<void>;
}

const files = (config: AgentConfig) => ({
  pending: join(config.state_dir, 'pending-reboot.json'),
  last: join(config.state_dir, 'last-patch-run.json'),
});

async function procBootId(): Promise<string> {
  return (await readFile('/proc/sys/kernel/random/boot_id', 'utf8')).trim();
}

function runCommand(argv: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0], argv.slice(1), { stdio: 'ignore' });
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`${argv.join(' ')} exited ${code}`))));
  });
}

export function patchClients(config: AgentConfig, client: AgentHttpClient, deps: PatchPhaseDeps) {
  const spool = new PatchReportSpool(config.state_dir, deps.log);
  return {
    spool,
    lease: new ServerLeaseClient(client),
    report: new ServerReportClient(client, spool, deps.now, deps.log),
  };
}

/** At agent start: if patchloop asked for a reboot and this is a new boot, report it. */
export async function confirmBoot(
  config: AgentConfig,
  client: AgentHttpClient,
  deps: PatchPhaseDeps,
): Promise<AfterBoot> {
  const { lease, report } = patchClients(config, client, deps);
  const f = files(config);
  const r = await afterBoot({
    stateFile: f.pending,
    bootId: deps.bootId ?? procBootId,
    now: deps.now,
    bootedAt: async () => deps.now() - Number((await readFile('/proc/uptime', 'utf8')).split(' ')[0]) * 1000,
    kernel: config.root === '/' ? osRelease() : (config.kernel ?? null),
    rebootStillRequired: async () => (await readRebootFlag(config.root)).required,
    lease,
    report,
  });
  if (r.state === 'back')
    deps.log.info(
      { run_id: r.report.run_id, lease_id: r.report.lease_id },
      'back after the reboot patchloop asked for: reported',
    );
  return r;
}

/**
 * Before the inventory report: confirm a reboot patchloop asked for, and send patch reports
 * still spooled — so the server has each run before the inventory that confirms it. Failures
 * here are logged: they must not stop the inventory report.
 */
export async function beforeInventory(
  config: AgentConfig,
  client: AgentHttpClient,
  deps: PatchPhaseDeps,
): Promise<void> {
  try {
    await confirmBoot(config, client, deps);
  } catch (err) {
    deps.log.warn({ err: (err as Error).message }, 'could not confirm the reboot to the server yet; retrying next run');
  }
  try {
    const r = await new PatchReportSpool(config.state_dir, deps.log).flush(client);
    if (r.sent || r.pending) deps.log.info(r, 'spooled patch reports');
  } catch (err) {
    deps.log.warn({ err: (err as Error).message }, 'spooled patch reports not sent');
  }
}

function lastRun(file: string): PatchRun | null {
  try {
    return PatchRunSchema.parse(JSON.parse(readFileSync(file, 'utf8')));
  } catch {
    return null;
  }
}

export async function patchPhase(
  config: AgentConfig,
  client: AgentHttpClient,
  deps: PatchPhaseDeps,
): Promise<PatchPhase> {
  const local = config.patch;
  if (!local.enabled) return { state: 'disabled' };
  const f = files(config);
  const { lease, report } = patchClients(config, client, deps);
  const answer = await fetchPolicy(client);
  if (!answer.policy) {
    deps.log.info({ group: answer.host.group }, 'no patch policy for this host on the server');
    return { state: 'no_policy', reason: answer.lines.join(' ') };
  }
  let serverPolicy;
  try {
    serverPolicy = parsePolicy(answer.policy, 'the policy from the server');
  } catch (err) {
    // The server sent a policy this agent cannot accept: a protocol fault, not the user's input.
    if (err instanceof PolicyError) throw new PatchloopError('PL_E_PROTOCOL', err.message, { cause: err });
    throw err;
  }
  const running = config.root === '/';
  const narrowed = narrowPolicy(serverPolicy, local, { runningSystem: running });
  for (const n of narrowed.notes)
    deps.log.info({ policy: serverPolicy.name, version: serverPolicy.version }, `policy narrowed: ${n}`);
  if (narrowed.nothingAllowed) return { state: 'nothing_allowed', notes: narrowed.notes };
  const policy = narrowed.policy;
  const rebootDeps = {
    policy,
    lease,
    report,
    now: deps.now,
    reboot: () => (deps.reboot ?? runCommand)(local.reboot_command),
    stateFile: f.pending,
    bootId: deps.bootId ?? procBootId,
  };

  // A reboot still owed by the last run (no slot, or outside the window then) comes first.
  const previous = lastRun(f.last);
  if (
    !local.dry_run &&
    previous &&
    previous.reboot.required &&
    (previous.reboot.status === 'pending_lease' || previous.reboot.status === 'pending_window')
  ) {
    if ((await readRebootFlag(config.root)).required || previous.reboot.because.includes('kernel')) {
      const run = await rebootIfDue(previous, rebootDeps);
      if (run !== previous) await report.sendRun(run);
      writeFileAtomic(f.last, JSON.stringify(run));
      return { state: 'reboot_retried', run };
    }
  }

  if (answer.gate?.state !== 'open') {
    const gate: GateDecision = answer.gate ?? { state: 'blocked', reasons: ['not in any ring'] };
    deps.log.info(
      { ring: answer.ring?.name ?? null, gate: gate.state, reasons: gate.reasons },
      'ring gate not open: not patching now',
    );
    return { state: 'gate', gate };
  }
  if (!local.dry_run && !insideWindow(policy.schedule.windows, deps.now())) return { state: 'outside_window' };

  const { patchHost } = await import('../patch/run.ts');
  let scan;
  if (local.scan) {
    const { scanHost } = await import('../scan/scan.ts');
    scan = async (root: string) => (await scanHost({ root, dataDir: config.data_dir, kernel: config.kernel })).findings;
  }
  let run = await patchHost({
    root: config.root,
    policy,
    dryRun: local.dry_run,
    refreshLists: local.refresh_lists,
    kernel: config.kernel,
    scan,
    now: deps.now,
    log: (m) => deps.log.info({}, m),
  });
  deps.log.info(
    { run_id: run.id, outcome: run.outcome, changes: run.changes.length, reboot: run.reboot.status },
    'patch run finished',
  );
  await report.sendRun(run);
  if (!local.dry_run) {
    run = await rebootIfDue(run, rebootDeps);
    // rebootIfDue reported a reboot it started; a wait for a slot or the window is reported here
    if (run.reboot.status === 'pending_lease' || run.reboot.status === 'pending_window') await report.sendRun(run);
    writeFileAtomic(f.last, JSON.stringify(run));
  }
  return { state: 'ran', run, notes: narrowed.notes };
}
