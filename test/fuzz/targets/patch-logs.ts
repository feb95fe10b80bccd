// Fuzz targets: the package managers' logs and outputs the patch backends read (apt's
// unattended-upgrades log, its dpkg log and history.log; dnf's history and check-update
// tables; apk's upgrade output), seeded with the real captures in test/fixtures/patch.
import path from 'node:path';
import { parseApkOutput, parseApkVersionList } from '../../../src/patch/apk/output.ts';
import { DpkgLogError, parseDpkgLog } from '../../../src/patch/apt/dpkg-log.ts';
import { HistoryLogError, parseHistoryLog } from '../../../src/patch/apt/history-log.ts';
import { parseKeptBack, parseUuLog, UuLogError } from '../../../src/patch/apt/uu-log.ts';
import {
  DnfOutputError,
  parseDnfCheckUpdate,
  parseDnfHistoryInfo,
  parseDnfHistoryList,
} from '../../../src/patch/dnf/history.ts';
import type { PackageChange } from '../../../src/patch/types.ts';
import { FIXTURES as PATCH_FIXTURES } from '../../support/patch-logs.ts';
import { filesUnder, invariant, seedFile, text, type ErrorClass, type FuzzTarget } from './common.ts';

const logs = (name: string) => () =>
  filesUnder(PATCH_FIXTURES, (f) => path.basename(f) === name).map((f) => seedFile(f));

const ACTIONS: ReadonlySet<string> = new Set<PackageChange['action']>([
  'install',
  'upgrade',
  'downgrade',
  'reinstall',
  'remove',
  'purge',
]);

function checkChanges(changes: readonly { name: string; action: string }[]): void {
  for (const c of changes) {
    invariant(
      typeof c.name === 'string' && c.name !== '',
      () => `a change without a package name: ${JSON.stringify(c)}`,
    );
    invariant(ACTIONS.has(c.action), () => `a change with action ${JSON.stringify(c.action)} (${typeof c.action})`);
  }
}

/** Runs one of several parsers of the same text: a clear refusal by one does not stop the others. */
function each(clear: readonly ErrorClass[], parsers: (() => unknown)[]): unknown[] {
  return parsers.map((parse) => {
    try {
      return parse();
    } catch (err) {
      if (clear.some((c) => err instanceof c)) return (err as Error).message;
      throw err;
    }
  });
}

export const uuLog: FuzzTarget = {
  name: 'unattended-upgrades-log',
  kind: 'text',
  seeds: logs('unattended-upgrades.log'),
  dictionary: [
    '2026-11-27 03:00:29,123 INFO ',
    '2026-11-27 03:00:29,123 ERROR ',
    'Starting unattended upgrades script',
    'Packages that will be upgraded: ',
    'Package x has conffile prompt and needs to be upgraded manually',
    'All upgrades installed',
    'Traceback',
    'Skipping update check: today is',
  ],
  run(input) {
    const runs = parseUuLog(text(input), 'unattended-upgrades.log');
    for (const r of runs) invariant(r.records.length > 0, () => 'a run without records');
    parseKeptBack(text(input));
    return runs.length;
  },
  clear: [UuLogError],
};

export const dpkgLog: FuzzTarget = {
  name: 'unattended-upgrades-dpkg-log',
  kind: 'text',
  seeds: logs('unattended-upgrades-dpkg.log'),
  dictionary: [
    'Log started: 2026-11-27  03:00:29\n',
    'Log ended: 2026-11-27  03:00:30\n',
    'Unpacking x (1.0) over (0.9) ...',
    'Setting up x (1.0) ...',
    'dpkg: error processing package x (--configure):',
    'Errors were encountered while processing:\n x\n',
    "Configuration file '/etc/x'",
    ' ==> Keeping old config file as default.',
    'E: ',
  ],
  run(input) {
    const blocks = parseDpkgLog(text(input), 'unattended-upgrades-dpkg.log');
    for (const b of blocks)
      for (const f of b.failures) invariant(f.package !== undefined, () => 'a failure without a package');
    return blocks.length;
  },
  clear: [DpkgLogError],
};

export const aptHistory: FuzzTarget = {
  name: 'apt-history-log',
  kind: 'text',
  seeds: logs('history.log'),
  dictionary: [
    'Start-Date: 2026-11-27  03:00:29\n',
    'Commandline: /usr/bin/unattended-upgrade\n',
    'Upgrade: ',
    'Install: ',
    'Remove: ',
    'Purge: ',
    'Reinstall: ',
    'Downgrade: ',
    'Error: ',
    'End-Date: ',
    'libssl3:amd64 (3.0.20-1, 3.0.22-1)',
    ', automatic',
    'constructor: ',
    'toString: ',
  ],
  run(input) {
    const { entries } = parseHistoryLog(text(input), 'history.log');
    for (const e of entries) checkChanges(e.changes);
    return entries.length;
  },
  clear: [HistoryLogError],
};

export const dnfOutput: FuzzTarget = {
  name: 'dnf-output',
  kind: 'text',
  seeds: () => filesUnder(path.join(PATCH_FIXTURES, 'dnf')).map((f) => seedFile(f)),
  dictionary: [
    'ID     | Command line',
    ' | ',
    'Transaction ID : 14\n',
    'Packages Altered:\n',
    '    Upgrade  openssl-libs-1:3.0.7-27.el9.x86_64 @baseos\n',
    '    Upgraded openssl-libs-1:3.0.7-25.el9.x86_64 @@System\n',
    'Return-Code    : Failure',
    'Obsoleting Packages',
    'Reason Change',
  ],
  run(input) {
    const t = text(input);
    const [list, info, updates] = each(dnfOutput.clear, [
      () => parseDnfHistoryList(t),
      () => parseDnfHistoryInfo(t),
      () => parseDnfCheckUpdate(t),
    ]);
    if (Array.isArray(list))
      for (const row of list) invariant(Number.isSafeInteger(row.id), () => `history row id ${row.id}`);
    if (typeof info === 'object' && info !== null) checkChanges((info as { changes: PackageChange[] }).changes);
    return [list, info, updates].map((r) => (Array.isArray(r) ? r.length : typeof r));
  },
  clear: [DnfOutputError],
};

export const apkOutput: FuzzTarget = {
  name: 'apk-output',
  kind: 'text',
  seeds: () => filesUnder(path.join(PATCH_FIXTURES, 'apk')).map((f) => seedFile(f)),
  dictionary: [
    '(1/2) Upgrading ',
    '(2/2) Installing ',
    ' -> ',
    'ERROR: ',
    'OK: 10 MiB in 18 packages',
    '1 error; ',
    'Unable to lock database',
    ' < ',
  ],
  run(input) {
    const r = parseApkOutput(text(input));
    checkChanges(r.changes);
    return [r.changes.length, parseApkVersionList(text(input)).length];
  },
  clear: [],
};

export const patchLogTargets: FuzzTarget[] = [uuLog, dpkgLog, aptHistory, dnfOutput, apkOutput];
