// Berkeley DB hash databases (`Packages` of RHEL/CentOS 5-8, SLES before 15), read from
// the bytes on disk without libdb. Layout, from the format's public descriptions:
//   page 0, the hash metadata page: magic 0x061561 at byte 12 (its byte order is the file's
//     byte order), version, page size, last page number, bucket count and the `spares`
//     table that maps a bucket to its first page;
//   hash pages (type 13, or 2 for unsorted): a 26-byte page header (page number, previous
//     and next page of the bucket's chain, entry count, type) and then an array of 16-bit
//     offsets to items, which alternate key and value; each item starts with a type byte:
//     1 = the bytes follow inline, 3 = they live in a chain of overflow pages;
//   overflow pages (type 7): the same page header, the used length in the "high free
//     offset" field, the next page of the chain, and the bytes from offset 26.
// In rpm's Packages database the key is the header number (4 bytes, the file's byte order)
// and the value the header blob; key 0 holds rpm's next-number counter, not a package.
import { InventoryError } from '../reader.ts';
import { materialize, segmentedSource } from './bytes.ts';
import type { ByteSource, Segment } from './bytes.ts';
import type { HeaderRecord, RecordProblems } from './records.ts';

export const BDB_HASH_MAGIC = 0x061561;
const BDB_BTREE_MAGIC = 0x053162;

const PAGE_HEADER_BYTES = 26;
const PAGE_HASH_UNSORTED = 2;
const PAGE_OVERFLOW = 7;
const PAGE_HASH_META = 8;
const PAGE_HASH = 13;

const ITEM_KEYDATA = 1;
const ITEM_OFFPAGE = 3;
const OFFPAGE_ITEM_BYTES = 12;

/** Hash format versions written by Berkeley DB 2.x-6.x that rpm's own reader accepts. */
const MIN_HASH_VERSION = 8;
const MAX_HASH_VERSION = 10;

interface HashMeta {
  littleEndian: boolean;
  pageSize: number;
  lastPage: number;
  maxBucket: number;
  spares: number[];
}

/** True when `head` (the file's first bytes) looks like a Berkeley DB hash or btree file. */
export function looksLikeBdb(head: Uint8Array): boolean {
  if (head.length < 16) return false;
  const view = new DataView(head.buffer, head.byteOffset, head.byteLength);
  const le = view.getUint32(12, true);
  const be = view.getUint32(12, false);
  return le === BDB_HASH_MAGIC || be === BDB_HASH_MAGIC || le === BDB_BTREE_MAGIC || be === BDB_BTREE_MAGIC;
}

/**
 * Every header stored in a Berkeley DB hash `Packages` file whose whole contents are `data`.
 * Structural damage (bad metadata, a bucket chain that leaves the file or loops) throws
 * InventoryError naming `file`; a damaged overflow chain loses only its own record, reported
 * through `problems`.
 */
