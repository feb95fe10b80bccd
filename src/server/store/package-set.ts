// A host's package set as stored: sorted uint32 package ids in one blob (6 KB for 1,500
// packages), so a delta is applied in memory and written back as one value.
export function encodeIds(ids: Iterable<number>): Uint8Array {
  const arr = Uint32Array.from(ids).sort();
  return new Uint8Array(arr.buffer, arr.byteOffset, arr.byteLength);
}

export function decodeIds(blob: Uint8Array): Uint32Array {
  if (blob.byteLength % 4 !== 0) throw new Error(`corrupt package set: ${blob.byteLength} bytes is not a whole number of ids`);
  // Copy: the blob's buffer may not be aligned for a Uint32Array view.
  const copy = new Uint8Array(blob);
  return new Uint32Array(copy.buffer, 0, copy.byteLength / 4);
}
