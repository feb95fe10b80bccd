// A real small file system for disk-full tests: a tmpfs mounted for one test (root only),
// unmounted afterwards, and a way to fill it to the last byte.
import { spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';

/** Mounts a tmpfs of `size` (e.g. "16m"); null (and the test skipped) where mounting is not allowed. */
export function mountTmpfs(t: TestContext, size: string): string | null {
  const dir = mkdtempSync(join(tmpdir(), 'patchloop-tmpfs-'));
  const r = spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${size},mode=0755`, 'tmpfs', dir], { encoding: 'utf8' });
  if (r.status !== 0) {
    rmSync(dir, { recursive: true, force: true });
    t.skip(`cannot mount a tmpfs (needs root): ${(r.stderr || r.error?.message || '').trim()}`);
    return null;
  }
  t.after(() => {
    spawnSync('umount', ['--lazy', dir]);
    rmSync(dir, { recursive: true, force: true });
  });
  return dir;
}

/** Writes `file` until the file system is full (ENOSPC), down to the last byte. */
export function fillUp(file: string): void {
  const fd = openSync(file, 'a');
  const chunk = Buffer.alloc(256 * 1024, 0x61);
  try {
    for (const size of [chunk.length, 4096, 1]) {
      try {
        for (;;) writeSync(fd, chunk, 0, size);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
      }
    }
  } finally {
    closeSync(fd);
  }
}
