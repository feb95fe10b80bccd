// Small file operations on a root the patch code reads logs from and writes config into.
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, readlink, rename, stat, unlink, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import path from 'node:path';
import { isTimeZone } from '../core/policy/schema.ts';
import { isHostRoot, resolveInRoot } from '../inventory/rootfs.ts';

export async function fileSize(file: string): Promise<number> {
  try {
    return (await stat(file)).size;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 0;
    throw new Error(`${file}: ${(err as Error).message}`, { cause: err });
  }
}

export interface Tail {
  text: string;
  /** Line number (1-based) of the tail's first line in the whole file. */
  firstLine: number;
}

/**
 * What was appended to `file` after it was `offset` bytes long. A file that shrank meanwhile
 * was rotated or truncated: then all of it is new.
 */
export async function readTail(file: string, offset: number): Promise<Tail> {
  let buf: Buffer;
  try {
    buf = await readFile(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { text: '', firstLine: 1 };
    throw new Error(`${file}: ${(err as Error).message}`, { cause: err });
  }
  const from = buf.length >= offset ? offset : 0;
  let firstLine = 1;
  for (let i = 0; i < from; i++) if (buf[i] === 0x0a) firstLine++;
  return { text: buf.subarray(from).toString('utf8'), firstLine };
}

export async function readOptional(file: string): Promise<string | null> {
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new Error(`${file}: ${(err as Error).message}`, { cause: err });
  }
}

/** Writes `text` unless the file already holds it (write beside, then rename). Returns whether it changed. */
export async function writeIfChanged(file: string, text: string, mode = 0o644): Promise<boolean> {
  if ((await readOptional(file)) === text) return false;
  await mkdir(path.dirname(file), { recursive: true });
  const tmp = `${file}.patchloop-${randomBytes(4).toString('hex')}`;
  await writeFile(tmp, text, { mode });
  await rename(tmp, file);
  return true;
}

export async function removeIfPresent(file: string): Promise<boolean> {
  try {
    await unlink(file);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw new Error(`${file}: ${(err as Error).message}`, { cause: err });
  }
}

/** The IANA zone the root's clock runs in (its logs' timestamps are local time), else UTC. */
export async function rootTimeZone(root: string): Promise<string> {
  if (isHostRoot(root) && process.env.TZ) return process.env.TZ.replace(/^:/, '');
  const tzFile = await readOptional(await resolveInRoot(root, 'etc/timezone'));
  const fromFile = tzFile?.trim();
  if (fromFile && isTimeZone(fromFile)) return fromFile;
  try {
    const target = await readlink(path.join(root, 'etc/localtime'));
    const m = /zoneinfo\/(.+)$/.exec(target);
    if (m && isTimeZone(m[1])) return m[1];
  } catch {
    // not a link: fall through
  }
  return 'UTC';
}

export async function rootHostname(root: string): Promise<string | null> {
  if (isHostRoot(root)) return hostname();
  const text = await readOptional(await resolveInRoot(root, 'etc/hostname'));
  return text?.trim() || null;
}

export async function rootMachineId(root: string): Promise<string | null> {
  const text = await readOptional(await resolveInRoot(root, 'etc/machine-id'));
  const id = text?.trim();
  return id && /^[0-9a-f]{32}$/.test(id) ? id : null;
}
