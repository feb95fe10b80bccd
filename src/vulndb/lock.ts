// Exclusive locks between processes: one server per data directory, one `db update` per feed.
// The lock is a POSIX record lock that SQLite takes on a small lock file and keeps while the
// process holds it open. The kernel drops it when the process ends, however it ends (kill -9
// included), so a lock is never left stale and there is no pid file to trust or race for:
// taking it is one atomic step that either succeeds or finds it held. Beside the lock,
// `<file>.pid` names the holder for messages; it is information only, never the lock.
//
// The lock file itself must never be deleted: a process that opened the old inode would keep
// its lock while the next one locked a new file.
import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { DatabaseSync } from 'node:sqlite';
import { PatchloopError } from '../core/errors.ts';

const SQLITE_BUSY = 5;

export class LockHeldError extends PatchloopError {
  readonly file: string;
  /** The holder's pid as it recorded it, or null when it has not (yet) written it. */
  readonly holder: number | null;
  constructor(file: string, holder: number | null, what: string) {
    super('PL_E_LOCKED', `${what} (${holder === null ? 'pid not recorded' : `pid ${holder}`}; lock ${file})`);
    this.file = file;
    this.holder = holder;
  }
}

export interface HeldLock {
  readonly file: string;
  release(): void;
}

/**
 * Takes the lock on `file` (created when missing) or throws LockHeldError at once.
 * `held` describes the situation for the error message, e.g. "another update of feed debian is
 * running".
 */
export function acquireLock(file: string, held: string): HeldLock {
  const db = new DatabaseSync(file, { timeout: 0 });
  try {
    // The rollback journal in memory: holding the lock never writes a file beside it.
    db.exec('PRAGMA journal_mode = MEMORY; PRAGMA locking_mode = EXCLUSIVE; BEGIN EXCLUSIVE');
  } catch (err) {
    db.close();
    if ((err as { errcode?: number }).errcode === SQLITE_BUSY) throw new LockHeldError(file, lockHolder(file), held);
    throw err;
  }
  const pidFile = `${file}.pid`;
  const tmp = `${pidFile}.tmp-${process.pid}`;
  writeFileSync(tmp, `${process.pid}\n`);
  renameSync(tmp, pidFile);
  let released = false;
  return {
    file,
    release: () => {
      if (released) return;
      released = true;
      rmSync(pidFile, { force: true });
      db.close();
    },
  };
}

/** The pid recorded by the lock's holder (or by its last holder), or null. */
export function lockHolder(file: string): number | null {
  return readPidFile(`${file}.pid`);
}

/** The pid a file holds as text, or null when it holds none (missing, empty, garbage). */
export function readPidFile(path: string): number | null {
  try {
    const pid = Number.parseInt(readFileSync(path, 'utf8'), 10);
    return Number.isInteger(pid) && pid > 0 ? pid : null;
  } catch {
    return null;
  }
}

/** Whether a process with this pid exists (it may belong to another user). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
