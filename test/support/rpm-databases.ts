// Test and benchmark support: rpm package databases built from header blobs, in each of the
// three on-disk formats, plus a small header builder for hand-made edge cases. The real
// headers come from the shared fixtures; only the containers around them are written here.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { pathToFileURL } from 'node:url';
import { pkgdb } from './paths.ts';
import { adler32 } from '../../src/inventory/rpm/ndb.ts';

/** A header blob with its record id, held in memory (what the writers below store). */
export interface StoredHeader {
  id: number;
  blob: Uint8Array;
}

/** A file or directory of the shared rpm fixtures (`../shared/data/pkgdb/rpm/` beside the repository). */
export function fixture(rel: string): string {
  return pkgdb(path.join('rpm', rel));
}

/** The 129 real installed-package headers of the CBL-Mariner 2.0 SQLite fixture, by hnum. */
export function marinerHeaders(): StoredHeader[] {
  const url = pathToFileURL(fixture('sqlite-cbl-mariner-2.0/rpmdb.sqlite'));
  url.search = 'immutable=1';
  const db = new DatabaseSync(url, { readOnly: true });
  try {
    return db
      .prepare('SELECT hnum, blob FROM Packages ORDER BY hnum')
      .all()
      .map((row) => ({ id: Number(row.hnum), blob: row.blob as Uint8Array }));
  } finally {
    db.close();
  }
}

/** `count` records cycling through `headers`, numbered 1..count (for size and speed tests). */
export function repeatHeaders(headers: readonly StoredHeader[], count: number): StoredHeader[] {
  return Array.from({ length: count }, (_, i) => ({ id: i + 1, blob: headers[i % headers.length].blob }));
}

/** An rpm `rpmdb.sqlite` with rpm's Packages table, left in WAL mode as rpm leaves it. */
export function writeSqliteRpmdb(file: string, records: readonly StoredHeader[]): void {
  const db = new DatabaseSync(file);
  try {
    db.exec('PRAGMA journal_mode = WAL');
    db.exec("CREATE TABLE 'Packages' (hnum INTEGER PRIMARY KEY AUTOINCREMENT, blob BLOB NOT NULL)");
    const insert = db.prepare('INSERT INTO Packages (hnum, blob) VALUES (?, ?)');
    db.exec('BEGIN');
    for (const r of records) insert.run(r.id, r.blob);
    db.exec('COMMIT');
  } finally {
    db.close();
  }
}

const NDB_PAGE = 4096;
const NDB_SLOT = 16;
const NDB_BLOCK = 16;

function le32(out: Uint8Array, pos: number, value: number): void {
  new DataView(out.buffer, out.byteOffset, out.byteLength).setUint32(pos, value >>> 0, true);
}

function ascii4(out: Uint8Array, pos: number, s: string): void {
  for (let i = 0; i < 4; i++) out[pos + i] = s.charCodeAt(i);
}

/** An NDB `Packages.db` image (the layout of rpm's rpmpkg.c) holding `records`, ids as package indexes. */
export function buildNdb(records: readonly StoredHeader[], generation = 1): Uint8Array {
  const slotsPerPage = NDB_PAGE / NDB_SLOT;
  const slotPages = Math.max(1, Math.ceil((records.length + 2) / slotsPerPage));
  const blobBlocks = records.map((r) => Math.ceil((16 + r.blob.length + 12) / NDB_BLOCK));
  const total = slotPages * NDB_PAGE + blobBlocks.reduce((a, b) => a + b, 0) * NDB_BLOCK;
  const out = new Uint8Array(total);
  ascii4(out, 0, 'RpmP');
  le32(out, 4, 0);
  le32(out, 8, generation);
  le32(out, 12, slotPages);
  le32(out, 16, Math.max(0, ...records.map((r) => r.id)) + 1);
  for (let pos = 32; pos < slotPages * NDB_PAGE; pos += NDB_SLOT) ascii4(out, pos, 'Slot');
  let block = (slotPages * NDB_PAGE) / NDB_BLOCK;
  records.forEach((r, i) => {
    const slotPos = 32 + i * NDB_SLOT;
    le32(out, slotPos + 4, r.id);
    le32(out, slotPos + 8, block);
    le32(out, slotPos + 12, blobBlocks[i]);
    const start = block * NDB_BLOCK;
    const end = start + blobBlocks[i] * NDB_BLOCK;
    ascii4(out, start, 'BlbS');
    le32(out, start + 4, r.id);
    le32(out, start + 8, generation);
    le32(out, start + 12, r.blob.length);
    out.set(r.blob, start + 16);
    le32(out, end - 12, adler32(out, start, end - 12));
    le32(out, end - 8, r.blob.length);
    ascii4(out, end - 4, 'BlbE');
    block += blobBlocks[i];
  });
  return out;
}

