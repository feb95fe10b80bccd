// Atomic feed updates: build the new feed file beside the old one, check it, rename it into
// place. A failed import (bad input, full disk, a crash) leaves the previous file untouched.
// One update of a feed at a time (the feed lock); the update that takes the lock removes what
// an interrupted one left behind.
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { DatabaseSync, type StatementSync } from 'node:sqlite';
import { dirname, join } from 'node:path';
import type { AdvisoryEntry, CvssScore, KevInfo, VulnerabilityInfo } from '../core/types.ts';
import { CREATE_INDEXES, CREATE_TABLES, SCHEMA_VERSION } from './schema.ts';
import { feedFile, vulnDbDir } from './paths.ts';
import { acquireLock, LockHeldError, processAlive, readPidFile } from './lock.ts';
import { PatchloopError } from '../core/errors.ts';

export interface SupportRow {
  distro: string;
  release: string;
  package: string;
  kind: 'ended' | 'limited';
  note: string;
}

/** One entry of CISA's catalogue as the kev table keeps it. */
export interface KevRow extends KevInfo {
  cve: string;
  vendor: string;
  product: string;
  name: string;
  required_action: string;
}

/** What an importer fills. Calls are synchronous and buffered in one transaction. */
export interface FeedWriter {
  entry(e: AdvisoryEntry): void;
  /** First description wins; later calls for the same id merge aliases and references. */
  vulnerability(v: VulnerabilityInfo): void;
  support(row: SupportRow): void;
  /** A known exploited vulnerability (feed kev); a CVE given twice keeps the last. */
  kev(row: KevRow): void;
  /** An EPSS score (feed epss); a CVE given twice keeps the last. */
  epss(cve: string, score: number, percentile: number): void;
  /** A CVSS base score a feed carries for a vulnerability; one per scorer and version (the last wins). */
  cvss(vulnId: string, score: CvssScore): void;
  /** Extra metadata to keep (source URL, ETag, Last-Modified, upstream timestamps). */
  meta(key: string, value: string): void;
}

export interface FeedSummary {
  feed: string;
  file: string;
  entries: number;
  vulnerabilities: number;
  support: number;
  kev: number;
  epss: number;
  cvss: number;
  distros: string[];
  updated_at: string;
}

export class FeedUpdateError extends PatchloopError {
  constructor(feed: string, cause: unknown) {
    const why = cause instanceof Error ? cause.message : String(cause);
    super('PL_E_FEED_UPDATE', `update of feed "${feed}" failed, previous database kept: ${why}`, { cause });
  }
}

export interface ReplaceOptions {
  /** An import that yields no entries is treated as a broken input unless this is set. */
  allowEmpty?: boolean;
  /** Clock, for tests. */
  now?: () => Date;
  /** The caller holds the feed lock already (withFeedLock). */
  locked?: boolean;
}

/** The lock file of one feed's updates (see lock.ts: never deleted). */
export function feedLockFile(dataDir: string, feed: string): string {
  return join(vulnDbDir(dataDir), `${feed}.lock`);
}

/**
 * Runs `fn` holding the update lock of `feed`, after removing the leftovers of interrupted
 * updates (reported through `onLeftovers`). Another update of the feed holding the lock: a
 * FeedUpdateError naming its pid, at once.
 */
export async function withFeedLock<T>(
  dataDir: string,
  feed: string,
  fn: () => Promise<T> | T,
  onLeftovers?: (files: string[]) => void,
): Promise<T> {
  feedFile(dataDir, feed); // validates the name
  mkdirSync(vulnDbDir(dataDir), { recursive: true });
  let lock;
  try {
    lock = acquireLock(feedLockFile(dataDir, feed), `another update of feed ${feed} is running`);
  } catch (err) {
    throw new FeedUpdateError(feed, err instanceof LockHeldError ? new Error(err.message) : err);
  }
  try {
    const removed = removeLeftovers(dataDir, feed);
    if (removed.length) onLeftovers?.(removed);
    return await fn();
  } finally {
    lock.release();
  }
}

