// Store schema upgrades, applied in one transaction when an older store is opened. Each step
// takes the store from version N to N + 1; a store newer than this patchloop is refused.
import type { DatabaseSync } from 'node:sqlite';
import { compareLead } from '../../core/exposure.ts';
import { SEVERITIES } from '../../core/types.ts';
import { DAY_MS } from '../clock.ts';
import type { LifecycleColumns } from './finding-identity.ts';
import { unpackItems, type FindingColumns } from './history.ts';
import { upgradeToExceptions } from './exceptions.ts';
import { upgradeToPeople } from './people-schema.ts';
import { EXPOSURES, NAMES } from './schema.ts';

const STEPS: Record<number, (db: DatabaseSync) => void> = {
  // 1 → 2: packages named by findings or events are pinned (package collection never takes
  // them); hosts carry the drastic-shrink warning.
  1: (db) => {
    db.exec('ALTER TABLE pkgs ADD COLUMN pinned INTEGER NOT NULL DEFAULT 0');
    db.exec('ALTER TABLE hosts ADD COLUMN inventory_shrunk TEXT');
    db.exec('UPDATE pkgs SET pinned = 1 WHERE id IN (SELECT DISTINCT pkg_id FROM findings)');
    const pin = db.prepare('UPDATE pkgs SET pinned = 1 WHERE id = ?');
    const seen = new Set<number>();
    for (const r of db.prepare('SELECT items FROM events WHERE items IS NOT NULL').iterate() as Iterable<{
      items: Uint8Array;
    }>) {
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
    const table = db.prepare("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'hosts'").get() as {
      sql: string;
    };
    const autoincrement = table.sql.replace(
      /\bid INTEGER PRIMARY KEY\b(?! AUTOINCREMENT)/,
      'id INTEGER PRIMARY KEY AUTOINCREMENT',
    );
    if (autoincrement !== table.sql) {
      // SQLite cannot change a column: the table is rebuilt with its own definition (columns
      // added by earlier steps included) and its indexes made again.
      const indexes = db
        .prepare("SELECT sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'hosts' AND sql IS NOT NULL")
        .all() as { sql: string }[];
      db.exec(autoincrement.replace(/^CREATE TABLE "?hosts"?/, 'CREATE TABLE hosts_autoincrement'));
      db.exec(
        'INSERT INTO hosts_autoincrement SELECT * FROM hosts; DROP TABLE hosts; ALTER TABLE hosts_autoincrement RENAME TO hosts',
      );
      for (const i of indexes) db.exec(i.sql);
    }
    let highest = 0;
    const tables = db
      .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
      .all() as { name: string }[];
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
  // 3 → 4: exposures, the counting unit (one per host, vulnerability and source package), made
  // from the finding rows; host counters and open ages recounted from them. Finding rows name
  // their source package. Hosts are marked for a re-match (match_gen 0): it counts exposures on
  // kernels that are not running and records the names vulnerabilities are searched by. Events,
  // daily counts and snapshots written before stay as they were (counted per binary package).
  3: (db) => {
    db.exec(NAMES);
    db.exec(EXPOSURES);
    db.exec('ALTER TABLE findings ADD COLUMN src_id INTEGER NOT NULL DEFAULT 0');
    db.exec('DROP INDEX IF EXISTS findings_resolved_by_vuln; DROP INDEX IF EXISTS findings_open_by_severity');
    // pkgs.key is the JSON array of protocol packageKey(): the source name is its fourth member.
    db.exec(
      "INSERT OR IGNORE INTO srcs (name) SELECT DISTINCT json_extract(p.key, '$[3]') FROM findings f JOIN pkgs p ON p.id = f.pkg_id",
    );
    db.exec(
      "UPDATE findings SET src_id = (SELECT s.id FROM pkgs p JOIN srcs s ON s.name = json_extract(p.key, '$[3]') WHERE p.id = findings.pkg_id)",
    );
    buildExposures(db);
    const count = (prefix: string, where: string) =>
      SEVERITIES.map(
        (sev, i) =>
          `${prefix}_${sev} = (SELECT count(*) FROM exposures e WHERE e.host_id = hosts.id AND e.open = 1 AND e.severity = ${i}${where})`,
      );
    db.exec(
      `UPDATE hosts SET ${[...count('open', ''), ...count('fix', ' AND e.fixable = 1')].join(', ')}, match_gen = 0`,
    );
    db.exec(`DELETE FROM open_age; INSERT INTO open_age (grp, severity, day, n)
      SELECT h.grp, e.severity, e.opened_at / ${DAY_MS}, count(*) FROM exposures e JOIN hosts h ON h.id = e.host_id WHERE e.open = 1 GROUP BY 1, 2, 3`);
  },
  // 4 → 5: accounts with roles, API tokens with an owner and a role, the audit log (people-schema.ts).
  4: upgradeToPeople,
  // 5 → 6: exception rules, and the exposures' columns naming the rule that holds them (exceptions.ts).
  5: upgradeToExceptions,
};

interface MigratedFinding extends FindingColumns, LifecycleColumns {
  host_id: number;
}

/**
 * One exposure per (host, vulnerability, source package) of the finding rows: open while any
 * row is, led by the row core/exposure.ts picks among the open ones (open since the earliest of
 * them); a resolved one takes the rows resolved last.
 */
function buildExposures(db: DatabaseSync): void {
  const names = new Map<number, { name: string; arch: string }>();
  for (const r of db.prepare('SELECT id, name, arch FROM pkg_names').iterate() as Iterable<{
    id: number;
    name: string;
    arch: string;
  }>)
    names.set(r.id, r);
  const facts = (r: MigratedFinding) => ({
    severity: r.severity,
    fixable: r.fixable === 1,
    ...(names.get(r.name_id) ?? { name: '', arch: '' }),
  });
  const insert = db.prepare(
    `INSERT INTO exposures (host_id, vuln_id, src_id, lead_name_id, lead_pkg_id, detail_id, severity, status, fixable, binaries, open,
       first_seen, opened_at, last_seen, resolved_at, resolved_scan, resolved_cause, reopened) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  const write = (group: MigratedFinding[]): void => {
    const open = group.filter((r) => r.open === 1);
    const firstSeen = Math.min(...group.map((r) => r.first_seen));
    const reopened = Math.max(...group.map((r) => r.reopened));
    if (open.length > 0) {
      const lead = open.reduce((best, r) => (compareLead(facts(r), facts(best)) < 0 ? r : best));
      const openedAt = Math.min(...open.map((r) => r.opened_at));
      insert.run(
        lead.host_id,
        lead.vuln_id,
        lead.src_id,
        lead.name_id,
        lead.pkg_id,
        lead.detail_id,
        lead.severity,
        lead.status,
        lead.fixable,
        open.length,
        1,
        firstSeen,
        openedAt,
        null,
        null,
        null,
        null,
        reopened,
      );
      return;
    }
    // Resolved: led by the row the rule picks among those resolved last (they went together).
    const at = Math.max(...group.map((r) => r.resolved_at ?? 0));
    const last = group
      .filter((r) => (r.resolved_at ?? 0) === at)
      .reduce((best, r) => (compareLead(facts(r), facts(best)) < 0 ? r : best));
    insert.run(
      last.host_id,
      last.vuln_id,
      last.src_id,
      last.name_id,
      last.pkg_id,
      last.detail_id,
      last.severity,
      last.status,
      last.fixable,
      0,
      0,
      firstSeen,
      last.opened_at,
      last.last_seen,
      last.resolved_at,
      last.resolved_scan,
      last.resolved_cause,
      reopened,
    );
  };
  let group: MigratedFinding[] = [];
  for (const r of db
    .prepare('SELECT * FROM findings ORDER BY host_id, vuln_id, src_id')
    .iterate() as Iterable<MigratedFinding>) {
    const g = group[0];
    if (g && (g.host_id !== r.host_id || g.vuln_id !== r.vuln_id || g.src_id !== r.src_id)) {
      write(group);
      group = [];
    }
    group.push(r);
  }
  if (group.length > 0) write(group);
}

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
