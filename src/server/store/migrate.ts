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