/** `<name>.tmp-<pid>[-<random>][-journal|-wal|-shm]`: a temporary file and the pid that made it. */
const TEMPORARY = /\.tmp-(\d+)(?:-[0-9a-f]+)?(?:-journal|-wal|-shm)?$/;

/**
 * Removes a feed's temporary files (the new database and its journal, downloads in the
 * cache) whose writer is no longer running, and the pid-file lock of earlier versions.
 * Called with the feed lock held, so no update of this feed is writing them; the pid check
 * spares a vulnerability DB download by the agent, which writes beside the feed file too.
 */
export function removeLeftovers(dataDir: string, feed: string): string[] {
  const removed: string[] = [];
  const sweep = (dir: string, belongs: (name: string) => boolean): void => {
    if (!existsSync(dir)) return;
    for (const name of readdirSync(dir)) {
      const m = TEMPORARY.exec(name);
      const legacyLock = name === `${feed}.sqlite.lock`;
      if (!belongs(name) || (!m && !legacyLock)) continue;
      const pid = m ? Number(m[1]) : readPidFile(join(dir, name));
      if (pid !== null && pid !== process.pid && processAlive(pid)) continue;
      rmSync(join(dir, name), { force: true });
      removed.push(join(dir, name));
    }
  };
  sweep(vulnDbDir(dataDir), (name) => name.startsWith(`${feed}.`));
  sweep(join(dataDir, 'cache', feed), () => true);
  return removed;
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
  if (!options.locked)
    return withFeedLock(dataDir, feed, () => replaceFeed(dataDir, feed, fill, { ...options, locked: true }));
  const file = feedFile(dataDir, feed);
  mkdirSync(dirname(file), { recursive: true });
  const tmp = `${file}.tmp-${process.pid}`;
  removeDatabaseFile(tmp);
  let db: DatabaseSync | undefined;
  try {
    db = new DatabaseSync(tmp);
    db.exec('PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF; PRAGMA temp_store = MEMORY;');
    db.exec(CREATE_TABLES);
    db.exec('BEGIN');
    const sink = new Sink(db);
    await fill(sink.writer());
    // Rows of the enrichment tables, as stored (a CVE given twice is one row).
    const rows = (table: 'kev' | 'epss' | 'cvss'): number =>
      (db!.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n;
    const [kevRows, epssRows, cvssRows] = [rows('kev'), rows('epss'), rows('cvss')];
    // A feed of exploitation data has no advisory entries; its own rows are what must be there.
    const records = sink.entries + kevRows + epssRows;
    if (records === 0 && !options.allowEmpty)
      throw new Error(
        feed === 'kev' || feed === 'epss'
          ? `the input contained no ${feed === 'kev' ? 'known exploited vulnerabilities' : 'EPSS scores'}`
          : 'the input contained no advisory entries',
      );
    const updatedAt = (options.now?.() ?? new Date()).toISOString();
    const distros = [...sink.distros].sort();
    sink.setMeta('feed', feed);
    sink.setMeta('schema_version', String(SCHEMA_VERSION));
    sink.setMeta('updated_at', updatedAt);
    sink.setMeta('distros', JSON.stringify(distros));
    sink.setMeta('entry_count', String(records));
    // Scans need each finding's aliases; keeping them on the entry spares a lookup per finding.
    db.exec('UPDATE entries SET aliases = (SELECT v.aliases FROM vulnerabilities v WHERE v.id = entries.vuln_id)');
    db.exec('COMMIT');
    db.exec(CREATE_INDEXES);
    db.exec('ANALYZE');
    const check = db.prepare('PRAGMA quick_check').get() as { quick_check: string };
    if (check.quick_check !== 'ok')
      throw new Error(`the new database failed its integrity check: ${check.quick_check}`);
    db.close();
    db = undefined;
    fsyncFile(tmp);
    renameSync(tmp, file);
    fsyncFile(dirname(file));
    return {
      feed,
      file,
      entries: sink.entries,
      vulnerabilities: sink.vulnerabilities,
      support: sink.supportRows,
      kev: kevRows,
      epss: epssRows,
      cvss: cvssRows,
      distros,
      updated_at: updatedAt,
    };
  } catch (err) {
    try {
      db?.close();
    } catch {
      // already closed or never opened; the file is removed below either way
    }
    removeDatabaseFile(tmp);
    throw err instanceof FeedUpdateError ? err : new FeedUpdateError(feed, err);
  }
}

/** A database file with the journal SQLite may have left beside it. */
function removeDatabaseFile(file: string): void {
  for (const suffix of ['', '-journal', '-wal', '-shm']) rmSync(`${file}${suffix}`, { force: true });
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
  private readonly insertKev: StatementSync;
  private readonly insertEpss: StatementSync;
  private readonly insertCvss: StatementSync;
  private readonly seenVulns = new Map<string, { aliases: Set<string>; refs: Set<string> }>();

  constructor(db: DatabaseSync) {
    this.insertEntry = db.prepare(
      `INSERT INTO entries (distro, release, package, key_kind, scheme, vuln_id, status, raw_status, introduced,
        fixed_version, last_affected, severity, raw_severity, advisory_ids, module_stream, arches, pro_only)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    this.insertVuln = db.prepare(
      'INSERT INTO vulnerabilities (id, aliases, description, published, modified, refs) VALUES (?, ?, ?, ?, ?, ?)',
    );
    this.mergeVuln = db.prepare('UPDATE vulnerabilities SET aliases = ?, refs = ? WHERE id = ?');
    this.insertSupport = db.prepare(
      'INSERT OR REPLACE INTO support (distro, release, package, kind, note) VALUES (?, ?, ?, ?, ?)',
    );
    this.insertMeta = db.prepare('INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)');
    this.insertKev = db.prepare(
      `INSERT OR REPLACE INTO kev (cve, date_added, due_date, ransomware, vendor, product, name, required_action)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    this.insertEpss = db.prepare('INSERT OR REPLACE INTO epss (cve, score, percentile) VALUES (?, ?, ?)');
    this.insertCvss = db.prepare(
      'INSERT OR REPLACE INTO cvss (vuln_id, source, version, score, vector) VALUES (?, ?, ?, ?, ?)',
    );
  }

  setMeta(key: string, value: string): void {
    this.insertMeta.run(key, value);
  }

  writer(): FeedWriter {
    return {
      entry: (e) => {
        this.insertEntry.run(
          e.distro,
          e.release,
          e.package,
          e.key_kind,
          e.scheme,
          e.vuln_id,
          e.status,
          e.raw_status,
          e.introduced,
          e.fixed_version,
          e.last_affected,
          e.severity,
          e.raw_severity,
          JSON.stringify(e.advisory_ids),
          e.module_stream ?? null,
          e.arches?.length ? JSON.stringify(e.arches) : null,
          e.pro_only ? 1 : 0,
        );
        this.entries++;
        this.distros.add(e.distro);
      },
      vulnerability: (v) => {
        const seen = this.seenVulns.get(v.id);
        if (!seen) {
          this.seenVulns.set(v.id, { aliases: new Set(v.aliases), refs: new Set(v.references) });
          this.insertVuln.run(
            v.id,
            JSON.stringify(v.aliases),
            v.description,
            v.published,
            v.modified,
            JSON.stringify(v.references),
          );
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
      kev: (r) => {
        const ransomware = r.ransomware === null ? null : r.ransomware ? 1 : 0;
        this.insertKev.run(r.cve, r.date_added, r.due_date, ransomware, r.vendor, r.product, r.name, r.required_action);
      },
      epss: (cve, score, percentile) => {
        this.insertEpss.run(cve, score, percentile);
      },
      cvss: (vulnId, c) => {
        this.insertCvss.run(vulnId, c.source, c.version, c.score, c.vector);
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