export function* readBdbRecords(file: string, data: Uint8Array, problems: RecordProblems): Generator<HeaderRecord> {
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const meta = readMeta(file, data, view);
  const { littleEndian: le, pageSize } = meta;
  const u16 = (pos: number): number => view.getUint16(pos, le);
  const u32 = (pos: number): number => view.getUint32(pos, le);

  /** Byte position of page `pgno`, after checking that the page is where it claims to be. */
  const pageAt = (pgno: number, what: string): number => {
    if (pgno < 1 || pgno > meta.lastPage)
      throw new InventoryError(file, `${what} points to page ${pgno}, outside pages 1..${meta.lastPage}`);
    const pos = pgno * pageSize;
    const stored = u32(pos + 8);
    if (stored !== pgno)
      throw new InventoryError(file, `page ${pgno} records itself as page ${stored} (corrupt or not a database page)`);
    return pos;
  };

  const visited = new Set<number>();
  for (let bucket = 0; bucket <= meta.maxBucket; bucket++) {
    let pgno = bucket + meta.spares[bitLength(bucket)];
    let what = `hash bucket ${bucket}`;
    while (pgno !== 0) {
      if (visited.has(pgno))
        throw new InventoryError(file, `${what} leads back to page ${pgno} (a loop in the hash chains)`);
      visited.add(pgno);
      const pos = pageAt(pgno, what);
      const type = data[pos + 25];
      if (type !== PAGE_HASH && type !== PAGE_HASH_UNSORTED) {
        throw new InventoryError(file, `page ${pgno} (${what}) is of type ${type}, not a hash page`);
      }
      yield* readHashPage(pgno, pos);
      what = `page ${pgno}'s next-page link`;
      pgno = u32(pos + 16);
    }
  }

  function* readHashPage(pgno: number, pos: number): Generator<HeaderRecord> {
    const entries = u16(pos + 20);
    const firstItem = PAGE_HEADER_BYTES + entries * 2;
    if (entries % 2 !== 0 || firstItem > pageSize) {
      throw new InventoryError(file, `page ${pgno} claims ${entries} items, not key/value pairs that fit the page`);
    }
    for (let i = 0; i < entries; i += 2) {
      const keyOff = u16(pos + PAGE_HEADER_BYTES + i * 2);
      const valOff = u16(pos + PAGE_HEADER_BYTES + (i + 1) * 2);
      // Items are packed from the end of the page downwards: each ends where the previous begins.
      const keyEnd = i === 0 ? pageSize : u16(pos + PAGE_HEADER_BYTES + (i - 1) * 2);
      if (keyOff < firstItem || keyOff >= keyEnd || keyEnd > pageSize || valOff < firstItem || valOff >= keyOff) {
        throw new InventoryError(
          file,
          `page ${pgno}, item pair ${i / 2}: item offsets ${keyOff}/${valOff} are out of order or outside the page`,
        );
      }
      const keyItem = itemBytes(pgno, pos, keyOff, keyEnd, null);
      if (keyItem === null) continue;
      const key = materialize(keyItem);
      if (key.length !== 4) {
        problems.skip(null, `page ${pgno}, item pair ${i / 2}: key of ${key.length} bytes, not a 4-byte header number`);
        continue;
      }
      const id = new DataView(key.buffer, key.byteOffset, 4).getUint32(0, le);
      if (id === 0) continue; // rpm's counter of the next header number
      const blob = itemBytes(pgno, pos, valOff, keyOff, id);
      if (blob !== null) yield { id, blob };
    }
  }

  /** The bytes of the item at `off..end` of page `pgno`; null (the record skipped) when unreadable. */
  function itemBytes(
    pgno: number,
    pos: number,
    off: number,
    end: number,
    id: number | null,
  ): Uint8Array | ByteSource | null {
    const type = data[pos + off];
    if (type === ITEM_KEYDATA) return data.subarray(pos + off + 1, pos + end);
    if (type === ITEM_OFFPAGE) {
      if (end - off !== OFFPAGE_ITEM_BYTES) {
        throw new InventoryError(
          file,
          `page ${pgno}: overflow reference of ${end - off} bytes, expected ${OFFPAGE_ITEM_BYTES}`,
        );
      }
      return overflowChain(u32(pos + off + 4), u32(pos + off + 8), id);
    }
    problems.skip(id, `page ${pgno}: item of unsupported type ${type} (rpm stores no duplicates)`);
    return null;
  }

  /** The pages of an overflow chain as one source, checked end to end but not copied. */
  function overflowChain(first: number, total: number, id: number | null): ByteSource | null {
    const segments: Segment[] = [];
    let filled = 0;
    let pgno = first;
    const seen = new Set<number>();
    while (filled < total) {
      if (pgno < 1 || pgno > meta.lastPage || seen.has(pgno)) {
        problems.skip(id, `overflow chain breaks at page ${pgno} after ${filled} of ${total} bytes`);
        return null;
      }
      seen.add(pgno);
      const pos = pgno * pageSize;
      const len = u16(pos + 22);
      if (
        u32(pos + 8) !== pgno ||
        data[pos + 25] !== PAGE_OVERFLOW ||
        PAGE_HEADER_BYTES + len > pageSize ||
        len === 0 ||
        filled + len > total
      ) {
        problems.skip(id, `overflow page ${pgno} is not a valid continuation (${filled} of ${total} bytes read)`);
        return null;
      }
      segments.push({ start: pos + PAGE_HEADER_BYTES, length: len });
      filled += len;
      pgno = u32(pos + 16);
    }
    return segmentedSource(data, segments);
  }
}

function readMeta(file: string, data: Uint8Array, view: DataView): HashMeta {
  if (data.length < 512)
    throw new InventoryError(file, `${data.length} bytes: too short for a Berkeley DB metadata page`);
  const magicLe = view.getUint32(12, true);
  const magicBe = view.getUint32(12, false);
  if (magicLe === BDB_BTREE_MAGIC || magicBe === BDB_BTREE_MAGIC) {
    throw new InventoryError(
      file,
      'a Berkeley DB btree (an rpm index), not the hash database that holds the package headers',
    );
  }
  if (magicLe !== BDB_HASH_MAGIC && magicBe !== BDB_HASH_MAGIC) {
    throw new InventoryError(file, 'not a Berkeley DB hash database (no 0x061561 magic at byte 12)');
  }
  const le = magicLe === BDB_HASH_MAGIC;
  const u32 = (pos: number): number => view.getUint32(pos, le);
  const version = u32(16);
  if (version < MIN_HASH_VERSION || version > MAX_HASH_VERSION) {
    throw new InventoryError(
      file,
      `unsupported Berkeley DB hash version ${version} (supported ${MIN_HASH_VERSION}..${MAX_HASH_VERSION})`,
    );
  }
  const pageSize = u32(20);
  if (pageSize < 512 || pageSize > 65536 || (pageSize & (pageSize - 1)) !== 0) {
    throw new InventoryError(file, `invalid Berkeley DB page size ${pageSize}`);
  }
  if (data[24] !== 0) throw new InventoryError(file, 'encrypted Berkeley DB database; rpm never encrypts its database');
  if (data[25] !== PAGE_HASH_META)
    throw new InventoryError(file, `metadata page has type ${data[25]}, expected ${PAGE_HASH_META} (hash metadata)`);
  const lastPage = u32(32);
  const needed = (lastPage + 1) * pageSize;
  if (data.length < needed) {
    throw new InventoryError(
      file,
      `truncated: ${data.length} bytes, but the metadata describes ${lastPage + 1} pages of ${pageSize} bytes (${needed} bytes)`,
    );
  }
  const maxBucket = u32(72);
  const spares: number[] = [];
  for (let i = 0; i < 32; i++) spares.push(u32(96 + i * 4));
  // Bucket b starts at page b + spares[bitLength(b)]; every bucket must land inside the file.
  if (maxBucket > lastPage)
    throw new InventoryError(file, `metadata claims ${maxBucket + 1} hash buckets in a file of ${lastPage + 1} pages`);
  return { littleEndian: le, pageSize, lastPage, maxBucket, spares };
}

/** Number of bits needed to write `n` (0 for 0): the split point a bucket belongs to. */
function bitLength(n: number): number {
  return n === 0 ? 0 : 32 - Math.clz32(n);
}
