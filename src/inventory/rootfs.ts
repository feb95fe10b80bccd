// Paths inside a root filesystem that is not necessarily `/` (a mounted image, a chroot).
// Symbolic links there must resolve against that root, not against the host: an image's
// `/etc/os-release -> /usr/lib/os-release` or `lib -> /usr/lib` would otherwise read the
// scanning host's own files.
import { lstat, readFile, readlink, stat } from 'node:fs/promises';
import path from 'node:path';
import { InventoryError } from './reader.ts';

/** Linux's own limit on symbolic links followed while resolving one path. */
const MAX_LINK_HOPS = 40;

/** True when `root` is the running system's own root directory. */
export function isHostRoot(root: string): boolean {
  return path.resolve(root) === '/';
}

/**
 * The host path of `rel` (a path inside `root`), following symbolic links as if `root` were
 * `/`. Components that do not exist are joined as they are, so the caller's read reports them.
 */
export async function resolveInRoot(root: string, rel: string): Promise<string> {
  const rootAbs = path.resolve(root);
  if (rootAbs === '/') return path.resolve('/', rel);
  const pending = splitPath(rel);
  const resolved: string[] = [];
  let hops = 0;
  while (pending.length > 0) {
    const part = pending.shift() as string;
    if (part === '..') {
      resolved.pop();
      continue;
    }
    const candidate = path.join(rootAbs, ...resolved, part);
    let isLink: boolean;
    try {
      isLink = (await lstat(candidate)).isSymbolicLink();
    } catch {
      // Nothing there: the rest is joined lexically, still never climbing above the root.
      for (const rest of [part, ...pending]) {
        if (rest === '..') resolved.pop();
        else resolved.push(rest);
      }
      break;
    }
    if (!isLink) {
      resolved.push(part);
      continue;
    }
    if (++hops > MAX_LINK_HOPS) throw new InventoryError(candidate, 'too many levels of symbolic links');
    const target = await readlink(candidate);
    if (target.startsWith('/')) resolved.length = 0;
    pending.unshift(...splitPath(target));
  }
  return path.join(rootAbs, ...resolved);
}

function splitPath(p: string): string[] {
  return p.split('/').filter((s) => s !== '' && s !== '.');
}

/** What is at `file`: 'file', 'dir', or null when nothing is there (or it cannot be examined). */
export async function kindOf(file: string): Promise<'file' | 'dir' | 'other' | null> {
  try {
    const st = await stat(file);
    if (st.isFile()) return 'file';
    if (st.isDirectory()) return 'dir';
    return 'other';
  } catch {
    return null;
  }
}

/**
 * The text of a package database file. Every failure becomes an InventoryError naming the
 * file; NUL bytes mean a binary or overwritten file, which no text database contains.
 */
export async function readDatabaseText(file: string): Promise<string> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new InventoryError(file, `cannot read: ${describeFsError(err)}`);
  }
  const nul = text.indexOf('\0');
  if (nul !== -1) {
    const line = countLines(text, nul);
    throw new InventoryError(file, `line ${line}: binary data (NUL byte); not a text package database`);
  }
  return text;
}

/** A short reason for a failed file-system call (`permission denied`, `no such file`...). */
export function describeFsError(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  switch (e?.code) {
    case 'ENOENT':
      return 'no such file or directory';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'EISDIR':
      return 'is a directory';
    case 'ENOTDIR':
      return 'a path component is not a directory';
    default:
      return e instanceof Error ? e.message : String(err);
  }
}

/** 1-based line number of character offset `pos` in `text`. */
export function countLines(text: string, pos: number): number {
  let line = 1;
  for (let i = text.indexOf('\n'); i !== -1 && i < pos; i = text.indexOf('\n', i + 1)) line++;
  return line;
}
