// Parser for /var/log/unattended-upgrades/unattended-upgrades.log (unattended-upgrades 2.x,
// Python logging with `%(asctime)s %(levelname)s %(message)s`). A message can span several
// lines (tracebacks, dpkg --configure -a output): lines without a timestamp continue the
// record before them. The messages recognised are the ones u-u 2.9.1 writes (see
// /usr/bin/unattended-upgrade); anything else is kept as a plain record.
import type { HeldReason } from '../types.ts';
import { PatchloopError } from '../../core/errors.ts';

export interface UuRecord {
  /** 1-based line of the record's first line in the parsed text. */
  line: number;
  /** Local wall time as logged, `YYYY-MM-DD HH:MM:SS,mmm` (the log has no zone). */
  time: string;
  level: 'DEBUG' | 'INFO' | 'WARNING' | 'ERROR' | 'CRITICAL';
  message: string;
}

/** One run of unattended-upgrade as its log tells it. */
export interface UuRun {
  records: UuRecord[];
  /** Line of the first record belonging to this run. */
  line: number;
  started_at: string;
  ended_at: string;
  dry_run: boolean;
  allowed_origins: string[];
  blacklist: string[];
  whitelist: string[];
  whitelist_strict: boolean;
  /** "Packages that will be upgraded" (the intention, not the result: see history.log). */
  to_upgrade: string[];
  /** Packages skipped because a conffile was changed locally. */
  conffile_prompts: string[];
  kept_back: { name: string; reason: HeldReason; detail: string; line: number }[];
  auto_removed: string[];
  result:
    | 'all_installed'
    | 'nothing_to_do'
    | 'install_failed'
    | 'lock_failed'
    | 'not_update_day'
    | 'apt_error'
    | 'cache_broken'
    | 'download_failed'
    | 'interrupted'
    | 'crashed'
    // no closing line: u-u ends so when a package of its list could not be marked (a conffile
    // prompt found after the list was logged), or when it was killed
    | 'unfinished';
  /** ERROR and CRITICAL records, and WARNINGs that mean something failed. */
  errors: UuRecord[];
  reboot: 'rebooting' | 'skipped_users_logged_in' | null;
}

export class UuLogError extends PatchloopError {
  constructor(file: string, line: number, message: string) {
    super('PL_E_PATCH_LOG', `${file}:${line}: ${message}`);
  }
}

const RECORD = /^(\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2},\d{3}) (DEBUG|INFO|WARNING|ERROR|CRITICAL) (.*)$/;

/** Splits the log into records; `firstLine` numbers lines when the text is a tail of the file. */
export function parseUuRecords(text: string, file: string, firstLine = 1): UuRecord[] {
  const records: UuRecord[] = [];
  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  lines.forEach((raw, i) => {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    const m = RECORD.exec(line);
    if (m) {
      records.push({ line: firstLine + i, time: m[1], level: m[2] as UuRecord['level'], message: m[3] });
    } else if (records.length > 0) {
      records[records.length - 1].message += `\n${line}`;
    } else if (line.trim() !== '') {
      throw new UuLogError(
        file,
        firstLine + i,
        `not an unattended-upgrades log line (expected "YYYY-MM-DD HH:MM:SS,mmm LEVEL message"): ${JSON.stringify(line.slice(0, 80))}`,
      );
    }
  });
  return records;
}

const START = 'Starting unattended upgrades script';

/**
 * Splits records into runs. A run begins with the notes u-u logs before "Starting unattended
 * upgrades script" (battery and metered-connection checks), or with that line itself; a run
 * that is not on an update day logs only "Skipping update check" and ends there.
 */
export function parseUuLog(text: string, file: string, firstLine = 1): UuRun[] {
  const records = parseUuRecords(text, file, firstLine);
  const groups: UuRecord[][] = [];
  let current: UuRecord[] = [];
  // pre: before the start line; in: after it; done: after a run that ends without starting
  let phase: 'pre' | 'in' | 'done' = 'pre';
  for (const r of records) {
    const isStart = r.message === START;
    const isSkip = r.message.startsWith(SKIP_DAY);
    const newRun = phase === 'done' || (phase === 'in' && (isStart || isSkip || isPreamble(r)));
    if (newRun && current.length > 0) {
      groups.push(current);
      current = [];
      phase = 'pre';
    }
    current.push(r);
    if (isStart) phase = 'in';
    else if (isSkip) phase = 'done';
  }
  if (current.length > 0) groups.push(current);
  return groups.map(interpretRun);
}

const SKIP_DAY = 'Skipping update check: today is';

/** Notes u-u logs once per process, before the start line. */
function isPreamble(r: UuRecord): boolean {
  return /^Checking if (system is running on battery|connection is metered) is skipped/.test(r.message);
}

