// A store taken back to schema 3 as that schema held it, for the tests of the upgrades from older
// stores. The tables and indexes become those of test/fixtures/store/schema-3.sql (the schema 3
// text): tables it does not have go, tables whose columns differ are rebuilt with its definition
// keeping the columns both have, missing ones are created empty. What schema 3 counted per binary
// finding is counted so again: host counters and open ages.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { SEVERITIES } from '../../src/core/types.ts';
import { DAY_MS } from '../../src/server/clock.ts';
import { REPO_ROOT } from './paths.ts';

type Entry = { name: string; tbl_name: string; sql: string };

function entries(db: DatabaseSync, type: 'table' | 'index'): Entry[] {
  return db
    .prepare(
      "SELECT name, tbl_name, sql FROM sqlite_master WHERE type = ? AND name NOT LIKE 'sqlite_%' AND sql IS NOT NULL",
    )
    .all(type) as Entry[];
}

function columns(db: DatabaseSync, table: string): string[] {
  return (db.prepare('SELECT name FROM pragma_table_info(?)').all(table) as { name: string }[]).map((c) => c.name);
}

export function backToSchema3(db: DatabaseSync): void {
  const v3 = new DatabaseSync(':memory:');
  v3.exec(readFileSync(join(REPO_ROOT, 'test/fixtures/store/schema-3.sql'), 'utf8'));
  const tables = new Map(entries(v3, 'table').map((t) => [t.name, t]));
  const indexes = entries(v3, 'index');
  const wanted = new Map([...tables.keys()].map((name) => [name, columns(v3, name)]));
  v3.close();

  for (const i of entries(db, 'index')) db.exec(`DROP INDEX "${i.name}"`);
  for (const t of entries(db, 'table')) if (!tables.has(t.name)) db.exec(`DROP TABLE "${t.name}"`);
  for (const [name, t] of tables) {
    const have = columns(db, name);
    if (have.length === 0) {
      db.exec(t.sql);
      continue;
    }
    const want = wanted.get(name)!;
    if (have.join(',') === want.join(',')) continue;
    const keep = want.filter((c) => have.includes(c)).join(', ');
    db.exec(t.sql.replace(/^CREATE TABLE \S+/, `CREATE TABLE "${name}_v3"`));
    db.exec(
      `INSERT INTO "${name}_v3" (${keep}) SELECT ${keep} FROM "${name}"; DROP TABLE "${name}"; ALTER TABLE "${name}_v3" RENAME TO "${name}"`,
    );
  }
  for (const i of indexes) db.exec(i.sql);

  const perBinary = (prefix: string, where: string) =>
    SEVERITIES.map(
      (s, i) =>
        `${prefix}_${s} = (SELECT count(*) FROM findings f WHERE f.host_id = hosts.id AND f.open = 1 AND f.severity = ${i}${where})`,
    );
  db.exec(`UPDATE hosts SET ${[...perBinary('open', ''), ...perBinary('fix', ' AND f.fixable = 1')].join(', ')}, match_gen = 1;
    DELETE FROM open_age; INSERT INTO open_age (grp, severity, day, n)
      SELECT h.grp, f.severity, f.opened_at / ${DAY_MS}, count(*) FROM findings f JOIN hosts h ON h.id = f.host_id WHERE f.open = 1 GROUP BY 1, 2, 3;
    UPDATE meta SET value = '3' WHERE key = 'schema_version';`);
}
