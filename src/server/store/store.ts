// The server's store: one SQLite database, its interned values, and the settings that
// history and statistics are computed with. Every module that reads or writes takes a Store.
import type { DatabaseSync, SQLInputValue, StatementSync } from 'node:sqlite';
import { SEVERITIES, type Severity } from '../../core/types.ts';
import type { Clock } from '../clock.ts';
import { DAY_MS } from '../clock.ts';
import { openDatabase, transaction, type StoreOptions } from './database.ts';
import { Interner } from './interner.ts';
import { VulnIndex } from './vuln-index.ts';

export interface StoreSettings {
  /** Days within which a finding of each severity should be resolved. */
  slaDays: Record<Severity, number>;
  /** A host not heard from for this long is stale. */
  staleAfterMs: number;
}

export const DEFAULT_SLA_DAYS: Record<Severity, number> = {
  critical: 7,
  high: 30,
  medium: 90,
  low: 180,
  negligible: 365,
  unknown: 180,
};

export const DEFAULT_SETTINGS: StoreSettings = { slaDays: DEFAULT_SLA_DAYS, staleAfterMs: 2 * DAY_MS };

export class Store {
  readonly db: DatabaseSync;
  readonly interner: Interner;
  readonly clock: Clock;
  readonly settings: StoreSettings;
  readonly vulns: VulnIndex;
  private readonly statements = new Map<string, StatementSync>();
  /** Work for when the current transaction commits (memory that mirrors committed rows). */
  private afterCommitQueue: (() => void)[] = [];
  /** Called when a rollback dropped interned ids that a cache might hold. */
  onInternRollback: () => void = () => {};

  constructor(db: DatabaseSync, clock: Clock, settings: StoreSettings = DEFAULT_SETTINGS) {
    this.db = db;
    this.clock = clock;
    this.settings = settings;
    this.interner = new Interner(db);
    this.vulns = VulnIndex.load(this);
  }

  /** Runs `fn` once the current transaction commits (now, outside one); dropped on rollback. */
  afterCommit(fn: () => void): void {
    if (this.db.isTransaction) this.afterCommitQueue.push(fn);
    else fn();
  }

  static open(file: string, clock: Clock, settings?: StoreSettings, options?: StoreOptions): Store {
    return new Store(openDatabase(file, options), clock, settings);
  }

  /** A prepared statement, prepared once per SQL text. */
  stmt(sql: string): StatementSync {
    let s = this.statements.get(sql);
    if (!s) {
      s = this.db.prepare(sql);
      this.statements.set(sql, s);
    }
    return s;
  }

  all<T>(sql: string, ...params: SQLInputValue[]): T[] {
    return this.stmt(sql).all(...params) as T[];
  }

  get<T>(sql: string, ...params: SQLInputValue[]): T | undefined {
    return this.stmt(sql).get(...params) as T | undefined;
  }

  run(sql: string, ...params: SQLInputValue[]): { changes: number; lastInsertRowid: number } {
    const r = this.stmt(sql).run(...params);
    return { changes: Number(r.changes), lastInsertRowid: Number(r.lastInsertRowid) };
  }

  /**
   * One atomic unit of writes: a transaction, or a savepoint inside the transaction already
   * open (group commit, see IngestQueue). Interned values created inside it are forgotten
   * if it fails.
   */
  tx<T>(fn: () => T): T {
    if (this.db.isTransaction) return this.savepoint(fn);
    let out: T;
    try {
      out = transaction(this.db, fn);
      this.interner.commit();
    } catch (err) {
      this.afterCommitQueue = [];
      if (this.interner.rollback()) this.onInternRollback();
      throw err;
    }
    const queue = this.afterCommitQueue;
    this.afterCommitQueue = [];
    for (const f of queue) f();
    return out;
  }

  private savepoint<T>(fn: () => T): T {
    const mark = this.interner.mark();
    const queued = this.afterCommitQueue.length;
    this.db.exec('SAVEPOINT unit');
    try {
      const out = fn();
      this.db.exec('RELEASE unit');
      return out;
    } catch (err) {
      // On some errors (SQLITE_FULL, I/O errors) SQLite has rolled the whole transaction back
      // itself: there is no savepoint left to return to, and the original error is the one to report.
      if (this.db.isTransaction) {
        this.db.exec('ROLLBACK TO unit');
        this.db.exec('RELEASE unit');
      }
      this.afterCommitQueue.length = queued;
      if (this.interner.rollback(mark)) this.onInternRollback();
      throw err;
    }
  }

  /**
   * Runs several atomic units in one transaction (group commit): each unit commits or rolls
   * back on its own (savepoints), and the whole group becomes durable with one COMMIT.
   */
  group<T>(units: (() => T)[]): ({ ok: true; value: T } | { ok: false; error: unknown })[] {
    return this.tx(() =>
      units.map((u) => {
        try {
          return { ok: true as const, value: this.savepoint(u) };
        } catch (error) {
          // The transaction itself is gone (see savepoint): no unit of the group was stored.
          if (!this.db.isTransaction) throw error;
          return { ok: false as const, error };
        }
      }),
    );
  }

  meta(key: string): string | undefined {
    return this.get<{ value: string }>('SELECT value FROM meta WHERE key = ?', key)?.value;
  }

  setMeta(key: string, value: string): void {
    this.run(
      'INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value',
      key,
      value,
    );
  }

  /** Generation of the vulnerability data the findings were computed from. */
  matchGeneration(): number {
    return Number(this.meta('match_gen') ?? 1);
  }

  slaMs(severity: number): number {
    return this.settings.slaDays[SEVERITIES[severity]] * DAY_MS;
  }

  close(): void {
    this.db.close();
  }
}
