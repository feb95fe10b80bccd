// Atomic feed updates: build the new feed file beside the old one, check it, rename it into
// place. A failed import (bad input, full disk, a crash) leaves the previous file untouched.
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, unlinkSync, writeSync } from 'node:fs';
import { DatabaseSync, type StatementSync } from 'node:sqlite';
import { dirname } from 'node:path';
import type { AdvisoryEntry, VulnerabilityInfo } from '../core/types.ts';
import { CREATE_INDEXES, CREATE_TABLES, SCHEMA_VERSION } from './schema.ts';
import { feedFile } from './paths.ts';

export interface SupportRow {
  distro: string;
  release: string;
  package: string;
  kind: 'ended' | 'limited';
  note: string;
}

/** What an importer fills. Calls are synchronous and buffered in one transaction. */
export interface FeedWriter {
  entry(e: AdvisoryEntry): void;
  /** First description wins; later calls for the same id merge aliases and references. */
  vulnerability(v: VulnerabilityInfo): void;
  support(row: SupportRow): void;
  /** Extra metadata to keep (source URL, ETag, Last-Modified, upstream timestamps). */
  meta(key: string, value: string): void;
}

export interface FeedSummary {
  feed: string;
  file: string;
  entries: number;
  vulnerabilities: number;
  support: number;
  distros: string[];
  updated_at: string;
}

export class FeedUpdateError extends Error {
  constructor(feed: string, cause: unknown) {
    const why = cause instanceof Error ? cause.message : String(cause);
    super(`update of feed "${feed}" failed, previous database kept: ${why}`, { cause });
    this.name = 'FeedUpdateError';
  }
}

export interface ReplaceOptions {
  /** An import that yields no entries is treated as a broken input unless this is set. */
  allowEmpty?: boolean;
  /** Clock, for tests. */
  now?: () => Date;
}

/**
 * Replaces the whole content of one feed. `fill` receives a writer; when it resolves, the new
 * file is checked and swapped in. When it throws, nothing visible changes.
 */
export async function replaceFeed(
  dataDir: string,
  feed: string,
  fill: (w: FeedWriter) => Promise<void> | void,
  options: ReplaceOptions = {},
): Promise<FeedSummary> {
  const file = feedFile(dataDir, feed);
  mkdirSync(dirname(file), { recursive: true });
  const release = acquireLock(`${file}.lock`, feed);
  const tmp = `${file}.tmp-${process.pid}`;
  rmSync(tmp, { force: true });
  let db: DatabaseSync | undefined;
  try {
    db = new DatabaseSync(tmp);
    db.exec('PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF; PRAGMA temp_store = MEMORY;');
    db.exec(CREATE_TABLES);
    db.exec('BEGIN');
    const sink = new Sink(db);
    await fill(sink.writer());
    if (sink.entries === 0 && !options.allowEmpty) throw new Error('the input contained no advisory entries');
    const updatedAt = (options.now?.() ?? new Date()).toISOString();
    const distros = [...sink.distros].sort();
    sink.setMeta('feed', feed);
    sink.setMeta('schema_version', String(SCHEMA_VERSION));
    sink.setMeta('updated_at', updatedAt);
    sink.setMeta('distros', JSON.stringify(distros));
    sink.setMeta('entry_count', String(sink.entries));
    // Scans need each finding's aliases; keeping them on the entry spares a lookup per finding.
    db.exec('UPDATE entries SET aliases = (SELECT v.aliases FROM vulnerabilities v WHERE v.id = entries.vuln_id)');
    db.exec('COMMIT');
    db.exec(CREATE_INDEXES);
    db.exec('ANALYZE');
    const check = db.prepare('PRAGMA quick_check').get() as { quick_check: string };
    if (check.quick_check !== 'ok') throw new Error(`the new database failed its integrity check: ${check.quick_check}`);
    db.close();
    db = undefined;
    fsyncFile(tmp);
    renameSync(tmp, file);
    fsyncFile(dirname(file));
    return { feed, file, entries: sink.entries, vulnerabilities: sink.vulnerabilities, support: sink.supportRows, distros, updated_at: updatedAt };
  } catch (err) {
    try {
      db?.close();
    } catch {
      // already closed or never opened; the file is removed below either way
    }
    rmSync(tmp, { force: true });
    throw err instanceof FeedUpdateError ? err : new FeedUpdateError(feed, err);
  } finally {
    release();
  }
}

