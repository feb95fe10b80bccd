// The rpm inventory reader: finds the package database under a root and reads it natively
// (SQLite, NDB or Berkeley DB hash), without an rpm binary on the scanned host.
import { closeSync, openSync } from 'node:fs';
import { open, readFile } from 'node:fs/promises';
import type { InstalledPackage } from '../../core/types.ts';
import { InventoryError } from '../reader.ts';
import { describeFsError } from '../rootfs.ts';
import type { InventoryReader, ReadResult } from '../reader.ts';
import { looksLikeBdb, readBdbRecords } from './bdb.ts';
import { FileSource } from './bytes.ts';
import { fileIdentity, findRpmDatabases, kindFromFileName } from './detect.ts';
import type { RpmDbKind } from './detect.ts';
import { parseHeaderFields, RpmHeaderError } from './header.ts';
import { looksLikeNdb, readNdbRecords } from './ndb.ts';
import { toInstalledPackage } from './package.ts';
import type { HeaderRecord, RecordProblems } from './records.ts';
import { looksLikeSqlite, readSqliteRecords, SqliteChangedError } from './sqlite.ts';

export { parseSourceRpm, formatEvr } from './package.ts';
export { findRpmDatabases } from './detect.ts';
export type { RpmDbKind, RpmDbCandidate } from './detect.ts';

export const rpmReader: InventoryReader = {
  format: 'rpm',
  async detect(root: string): Promise<string | null> {
    const [best] = await findRpmDatabases(root);
    return best?.path ?? null;
  },
  async read(root: string, dbPath: string): Promise<ReadResult> {
    const result = await readRpmDatabase(dbPath);
    const others = await otherDatabases(root, dbPath);
    if (others.length > 0) {
      result.warnings.unshift(
        `${dbPath}: read this ${result.kind} database; also present and ignored: ${others.map((o) => `${o.path} (${o.kind})`).join(', ')}`,
      );
    }
    return { packages: result.packages, warnings: result.warnings };
  },
};

export interface RpmDatabaseContents extends ReadResult {
  kind: RpmDbKind;
}

/**
 * Reads one rpm package database file, whatever its backend (recognised by its contents;
 * an empty file by its name). Throws InventoryError naming the file when it cannot be read
 * as a whole; a damaged record becomes a warning naming the file and record.
 */
export async function readRpmDatabase(file: string): Promise<RpmDatabaseContents> {
  const kind = await sniffKind(file);
  if (kind === 'sqlite') return collectSqlite(file);
  const problems = new ProblemLog(file);
  if (kind === 'bdb')
    return { kind, ...toPackages(file, readBdbRecords(file, await readWhole(file), problems), problems) };
  // NDB blobs are contiguous, so only the parts of each header that are needed get read.
  const fd = openForReading(file);
  try {
    return { kind, ...toPackages(file, readNdbRecords(file, new FileSource(file, fd), problems), problems) };
  } finally {
    closeSync(fd);
  }
}

/** Problems with single records, as warnings naming the file and record. */
class ProblemLog implements RecordProblems {
  readonly warnings: string[] = [];
  lost = 0;
  firstLoss = '';
  readonly file: string;

  constructor(file: string) {
    this.file = file;
  }

  warn(id: number | null, message: string): void {
    this.warnings.push(id === null ? `${this.file}: ${message}` : `${this.file}: record ${id}: ${message}`);
  }

  skip(id: number | null, message: string): void {
    this.warn(id, `${message}; record skipped`);
    this.lost++;
    if (this.firstLoss === '') this.firstLoss = this.warnings[this.warnings.length - 1];
  }
}

/** SQLite is read without locks when nothing writes; a concurrent write means one locked retry. */
function collectSqlite(file: string): RpmDatabaseContents {
  for (const live of [false, true]) {
    const problems = new ProblemLog(file);
    try {
      return { kind: 'sqlite', ...toPackages(file, readSqliteRecords(file, problems, { live }), problems) };
    } catch (err) {
      if (!(err instanceof SqliteChangedError) || live) throw err;
    }
  }
  throw new InventoryError(file, 'changed while being read');
}

function toPackages(file: string, records: Iterable<HeaderRecord>, problems: ProblemLog): ReadResult {
  const found: { id: number; pkg: InstalledPackage }[] = [];
  let parsed = 0;
  for (const { id, blob, explainDamage } of records) {
    let pkg: InstalledPackage | null;
    try {
      pkg = toInstalledPackage(parseHeaderFields(blob), (message) => problems.warn(id, message));
    } catch (err) {
      if (!(err instanceof RpmHeaderError)) throw err;
      const damage = explainDamage?.() ?? null;
      problems.skip(id, `corrupt header: ${err.message}${damage === null ? '' : `; ${damage}`}`);
      continue;
    }
    parsed++;
    if (pkg !== null) found.push({ id, pkg });
  }
  // Records but not one of them readable: a damaged database, not an empty one.
  if (parsed === 0 && problems.lost > 0) {
    throw new InventoryError(
      file,
      `none of its ${problems.lost} package records could be read (first: ${problems.firstLoss})`,
    );
  }
  found.sort((a, b) => a.id - b.id);
  return { packages: found.map((f) => f.pkg), warnings: problems.warnings };
}

async function sniffKind(file: string): Promise<RpmDbKind> {
  let head: Uint8Array;
  try {
    const handle = await open(file, 'r');
    try {
      const buf = new Uint8Array(512);
      const { bytesRead } = await handle.read(buf, 0, buf.length, 0);
      head = buf.subarray(0, bytesRead);
    } finally {
      await handle.close();
    }
  } catch (err) {
    throw new InventoryError(file, `cannot read: ${describeFsError(err)}`);
  }
  if (looksLikeSqlite(head)) return 'sqlite';
  if (looksLikeNdb(head)) return 'ndb';
  if (looksLikeBdb(head)) return 'bdb';
  const byName = kindFromFileName(file);
  // An empty rpmdb.sqlite is a database SQLite would open as empty; the SQLite reader says so.
  if (head.length === 0 && byName === 'sqlite') return 'sqlite';
  if (head.length === 0) throw new InventoryError(file, 'empty file; not an rpm database');
  throw new InventoryError(file, 'not an rpm database (neither SQLite, NDB nor Berkeley DB hash)');
}

function openForReading(file: string): number {
  try {
    return openSync(file, 'r');
  } catch (err) {
    throw new InventoryError(file, `cannot read: ${describeFsError(err)}`);
  }
}

async function readWhole(file: string): Promise<Uint8Array> {
  try {
    return await readFile(file);
  } catch (err) {
    throw new InventoryError(file, `cannot read: ${describeFsError(err)}`);
  }
}

async function otherDatabases(root: string, dbPath: string): Promise<{ path: string; kind: RpmDbKind }[]> {
  const self = await fileIdentity(dbPath);
  const all = await findRpmDatabases(root);
  const others: { path: string; kind: RpmDbKind }[] = [];
  for (const candidate of all) {
    if ((await fileIdentity(candidate.path)) !== self) others.push(candidate);
  }
  return others;
}
