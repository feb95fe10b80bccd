// Runs unattended-upgrades for a root under a policy, and reads what it did from its logs.
//
// Real run: write /etc/apt/apt.conf.d/51patchloop, wait for the dpkg lock to be free (never
// breaking it), `apt-get update`, `unattended-upgrade -v`, then parse what the run appended
// to the u-u log, its dpkg log and apt's history.log. If u-u still met a lock (taken between
// the probe and its own attempt) it waits again and retries while the lock timeout lasts.
//
// Dry run: `unattended-upgrade --dry-run` is not free of side effects (it downloads the debs,
// writes its logs, adds fake stanzas to history.log, touches its stamp, removes the kept-back
// file, and apt runs the dpkg hooks). Here it runs over scratch copies of those places,
// mounted in its own mount namespace (see dryRunScratch), which are removed afterwards.
import { cp, mkdir, mkdtemp, readdir, rm, stat, utimes } from 'node:fs/promises';
import path from 'node:path';
import { zonedToInstant, type PatchPolicy } from '../../core/policy/index.ts';
import type { OsInfo } from '../../core/types.ts';
import { execInRoot, type Bind } from '../exec.ts';
import { describeHeld, waitForLocks } from '../lock.ts';
import { fileSize, readOptional, readTail, removeIfPresent, rootTimeZone, writeIfChanged } from '../root-files.ts';
import type { PatchError } from '../types.ts';
import { parseAptPolicy } from './apt-policy.ts';
import { APT_CONF_PATH, TIMER_DROPIN_PATH, aptConfSnippet, timerDropIn } from './conf.ts';
import { parseDpkgAudit } from './dpkg-audit.ts';
import { parseDpkgLog } from './dpkg-log.ts';
import { parseHistoryLog } from './history-log.ts';
import { interpretAptRun, type AptInterpretation } from './interpret.ts';
import { parseKeptBack, parseUuLog } from './uu-log.ts';

export const UU_LOG = 'var/log/unattended-upgrades/unattended-upgrades.log';
export const UU_DPKG_LOG = 'var/log/unattended-upgrades/unattended-upgrades-dpkg.log';
export const HISTORY_LOG = 'var/log/apt/history.log';
export const KEPT_BACK = 'var/lib/unattended-upgrades/kept-back';

export interface AptRunOptions {
  root: string;
  policy: PatchPolicy;
  os: OsInfo;
  dryRun: boolean;
  /** `apt-get update` first (real runs; the daily timer does it when u-u runs from there). */
  refreshLists: boolean;
  /** Upper bound for the whole unattended-upgrade run (it can take long: MinimalSteps). */
  timeoutMs?: number;
  log?: (message: string) => void;
}

export interface AptRunReport extends AptInterpretation {
  exit_code: number | null;
  started_at: string;
  finished_at: string;
  /** The apt.conf.d file written (real runs), and whether it changed. */
  config: { file: string; changed: boolean } | null;
}

/** Config and timer drop-in for the policy: written for real runs, returned either way. */
export async function applyAptConfig(
  root: string,
  policy: PatchPolicy,
  os: OsInfo,
): Promise<{ file: string; changed: boolean; text: string }> {
  const text = aptConfSnippet({ policy, os });
  const file = path.join(root, APT_CONF_PATH);
  const changed = await writeIfChanged(file, text);
  const dropIn = path.join(root, TIMER_DROPIN_PATH);
  const timer = policy.schedule.runner === 'timer' ? timerDropIn(policy) : null;
  if (timer) await writeIfChanged(dropIn, timer);
  else await removeIfPresent(dropIn);
  return { file, changed, text };
}

function requireTool(root: string, rel: string, pkg: string): Promise<void> {
  return stat(path.join(root, rel)).then(
    () => undefined,
    () => {
      throw new Error(`${path.join(root, rel)} not found: ${pkg} is not installed in ${root} (apt-get install ${pkg})`);
    },
  );
}

interface Scratch {
  dir: string;
  binds: Bind[];
  files: { uuLog: string; dpkgLog: string; history: string };
  restore: () => Promise<void>;
}

/**
 * Private state for a side-effect-free dry run: inside the command's own mount namespace,
 * scratch directories are mounted over the places u-u and apt write to. apt.conf.d is a copy
 * with the policy's snippet and with apt's dpkg hooks cleared (they run even for a simulated
 * install: needrestart's removes its marker, etckeeper's would commit /etc). A mount, not
 * Dir::Etc::Parts, because python-apt reads /etc/apt/apt.conf.d again when u-u opens its cache.
 */
