// Parsers for dnf's machine-readable trail (dnf 4, RHEL 8/9 family): `dnf history list`,
// `dnf history info ID` and `dnf check-update` (the dry run). dnf-automatic itself only
// emits a human summary, so the results of a run come from the history transactions it added.
import type { PackageChange, PatchError } from '../types.ts';
import { PatchloopError } from '../../core/errors.ts';

/** dnf output that is not in the expected format; the message names the output and line. */
export class DnfOutputError extends PatchloopError {
  constructor(message: string, options?: ErrorOptions) {
    super('PL_E_PATCH_LOG', message, options);
  }
}

export interface Nevra {
  name: string;
  /** `[E:]V-R`, the epoch only when set (the inventory's rpm version format). */
  version: string;
  arch: string;
}

/** `openssl-libs-1:3.0.7-27.el9.x86_64` → name, `1:3.0.7-27.el9`, arch. */
export function parseNevra(s: string): Nevra {
  const dot = s.lastIndexOf('.');
  const rel = s.lastIndexOf('-', dot);
  const ver = s.lastIndexOf('-', rel - 1);
  if (dot <= 0 || rel <= 0 || ver <= 0) throw new DnfOutputError(`not a package NEVRA: ${JSON.stringify(s)}`);
  const name = s.slice(0, ver);
  let version = s.slice(ver + 1, rel);
  const m = /^(\d+):(.*)$/.exec(version);
  if (m && m[1] === '0') version = m[2];
  return { name, version: `${version}-${s.slice(rel + 1, dot)}`, arch: s.slice(dot + 1) };
}

/** A transaction id: digits that make an exact number (a longer run would name another transaction). */
function transactionNumber(s: string): number | null {
  const n = /^\d+$/.test(s) ? Number(s) : NaN;
  return Number.isSafeInteger(n) ? n : null;
}

export interface HistoryListRow {
  id: number;
  command: string;
  date: string;
  actions: string;
  altered: number;
}

/** `dnf history list` table rows (newest first, as dnf prints them). */
export function parseDnfHistoryList(text: string, file = 'dnf history list'): HistoryListRow[] {
  const rows: HistoryListRow[] = [];
  let header = false;
  text.split('\n').forEach((line, i) => {
    if (/^ID\s+\|/.test(line)) {
      header = true;
      return;
    }
    if (!header || /^-+$/.test(line.trim()) || line.trim() === '') return;
    const cells = line.split('|').map((c) => c.trim());
    const id = cells.length < 5 ? null : transactionNumber(cells[0]);
    if (id === null)
      throw new DnfOutputError(`${file}:${i + 1}: not a history row: ${JSON.stringify(line.slice(0, 80))}`);
    rows.push({
      id,
      command: cells[1],
      date: cells[2],
      actions: cells[3],
      altered: Number(/^\d+/.exec(cells[4])?.[0] ?? 'NaN'),
    });
  });
  if (!header && text.trim() !== '' && !/^No transactions/m.test(text))
    throw new DnfOutputError(`${file}: no "ID | Command line" header`);
  return rows;
}

export interface DnfTransaction {
  id: number;
  begin: string | null;
  end: string | null;
  command: string | null;
  /** `Success`, or the failure dnf recorded. */
  return_code: string | null;
  changes: PackageChange[];
  errors: PatchError[];
}

/**
 * `Key   : value` (dnf pads keys to align the colons); null for any other line. Split at the
 * first colon: one regular expression with a lazy key before `\s*:` backtracks quadratically
 * over a long run of spaces, and a megabyte of them took minutes.
 */
function fieldOf(line: string): [string, string] | null {
  const colon = line.indexOf(':');
  if (colon < 1) return null;
  const key = line.slice(0, colon).trimEnd();
  const value = /^ ?(.*)$/.exec(line.slice(colon + 1));
  return value && /^[A-Za-z][A-Za-z -]*$/.test(key) ? [key, value[1]] : null;
}

/**
 * `Fri 15 May 2026 02:13:40 AM UTC (4 seconds)` without the duration: what `/\s*\(.*\)$/`
 * would strip, found without that expression, whose `\s*` is tried from every space of a long
 * run of them (quadratic).
 */
function withoutDuration(value: string): string {
  if (!value.endsWith(')')) return value;
  // `.` stops at line terminators: the parenthesis opens after the last one.
  const lastBreak = Math.max(value.lastIndexOf('\r'), value.lastIndexOf('\u2028'), value.lastIndexOf('\u2029'));
  const open = value.indexOf('(', lastBreak + 1);
  return open === -1 ? value : value.slice(0, open).trimEnd();
}

const NEW_STATE: Record<string, PackageChange['action']> = {
  Install: 'install',
  Upgrade: 'upgrade',
  Downgrade: 'downgrade',
  Reinstall: 'reinstall',
  Removed: 'remove',
  Erase: 'remove',
  Obsoleting: 'install',
};
const OLD_STATE = new Set(['Upgraded', 'Downgraded', 'Reinstalled', 'Obsoleted']);

