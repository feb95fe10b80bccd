// The patching tables of the server store: policy versions, patch runs, reboot leases and
// lease requests still waiting. Created on first use (IF NOT EXISTS), beside the store's own
// schema, so stores created before patching existed gain them without a migration.
import type { Store } from '../store/store.ts';

const PATCHING_SCHEMA = `
-- Every version of every policy; the newest version of a name is the one in force.
CREATE TABLE IF NOT EXISTS policies (
  name TEXT NOT NULL,
  version INTEGER NOT NULL,
  grp TEXT NOT NULL,
  doc TEXT NOT NULL,                      -- the validated policy (JSON)
  created_at INTEGER NOT NULL,
  created_by TEXT NOT NULL,
  PRIMARY KEY (name, version)
) STRICT;
CREATE INDEX IF NOT EXISTS policies_by_group ON policies (grp, name, version);

-- One row per patch run (id chosen by the agent); a later report of the same run (its reboot)
-- replaces doc and the columns derived from it.
CREATE TABLE IF NOT EXISTS patch_runs (
  id TEXT PRIMARY KEY,
  host_id INTEGER NOT NULL,
  policy_name TEXT NOT NULL,
  policy_version INTEGER NOT NULL,
  backend TEXT NOT NULL,
  mode TEXT NOT NULL,
  started_ms INTEGER NOT NULL,
  finished_ms INTEGER NOT NULL,
  outcome TEXT NOT NULL,
  reboot_required INTEGER NOT NULL,
  reboot_status TEXT NOT NULL,
  back_at INTEGER,                        -- the boot report after the reboot this run asked for
  received_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  scan_before INTEGER,                    -- the host's last scan when the run first arrived
  confirm_scan INTEGER,                   -- the first scan after it: its resolved findings are the run's
  cves_closed TEXT,                       -- JSON ids, fixed once confirm_scan is known
  doc TEXT NOT NULL                       -- the PatchRun record as last reported (JSON)
) STRICT;
CREATE INDEX IF NOT EXISTS patch_runs_by_host ON patch_runs (host_id, finished_ms);
CREATE INDEX IF NOT EXISTS patch_runs_by_time ON patch_runs (finished_ms);

-- Reboot leases: a counting semaphore per group. A lease is live while not released and not
-- expired; an expired one no longer counts (its host is presumed dead).
CREATE TABLE IF NOT EXISTS reboot_leases (
  id TEXT PRIMARY KEY,
  grp TEXT NOT NULL,
  host_id INTEGER NOT NULL,
  run_id TEXT NOT NULL,
  requested_at INTEGER NOT NULL,
  granted_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  released_at INTEGER
) STRICT;
CREATE INDEX IF NOT EXISTS reboot_leases_live ON reboot_leases (grp, released_at, expires_at);

-- Hosts that asked for a lease and were refused; shown as waiting until granted or gone quiet.
CREATE TABLE IF NOT EXISTS reboot_waits (
  host_id INTEGER PRIMARY KEY,
  grp TEXT NOT NULL,
  run_id TEXT NOT NULL,
  requested_at INTEGER NOT NULL,
  last_request_at INTEGER NOT NULL,
  retry_at INTEGER NOT NULL
) STRICT;
`;

export function ensurePatchingTables(store: Store): void {
  store.db.exec(PATCHING_SCHEMA);
}
