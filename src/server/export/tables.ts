// The exporter's own tables in the server's store, beside (never inside) the store's tables:
// its cursor and settings, what it last exported per host, and a change log of the one kind
// of finding change the store's event history does not record.
//
// The store writes an event row for every exposure detected, resolved or reopened (naming its
// lead package), and for host enrolment and removal; events are append-only with increasing
// ids, so the exporter follows them by id. The state index holds a document per binary
// package's finding, and those change without an event of their own: a finding added to or
// gone from an exposure that stays open, one that moves to another package version or gets
// other advisory data (a fix published, the severity changed), and the lead of an exposure
// (the document counts are made of) passing to another package. The triggers below log those
// changes in export_changes (in the same transaction), with an AUTOINCREMENT sequence so an id
// is never reused.
import type { Store } from '../store/store.ts';

export const EXPORT_TABLES = `
CREATE TABLE IF NOT EXISTS export_state (key TEXT PRIMARY KEY, value TEXT NOT NULL) STRICT;
CREATE TABLE IF NOT EXISTS export_changes (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  host_id INTEGER NOT NULL, name_id INTEGER NOT NULL, vuln_id INTEGER NOT NULL
) STRICT;
CREATE TABLE IF NOT EXISTS export_hosts (
  host_id INTEGER PRIMARY KEY,
  enrolled_at INTEGER NOT NULL,
  doc_hash TEXT NOT NULL,        -- the host state document as last exported
  findings_hash TEXT NOT NULL    -- the host fields its finding documents carry (name, group, OS, stale)
) STRICT;
DROP TRIGGER IF EXISTS export_finding_updated;
CREATE TRIGGER IF NOT EXISTS export_finding_added AFTER INSERT ON findings
BEGIN
  INSERT INTO export_changes (host_id, name_id, vuln_id) VALUES (NEW.host_id, NEW.name_id, NEW.vuln_id);
END;
CREATE TRIGGER IF NOT EXISTS export_finding_changed AFTER UPDATE OF open, pkg_id, detail_id ON findings
  WHEN OLD.open IS NOT NEW.open OR (NEW.open = 1 AND (OLD.pkg_id IS NOT NEW.pkg_id OR OLD.detail_id IS NOT NEW.detail_id))
BEGIN
  INSERT INTO export_changes (host_id, name_id, vuln_id) VALUES (NEW.host_id, NEW.name_id, NEW.vuln_id);
END;
-- An exception rule took or gave back an exposure: every binary finding of it changes state.
CREATE TRIGGER IF NOT EXISTS export_exposure_exception AFTER UPDATE OF exception_id ON exposures
  WHEN OLD.exception_id IS NOT NEW.exception_id
BEGIN
  INSERT INTO export_changes (host_id, name_id, vuln_id)
    SELECT host_id, name_id, vuln_id FROM findings WHERE host_id = NEW.host_id AND vuln_id = NEW.vuln_id AND src_id = NEW.src_id;
END;
CREATE TRIGGER IF NOT EXISTS export_exposure_lead AFTER UPDATE OF lead_name_id ON exposures
  WHEN OLD.lead_name_id IS NOT NEW.lead_name_id
BEGIN
  INSERT INTO export_changes (host_id, name_id, vuln_id) VALUES (OLD.host_id, OLD.lead_name_id, OLD.vuln_id), (NEW.host_id, NEW.lead_name_id, NEW.vuln_id);
END;
`;

/** Creates the exporter's tables and trigger when missing (safe to repeat). */
export function ensureExportTables(store: Store): void {
  try {
    store.db.exec(EXPORT_TABLES);
  } catch (err) {
    throw new Error(`cannot set up the exporter's tables in the server store: ${(err as Error).message}`, {
      cause: err,
    });
  }
}

/** Whether the exporter was ever set up on this store (read-only check for `status`). */
export function exportTablesExist(store: Store): boolean {
  return (
    store.get<{ n: number }>("SELECT count(*) AS n FROM sqlite_master WHERE type = 'table' AND name = 'export_state'")!
      .n > 0
  );
}

/**
 * Removes the trigger and the exporter's tables (the exporter is no longer used): the
 * change log would otherwise keep growing with nobody reading it.
 */
export function dropExportTables(store: Store): void {
  store.db.exec(`DROP TRIGGER IF EXISTS export_finding_updated; DROP TRIGGER IF EXISTS export_finding_added;
    DROP TRIGGER IF EXISTS export_finding_changed; DROP TRIGGER IF EXISTS export_exposure_lead;
    DROP TABLE IF EXISTS export_changes; DROP TABLE IF EXISTS export_hosts; DROP TABLE IF EXISTS export_state;`);
}

export interface ExportCursor {
  /** Last store event id exported. */
  events: number;
  /** Last export_changes sequence exported. */
  changes: number;
  /** Last patch run (rowid of the server's patch_runs) exported. */
  runs: number;
}

/** The exporter's persisted state, one key per value. */
export class ExportState {
  readonly store: Store;

  constructor(store: Store) {
    this.store = store;
  }

  get(key: string): string | undefined {
    return this.store.get<{ value: string }>('SELECT value FROM export_state WHERE key = ?', key)?.value;
  }

  set(key: string, value: string): void {
    this.store.run(
      'INSERT INTO export_state (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value',
      key,
      value,
    );
  }

  number(key: string): number | null {
    const v = this.get(key);
    return v === undefined ? null : Number(v);
  }

  cursor(): ExportCursor | null {
    const events = this.number('cursor_events');
    const changes = this.number('cursor_changes');
    return events === null || changes === null ? null : { events, changes, runs: this.number('cursor_runs') ?? 0 };
  }

  /**
   * A new external version for the documents about to be written: above every version
   * used before (reserved before sending, so a failed attempt's documents never outrank a
   * later one), and near the wall clock so versions read as times.
   */
  reserveVersion(now = Date.now()): number {
    const version = Math.max((this.number('version') ?? 0) + 1, now);
    this.set('version', String(version));
    return version;
  }
}
