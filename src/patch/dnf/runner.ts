// dnf-automatic for a root (RHEL family). A real run applies updates with dnf-automatic and
// patchloop's own configuration file, and reads the transactions it added from `dnf history`;
// a dry run lists what `dnf check-update` offers. Only the parsers are tested against text
// (no RPM-based system here); this orchestration has not run on a real RHEL host yet.
import path from 'node:path';
import type { PatchPolicy } from '../../core/policy/schema.ts';
import { startReport, type BackendReport } from '../backend.ts';
import { execInRoot } from '../exec.ts';
import { describeHeld, waitForLocks } from '../lock.ts';
import { writeIfChanged, removeIfPresent } from '../root-files.ts';
import { DNF_OWN_CONF, DNF_TIMER_CONF, DNF_TIMER_DROPIN, dnfAutomaticConf, dnfTimerDropIn } from './conf.ts';
import { parseDnfCheckUpdate, parseDnfHistoryInfo, parseDnfHistoryList } from './history.ts';

export const DNF_LOCK_FILES = [
  'var/lib/rpm/.rpm.lock',
  'var/cache/dnf/rpmdb_lock.pid',
  'var/cache/dnf/metadata_lock.pid',
  'var/cache/dnf/download_lock.pid',
];

export async function applyDnfConfig(root: string, policy: PatchPolicy): Promise<string[]> {
  const conf = dnfAutomaticConf(policy);
  await writeIfChanged(path.join(root, DNF_OWN_CONF), conf.text);
  const timer = policy.schedule.runner === 'timer';
  if (timer) await writeIfChanged(path.join(root, DNF_TIMER_CONF), conf.text);
  const dropIn = timer ? dnfTimerDropIn(policy) : null;
  if (dropIn) await writeIfChanged(path.join(root, DNF_TIMER_DROPIN), dropIn);
  else await removeIfPresent(path.join(root, DNF_TIMER_DROPIN));
  return conf.warnings;
}

async function lastTransactionId(root: string): Promise<number> {
  const r = await execInRoot(root, ['dnf', '-q', 'history', 'list'], { timeoutMs: 120_000 });
  if (r.code !== 0) throw new Error(`dnf history list exited ${r.code}: ${r.stderr.trim()}`);
  return Math.max(0, ...parseDnfHistoryList(r.stdout).map((row) => row.id));
}

export async function runDnf(opts: {
  root: string;
  policy: PatchPolicy;
  dryRun: boolean;
  log?: (m: string) => void;
}): Promise<BackendReport> {
  const { root, policy } = opts;
  const log = opts.log ?? (() => {});
  const report = startReport();
  const { errors, warnings } = report;
  warnings.push(...(opts.dryRun ? dnfAutomaticConf(policy).warnings : await applyDnfConfig(root, policy)));
  const wait = await waitForLocks(root, {
    timeoutMs: policy.schedule.lock_timeout_seconds * 1000,
    files: DNF_LOCK_FILES,
    onWait: (h) => log(`waiting: ${describeHeld(h)}`),
  });
  if (!wait.free) {
    errors.push({ kind: 'lock', where: null, package: null, message: describeHeld(wait.held) });
    return report.finish({
      outcome: 'skipped',
      skip_reason: 'another package manager held the rpm lock for the whole lock timeout',
    });
  }
  if (opts.dryRun) {
    const args = [
      'dnf',
      '-q',
      'check-update',
      ...(policy.install.updates === 'security' ? ['--security'] : []),
      ...policy.install.blocklist.map((b) => `--exclude=${b}`),
    ];
    const r = await execInRoot(root, args, { timeoutMs: 30 * 60_000 });
    // exit 100: updates available; 0: none; anything else failed
    if (r.code !== 0 && r.code !== 100)
      errors.push({
        kind: 'exit',
        where: null,
        package: null,
        message: `${args.join(' ')} exited ${r.code}: ${r.stderr.trim().split('\n').slice(-2).join(' | ')}`,
      });
    const changes = parseDnfCheckUpdate(r.stdout).map((u) => ({
      name: u.name,
      arch: u.arch,
      action: 'upgrade' as const,
      from: null,
      to: u.version,
      automatic: false,
      ok: true,
    }));
    return report.finish({ outcome: 'dry_run', exit_code: r.code, changes });
  }
  const before = await lastTransactionId(root);
  log(`dnf-automatic /${DNF_OWN_CONF} --installupdates`);
  const r = await execInRoot(root, ['dnf-automatic', `/${DNF_OWN_CONF}`, '--installupdates'], {
    timeoutMs: 3 * 3600_000,
  });
  const after = await execInRoot(root, ['dnf', '-q', 'history', 'list'], { timeoutMs: 120_000 });
  const ids = parseDnfHistoryList(after.stdout)
    .map((row) => row.id)
    .filter((id) => id > before)
    .sort((a, b) => a - b);
  const changes = [];
  for (const id of ids) {
    const info = await execInRoot(root, ['dnf', '-q', 'history', 'info', String(id)], { timeoutMs: 120_000 });
    const t = parseDnfHistoryInfo(info.stdout, `dnf history info ${id}`);
    changes.push(...t.changes);
    errors.push(...t.errors);
  }
  if (r.code !== 0 && errors.length === 0)
    errors.push({
      kind: 'exit',
      where: null,
      package: null,
      message: `dnf-automatic exited ${r.code}: ${r.stderr.trim().split('\n').slice(-3).join(' | ')}`,
    });
  return report.finish({ exit_code: r.code, changes });
}
