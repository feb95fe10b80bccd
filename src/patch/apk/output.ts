// Parser for `apk upgrade` / `apk add -u` output (apk-tools 2.x, Alpine), which is also what
// `--simulate` prints for a dry run:
//   (1/3) Upgrading musl (1.2.4-r1 -> 1.2.4-r2)
//   (2/3) Installing libfoo (1.0-r0)
//   Executing busybox-1.36.1-r5.trigger
//   OK: 10 MiB in 18 packages         (or: "1 error; 10 MiB in 18 packages")
// apk-tools prints an ERROR: line per problem, naming the package first where there is one.
import type { PackageChange, PatchError } from '../types.ts';

export interface ApkResult {
  changes: PackageChange[];
  errors: PatchError[];
  /** apk's closing line said OK. */
  ok: boolean;
  /** The database was locked by another apk. */
  locked: boolean;
}

const ACTION: Record<string, PackageChange['action']> = {
  Upgrading: 'upgrade',
  Updating: 'upgrade',
  Downgrading: 'downgrade',
  Installing: 'install',
  Reinstalling: 'reinstall',
  Replacing: 'reinstall',
  Purging: 'purge',
  Deleting: 'remove',
};

export function parseApkOutput(text: string, where = 'apk'): ApkResult {
  const res: ApkResult = { changes: [], errors: [], ok: false, locked: false };
  for (const line of text.split('\n')) {
    let m: RegExpExecArray | null;
    if ((m = /^\(\d+\/\d+\) (\w+) (\S+) \(([^)]*)\)/.exec(line))) {
      // Own keys only: "(1/2) constructor x (1)" must not find Object.prototype.constructor.
      const action = Object.hasOwn(ACTION, m[1]) ? ACTION[m[1]] : undefined;
      if (!action) continue;
      const [from, to] = m[3].includes(' -> ')
        ? m[3].split(' -> ')
        : action === 'remove' || action === 'purge'
          ? [m[3], null]
          : [action === 'reinstall' ? m[3] : null, m[3]];
      res.changes.push({ name: m[2], arch: null, action, from, to, automatic: false, ok: true });
    } else if ((m = /^ERROR: (.*)$/.exec(line))) {
      const msg = m[1];
      if (/[Uu]nable to lock database|temporarily unavailable/.test(msg)) res.locked = true;
      const pkg = /^([a-z0-9][\w+.-]*?)-\d[\w.+~-]*-r\d+: /.exec(msg);
      const name = pkg ? pkg[1] : null;
      res.errors.push({ kind: res.locked ? 'lock' : 'apk', where, package: name, message: msg });
      if (name) for (const c of res.changes) if (c.name === name) c.ok = false;
    } else if (/^OK: /.test(line)) {
      res.ok = true;
    } else if (/^\d+ errors?; /.test(line)) {
      if (res.errors.length === 0) res.errors.push({ kind: 'apk', where, package: null, message: line.trim() });
    }
  }
  return res;
}

/** `apk version -l '<'`: installed packages with a newer version available. */
export function parseApkVersionList(text: string): { name: string; installed: string; available: string | null }[] {
  const out: { name: string; installed: string; available: string | null }[] = [];
  for (const line of text.split('\n')) {
    // "musl-1.2.4-r1                < 1.2.4-r2"
    const m = /^(\S+?)-(\d[\w.+~]*-r\d+)\s+<\s*(\S+)?/.exec(line);
    if (m) out.push({ name: m[1], installed: m[2], available: m[3] ?? null });
  }
  return out;
}
