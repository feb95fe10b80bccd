// A host's package set as stored: sorted uint32 package ids in one blob (6 KB for 1,500
// packages), so a delta is applied in memory and written back as one value.
export function sortIds(ids: Iterable<number>): Uint32Array {
  return Uint32Array.from(ids).sort();
}

/** The blob of ids already sorted (sortIds). */
export function encodeSortedIds(sorted: Uint32Array): Uint8Array {
  return new Uint8Array(sorted.buffer, sorted.byteOffset, sorted.byteLength);
}

export function encodeIds(ids: Iterable<number>): Uint8Array {
  return encodeSortedIds(sortIds(ids));
}

export function decodeIds(blob: Uint8Array): Uint32Array {
  if (blob.byteLength % 4 !== 0)
    throw new Error(`corrupt package set: ${blob.byteLength} bytes is not a whole number of ids`);
  // Copy: the blob's buffer may not be aligned for a Uint32Array view.
  const copy = new Uint8Array(blob);
  return new Uint32Array(copy.buffer, 0, copy.byteLength / 4);
}

/** Whether a sorted set has an id (binary search: no hashing of the whole set). */
export function hasId(sorted: Uint32Array, id: number): boolean {
  let lo = 0;
  let hi = sorted.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid] === id) return true;
    if (sorted[mid] < id) lo = mid + 1;
    else hi = mid - 1;
  }
  return false;
}

/** What changes from one sorted set to another, in one merge pass. */
export function diffSortedIds(before: Uint32Array, after: Uint32Array): { gained: number[]; lost: number[] } {
  const gained: number[] = [];
  const lost: number[] = [];
  let i = 0;
  let j = 0;
  while (i < before.length || j < after.length) {
    if (j >= after.length || (i < before.length && before[i] < after[j])) lost.push(before[i++]);
    else if (i >= before.length || after[j] < before[i]) gained.push(after[j++]);
    else {
      i++;
      j++;
    }
  }
  return { gained, lost };
}
