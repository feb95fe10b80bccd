// The server's store: one SQLite database, its interned values, and the settings that
// history and statistics are computed with. Every module that reads or writes takes a Store.
import type { DatabaseSync, SQLInputValue, StatementSync } from 'node:sqlite';
import { SEVERITIES, type Severity } from '../../core/types.ts';
import type { Clock } from '../clock.ts';
import { DAY_MS } from '../clock.ts';
import { openDatabase, transaction, type StoreOptions } from './database.ts';
import { Interner } from './interner.ts';

export interface StoreSettings {
  /** Days within which a finding of each severity should be resolved. */
  slaDays: Record<Severity, number>;
  /** A host not heard from for this long is stale. */
  staleAfterMs: number;
}

export const DEFAULT_SLA_DAYS: Record<Severity, number> = { critical: 7, high: 30, medium: 90, low: 180, negligible: 365, unknown: 180 };

export const DEFAULT_SETTINGS: StoreSettings = { slaDays: DEFAULT_SLA_DAYS, staleAfterMs: 2 * DAY_MS };

export class Store {
  readonly db: DatabaseSync;
  readonly interner: Interner;
  readonly clock: Clock;
  readonly settings: StoreSettings;
  private readonly statements = new Map<string, StatementSync>();
  /** Called when a rollback dropped interned ids that a cache might hold. */
  onInternRollback: () => void = () => {};

  constructor(db: DatabaseSync, clock: Clock, settings: StoreSettings = DEFAULT_SETTINGS) {
    this.db = db;
    this.clock = clock;
    this.settings = settings;
    this.interner = new Interner(db);
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

  /** One write transaction; interned values created inside it are forgotten if it fails. */
  tx<T>(fn: () => T): T {
    try {
      const out = transaction(this.db, fn);
      this.interner.commit();
      return out;
    } catch (err) {
      this.interner.rollback();
      this.onInternRollback();
      throw err;
    }
  }

  meta(key: string): string | undefined {
    return this.get<{ value: string }>('SELECT value FROM meta WHERE key = ?', key)?.value;
  }

  setMeta(key: string, value: string): void {
    this.run('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value', key, value);
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