const KEPT: [RegExp, HeldReason][] = [
  [/^Package (\S+) is blacklisted\.$/, 'blocklist'],
  [/^Package (\S+) is marked to be held back\.$/, 'held'],
  [/^Package (\S+) is not on the strict whitelist\.$/, 'not_allowlisted'],
  [/^Package (\S+) is not whitelisted and it is not a dependency of a whitelisted package\.$/, 'not_allowlisted'],
  [/^Package (\S+)'s origin is not trusted\.$/, 'untrusted'],
  [
    /^Package (\S+) is kept back because a related package is kept back or due to local apt_preferences\(5\)\.$/,
    'dependency',
  ],
];

function list(s: string): string[] {
  return s.split(/[\s,]+/).filter((x) => x !== '');
}

function interpretRun(records: UuRecord[]): UuRun {
  const run: UuRun = {
    records,
    line: records[0].line,
    started_at: records[0].time,
    ended_at: records[records.length - 1].time,
    dry_run: false,
    allowed_origins: [],
    blacklist: [],
    whitelist: [],
    whitelist_strict: false,
    to_upgrade: [],
    conffile_prompts: [],
    kept_back: [],
    auto_removed: [],
    result: 'unfinished',
    errors: [],
    reboot: null,
  };
  let m: RegExpExecArray | null;
  const set = (result: UuRun['result']) => {
    // the first failure explains a run better than the ones it causes
    if (run.result === 'unfinished' || run.result === 'all_installed' || run.result === 'nothing_to_do')
      run.result = result;
  };
  for (const r of records) {
    const msg = r.message;
    if (r.level === 'ERROR' || r.level === 'CRITICAL') run.errors.push(r);
    if (msg.startsWith('Allowed origins are: ')) {
      run.allowed_origins = msg
        .slice('Allowed origins are: '.length)
        .split(', ')
        .filter((x) => x !== '');
    } else if (msg.startsWith('Initial blacklist:')) {
      run.blacklist = list(msg.slice('Initial blacklist:'.length));
    } else if ((m = /^Initial whitelist \((strict|not strict)\):(.*)$/.exec(msg))) {
      run.whitelist_strict = m[1] === 'strict';
      run.whitelist = list(m[2]);
    } else if (msg.startsWith('Packages that will be upgraded:')) {
      run.to_upgrade = list(msg.slice('Packages that will be upgraded:'.length));
    } else if (msg === 'Option --dry-run given, *not* performing real actions') {
      run.dry_run = true;
    } else if ((m = /^Package (\S+) has conffile prompt and needs to be upgraded manually$/.exec(msg))) {
      if (!run.conffile_prompts.includes(m[1])) run.conffile_prompts.push(m[1]);
    } else if ((m = /^package (\S+) upgradable but fails to be marked for upgrade \((.*)\)$/s.exec(msg))) {
      run.kept_back.push({
        name: m[1],
        reason: 'dependency',
        detail: `fails to be marked for upgrade: ${m[2].trim()}`,
        line: r.line,
      });
    } else if ((m = /^Packages that were successfully auto-removed: (.*)$/.exec(msg))) {
      run.auto_removed.push(...list(m[1]));
    } else if (msg === 'All upgrades installed') {
      set('all_installed');
    } else if (msg === 'No packages found that can be upgraded unattended and no pending auto-removals') {
      set('nothing_to_do');
    } else if (msg.startsWith(SKIP_DAY)) {
      set('not_update_day');
    } else if (msg.startsWith('Lock could not be acquired') || msg === 'Lock file is already taken, exiting') {
      set('lock_failed');
    } else if (msg === 'Installing the upgrades failed!' || msg === 'Auto-removing the packages failed!') {
      set('install_failed');
    } else if (msg === 'Apt returned an error, exiting') {
      set('apt_error');
    } else if (msg === 'Cache has broken packages, exiting') {
      set('cache_broken');
    } else if (/^The URI .* failed to download, aborting$/.test(msg) || msg.startsWith('Download finished, but file')) {
      set('download_failed');
    } else if (
      msg === 'SIGTERM received, will stop' ||
      msg === 'SIGNAL received, stopping' ||
      msg.startsWith('SIGTERM or SIGHUP received') ||
      msg === 'System is on battery power, stopping' ||
      msg === 'System is on metered connection, stopping'
    ) {
      run.errors.push(r);
      set('interrupted');
    } else if (msg.startsWith('An error occurred: ') && msg.includes('Traceback')) {
      set('crashed');
    } else if (msg.startsWith('Found /var/run/reboot-required, rebooting')) {
      run.reboot = 'rebooting';
    } else if (/^Found \S+, but not rebooting because .* (is|are) logged in\.$/.test(msg)) {
      run.reboot = 'skipped_users_logged_in';
    } else if (msg === 'Unclean dpkg state detected, trying to correct') {
      run.errors.push(r);
    } else {
      for (const [re, reason] of KEPT) {
        const k = re.exec(msg);
        if (k) {
          run.kept_back.push({ name: k[1], reason, detail: msg, line: r.line });
          break;
        }
      }
    }
  }
  // u-u blacklists a conffile-prompt package internally and then reports it as blacklisted;
  // the real reason is the prompt.
  for (const k of run.kept_back) {
    if (run.conffile_prompts.includes(k.name)) {
      k.reason = 'config_prompt';
      k.detail = `has a locally changed config file (conffile prompt); ${k.detail}`;
    }
  }
  for (const name of run.conffile_prompts) {
    if (!run.kept_back.some((k) => k.name === name)) {
      run.kept_back.push({
        name,
        reason: 'config_prompt',
        detail: `Package ${name} has conffile prompt and needs to be upgraded manually`,
        line: run.line,
      });
    }
  }
  return run;
}

/** The space-separated names in /var/lib/unattended-upgrades/kept-back. */
export function parseKeptBack(text: string): string[] {
  return list(text);
}
