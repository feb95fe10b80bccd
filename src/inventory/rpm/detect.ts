// Where rpm keeps its package database inside a root filesystem, and which one counts when
// several are there (a host converted from Berkeley DB keeps the old `Packages` beside the
// new `rpmdb.sqlite`; rpm reads the one its configured backend names, in practice the newest).
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { resolveInRoot } from '../rootfs.ts';

export type RpmDbKind = 'sqlite' | 'ndb' | 'bdb';

/** rpm's database directories: the current default first (Fedora 36+, SUSE), then the classic one. */
export const RPM_DB_DIRS = ['usr/lib/sysimage/rpm', 'var/lib/rpm'] as const;

/** File name of each backend's package database, in order of preference. */
export const RPM_DB_FILES: readonly { kind: RpmDbKind; file: string }[] = [
  { kind: 'sqlite', file: 'rpmdb.sqlite' },
  { kind: 'ndb', file: 'Packages.db' },
  { kind: 'bdb', file: 'Packages' },
];

export interface RpmDbCandidate {
  kind: RpmDbKind;
  /** Host path of the database file (symbolic links resolved inside the root). */
  path: string;
}

/**
 * Every rpm package database file under `root`, most preferred first: by backend (sqlite,
 * then ndb, then bdb), then by directory. One file reachable through both directories
 * (`var/lib/rpm` is often a link to `usr/lib/sysimage/rpm`) is listed once.
 */
export async function findRpmDatabases(root: string): Promise<RpmDbCandidate[]> {
  const found: RpmDbCandidate[] = [];
  const seen = new Set<string>();
  for (const { kind, file } of RPM_DB_FILES) {
    for (const dir of RPM_DB_DIRS) {
      const candidate = await resolveInRoot(root, `${dir}/${file}`);
      const identity = await fileIdentity(candidate);
      if (identity === null || seen.has(identity)) continue;
      seen.add(identity);
      found.push({ kind, path: candidate });
    }
  }
  return found;
}

/** Device and inode of a regular file (following links), or null when there is none. */
export async function fileIdentity(file: string): Promise<string | null> {
  try {
    const st = await stat(file);
    return st.isFile() ? `${st.dev}:${st.ino}` : null;
  } catch {
    return null;
  }
}

/** The backend a database file name belongs to, or null for an unknown name. */
export function kindFromFileName(file: string): RpmDbKind | null {
  const base = path.basename(file);
  return RPM_DB_FILES.find((f) => f.file === base)?.kind ?? null;
}
