// What the repository metadata needs from any package file: its bytes read in pieces, its
// digests, and the error that names a file which is not a package the repository can publish.
import { createHash } from 'node:crypto';
import { closeSync, createReadStream, openSync, readSync } from 'node:fs';
import { PatchloopError } from '../../core/errors.ts';

/** A file that cannot be published: not a package of its format, or not a patchloop package. */
export class PackageFileError extends PatchloopError {
  constructor(file: string, reason: string) {
    super('PL_E_USAGE', `${file}: ${reason}`);
  }
}

/** Reads `length` bytes at `offset`; fewer only at the end of the file. */
export function readAt(fd: number, offset: number, length: number): Buffer {
  const out = Buffer.alloc(length);
  let done = 0;
  while (done < length) {
    const n = readSync(fd, out, done, length - done, offset + done);
    if (n === 0) break;
    done += n;
  }
  return done === length ? out : out.subarray(0, done);
}

/** Runs `f` with the file open for reading. */
export function withFile<T>(file: string, f: (fd: number) => T): T {
  const fd = openSync(file, 'r');
  try {
    return f(fd);
  } finally {
    closeSync(fd);
  }
}

/** The hex digests of a whole file, read as a stream (packages are tens of MB). */
export async function fileDigests(file: string, algorithms: readonly string[]): Promise<Record<string, string>> {
  const hashes = algorithms.map((a) => createHash(a));
  for await (const chunk of createReadStream(file)) for (const h of hashes) h.update(chunk as Buffer);
  return Object.fromEntries(algorithms.map((a, i) => [a, hashes[i].digest('hex')]));
}
