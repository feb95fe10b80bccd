import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { once } from 'node:events';
import { heldLocks, parseProcLocks, waitForLocks } from './lock.ts';

// Real /proc/locks lines from this project's test root while python3-apt held the dpkg lock.
const SAMPLE = `1: POSIX  ADVISORY  WRITE 11426 fe:00:5357590 0 EOF
2: FLOCK  ADVISORY  WRITE 11426 fe:00:9986367 0 EOF
3: POSIX  ADVISORY  WRITE 27540 fe:00:10051763 1073741825 1073741825
5: POSIX  ADVISORY  WRITE 27472 fe:00:10045499 0 EOF
8: FLOCK  ADVISORY  WRITE 11328 fe:00:5357573 0 EOF
8: -> FLOCK  ADVISORY  WRITE 11586 fe:00:5357573 0 EOF
`;

test('/proc/locks lines, waiters skipped', () => {
  const locks = parseProcLocks(SAMPLE);
  assert.equal(locks.length, 5);
  assert.deepEqual(locks[3], { type: 'POSIX', access: 'WRITE', pid: 27472, major: 0xfe, minor: 0, inode: 10045499n });
});

const PYTHON = '/usr/bin/python3';

/** Holds a lock on `file` in another process: `lockf` is fcntl(F_SETLK), as apt and dpkg lock. */
async function holdLock(file: string, kind: 'fcntl' | 'flock'): Promise<ChildProcess> {
  const call = kind === 'fcntl' ? 'fcntl.lockf(f, fcntl.LOCK_EX)' : 'fcntl.flock(f, fcntl.LOCK_EX)';
  const child = spawn(
    PYTHON,
    [
      '-c',
      `import fcntl, sys, time\nf = open(sys.argv[1], 'r+')\n${call}\nprint('locked', flush=True)\ntime.sleep(60)`,
      file,
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const [chunk] = (await once(child.stdout!, 'data')) as [Buffer];
  assert.equal(chunk.toString().trim(), 'locked');
  return child;
}

async function release(child: ChildProcess): Promise<void> {
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  await exited;
}

test(
  'a held dpkg lock is detected with its holder, by fcntl or flock, without taking it',
  { skip: !existsSync(PYTHON) && 'python3 is not installed' },
  async () => {
    const root = await mkdtemp(path.join(os.tmpdir(), 'patchloop-lock-'));
    try {
      await mkdir(path.join(root, 'var/lib/dpkg'), { recursive: true });
      const frontend = path.join(root, 'var/lib/dpkg/lock-frontend');
      await writeFile(frontend, '');
      await writeFile(path.join(root, 'var/lib/dpkg/lock'), '');
      assert.deepEqual(await heldLocks(root), [], 'lock files that exist but nobody holds');

      const holder = await holdLock(frontend, 'fcntl');
      try {
        const held = await heldLocks(root);
        assert.deepEqual(held, [{ file: frontend, pid: holder.pid, command: 'python3' }]);
        const wait = await waitForLocks(root, { timeoutMs: 300, pollMs: 100 });
        assert.equal(wait.free, false);
        assert.equal(wait.held[0].pid, holder.pid);
        // released while waiting: the wait ends free
        const waiting = waitForLocks(root, { timeoutMs: 30_000, pollMs: 50 });
        await release(holder);
        assert.equal((await waiting).free, true);
      } finally {
        holder.kill('SIGKILL');
      }

      const flocker = await holdLock(path.join(root, 'var/lib/dpkg/lock'), 'flock');
      try {
        assert.deepEqual(
          (await heldLocks(root)).map((h) => h.file),
          [path.join(root, 'var/lib/dpkg/lock')],
        );
      } finally {
        await release(flocker);
      }
      assert.deepEqual(await heldLocks(root), []);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  },
);
