// rpm's own "ndb" package database (`Packages.db`, SUSE since SLE 15 / openSUSE), read from
// the bytes on disk. Layout (rpm's lib/backend/ndb/rpmpkg.c; all numbers little-endian):
//   a 32-byte file header: magic "RpmP", format version 0, generation, number of 4 KiB slot
//     pages, next package index;
//   slot pages: 16-byte slots after the header, each magic "Slot", package index, block
//     offset and block count (blocks are 16 bytes; offset 0 marks a free slot);
//   each slot's blob: a 16-byte head (magic "BlbS", package index, generation, length), the
//     header blob, zero padding to the block size, and a 12-byte tail (Adler-32 of head, blob
//     and padding; the length again; magic "BlbE").
// The file is read through a ByteSource: only slot pages, blob heads and tails, and the parts
// of each header the inventory needs are read, not the whole (often 100 MB+) file.
import { InventoryError } from '../reader.ts';
import { sliceSource } from './bytes.ts';
import type { ByteSource } from './bytes.ts';
import type { HeaderRecord, RecordProblems } from './records.ts';

const PAGE_SIZE = 4096;
const SLOT_SIZE = 16;
const BLOCK_SIZE = 16;
const FILE_HEADER_SIZE = 32;
const BLOB_HEAD_SIZE = 16;
const BLOB_TAIL_SIZE = 12;

const FILE_MAGIC = fourcc('RpmP');
const SLOT_MAGIC = fourcc('Slot');
const BLOB_HEAD_MAGIC = fourcc('BlbS');
const BLOB_TAIL_MAGIC = fourcc('BlbE');
const FORMAT_VERSION = 0;

function fourcc(s: string): number {
  return (s.charCodeAt(0) | (s.charCodeAt(1) << 8) | (s.charCodeAt(2) << 16) | (s.charCodeAt(3) << 24)) >>> 0;
}

/** True when `head` (the file's first bytes) starts with the NDB package database magic. */
export function looksLikeNdb(head: Uint8Array): boolean {
  return head.length >= 4 && new DataView(head.buffer, head.byteOffset, 4).getUint32(0, true) === FILE_MAGIC;
}

interface Slot {
  slotNo: number;
  pkgIdx: number;
  blockOff: number;
  blockCount: number;
}

/**
 * Every header stored in an NDB `Packages.db` read through `db`. A bad file header or slot
 * table, or a slot pointing past the end of the file, throws InventoryError naming `file`; a
 * damaged blob loses only its own record (`problems`). Blobs are yielded as lazy sources,
 * in file order; the Adler-32 checksum is checked only to explain a header that fails to
 * parse (rpm itself does not check it when reading).
 */
