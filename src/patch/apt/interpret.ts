// What an unattended-upgrades run really did, from its logs rather than its exit status
// (0 for "nothing to do" and for success, 1 for everything else, including a conffile prompt):
// the changes from apt's history.log (u-u's own "Packages that will be upgraded" is only the
// intention), per-package failures from the dpkg log, held-back packages with their reasons
// from the u-u log and the kept-back file, and one error per distinct failure.
import type { HeldBack, HeldReason, PackageChange, PatchError, PatchOutcome } from '../types.ts';
import type { AptPolicyEntry } from './apt-policy.ts';
import { failedPackages, type DpkgBlock } from './dpkg-log.ts';
import { unattendedEntries, type HistoryEntry } from './history-log.ts';
import type { UuRecord, UuRun } from './uu-log.ts';

export interface AptEvidence {
  /** The u-u run(s) of this invocation (normally one). */
  runs: readonly UuRun[];
  history: readonly HistoryEntry[];
  dpkg: readonly DpkgBlock[];
  /** /var/lib/unattended-upgrades/kept-back, null when absent. */
  keptBack: readonly string[] | null;
  /** `apt-cache policy` of the packages kept back for a generic reason (phasing shows there). */
  aptPolicy?: ReadonlyMap<string, AptPolicyEntry>;
  exitCode: number | null;
  dryRun: boolean;
  files: { uuLog: string; history: string; dpkgLog: string };
}

export interface AptInterpretation {
  outcome: PatchOutcome;
  skip_reason: string | null;
  changes: PackageChange[];
  held_back: HeldBack[];
  errors: PatchError[];
  warnings: string[];
  /** u-u's log said a lock was taken by someone else. */
  lock_failed: boolean;
}

/** Messages that restate a failure already reported another way. */
const REDUNDANT = [
  /^Exception happened during upgrade\./,
  /^error message: /,
  /^dpkg returned a?n? error! See /,
  /^Installing the upgrades failed!$/,
  /^Auto-removing the packages failed!$/,
  /^Error message: /,
  /^Lock could not be acquired/,
  /^Lock file is already taken, exiting$/,
  /^Apt returned an error, exiting$/,
  /^Cache has broken packages, exiting$/,
  /^GetArchives\(\) failed: /,
  /^fetch\.run\(\) result: /,
  /^An error occurred: /,
  /^The URI .* failed to download, aborting$/,
];

const REASON_RANK: HeldReason[] = [
  'config_prompt',
  'blocklist',
  'held',
  'not_allowlisted',
  'untrusted',
  'phased',
  'interrupted',
  'dependency',
  'unknown',
];

function firstLine(s: string): string {
  return s.split('\n')[0];
}

function at(file: string, line: number): string {
  return `${file}:${line}`;
}

/** The detail u-u logs after a summary line (`error message: …`), if any. */
function followingDetail(records: readonly UuRecord[], from: UuRecord, prefix: RegExp): string | null {
  const i = records.indexOf(from);
  for (const r of records.slice(i + 1, i + 4)) {
    const m = prefix.exec(r.message);
    if (m) return r.message.slice(m[0].length);
  }
  return null;
}

