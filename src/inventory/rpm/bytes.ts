// Random access to bytes that need not be in memory as one piece: a header blob inside a
// large file, or scattered over Berkeley DB overflow pages. Headers are mostly file lists an
// inventory never looks at; reading only the index and a few strings keeps a database of
// thousands of packages fast to scan.
import { fstatSync, readSync } from 'node:fs';
import { InventoryError } from '../reader.ts';

export interface ByteSource {
  readonly length: number;
  /** `length` bytes from `offset`; the caller keeps the range inside `0..this.length`. */
  read(offset: number, length: number): Uint8Array;
}

export function memorySource(bytes: Uint8Array): ByteSource {
  return { length: bytes.length, read: (offset, length) => bytes.subarray(offset, offset + length) };
}

/** `length` bytes of `source` from `start`, addressed from 0. */
export function sliceSource(source: ByteSource, start: number, length: number): ByteSource {
  return { length, read: (offset, len) => source.read(start + offset, len) };
}

/** All of a source's bytes in one array (for tests and rare diagnostics). */
export function materialize(source: ByteSource | Uint8Array): Uint8Array {
  return source instanceof Uint8Array ? source : source.read(0, source.length);
}

/**
 * A file read with positional reads through a few small cached windows: nearby reads (a
 * header's intro, index and first strings; a blob's tail and the next blob's head) cost one
 * system call. Earlier results stay valid: each window is a fresh buffer.
 */
export class FileSource implements ByteSource {
  readonly length: number;
  readonly #file: string;
  readonly #fd: number;
  readonly #windowBytes: number;
  /** Most recently used first. */
  readonly #windows: { start: number; bytes: Uint8Array }[] = [];

  /** `fd` is open on `file`, which read errors name. */
  constructor(file: string, fd: number, windowBytes = 8192) {
    this.#file = file;
    this.#fd = fd;
    this.length = fstatSync(fd).size;
    this.#windowBytes = windowBytes;
  }

  read(offset: number, length: number): Uint8Array {
    for (let i = 0; i < this.#windows.length; i++) {
      const w = this.#windows[i];
      const rel = offset - w.start;
      if (rel >= 0 && rel + length <= w.bytes.length) {
        if (i > 0) this.#windows.unshift(...this.#windows.splice(i, 1));
        return w.bytes.subarray(rel, rel + length);
      }
    }
    const size = Math.min(Math.max(length, this.#windowBytes), this.length - offset);
    const buf = new Uint8Array(Math.max(size, 0));
    let got = 0;
    try {
      while (got < size) {
        const n = readSync(this.#fd, buf, got, size - got, offset + got);
        if (n === 0) break;
        got += n;
      }
    } catch (err) {
      throw new InventoryError(this.#file, `read error at byte ${offset}: ${(err as Error).message}`);
    }
    if (got < length)
      throw new InventoryError(
        this.#file,
        `ended at byte ${offset + got} while ${length} bytes at ${offset} were read (did it shrink?)`,
      );
    this.#windows.unshift({ start: offset, bytes: buf.subarray(0, got) });
    if (this.#windows.length > MAX_WINDOWS) this.#windows.pop();
    return buf.subarray(0, length);
  }
}

const MAX_WINDOWS = 4;

/** One piece of a segmented source: `length` bytes at `start` of the backing array. */
export interface Segment {
  start: number;
  length: number;
}

/** Bytes spread over pieces of one array, in order (a Berkeley DB overflow chain). */
export function segmentedSource(data: Uint8Array, segments: readonly Segment[]): ByteSource {
  const starts: number[] = [];
  let total = 0;
  for (const s of segments) {
    starts.push(total);
    total += s.length;
  }
  return {
    length: total,
    read(offset, length) {
      let i = findSegment(starts, offset);
      const within = offset - starts[i];
      const first = segments[i];
      if (within + length <= first.length) return data.subarray(first.start + within, first.start + within + length);
      // Straddles pages: copy the pieces together.
      const out = new Uint8Array(length);
      let filled = 0;
      let from = within;
      while (filled < length) {
        const seg = segments[i];
        const take = Math.min(seg.length - from, length - filled);
        out.set(data.subarray(seg.start + from, seg.start + from + take), filled);
        filled += take;
        from = 0;
        i++;
      }
      return out;
    },
  };
}

/** Index of the last segment starting at or before `offset`. */
function findSegment(starts: readonly number[], offset: number): number {
  let lo = 0;
  let hi = starts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (starts[mid] <= offset) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}
