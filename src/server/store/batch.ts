// Multi-row INSERTs: one statement for up to CHUNK rows costs far less than one per row, and
// a first report writes hundreds of findings and events.
import type { SQLInputValue, StatementSync } from 'node:sqlite';
import type { Store } from './store.ts';

const CHUNK = 100;

/** Prepared statements per store and table shape, by row count. */
const prepared = new WeakMap<Store, Map<string, StatementSync[]>>();

export class BatchInsert {
  private readonly rows: SQLInputValue[][] = [];
  private readonly head: string;
  private readonly tail: string;
  private readonly placeholder: string;
  private readonly shape: string;
  private readonly store: Store;

  /** `tail` follows the VALUES list (an ON CONFLICT clause, say). */
  constructor(store: Store, table: string, columns: string[], tail = '') {
    this.store = store;
    this.head = `INSERT INTO ${table} (${columns.join(', ')}) VALUES `;
    this.tail = tail ? ` ${tail}` : '';
    this.placeholder = `(${columns.map(() => '?').join(', ')})`;
    this.shape = this.head + this.tail;
  }

  add(row: SQLInputValue[]): void {
    this.rows.push(row);
    if (this.rows.length === CHUNK) this.flush();
  }

  private statement(n: number): StatementSync {
    let byShape = prepared.get(this.store);
    if (!byShape) {
      byShape = new Map();
      prepared.set(this.store, byShape);
    }
    let list = byShape.get(this.shape);
    if (!list) {
      list = [];
      byShape.set(this.shape, list);
    }
    let stmt = list[n];
    if (!stmt) {
      stmt = this.store.db.prepare(`${this.head}${Array(n).fill(this.placeholder).join(', ')}${this.tail}`);
      list[n] = stmt;
    }
    return stmt;
  }

  flush(): void {
    if (this.rows.length === 0) return;
    this.statement(this.rows.length).run(...this.rows.flat());
    this.rows.length = 0;
  }
}