function summaryError(run: UuRun, uuLog: string): PatchError | null {
  const find = (re: RegExp) => run.records.find((r) => re.test(r.message));
  switch (run.result) {
    case 'lock_failed': {
      const r = find(/^Lock (could not be acquired|file is already taken)/);
      return {
        kind: 'lock',
        where: r ? at(uuLog, r.line) : null,
        package: null,
        message: r ? r.message : 'lock could not be acquired',
      };
    }
    case 'install_failed': {
      const r = find(/^(Installing|Auto-removing) the (upgrades|packages) failed!$/);
      const detail = r ? followingDetail(run.records, r, /^[Ee]rror message: /) : null;
      return {
        kind: 'dpkg',
        where: r ? at(uuLog, r.line) : null,
        package: null,
        message: `${r?.message ?? 'installing the upgrades failed'}${detail ? ` (${detail})` : ''}`,
      };
    }
    case 'apt_error': {
      const r = find(/^Apt returned an error, exiting$/);
      const detail = r ? followingDetail(run.records, r, /^error message: /) : null;
      return {
        kind: 'resolver',
        where: r ? at(uuLog, r.line) : null,
        package: null,
        message: `apt returned an error${detail ? `: ${detail}` : ''}`,
      };
    }
    case 'cache_broken': {
      const r = find(/^Cache has broken packages, exiting$/);
      return {
        kind: 'dpkg',
        where: r ? at(uuLog, r.line) : null,
        package: null,
        message: 'the package cache has broken packages (dpkg --audit shows them)',
      };
    }
    case 'download_failed': {
      const r = find(/failed to download, aborting$|^Download finished, but file/);
      return {
        kind: 'download',
        where: r ? at(uuLog, r.line) : null,
        package: null,
        message: r?.message ?? 'a download failed',
      };
    }
    case 'interrupted': {
      const r = find(/SIGTERM|SIGNAL received|battery power|metered connection, stopping/);
      return {
        kind: 'interrupted',
        where: r ? at(uuLog, r.line) : null,
        package: null,
        message: r?.message ?? 'interrupted',
      };
    }
    case 'crashed': {
      const r = find(/^An error occurred: /);
      return {
        kind: 'internal',
        where: r ? at(uuLog, r.line) : null,
        package: null,
        message: r ? firstLine(r.message) : 'unattended-upgrade crashed',
      };
    }
    default:
      return null;
  }
}

