// "Is another package manager running?" for a root, without taking any lock.
//
// apt and dpkg lock with fcntl(F_SETLK) record locks (POSIX), on /var/lib/dpkg/lock-frontend
// (the frontend lock, since apt 1.9 / dpkg 1.19.7), /var/lib/dpkg/lock, the lists and archives
// directories' `lock` files; unattended-upgrades adds /var/run/unattended-upgrades.lock.
// On Linux, fcntl locks and flock(2) locks do not see each other, so `flock -n` on the dpkg
// lock succeeds while apt holds it (checked: it does). The kernel's table of every lock of any
// kind is /proc/locks; a lock file is held when an entry names its device and inode. Reading
// it probes without a side effect and needs no helper process; a lock taken between the probe
// and the package manager's own attempt is caught by that attempt (u-u logs "Lock could not
// be acquired"), which the runner reads and waits for again.
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';

/** Lock files of a Debian-family root, most telling first. */
export const APT_LOCK_FILES = [
  'var/lib/dpkg/lock-frontend',
  'var/lib/dpkg/lock',
  'var/lib/apt/lists/lock',
  'var/cache/apt/archives/lock',
  'run/unattended-upgrades.lock',
] as const;

export interface LockEntry {
  /** `POSIX`, `FLOCK`, `OFDLCK`, `LEASE`, … */
  type: string;
  access: 'READ' | 'WRITE' | string;
  /** PID in the reader's PID namespace; 0 or -1 when not visible (other namespace, OFD lock). */
  pid: number;
  major: number;
  minor: number;
  inode: bigint;
}

/** Parses /proc/locks (`1: POSIX  ADVISORY  WRITE 27472 fe:00:10045499 0 EOF`); waiters (`->`) are skipped. */
export function parseProcLocks(text: string): LockEntry[] {
  const out: LockEntry[] = [];
  for (const line of text.split('\n')) {
    const m = /^\d+:\s+(\S+)\s+\S+\s+(\S+)\s+(-?\d+)\s+([0-9a-f]+):([0-9a-f]+):(\d+)\s/.exec(line);
    if (!m) continue; // blank, or a "->" waiter line
    out.push({
      type: m[1],
      access: m[2],
      pid: Number(m[3]),
      major: parseInt(m[4], 16),
      minor: parseInt(m[5], 16),
      inode: BigInt(m[6]),
    });
  }
  return out;
}

/** glibc's major()/minor() of a st_dev value. */
function devParts(dev: bigint): { major: number; minor: number } {
  const major = Number(((dev >> 8n) & 0xfffn) | ((dev >> 32n) & ~0xfffn));
  const minor = Number((dev & 0xffn) | ((dev >> 12n) & ~0xffn));
  return { major, minor };
}

export interface HeldLock {
  file: string;
  pid: number | null;
  /** The holder's command name (from /proc/PID/comm), when visible. */
  command: string | null;
}

async function commandOf(pid: number): Promise<string | null> {
  try {
    return (await readFile(`/proc/${pid}/comm`, 'utf8')).trim() || null;
  } catch {
    return null;
  }
}

/** Lock files of `root` that some process holds right now (empty: free). */
export async function heldLocks(root: string, files: readonly string[] = APT_LOCK_FILES): Promise<HeldLock[]> {
  const locks = parseProcLocks(await readFile('/proc/locks', 'utf8'));
  const held: HeldLock[] = [];
  for (const rel of files) {
    const file = path.join(root, rel);
    let st;
    try {
      st = await stat(file, { bigint: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue; // never created: nobody holds it
      throw new Error(`${file}: ${(err as Error).message}`, { cause: err });
    }
    const { major, minor } = devParts(st.dev);
    const entry = locks.find((l) => l.inode === st.ino && l.major === major && l.minor === minor);
    if (entry) {
      const pid = entry.pid > 0 ? entry.pid : null;
      held.push({ file, pid, command: pid ? await commandOf(pid) : null });
    }
  }
  return held;
}

export function describeHeld(held: readonly HeldLock[]): string {
  return held
    .map(
      (h) =>
        `${h.file} held by ${h.pid ? `process ${h.pid}${h.command ? ` (${h.command})` : ''}` : 'a process in another namespace'}`,
    )
    .join('; ');
}

export interface WaitResult {
  free: boolean;
  waited_ms: number;
  /** The locks still held when the wait gave up. */
  held: HeldLock[];
}

/**
 * Waits until no lock file of `root` is held, polling every `pollMs`, for at most
 * `timeoutMs`. Never takes or breaks a lock.
 */
export async function waitForLocks(
  root: string,
  opts: {
    timeoutMs: number;
    pollMs?: number;
    files?: readonly string[];
    now?: () => number;
    sleep?: (ms: number) => Promise<void>;
    onWait?: (held: HeldLock[]) => void;
  },
): Promise<WaitResult> {
  const now = opts.now ?? Date.now;
  const sleep = opts.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const start = now();
  let reported = false;
  for (;;) {
    const held = await heldLocks(root, opts.files);
    if (held.length === 0) return { free: true, waited_ms: now() - start, held };
    if (!reported) {
      opts.onWait?.(held);
      reported = true;
    }
    const elapsed = now() - start;
    if (elapsed >= opts.timeoutMs) return { free: false, waited_ms: elapsed, held };
    await sleep(Math.min(opts.pollMs ?? 1000, opts.timeoutMs - elapsed));
  }
}
