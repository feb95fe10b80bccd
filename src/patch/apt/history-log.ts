// Parser for apt's /var/log/apt/history.log: one stanza per package-manager transaction,
//   Start-Date: 2026-11-27  03:00:29
//   Commandline: /usr/bin/unattended-upgrade -v
//   Upgrade: libssl3:amd64 (3.0.20-1~deb12u2, 3.0.22-1~deb12u2), openssl:amd64 (…)
//   Error: Sub-process /usr/bin/dpkg returned an error code (1)
//   End-Date: 2026-11-27  03:00:29
// `unattended-upgrade --dry-run` writes stanzas too, for changes that never happened: they are
// flagged `dry_run` (the Commandline carries --dry-run) so callers can drop them.
import type { PackageChange } from '../types.ts';
import { PatchloopError } from '../../core/errors.ts';

export interface HistoryEntry {
  /** 1-based line of the stanza's first line. */
  line: number;
  /** Local wall time as logged (`YYYY-MM-DD  HH:MM:SS`, two spaces), or null when missing. */
  start: string | null;
  end: string | null;
  commandline: string | null;
  requested_by: string | null;
  dry_run: boolean;
  changes: Omit<PackageChange, 'ok'>[];
  error: string | null;
}

export class HistoryLogError extends PatchloopError {
  constructor(file: string, line: number, message: string) {
    super('PL_E_PATCH_LOG', `${file}:${line}: ${message}`);
  }
}

const ACTIONS: Record<string, PackageChange['action']> = {
  Install: 'install',
  Upgrade: 'upgrade',
  Downgrade: 'downgrade',
  Reinstall: 'reinstall',
  Remove: 'remove',
  Purge: 'purge',
};
const KNOWN = new Set(['Start-Date', 'End-Date', 'Commandline', 'Requested-By', 'Error', ...Object.keys(ACTIONS)]);

/** `libssl3:amd64 (3.0.20-1, 3.0.22-1)` entries of a package list. */
const ITEM = /([^\s,()]+) \(([^()]*)\)(?:, |$)/gy;

function parseItems(key: string, value: string): Omit<PackageChange, 'ok'>[] {
  const action = ACTIONS[key];
  const out: Omit<PackageChange, 'ok'>[] = [];
  ITEM.lastIndex = 0;
  let m: RegExpExecArray | null;
  let consumed = 0;
  while ((m = ITEM.exec(value)) !== null) {
    consumed = ITEM.lastIndex;
    const [pkg, inner] = [m[1], m[2]];
    const colon = pkg.indexOf(':');
    const name = colon >= 0 ? pkg.slice(0, colon) : pkg;
    if (name === '') throw new Error(`${key} lists ${JSON.stringify(pkg)}, which names no package`);
    const arch = colon >= 0 ? pkg.slice(colon + 1) : null;
    const parts = inner.split(', ');
    const automatic = parts.at(-1) === 'automatic';
    if (automatic) parts.pop();
    let from: string | null = null;
    let to: string | null = null;
    if (action === 'upgrade' || action === 'downgrade') {
      if (parts.length !== 2) throw new Error(`${key} of ${pkg} needs "(old, new)", got "(${inner})"`);
      [from, to] = parts;
    } else {
      if (parts.length !== 1) throw new Error(`${key} of ${pkg} needs "(version)", got "(${inner})"`);
      if (action === 'remove' || action === 'purge') from = parts[0];
      else if (action === 'reinstall') from = to = parts[0];
      else to = parts[0];
    }
    out.push({ name, arch, action, from, to, automatic });
  }
  if (consumed !== value.length)
    throw new Error(
      `cannot read the package list of ${key} at ${JSON.stringify(value.slice(consumed, consumed + 60))}`,
    );
  return out;
}

export interface HistoryParse {
  entries: HistoryEntry[];
  /** Fields patchloop does not know, each naming file and line. */
  warnings: string[];
}

export function parseHistoryLog(text: string, file: string, firstLine = 1): HistoryParse {
  const entries: HistoryEntry[] = [];
  const warnings: string[] = [];
  let cur: HistoryEntry | null = null;
  const lines = text.split('\n');
  lines.forEach((raw, i) => {
    const lineNo = firstLine + i;
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (line.trim() === '') {
      if (cur) entries.push(cur);
      cur = null;
      return;
    }
    const m = /^([A-Za-z][A-Za-z-]*): ?(.*)$/.exec(line);
    if (!m)
      throw new HistoryLogError(
        file,
        lineNo,
        `not an apt history line (expected "Field: value"): ${JSON.stringify(line.slice(0, 80))}`,
      );
    const [, key, value] = m;
    if (!cur) {
      cur = {
        line: lineNo,
        start: null,
        end: null,
        commandline: null,
        requested_by: null,
        dry_run: false,
        changes: [],
        error: null,
      };
    }
    const entry: HistoryEntry = cur;
    switch (key) {
      case 'Start-Date':
        entry.start = value;
        break;
      case 'End-Date':
        entry.end = value;
        break;
      case 'Commandline':
        entry.commandline = value;
        entry.dry_run = value.split(/\s+/).some((w) => w === '--dry-run' || w === '--simulate');
        break;
      case 'Requested-By':
        entry.requested_by = value;
        break;
      case 'Error':
        entry.error = entry.error ? `${entry.error}\n${value}` : value;
        break;
      default:
        // Own keys only: a field named `constructor` or `toString` is no action.
        if (Object.hasOwn(ACTIONS, key)) {
          try {
            entry.changes.push(...parseItems(key, value));
          } catch (err) {
            throw new HistoryLogError(file, lineNo, (err as Error).message);
          }
        } else if (!KNOWN.has(key)) {
          warnings.push(`${file}:${lineNo}: unknown history field ${key}`);
        }
    }
  });
  if (cur) entries.push(cur);
  return { entries, warnings };
}

/** Entries written by unattended-upgrade (real runs only unless `dryRun`). */
export function unattendedEntries(entries: readonly HistoryEntry[], dryRun = false): HistoryEntry[] {
  return entries.filter((e) => /(^|\/)unattended-upgrade(\s|$)/.test(e.commandline ?? '') && e.dry_run === dryRun);
}