function dedupe(errors: PatchError[]): PatchError[] {
  const seen = new Set<string>();
  return errors.filter((e) => {
    const key = `${e.kind}\u0000${e.package}\u0000${e.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

export function interpretAptRun(ev: AptEvidence): AptInterpretation {
  const warnings: string[] = [];
  const errors: PatchError[] = [];
  const failed = failedPackages(ev.dpkg);

  // Changes: the history stanzas u-u wrote (dry-run stanzas only for a dry run).
  const entries = unattendedEntries(ev.history, ev.dryRun);
  const changes: PackageChange[] = [];
  for (const e of entries) {
    for (const c of e.changes) {
      // A stanza with an Error lists the whole transaction; dpkg's log names the package
      // that failed. Without a dpkg log, every change of a failed stanza stays unconfirmed.
      const ok = !failed.has(c.name) && !(e.error && ev.dpkg.length === 0);
      changes.push({ ...c, ok });
    }
    // dpkg's own per-package errors explain a failed stanza better than its summary line
    if (e.error && failed.size === 0) {
      errors.push({ kind: 'dpkg', where: at(ev.files.history, e.line), package: null, message: e.error });
    }
  }
  if (entries.some((e) => e.error) && ev.dpkg.length === 0) {
    warnings.push(
      `${ev.files.history}: a transaction failed but ${ev.files.dpkgLog} has no output for it; its changes are reported as not confirmed`,
    );
  }
  for (const [pkg, f] of failed) {
    errors.push({
      kind: 'dpkg',
      where: at(ev.files.dpkgLog, f.line),
      package: pkg,
      message: `dpkg could not ${f.phase === 'dependencies' ? 'configure' : f.phase} ${pkg}${f.detail ? `: ${f.detail.replace(/\n/g, ' ')}` : ''}`,
    });
  }
  for (const b of ev.dpkg) {
    for (const e of b.apt_errors) {
      if (!/^Sub-process .*dpkg returned an error code/.test(e.message) || failed.size === 0) {
        errors.push({ kind: 'dpkg', where: at(ev.files.dpkgLog, e.line), package: null, message: e.message });
      }
    }
  }

  // Errors and held-back packages from the u-u log.
  const held = new Map<string, HeldBack>();
  const hold = (name: string, reason: HeldReason, detail: string) => {
    const prev = held.get(name);
    if (!prev || REASON_RANK.indexOf(reason) < REASON_RANK.indexOf(prev.reason))
      held.set(name, { name, reason, detail });
  };
  let lockFailed = false;
  let skip: string | null = null;
  for (const run of ev.runs) {
    if (run.result === 'lock_failed') lockFailed = true;
    if (run.result === 'not_update_day') skip = 'not an update day (Unattended-Upgrade::Update-Days)';
    const summary = summaryError(run, ev.files.uuLog);
    if (summary && !(summary.kind === 'dpkg' && failed.size > 0 && run.result === 'install_failed'))
      errors.push(summary);
    for (const r of run.errors) {
      if (REDUNDANT.some((re) => re.test(r.message))) continue;
      if (run.result === 'interrupted' && /SIGTERM|SIGNAL|battery|metered/.test(r.message)) continue;
      errors.push({
        kind: r.message.startsWith('Unclean dpkg state') ? 'dpkg' : 'internal',
        where: at(ev.files.uuLog, r.line),
        package: null,
        message: firstLine(r.message),
      });
    }
    for (const k of run.kept_back) {
      // after a stop request u-u explains every package it did not reach with the generic excuse
      if (
        run.result === 'interrupted' &&
        k.reason === 'dependency' &&
        k.detail.includes('is kept back because a related package')
      )
        hold(k.name, 'interrupted', `the run stopped before upgrading it; ${k.detail}`);
      else hold(k.name, k.reason, k.detail);
    }
  }
  for (const name of ev.keptBack ?? [])
    if (!held.has(name)) hold(name, 'unknown', 'listed in /var/lib/unattended-upgrades/kept-back');
  for (const h of held.values()) {
    const p = ev.aptPolicy?.get(h.name);
    if (h.reason === 'dependency' && p?.candidate_phased_percent != null && p.candidate_phased_percent < 100) {
      held.set(h.name, {
        name: h.name,
        reason: 'phased',
        detail: `the update to ${p.candidate} is being phased in (${p.candidate_phased_percent}% of machines so far); ${h.detail}`,
      });
    }
  }
  // a package that was changed, or that failed (reported as an error), was not held back
  const touched = new Set([...changes.map((c) => c.name), ...failed.keys()]);
  const held_back = [...held.values()].filter((h) => !touched.has(h.name)).sort((a, b) => a.name.localeCompare(b.name));

  if (ev.runs.length === 0 && ev.exitCode !== null) {
    errors.push({
      kind: 'exit',
      where: null,
      package: null,
      message: `unattended-upgrade exited ${ev.exitCode} and wrote nothing to ${ev.files.uuLog}`,
    });
  } else if (
    ev.exitCode !== null &&
    ev.exitCode !== 0 &&
    errors.length === 0 &&
    !lockFailed &&
    !ev.runs.some((r) => r.conffile_prompts.length > 0)
  ) {
    errors.push({
      kind: 'exit',
      where: null,
      package: null,
      message: `unattended-upgrade exited ${ev.exitCode} without logging why`,
    });
  }

  const applied = changes.filter((c) => c.ok).length;
  let outcome: PatchOutcome;
  if (ev.dryRun) outcome = 'dry_run';
  else if (lockFailed && applied === 0) {
    outcome = 'skipped';
    skip = 'another package manager held the dpkg lock';
  } else if (skip && applied === 0 && errors.length === 0) outcome = 'skipped';
  else if (errors.filter((e) => e.kind !== 'lock').length > 0) outcome = applied > 0 ? 'partial' : 'failed';
  else outcome = applied > 0 ? 'success' : 'nothing_to_do';
  if (outcome !== 'skipped') skip = null;
  return { outcome, skip_reason: skip, changes, held_back, errors: dedupe(errors), warnings, lock_failed: lockFailed };
}