async function dryRunScratch(root: string, snippet: string): Promise<Scratch> {
  const runDir = path.join(root, 'run');
  await mkdir(runDir, { recursive: true });
  const dir = await mkdtemp(path.join(runDir, 'patchloop-dry-'));
  const parts = path.join(dir, 'apt.conf.d');
  await mkdir(parts);
  const etcParts = path.join(root, 'etc/apt/apt.conf.d');
  for (const f of await readdir(etcParts).catch(() => [] as string[])) {
    if (f === path.basename(APT_CONF_PATH)) continue;
    await cp(path.join(etcParts, f), path.join(parts, f), { dereference: true, recursive: true }).catch(
      () => undefined,
    );
  }
  await writeIfChanged(path.join(parts, path.basename(APT_CONF_PATH)), snippet);
  await writeIfChanged(
    path.join(parts, 'zzzz-patchloop-dry-run'),
    [
      'DPkg::Pre-Invoke',
      'DPkg::Post-Invoke',
      'DPkg::Pre-Install-Pkgs',
      'DPkg::Post-Invoke-Success',
      'APT::Update::Pre-Invoke',
      'APT::Update::Post-Invoke',
      'APT::Update::Post-Invoke-Success',
    ]
      .map((k) => `#clear ${k};\n`)
      .join(''),
  );
  const binds: Bind[] = [{ source: parts, target: '/etc/apt/apt.conf.d' }];
  const created: string[] = [];
  const over = async (name: string, target: string, copyFrom: boolean) => {
    const source = path.join(dir, name);
    const real = path.join(root, target);
    try {
      await stat(real);
    } catch {
      await mkdir(real, { recursive: true });
      created.push(real);
    }
    if (copyFrom) await cp(real, source, { recursive: true });
    else await mkdir(source, { recursive: true });
    binds.push({ source, target });
  };
  await over('log-apt', '/var/log/apt', false);
  await over('log-uu', '/var/log/unattended-upgrades', false);
  await over('archives', '/var/cache/apt/archives', false);
  await mkdir(path.join(dir, 'archives/partial'));
  // u-u writes its stamp and deletes kept-back in a dry run: let it, on copies
  await over('periodic', '/var/lib/apt/periodic', true);
  await over('uu-state', '/var/lib/unattended-upgrades', true);
  // /run stays shared (u-u's lock there keeps a real run and the dry run apart); put back
  // what u-u leaves there
  const keep = ['run/unattended-upgrades.lock', 'run/unattended-upgrades.progress'];
  const saved = await Promise.all(
    keep.map(async (rel) => {
      const file = path.join(root, rel);
      const content = await readOptional(file);
      return { file, content, times: content === null ? null : await stat(file) };
    }),
  );
  return {
    dir,
    binds,
    files: {
      uuLog: path.join(dir, 'log-uu/unattended-upgrades.log'),
      dpkgLog: path.join(dir, 'log-uu/unattended-upgrades-dpkg.log'),
      history: path.join(dir, 'log-apt/history.log'),
    },
    restore: async () => {
      for (const s of saved) {
        if (s.content === null) await removeIfPresent(s.file);
        else {
          await writeIfChanged(s.file, s.content);
          if (s.times) await utimes(s.file, s.times.atime, s.times.mtime);
        }
      }
      for (const d of created) await rm(d, { recursive: true, force: true });
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export async function runUnattendedUpgrades(opts: AptRunOptions): Promise<AptRunReport> {
  const { root, policy, dryRun } = opts;
  const log = opts.log ?? (() => {});
  await requireTool(root, 'usr/bin/unattended-upgrade', 'unattended-upgrades');
  const started = Date.now();
  const snippet = aptConfSnippet({ policy, os: opts.os });
  let config: AptRunReport['config'] = null;
  let scratch: Scratch | null = null;
  if (dryRun) scratch = await dryRunScratch(root, snippet);
  else {
    const applied = await applyAptConfig(root, policy, opts.os);
    config = { file: applied.file, changed: applied.changed };
  }
  try {
    const files = scratch
      ? scratch.files
      : {
          uuLog: path.join(root, UU_LOG),
          dpkgLog: path.join(root, UU_DPKG_LOG),
          history: path.join(root, HISTORY_LOG),
        };
    const lockTimeoutMs = policy.schedule.lock_timeout_seconds * 1000;
    const deadline = started + lockTimeoutMs;
    const extraErrors: PatchError[] = [];
    const warnings: string[] = [];

    const waitLocks = async (): Promise<boolean> => {
      const w = await waitForLocks(root, {
        timeoutMs: Math.max(0, deadline - Date.now()),
        onWait: (held) => log(`waiting for the package manager lock: ${describeHeld(held)}`),
      });
      if (!w.free)
        extraErrors.push({
          kind: 'lock',
          where: null,
          package: null,
          message: `gave up after ${Math.round(w.waited_ms / 1000)} s: ${describeHeld(w.held)}`,
        });
      return w.free;
    };

    if (!(await waitLocks())) {
      return {
        outcome: 'skipped',
        skip_reason: 'another package manager held the dpkg lock for the whole lock timeout',
        changes: [],
        held_back: [],
        errors: extraErrors,
        warnings,
        lock_failed: true,
        exit_code: null,
        started_at: new Date(started).toISOString(),
        finished_at: new Date().toISOString(),
        config,
      };
    }

    if (opts.refreshLists && !dryRun) {
      log('apt-get update');
      const u = await execInRoot(
        root,
        [
          'apt-get',
          'update',
          '-q',
          '-o',
          `DPkg::Lock::Timeout=${Math.max(1, Math.round((deadline - Date.now()) / 1000))}`,
        ],
        { timeoutMs: 15 * 60_000 },
      );
      if (u.code !== 0)
        warnings.push(
          `apt-get update exited ${u.code}; unattended-upgrades used the package lists it had: ${u.stderr.trim().split('\n').slice(-3).join(' | ')}`,
        );
      else for (const l of u.stderr.split('\n')) if (/^(W|E): /.test(l)) warnings.push(`apt-get update: ${l}`);
    }

    const argv = ['unattended-upgrade', '-v', ...(dryRun ? ['--dry-run'] : [])];
    let exitCode: number | null = null;
    let interp: AptInterpretation | null = null;
    for (let attempt = 1; ; attempt++) {
      // each attempt is judged by what it alone appended to the logs
      const offsets = {
        uu: await fileSize(files.uuLog),
        dpkg: await fileSize(files.dpkgLog),
        history: await fileSize(files.history),
      };
      log(`${argv.join(' ')}${attempt > 1 ? ` (attempt ${attempt})` : ''}`);
      const res = await execInRoot(root, argv, { binds: scratch?.binds, timeoutMs: opts.timeoutMs ?? 3 * 3600_000 });
      exitCode = res.code;
      if (res.timedOut)
        extraErrors.push({
          kind: 'interrupted',
          where: null,
          package: null,
          message: `unattended-upgrade ran longer than ${Math.round((opts.timeoutMs ?? 3 * 3600_000) / 60_000)} min and was stopped`,
        });
      interp = await interpretLogs(root, files, offsets, exitCode, dryRun, started, res.stdout);
      if (!interp.lock_failed || interp.changes.length > 0 || Date.now() >= deadline || attempt >= 5) break;
      log('unattended-upgrade found the lock taken; waiting again');
      if (!(await waitLocks())) break;
    }
    if (!interp) throw new Error('unattended-upgrade did not run');

    if (!dryRun) {
      // A package left half-configured by a failed maintainer script is not noticed by u-u's
      // next run ("nothing to do"); dpkg --audit does notice.
      const audit = await execInRoot(root, ['dpkg', '--audit'], { timeoutMs: 120_000 });
      for (const a of parseDpkgAudit(audit.stdout)) {
        extraErrors.push({
          kind: 'dpkg',
          where: 'dpkg --audit',
          package: a.package,
          message: `${a.package} ${a.state}`,
        });
      }
    }
    const errors = [
      ...interp.errors,
      ...extraErrors.filter((e) => !interp.errors.some((i) => i.package !== null && i.package === e.package)),
    ];
    let outcome = interp.outcome;
    if (errors.length > interp.errors.length && (outcome === 'success' || outcome === 'nothing_to_do')) {
      outcome = interp.changes.some((c) => c.ok) ? 'partial' : 'failed';
    }
    return {
      ...interp,
      outcome,
      errors,
      warnings: [...warnings, ...interp.warnings],
      exit_code: exitCode,
      started_at: new Date(started).toISOString(),
      finished_at: new Date().toISOString(),
      config,
    };
  } finally {
    await scratch?.restore();
  }
}

async function interpretLogs(
  root: string,
  files: { uuLog: string; dpkgLog: string; history: string },
  offsets: { uu: number; dpkg: number; history: number },
  exitCode: number | null,
  dryRun: boolean,
  started: number,
  stdout: string,
): Promise<AptInterpretation> {
  const uu = await readTail(files.uuLog, offsets.uu);
  const dpkg = await readTail(files.dpkgLog, offsets.dpkg);
  const hist = await readTail(files.history, offsets.history);
  const runs = parseUuLog(uu.text, files.uuLog, uu.firstLine);
  const history = parseHistoryLog(hist.text, files.history, hist.firstLine);
  const blocks = parseDpkgLog(dpkg.text, files.dpkgLog, dpkg.firstLine);
  // kept-back is rewritten at the end of a complete run; an older file is stale
  const keptFile = path.join(root, KEPT_BACK);
  const keptText = dryRun ? null : await readOptional(keptFile);
  const keptFresh = keptText !== null && (await stat(keptFile)).mtimeMs >= started - 1000;
  const generic = runs.flatMap((r) => r.kept_back.filter((k) => k.reason === 'dependency').map((k) => k.name));
  let aptPolicy;
  if (generic.length > 0) {
    const p = await execInRoot(root, ['apt-cache', 'policy', ...new Set(generic)], { timeoutMs: 120_000 });
    if (p.code === 0) aptPolicy = parseAptPolicy(p.stdout);
  }
  const interp = interpretAptRun({
    runs,
    history: history.entries,
    dpkg: blocks,
    keptBack: keptFresh ? parseKeptBack(keptText) : null,
    aptPolicy,
    exitCode,
    dryRun,
    files,
  });
  interp.warnings.push(...history.warnings);
  if (runs.length === 0 && stdout.trim())
    interp.warnings.push(`unattended-upgrade said: ${stdout.trim().split('\n').slice(-3).join(' | ')}`);
  return interp;
}

/** `2026-11-27 03:00:29,515` (u-u) or `2026-11-27  03:00:29` (apt, dpkg logs) as `YYYY-MM-DD HH:MM:SS`. */
export function normaliseLocalTime(t: string): string {
  return t.replace(/\s+/, ' ').replace(/,\d+$/, '');
}

/** Local wall time in the root's zone as an ISO instant. */
export function localToIso(t: string, tz: string): string {
  const m = /^(\d{4})-(\d\d)-(\d\d) (\d\d):(\d\d):(\d\d)/.exec(normaliseLocalTime(t));
  if (!m) throw new Error(`not a log timestamp: ${JSON.stringify(t)}`);
  const base = zonedToInstant(Number(m[1]), Number(m[2]), Number(m[3]), Number(m[4]), Number(m[5]), tz);
  return new Date(base + Number(m[6]) * 1000).toISOString();
}

export const COLLECT_CURSOR = 'var/lib/patchloop/uu-collected.json';

/**
 * Runner `timer`: the distribution's timer ran unattended-upgrades. Applies the policy's
 * config (and timer drop-in), then reports the u-u runs logged since the last collection
 * (the cursor lives in the root: var/lib/patchloop/uu-collected.json).
 */
export async function collectUnattendedUpgrades(opts: {
  root: string;
  policy: PatchPolicy;
  os: OsInfo;
}): Promise<AptRunReport> {
  const { root } = opts;
  const applied = await applyAptConfig(root, opts.policy, opts.os);
  const tz = await rootTimeZone(root);
  const cursorFile = path.join(root, COLLECT_CURSOR);
  const cursorText = await readOptional(cursorFile);
  const since = cursorText ? (JSON.parse(cursorText) as { last_run_started: string }).last_run_started : '';
  const files = {
    uuLog: path.join(root, UU_LOG),
    dpkgLog: path.join(root, UU_DPKG_LOG),
    history: path.join(root, HISTORY_LOG),
  };
  const now = new Date().toISOString();
  const runs = parseUuLog((await readOptional(files.uuLog)) ?? '', files.uuLog).filter(
    (r) => normaliseLocalTime(r.started_at) > since,
  );
  const config = { file: applied.file, changed: applied.changed };
  if (runs.length === 0) {
    return {
      outcome: 'skipped',
      skip_reason: since ? `no unattended-upgrades run since ${since} (${tz})` : 'unattended-upgrades has not run yet',
      changes: [],
      held_back: [],
      errors: [],
      warnings: [],
      lock_failed: false,
      exit_code: null,
      started_at: now,
      finished_at: now,
      config,
    };
  }
  const from = normaliseLocalTime(runs[0].started_at);
  const history = parseHistoryLog((await readOptional(files.history)) ?? '', files.history);
  const blocks = parseDpkgLog((await readOptional(files.dpkgLog)) ?? '', files.dpkgLog).filter(
    (b) => b.started !== null && normaliseLocalTime(b.started) >= from,
  );
  const keptText = await readOptional(path.join(root, KEPT_BACK));
  const interp = interpretAptRun({
    runs,
    history: history.entries.filter((e) => e.start !== null && normaliseLocalTime(e.start) >= from),
    dpkg: blocks,
    keptBack: keptText === null ? null : parseKeptBack(keptText),
    exitCode: null,
    dryRun: false,
    files,
  });
  const last = runs[runs.length - 1];
  await writeIfChanged(cursorFile, `${JSON.stringify({ last_run_started: normaliseLocalTime(last.started_at) })}\n`);
  return {
    ...interp,
    warnings: [...interp.warnings, ...history.warnings],
    exit_code: null,
    started_at: localToIso(runs[0].started_at, tz),
    finished_at: localToIso(last.ended_at, tz),
    config,
  };
}
