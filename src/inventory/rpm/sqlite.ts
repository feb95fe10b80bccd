// rpm's SQLite package database (`rpmdb.sqlite`, RHEL 9+, Fedora 33+): table `Packages`
// (hnum INTEGER PRIMARY KEY, blob BLOB) holds one header blob per installed package.
//
// Reading must not change the scanned tree (a mounted image, a read-only file system) and
// must not miss changes still in a write-ahead log, so the way the file is opened depends
// on what lies beside it:
//   no WAL/journal content  -> `immutable=1`: no locks, no -wal/-shm files created;
//   a WAL and its -shm      -> an ordinary read-only connection that shares the live
//                              writer's view (rpm or dnf may be running right now);
//   a WAL without -shm, or a hot rollback journal
//                           -> a private copy of database and log in a temporary
//                              directory, where SQLite may replay the log.
import { copyFileSync, mkdtempSync, openSync, readSync, closeSync, rmSync, statSync } from 'node:fs';
import type { Stats } from 'node:fs';
import { DatabaseSync } from 'node:sqlite';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { InventoryError } from '../reader.ts';
import { describeFsError } from '../rootfs.ts';
import type { HeaderRecord, RecordProblems } from './records.ts';
import { PatchloopError } from '../../core/errors.ts';

const SQLITE_MAGIC = 'SQLite format 3\0';
const HEADER_BYTES = 100;

/** True when `head` (the file's first bytes) starts with the SQLite file magic. */
export function looksLikeSqlite(head: Uint8Array): boolean {
  return head.length >= 16 && Buffer.from(head.buffer, head.byteOffset, 16).toString('latin1') === SQLITE_MAGIC;
}

/** The database changed while it was read without locks; read it again with `live`. */
export class SqliteChangedError extends PatchloopError {
  constructor(file: string) {
    super('PL_E_INVENTORY', `${file}: changed while being read`);
  }
}

export interface SqliteReadOptions {
  /** Open with locking even when no log is present (used after a SqliteChangedError). */
  live?: boolean;
}

type OpenMode = 'immutable' | 'live' | 'copy';

/**
 * Every header in the `Packages` table, in header-number order. An unreadable or damaged
 * file throws InventoryError naming `file`; an empty file (a database rpm created but never
 * initialised) yields no records and a warning.
 */
export function* readSqliteRecords(
  file: string,
  problems: RecordProblems,
  options: SqliteReadOptions = {},
): Generator<HeaderRecord> {
  const before = statOrThrow(file);
  if (before.size === 0) {
    problems.warn(null, 'empty file (0 bytes): an SQLite database that rpm never initialised; no packages');
    return;
  }
  const header = readHeader(file, before.size);
  const wal = header[18] === 2;
  const sidecar = `${file}${wal ? '-wal' : '-journal'}`;
  const sidecarSize = statOrNull(sidecar)?.size ?? 0;
  let mode: OpenMode;
  if (sidecarSize === 0 && !options.live) mode = 'immutable';
  else if (wal && statOrNull(`${file}-shm`) !== null) mode = 'live';
  else if (sidecarSize === 0) mode = 'live';
  else mode = 'copy';

  let tempDir: string | null = null;
  let db: DatabaseSync | null = null;
  try {
    if (mode === 'copy') {
      tempDir = mkdtempSync(path.join(tmpdir(), 'patchloop-rpmdb-'));
      const copy = path.join(tempDir, 'rpmdb.sqlite');
      copyFileSync(file, copy);
      copyFileSync(sidecar, copy + (wal ? '-wal' : '-journal'));
      db = new DatabaseSync(copy);
    } else if (mode === 'immutable') {
      const url = pathToFileURL(file);
      url.search = 'immutable=1';
      db = new DatabaseSync(url, { readOnly: true });
    } else {
      db = new DatabaseSync(file, { readOnly: true });
    }
    const tables = db
      .prepare("SELECT name FROM sqlite_master WHERE type = 'table'")
      .all()
      .map((row) => String(row.name));
    if (!tables.includes('Packages')) {
      if (tables.length === 0) {
        problems.warn(null, 'an SQLite database without tables (never initialised by rpm); no packages');
        return;
      }
      throw new InventoryError(
        file,
        `no Packages table (tables: ${tables.slice(0, 5).join(', ')}${tables.length > 5 ? ', ...' : ''}); not an rpm database`,
      );
    }
    for (const row of db.prepare('SELECT hnum, blob FROM Packages ORDER BY hnum').iterate()) {
      const id = row.hnum;
      const blob = row.blob;
      if (typeof id !== 'number' || !Number.isSafeInteger(id)) {
        problems.skip(null, `row with a non-integer hnum (${String(id)})`);
        continue;
      }
      if (!(blob instanceof Uint8Array)) {
        problems.skip(id, `blob column holds ${blob === null ? 'NULL' : typeof blob}, not a BLOB`);
        continue;
      }
      yield { id, blob };
    }
  } catch (err) {
    if (err instanceof InventoryError) throw err;
    throw new InventoryError(file, `SQLite: ${err instanceof Error ? err.message : String(err)}`);
  } finally {
    db?.close();
    if (tempDir !== null) rmSync(tempDir, { recursive: true, force: true });
  }

  // Without locks, a writer that started meanwhile could have handed us a torn read.
  if (mode === 'immutable') {
    const after = statOrNull(file);
    const sidecarAfter = statOrNull(sidecar)?.size ?? 0;
    if (after === null || after.size !== before.size || after.mtimeMs !== before.mtimeMs || sidecarAfter !== 0) {
      throw new SqliteChangedError(file);
    }
  }
}

function statOrThrow(file: string): Stats {
  try {
    return statSync(file);
  } catch (err) {
    throw new InventoryError(file, `cannot read: ${describeFsError(err)}`);
  }
}

function statOrNull(file: string): Stats | null {
  try {
    return statSync(file);
  } catch {
    return null;
  }
}

/** The 100-byte SQLite file header, after checking the magic and that no pages are missing. */
function readHeader(file: string, size: number): Uint8Array {
  const header = new Uint8Array(HEADER_BYTES);
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch (err) {
    throw new InventoryError(file, `cannot read: ${describeFsError(err)}`);
  }
  let got: number;
  try {
    got = readSync(fd, header, 0, HEADER_BYTES, 0);
  } finally {
    closeSync(fd);
  }
  if (got < HEADER_BYTES || !looksLikeSqlite(header))
    throw new InventoryError(file, 'not an SQLite database (no "SQLite format 3" header)');
  const view = new DataView(header.buffer);
  const rawPageSize = view.getUint16(16);
  const pageSize = rawPageSize === 1 ? 65536 : rawPageSize;
  if (pageSize < 512 || (pageSize & (pageSize - 1)) !== 0)
    throw new InventoryError(file, `SQLite header: invalid page size ${rawPageSize}`);
  // The in-header page count is valid only when its "version-valid-for" matches the change counter.
  const pageCount = view.getUint32(28);
  if (view.getUint32(92) === view.getUint32(24) && pageCount > 0 && size < pageCount * pageSize) {
    throw new InventoryError(
      file,
      `truncated: ${size} bytes, but the SQLite header describes ${pageCount} pages of ${pageSize} bytes`,
    );
  }
  return header;
}