export function* readNdbRecords(file: string, db: ByteSource, problems: RecordProblems): Generator<HeaderRecord> {
  if (db.length < FILE_HEADER_SIZE)
    throw new InventoryError(file, `${db.length} bytes: too short for an NDB package database header`);
  const header = viewOf(db.read(0, FILE_HEADER_SIZE));
  if (header.getUint32(0, true) !== FILE_MAGIC)
    throw new InventoryError(file, 'not an NDB package database (no "RpmP" magic)');
  const version = header.getUint32(4, true);
  if (version !== FORMAT_VERSION)
    throw new InventoryError(file, `unsupported NDB format version ${version} (expected ${FORMAT_VERSION})`);
  const slotPages = header.getUint32(12, true);
  if (slotPages < 1) throw new InventoryError(file, 'the header claims no slot pages');
  if (db.length % BLOCK_SIZE !== 0) {
    throw new InventoryError(
      file,
      `truncated or damaged: ${db.length} bytes is not a whole number of ${BLOCK_SIZE}-byte blocks`,
    );
  }
  if (slotPages * PAGE_SIZE > db.length) {
    throw new InventoryError(
      file,
      `truncated: the header claims ${slotPages} slot pages (${slotPages * PAGE_SIZE} bytes) but the file has ${db.length}`,
    );
  }

  const fileBlocks = db.length / BLOCK_SIZE;
  const firstBlobBlock = (slotPages * PAGE_SIZE) / BLOCK_SIZE;
  const table = viewOf(db.read(0, slotPages * PAGE_SIZE));
  const slots: Slot[] = [];
  for (let pos = FILE_HEADER_SIZE; pos < table.byteLength; pos += SLOT_SIZE) {
    const slotNo = pos / SLOT_SIZE;
    if (table.getUint32(pos, true) !== SLOT_MAGIC)
      throw new InventoryError(file, `slot ${slotNo}: no "Slot" magic (damaged slot table)`);
    const blockOff = table.getUint32(pos + 8, true);
    if (blockOff === 0) continue; // a free slot
    const pkgIdx = table.getUint32(pos + 4, true);
    const blockCount = table.getUint32(pos + 12, true);
    if (pkgIdx === 0 || blockCount === 0 || blockOff < firstBlobBlock) {
      throw new InventoryError(
        file,
        `slot ${slotNo}: invalid entry (package ${pkgIdx}, blocks ${blockOff}+${blockCount})`,
      );
    }
    if (blockOff + blockCount > fileBlocks) {
      throw new InventoryError(
        file,
        `truncated: slot ${slotNo} (package ${pkgIdx}) ends at block ${blockOff + blockCount}, the file has ${fileBlocks}`,
      );
    }
    slots.push({ slotNo, pkgIdx, blockOff, blockCount });
  }
  // File order: each blob's tail read brings in the next blob's head.
  slots.sort((a, b) => a.blockOff - b.blockOff);

  for (const slot of slots) {
    const record = readBlob(slot);
    if (record !== null) yield record;
  }

  function readBlob(slot: Slot): HeaderRecord | null {
    const start = slot.blockOff * BLOCK_SIZE;
    const end = start + slot.blockCount * BLOCK_SIZE;
    const fail = (message: string): null => {
      problems.skip(slot.pkgIdx, `blob at byte ${start}: ${message}`);
      return null;
    };
    if (end - start < BLOB_HEAD_SIZE + BLOB_TAIL_SIZE)
      return fail(`${slot.blockCount} blocks cannot hold a blob head and tail`);
    const head = viewOf(db.read(start, BLOB_HEAD_SIZE));
    if (head.getUint32(0, true) !== BLOB_HEAD_MAGIC) return fail('no "BlbS" magic');
    const owner = head.getUint32(4, true);
    if (owner !== slot.pkgIdx) return fail(`head names package ${owner}, the slot package ${slot.pkgIdx}`);
    const length = head.getUint32(12, true);
    const blocksNeeded = Math.ceil((BLOB_HEAD_SIZE + length + BLOB_TAIL_SIZE) / BLOCK_SIZE);
    if (blocksNeeded !== slot.blockCount)
      return fail(`length ${length} needs ${blocksNeeded} blocks, the slot has ${slot.blockCount}`);
    const tailPos = end - BLOB_TAIL_SIZE;
    const tail = viewOf(db.read(tailPos, BLOB_TAIL_SIZE));
    if (tail.getUint32(8, true) !== BLOB_TAIL_MAGIC) return fail('no "BlbE" magic at its end');
    if (tail.getUint32(4, true) !== length)
      return fail(`tail length ${tail.getUint32(4, true)} differs from head length ${length}`);
    const stored = tail.getUint32(0, true);
    return {
      id: slot.pkgIdx,
      blob: sliceSource(db, start + BLOB_HEAD_SIZE, length),
      explainDamage(): string | null {
        const computed = adler32(db.read(start, tailPos - start), 0, tailPos - start);
        return computed === stored
          ? null
          : `its Adler-32 ${hex(computed)} differs from the stored ${hex(stored)}: the blob is damaged on disk`;
      },
    };
  }
}

function viewOf(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function hex(n: number): string {
  return `0x${n.toString(16).padStart(8, '0')}`;
}

/** Adler-32 (RFC 1950) of `data[start..end)`. */
export function adler32(data: Uint8Array, start: number, end: number): number {
  const MOD = 65521;
  // 5552 is the largest run whose sums cannot exceed 2^32 before reduction (zlib's NMAX).
  const NMAX = 5552;
  let a = 1;
  let b = 0;
  let i = start;
  while (i < end) {
    const stop = Math.min(end, i + NMAX);
    for (; i < stop; i++) {
      a += data[i];
      b += a;
    }
    a %= MOD;
    b %= MOD;
  }
  return ((b << 16) | a) >>> 0;
}
