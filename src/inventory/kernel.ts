// The running kernel's release (`uname -r`). Only the live system has one: for another root
// (an image, a mounted disk) it is whatever the caller says, else unknown.
import os from 'node:os';
import { isHostRoot } from './rootfs.ts';

/** Why `release` cannot be a kernel release (`uname -r` output), or null when it can. */
export function kernelReleaseProblem(release: string): string | null {
  if (release === '') return 'empty kernel release';
  if (release.length > 64) return 'kernel release longer than 64 characters';
  if (!/^[A-Za-z0-9][A-Za-z0-9._+~-]*$/.test(release)) return `invalid kernel release ${JSON.stringify(release)}`;
  return null;
}

/**
 * The kernel release to report for `root`: `override` when given (validated), else this
 * system's own when `root` is `/`, else null.
 */
export function runningKernel(root: string, override?: string): string | null {
  if (override !== undefined) {
    const problem = kernelReleaseProblem(override);
    if (problem) throw new RangeError(problem);
    return override;
  }
  return isHostRoot(root) ? os.release() : null;
}