/** `dnf history info ID` for one transaction. */
export function parseDnfHistoryInfo(text: string, file = 'dnf history info'): DnfTransaction {
  const t: DnfTransaction = {
    id: NaN,
    begin: null,
    end: null,
    command: null,
    return_code: null,
    changes: [],
    errors: [],
  };
  let section: 'head' | 'packages' | 'other' = 'head';
  const pairs = new Map<string, PackageChange>();
  const list: PackageChange[] = [];
  text.split('\n').forEach((line, i) => {
    const field = fieldOf(line);
    if (section === 'head' || (field && !line.startsWith(' '))) {
      if (!field) return;
      const [key, value] = field;
      if (key === 'Packages Altered') section = 'packages';
      else if (/^(Scriptlet output|Packages Skipped|Problems|Rpmdb problems)$/.test(key)) section = 'other';
      else if (key === 'Transaction ID') t.id = transactionNumber(value.split(/\s/)[0]) ?? NaN;
      else if (key === 'Begin time') t.begin = value;
      else if (key === 'End time') t.end = withoutDuration(value);
      else if (key === 'Command Line') t.command = value;
      else if (key === 'Return-Code') t.return_code = value;
      return;
    }
    if (section !== 'packages' || line.trim() === '') return;
    const m = /^\s+(?:\*\*\s*)?(Reason Change|\S+)\s+(\S+)\s+(@\S+)?/.exec(line);
    if (!m) throw new DnfOutputError(`${file}:${i + 1}: not a package line: ${JSON.stringify(line.slice(0, 80))}`);
    const [, state, nevraText] = m;
    let nevra: Nevra;
    try {
      nevra = parseNevra(nevraText);
    } catch (err) {
      if (!(err instanceof DnfOutputError)) throw err;
      throw new DnfOutputError(`${file}:${i + 1}: ${err.message}`, { cause: err });
    }
    // Upgrade/Upgraded (and Downgrade, Reinstall) pairs are one change; installs and removals
    // stand alone (a kernel is installed and an older one removed under the same name)
    const key = `${nevra.name}.${nevra.arch}`;
    if (OLD_STATE.has(state)) {
      const c = pairs.get(key);
      if (c && (c.from === null || state === 'Reinstalled')) c.from = nevra.version;
      else {
        const lone: PackageChange = {
          name: nevra.name,
          arch: nevra.arch,
          action: state === 'Obsoleted' ? 'remove' : 'upgrade',
          from: nevra.version,
          to: null,
          automatic: false,
          ok: true,
        };
        pairs.set(key, lone);
        list.push(lone);
      }
      return;
    }
    const action = Object.hasOwn(NEW_STATE, state) ? NEW_STATE[state] : undefined;
    if (!action) return; // "Reason Change" and the like alter no package
    if (action === 'upgrade' || action === 'downgrade' || action === 'reinstall') {
      const prev = pairs.get(key);
      if (prev && prev.to === null) {
        prev.to = nevra.version;
        prev.action = action;
        return;
      }
      const c: PackageChange = {
        name: nevra.name,
        arch: nevra.arch,
        action,
        from: action === 'reinstall' ? nevra.version : null,
        to: nevra.version,
        automatic: false,
        ok: true,
      };
      pairs.set(key, c);
      list.push(c);
      return;
    }
    list.push({
      name: nevra.name,
      arch: nevra.arch,
      action,
      from: action === 'remove' ? nevra.version : null,
      to: action === 'remove' ? null : nevra.version,
      automatic: false,
      ok: true,
    });
  });
  if (!Number.isFinite(t.id)) throw new DnfOutputError(`${file}: no "Transaction ID" line`);
  t.changes = list;
  if (t.return_code && t.return_code !== 'Success') {
    for (const c of t.changes) c.ok = false;
    t.errors.push({
      kind: 'rpm',
      where: `dnf history info ${t.id}`,
      package: null,
      message: `transaction ${t.id}: ${t.return_code}`,
    });
  }
  return t;
}

/**
 * `dnf check-update` (exit 100 when updates exist): `name.arch  version  repo` rows, then
 * optionally "Obsoleting Packages". Installed versions are not shown; the caller fills them in.
 */
export function parseDnfCheckUpdate(text: string): { name: string; arch: string; version: string; repo: string }[] {
  const out: { name: string; arch: string; version: string; repo: string }[] = [];
  for (const line of text.split('\n')) {
    if (/^Obsoleting Packages/.test(line)) break;
    const m = /^(\S+)\.([A-Za-z0-9_]+)\s+(\S+)\s+(\S+)\s*$/.exec(line);
    if (!m || /^(Last|Security):?$/.test(m[1])) continue;
    const version = m[3].startsWith('0:') ? m[3].slice(2) : m[3];
    out.push({ name: m[1], arch: m[2], version, repo: m[4] });
  }
  return out;
}
