// Store schema upgrades, applied in one transaction when an older store is opened. Each step
// takes the store from version N to N + 1; a store newer than this patchloop is refused.
import type { DatabaseSync } from 'node:sqlite';
import { unpackItems } from './history.ts';

const STEPS: Record<number, (db: DatabaseSync) => void> = {
  // 1 → 2: packages named by findings or events are pinned (package collection never takes
  // them); hosts carry the drastic-shrink warning.
  1: (db) => {
    db.exec('ALTER TABLE pkgs ADD COLUMN pinned INTEGER NOT NULL DEFAULT 0');
    db.exec('ALTER TABLE hosts ADD COLUMN inventory_shrunk TEXT');
    db.exec('UPDATE pkgs SET pinned = 1 WHERE id IN (SELECT DISTINCT pkg_id FROM findings)');
    const pin = db.prepare('UPDATE pkgs SET pinned = 1 WHERE id = ?');
    const seen = new Set<number>();
    for (const r of db.prepare('SELECT items FROM events WHERE items IS NOT NULL').iterate() as Iterable<{ items: Uint8Array }>) {
      const items = unpackItems(r.items);
      for (let i = 2; i < items.length; i += 4) {
        if (seen.has(items[i])) continue;
        seen.add(items[i]);
        pin.run(items[i]);
      }
    }
  },
  // 2 → 3: host ids are never reused (AUTOINCREMENT), counting from the highest id any host
  // ever had, removed ones included (their events, scans and patch runs keep naming it).
  2: (db) => {
    const table = db.prepare("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'hosts'").get() as { sql: string };
    const autoincrement = table.sql.replace(/\bid INTEGER PRIMARY KEY\b(?! AUTOINCREMENT)/, 'id INTEGER PRIMARY KEY AUTOINCREMENT');
    if (autoincrement !== table.sql) {
      // SQLite cannot change a column: the table is rebuilt with its own definition (columns
      // added by earlier steps included) and its indexes made again.
      const indexes = db.prepare("SELECT sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'hosts' AND sql IS NOT NULL").all() as { sql: string }[];
      db.exec(autoincrement.replace(/^CREATE TABLE "?hosts"?/, 'CREATE TABLE hosts_autoincrement'));
      db.exec('INSERT INTO hosts_autoincrement SELECT * FROM hosts; DROP TABLE hosts; ALTER TABLE hosts_autoincrement RENAME TO hosts');
      for (const i of indexes) db.exec(i.sql);
    }
    let highest = 0;
    const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'").all() as { name: string }[];
    for (const { name } of tables) {
      const columns = db.prepare('SELECT name FROM pragma_table_info(?)').all(name) as { name: string }[];
      const column = name === 'hosts' ? 'id' : columns.some((c) => c.name === 'host_id') ? 'host_id' : null;
      if (!column) continue;
      const max = (db.prepare(`SELECT max(${column}) AS n FROM "${name}"`).get() as { n: number | null }).n ?? 0;
      highest = Math.max(highest, max);
    }
    db.prepare("DELETE FROM sqlite_sequence WHERE name = 'hosts'").run();
    db.prepare("INSERT INTO sqlite_sequence (name, seq) VALUES ('hosts', ?)").run(highest);
  },
};

/** Upgrades the store from `from` to `to`; false when there is no way (a newer or unknown store). */
export function migrateStore(db: DatabaseSync, from: number, to: number): boolean {
  if (!Number.isInteger(from) || from > to) return false;
  for (let v = from; v < to; v++) if (!STEPS[v]) return false;
  db.exec('BEGIN IMMEDIATE');
  try {
    for (let v = from; v < to; v++) STEPS[v](db);
    db.prepare("UPDATE meta SET value = ? WHERE key = 'schema_version'").run(String(to));
    db.exec('COMMIT');
  } catch (err) {
    if (db.isTransaction) db.exec('ROLLBACK');
    throw err;
  }
  return true;
}
