// Opens the server's SQLite store: WAL journal (readers never block the writer), schema
// created on first use, checked on every open and upgraded from older versions (migrate.ts).
import { chmodSync, existsSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { migrateStore } from './migrate.ts';
import { SCHEMA, STORE_SCHEMA_VERSION } from './schema.ts';
import { PatchloopError } from '../../core/errors.ts';

export interface StoreOptions {
  /**
   * `normal`: a commit is durable once written to the WAL in the OS (survives the server
   * being killed; power loss may lose the last commits). `full`: fsync on every commit.
   */
  synchronous?: 'normal' | 'full';
  /** Page cache size in MiB. */
  cacheMiB?: number;
}

export function openDatabase(file: string, options: StoreOptions = {}): DatabaseSync {
  const fresh = file === ':memory:' || !existsSync(file);
  if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  let db: DatabaseSync;
  try {
    db = new DatabaseSync(file);
    if (fresh && file !== ':memory:') chmodSync(file, 0o600);
    db.exec(`PRAGMA journal_mode = WAL;
      PRAGMA synchronous = ${options.synchronous === 'full' ? 'FULL' : 'NORMAL'};
      PRAGMA busy_timeout = 10000;
      PRAGMA temp_store = MEMORY;
      PRAGMA cache_size = -${(options.cacheMiB ?? 64) * 1024};
      PRAGMA foreign_keys = OFF;`);
  } catch (err) {
    throw new PatchloopError(
      'PL_E_STORE',
      `cannot open the server store ${file}: ${err instanceof Error ? err.message : String(err)}`,
    );
  }
  const hasMeta = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'meta'").get();
  if (!hasMeta) {
    const tables = db.prepare("SELECT count(*) AS n FROM sqlite_master WHERE type = 'table'").get() as { n: number };
    if (tables.n > 0) {
      db.close();
      throw new PatchloopError(
        'PL_E_STORE',
        `${file} is not a patchloop server store (it has tables but no meta table)`,
      );
    }
    db.exec('BEGIN');
    db.exec(SCHEMA);
    db.prepare('INSERT INTO meta (key, value) VALUES (?, ?)').run('schema_version', String(STORE_SCHEMA_VERSION));
    db.prepare('INSERT INTO meta (key, value) VALUES (?, ?)').run('match_gen', '1');
    db.exec('COMMIT');
  } else {
    const row = db.prepare("SELECT value FROM meta WHERE key = 'schema_version'").get() as
      { value: string } | undefined;
    const version = Number(row?.value);
    if (version !== STORE_SCHEMA_VERSION && !migrateStore(db, version, STORE_SCHEMA_VERSION)) {
      db.close();
      throw new PatchloopError(
        'PL_E_STORE',
        `${file} has store schema ${row?.value ?? '(none)'}, this patchloop uses ${STORE_SCHEMA_VERSION}`,
      );
    }
  }
  return db;
}

/**
 * Runs `fn` in one write transaction (BEGIN IMMEDIATE: the write lock is taken up front, so
 * two writers never deadlock). Any throw rolls everything back.
 */
export function transaction<T>(db: DatabaseSync, fn: () => T): T {
  db.exec('BEGIN IMMEDIATE');
  try {
    const out = fn();
    db.exec('COMMIT');
    return out;
  } catch (err) {
    if (db.isTransaction) db.exec('ROLLBACK');
    throw err;
  }
}