/**
 * A Berkeley DB hash `Packages` file written by Debian's db5.3_load (package db5.3-util):
 * key 0 holds rpm's next-number counter, every other key a header number in the file's
 * byte order, as rpm writes them on a host of that byte order.
 */
export interface DbLoadOptions {
  bigEndian?: boolean;
  pageSize?: number;
  /** Hash fill factor (keys per bucket): small values make many buckets over many split points. */
  fillFactor?: number;
}

export function writeBdbWithDbLoad(file: string, records: readonly StoredHeader[], opts: DbLoadOptions = {}): void {
  const key = (n: number): string => {
    const b = new Uint8Array(4);
    new DataView(b.buffer).setUint32(0, n, !opts.bigEndian);
    return Buffer.from(b).toString('hex');
  };
  const lines = ['VERSION=3', 'format=bytevalue', 'type=hash', `db_pagesize=${opts.pageSize ?? 4096}`];
  if (opts.fillFactor !== undefined) lines.push(`h_ffactor=${opts.fillFactor}`);
  lines.push('HEADER=END');
  lines.push(` ${key(0)}`, ` ${key(Math.max(0, ...records.map((r) => r.id)) + 1)}`);
  for (const r of records) lines.push(` ${key(r.id)}`, ` ${Buffer.from(r.blob).toString('hex')}`);
  lines.push('DATA=END', '');
  const dir = mkdtempSync(path.join(tmpdir(), 'patchloop-dbload-'));
  try {
    const dump = path.join(dir, 'dump.txt');
    writeFileSync(dump, lines.join('\n'));
    const args = opts.bigEndian ? ['-c', 'db_lorder=4321'] : [];
    execFileSync('db5.3_load', [...args, '-f', dump, file], { stdio: ['ignore', 'ignore', 'pipe'] });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** One index entry for buildHeader. */
export type HeaderEntrySpec =
  | { tag: number; type: 'string' | 'i18n'; value: string }
  | { tag: number; type: 'array'; value: string[] }
  | { tag: number; type: 'int32'; value: number };

const TYPE_CODES = { int32: 4, string: 6, array: 8, i18n: 9 } as const;

/** A header blob (intro, index in the given order, data store) as the databases store it. */
export function buildHeader(entries: readonly HeaderEntrySpec[]): Uint8Array {
  const chunks: number[] = [];
  const index: { tag: number; type: number; offset: number; count: number }[] = [];
  for (const e of entries) {
    if (e.type === 'int32') {
      while (chunks.length % 4 !== 0) chunks.push(0);
      index.push({ tag: e.tag, type: TYPE_CODES.int32, offset: chunks.length, count: 1 });
      chunks.push((e.value >>> 24) & 0xff, (e.value >>> 16) & 0xff, (e.value >>> 8) & 0xff, e.value & 0xff);
      continue;
    }
    const strings = e.type === 'array' ? e.value : [e.value];
    index.push({ tag: e.tag, type: TYPE_CODES[e.type], offset: chunks.length, count: strings.length });
    for (const s of strings) chunks.push(...Buffer.from(s, 'utf8'), 0);
  }
  const out = new Uint8Array(8 + index.length * 16 + chunks.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, index.length);
  view.setUint32(4, chunks.length);
  index.forEach((e, i) => {
    view.setUint32(8 + i * 16, e.tag);
    view.setUint32(12 + i * 16, e.type);
    view.setInt32(16 + i * 16, e.offset);
    view.setUint32(20 + i * 16, e.count);
  });
  out.set(chunks, 8 + index.length * 16);
  return out;
}