class Sink {
  entries = 0;
  vulnerabilities = 0;
  supportRows = 0;
  readonly distros = new Set<string>();
  private readonly insertEntry: StatementSync;
  private readonly insertVuln: StatementSync;
  private readonly mergeVuln: StatementSync;
  private readonly insertSupport: StatementSync;
  private readonly insertMeta: StatementSync;
  private readonly seenVulns = new Map<string, { aliases: Set<string>; refs: Set<string> }>();

  constructor(db: DatabaseSync) {
    this.insertEntry = db.prepare(
      `INSERT INTO entries (distro, release, package, key_kind, scheme, vuln_id, status, raw_status, introduced,
        fixed_version, last_affected, severity, raw_severity, advisory_ids, module_stream, arches, pro_only)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    this.insertVuln = db.prepare('INSERT INTO vulnerabilities (id, aliases, description, published, modified, refs) VALUES (?, ?, ?, ?, ?, ?)');
    this.mergeVuln = db.prepare('UPDATE vulnerabilities SET aliases = ?, refs = ? WHERE id = ?');
    this.insertSupport = db.prepare('INSERT OR REPLACE INTO support (distro, release, package, kind, note) VALUES (?, ?, ?, ?, ?)');
    this.insertMeta = db.prepare('INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)');
  }

  setMeta(key: string, value: string): void {
    this.insertMeta.run(key, value);
  }

  writer(): FeedWriter {
    return {
      entry: (e) => {
        this.insertEntry.run(
          e.distro, e.release, e.package, e.key_kind, e.scheme, e.vuln_id, e.status, e.raw_status, e.introduced,
          e.fixed_version, e.last_affected, e.severity, e.raw_severity, JSON.stringify(e.advisory_ids),
          e.module_stream ?? null, e.arches?.length ? JSON.stringify(e.arches) : null, e.pro_only ? 1 : 0,
        );
        this.entries++;
        this.distros.add(e.distro);
      },
      vulnerability: (v) => {
        const seen = this.seenVulns.get(v.id);
        if (!seen) {
          this.seenVulns.set(v.id, { aliases: new Set(v.aliases), refs: new Set(v.references) });
          this.insertVuln.run(v.id, JSON.stringify(v.aliases), v.description, v.published, v.modified, JSON.stringify(v.references));
          this.vulnerabilities++;
          return;
        }
        const before = seen.aliases.size + seen.refs.size;
        for (const a of v.aliases) seen.aliases.add(a);
        for (const r of v.references) seen.refs.add(r);
        if (seen.aliases.size + seen.refs.size !== before) {
          this.mergeVuln.run(JSON.stringify([...seen.aliases]), JSON.stringify([...seen.refs]), v.id);
        }
      },
      support: (row) => {
        this.insertSupport.run(row.distro, row.release, row.package, row.kind, row.note);
        this.supportRows++;
      },
      meta: (key, value) => this.setMeta(key, value),
    };
  }
}

function fsyncFile(path: string): void {
  const fd = openSync(path, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** One update of a feed at a time; a lock left by a dead process is taken over. */
function acquireLock(lockPath: string, feed: string): () => void {
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(lockPath, 'wx', 0o644);
      writeSync(fd, String(process.pid));
      closeSync(fd);
      return () => rmSync(lockPath, { force: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const holder = Number.parseInt(readFileSync(lockPath, 'utf8'), 10);
      if (Number.isInteger(holder) && holder > 0 && isAlive(holder)) {
        throw new FeedUpdateError(feed, new Error(`another update (pid ${holder}) is running`));
      }
      unlinkSync(lockPath);
    }
  }
  throw new FeedUpdateError(feed, new Error(`could not take the lock ${lockPath}`));
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
