// apk for a root (Alpine). Alpine has no security-only channel: every upgradable package
// except the blocklisted ones (and, with an allowlist, only the listed ones) is upgraded with
// `apk add --upgrade`; `--simulate` for a dry run. Only the output parser is tested against
// text (no Alpine system here); this orchestration has not run on a real Alpine host yet.
import { globMatch, type PatchPolicy } from '../../core/policy/index.ts';
import { outcomeOf, startReport, type BackendReport } from '../backend.ts';
import { execInRoot } from '../exec.ts';
import { describeHeld, waitForLocks } from '../lock.ts';
import type { HeldBack } from '../types.ts';
import { parseApkOutput, parseApkVersionList } from './output.ts';

export const APK_LOCK_FILES = ['lib/apk/db/lock'];

export async function runApk(opts: {
  root: string;
  policy: PatchPolicy;
  dryRun: boolean;
  log?: (m: string) => void;
}): Promise<BackendReport> {
  const { root, policy } = opts;
  const report = startReport();
  const { errors, warnings } = report;
  if (policy.install.updates === 'security')
    warnings.push('Alpine publishes no security-only channel: all available updates were considered');
  const wait = await waitForLocks(root, {
    timeoutMs: policy.schedule.lock_timeout_seconds * 1000,
    files: APK_LOCK_FILES,
    onWait: (h) => opts.log?.(`waiting: ${describeHeld(h)}`),
  });
  if (!wait.free) {
    errors.push({ kind: 'lock', where: null, package: null, message: describeHeld(wait.held) });
    return report.finish({
      outcome: 'skipped',
      skip_reason: 'another apk held the database lock for the whole lock timeout',
    });
  }
  if (!opts.dryRun) {
    const upd = await execInRoot(root, ['apk', 'update', '-q'], { timeoutMs: 15 * 60_000 });
    if (upd.code !== 0) warnings.push(`apk update exited ${upd.code}: ${upd.stderr.trim()}`);
  }
  const list = await execInRoot(root, ['apk', 'version', '-l', '<'], { timeoutMs: 120_000 });
  const upgradable = parseApkVersionList(list.stdout);
  const held_back: HeldBack[] = [];
  const chosen: string[] = [];
  for (const u of upgradable) {
    if (policy.install.blocklist.some((g) => globMatch(g, u.name)))
      held_back.push({ name: u.name, reason: 'blocklist', detail: 'on the policy blocklist' });
    else if (policy.install.allowlist.length > 0 && !policy.install.allowlist.some((g) => globMatch(g, u.name)))
      held_back.push({ name: u.name, reason: 'not_allowlisted', detail: 'not on the policy allowlist' });
    else chosen.push(u.name);
  }
  if (chosen.length === 0) return report.finish({ outcome: opts.dryRun ? 'dry_run' : 'nothing_to_do', held_back });
  const argv = ['apk', 'add', '--upgrade', ...(opts.dryRun ? ['--simulate'] : []), ...chosen];
  opts.log?.(argv.join(' '));
  const r = await execInRoot(root, argv, { timeoutMs: 3 * 3600_000 });
  const parsed = parseApkOutput(`${r.stdout}\n${r.stderr}`, argv.slice(0, 3).join(' '));
  errors.push(...parsed.errors);
  if (r.code !== 0 && parsed.errors.length === 0)
    errors.push({ kind: 'exit', where: null, package: null, message: `apk exited ${r.code}` });
  if (parsed.locked && parsed.changes.length === 0)
    return report.finish({
      outcome: 'skipped',
      skip_reason: 'the apk database was locked',
      exit_code: r.code,
      held_back,
    });
  return report.finish({
    outcome: opts.dryRun ? 'dry_run' : outcomeOf(parsed.changes, errors),
    exit_code: r.code,
    changes: parsed.changes,
    held_back,
  });
}
