// The server store's tables. Times are milliseconds since the epoch (UTC); days are
// floor(ms / 86 400 000). Strings that repeat across the fleet (package versions, package
// names, vulnerability ids, finding details) are interned once and referenced by integer id,
// which keeps 10,000 hosts × 1,500 packages small and fast to diff.
import { EXCEPTIONS } from './exceptions.ts';
import { AUDIT, PEOPLE } from './people-schema.ts';

export const STORE_SCHEMA_VERSION = 6;

/** Tables of schema 4: the names searches find vulnerabilities by, source packages. */
export const NAMES = `
-- The other names of a vulnerability: its aliases and the advisories that name it, as the
-- findings' feeds gave them (searches by any of them find it).
CREATE TABLE vuln_aliases (alias TEXT NOT NULL, vuln_id INTEGER NOT NULL, PRIMARY KEY (alias, vuln_id)) STRICT, WITHOUT ROWID;
-- Source package names: an exposure is one vulnerability in one source package of a host.
CREATE TABLE srcs (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE) STRICT;
`;

/** Tables of schema 4: exposures, the counting unit. */
export const EXPOSURES = `
-- The counting unit (core/exposure.ts): one row per (host, vulnerability, source package) ever
-- found, open while any of its binary findings is. It shows its lead finding (the most severe,
-- a fixable one first, then by name): severity, status, fixability and detail are the lead's.
-- Its lifecycle (opened, reopened, resolved) is what history, events and aggregates count.
CREATE TABLE exposures (
  host_id INTEGER NOT NULL,
  vuln_id INTEGER NOT NULL,
  src_id INTEGER NOT NULL,
  lead_name_id INTEGER NOT NULL,
  lead_pkg_id INTEGER NOT NULL,
  detail_id INTEGER NOT NULL,
  severity INTEGER NOT NULL,
  status INTEGER NOT NULL,
  fixable INTEGER NOT NULL,
  binaries INTEGER NOT NULL,              -- its open binary findings (0 once resolved)
  open INTEGER NOT NULL,
  first_seen INTEGER NOT NULL,
  opened_at INTEGER NOT NULL,
  last_seen INTEGER,
  resolved_at INTEGER,
  resolved_scan INTEGER,
  resolved_cause TEXT,
  reopened INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (host_id, vuln_id, src_id)
) STRICT, WITHOUT ROWID;
-- Open exposures by vulnerability are indexed in memory (vuln-index.ts); resolved ones here.
CREATE INDEX exposures_resolved_by_vuln ON exposures (vuln_id, host_id) WHERE open = 0;
-- Fleet-wide pages by severity, fixability and age. Per-host queries write "+open" so the planner keeps to
-- the primary key instead of this index's open = 1 range.
CREATE INDEX exposures_open_by_severity ON exposures (open, severity, fixable, opened_at);
`;

export const SCHEMA = `
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) STRICT;

-- Interned values. pkgs.key is protocol packageKey(): the JSON of every package field. A package
-- named by a finding or an event is pinned; one that no host set has and nothing pins is deleted
-- (interner.ts, package-gc.ts).
CREATE TABLE pkgs (id INTEGER PRIMARY KEY, key TEXT NOT NULL UNIQUE, pinned INTEGER NOT NULL DEFAULT 0) STRICT;
CREATE TABLE pkg_names (id INTEGER PRIMARY KEY, name TEXT NOT NULL, arch TEXT NOT NULL, UNIQUE (name, arch)) STRICT;
CREATE TABLE vulns (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE) STRICT;
${NAMES}
-- What a finding says apart from its host and package: status, fix, severity, feed, advisories (JSON).
CREATE TABLE details (id INTEGER PRIMARY KEY, key TEXT NOT NULL UNIQUE) STRICT;

-- AUTOINCREMENT: a host id is never given again, so history, scans and patch runs kept under a
-- removed host's id never mix with a later host's (plain INTEGER PRIMARY KEY reuses the highest
-- id once that host is removed).
CREATE TABLE hosts (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  hostname TEXT NOT NULL,
  machine_id TEXT UNIQUE,
  grp TEXT NOT NULL DEFAULT '',
  tags TEXT NOT NULL DEFAULT '[]',
  enrolled_at INTEGER NOT NULL,
  last_seen INTEGER,
  last_scan_id INTEGER,
  os TEXT,                                -- OsInfo JSON as reported
  distro TEXT, release TEXT, release_hint TEXT,
  kernel TEXT,
  pro_attached INTEGER NOT NULL DEFAULT 0,
  reboot_required INTEGER NOT NULL DEFAULT 0,   -- the agent found /run/reboot-required
  kernel_newer INTEGER NOT NULL DEFAULT 0,      -- a newer kernel image than the running one is installed
  package_count INTEGER NOT NULL DEFAULT 0,
  match_gen INTEGER NOT NULL DEFAULT 0,         -- vulnerability DB generation the findings come from
  match_error TEXT,
  warnings TEXT NOT NULL DEFAULT '[]',        -- the agent's inventory warnings
  match_warnings TEXT NOT NULL DEFAULT '[]',
  unsupported TEXT NOT NULL DEFAULT '[]',
  agent_version TEXT,
  inventory_shrunk TEXT,                        -- JSON {at, scan_id, before, after} while a drastic shrink stands
  dormant INTEGER NOT NULL DEFAULT 0,           -- exposures only on kernel images installed but not running
  open_critical INTEGER NOT NULL DEFAULT 0, open_high INTEGER NOT NULL DEFAULT 0,
  open_medium INTEGER NOT NULL DEFAULT 0, open_low INTEGER NOT NULL DEFAULT 0,
  open_negligible INTEGER NOT NULL DEFAULT 0, open_unknown INTEGER NOT NULL DEFAULT 0,
  fix_critical INTEGER NOT NULL DEFAULT 0, fix_high INTEGER NOT NULL DEFAULT 0,
  fix_medium INTEGER NOT NULL DEFAULT 0, fix_low INTEGER NOT NULL DEFAULT 0,
  fix_negligible INTEGER NOT NULL DEFAULT 0, fix_unknown INTEGER NOT NULL DEFAULT 0
) STRICT;
CREATE INDEX hosts_by_last_seen ON hosts (last_seen);
CREATE INDEX hosts_by_group ON hosts (grp);
CREATE INDEX hosts_by_release ON hosts (distro, release);

-- The host's current package set: sorted uint32 pkg ids, and its protocol digest.
CREATE TABLE host_packages (host_id INTEGER PRIMARY KEY, digest TEXT NOT NULL, ids BLOB NOT NULL) STRICT;

-- One row per (host, binary package name+arch, vulnerability) ever found; open or resolved.
-- Counts are of exposures (below), never of these rows.
CREATE TABLE findings (
  host_id INTEGER NOT NULL,
  name_id INTEGER NOT NULL,
  vuln_id INTEGER NOT NULL,
  src_id INTEGER NOT NULL,                -- the source package of the installed package
  pkg_id INTEGER NOT NULL,                -- the installed package it was last seen on
  detail_id INTEGER NOT NULL,
  severity INTEGER NOT NULL,              -- index into SEVERITIES
  status INTEGER NOT NULL,                -- index into FINDING_STATUSES
  fixable INTEGER NOT NULL,               -- status 'fixed': an update exists
  open INTEGER NOT NULL,
  first_seen INTEGER NOT NULL,
  opened_at INTEGER NOT NULL,             -- first_seen, or when it was last reopened
  last_seen INTEGER,                      -- for resolved findings: last time it was present
  resolved_at INTEGER,
  resolved_scan INTEGER,                  -- the scan where it disappeared (cause 'scan')
  resolved_cause TEXT,                    -- 'scan' | 'feed' (host removal deletes the rows: cause 'host_removed' in events)
  reopened INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (host_id, vuln_id, name_id)
) STRICT, WITHOUT ROWID;

${EXPOSURES}

CREATE TABLE scans (
  id INTEGER PRIMARY KEY,
  host_id INTEGER NOT NULL,
  report_id TEXT UNIQUE,
  kind TEXT NOT NULL,                     -- 'full' | 'delta'
  at INTEGER NOT NULL,
  collected_at TEXT,
  digest TEXT NOT NULL,
  package_count INTEGER NOT NULL,
  added INTEGER NOT NULL, removed INTEGER NOT NULL,
  detected INTEGER NOT NULL, resolved INTEGER NOT NULL, reopened INTEGER NOT NULL,
  open INTEGER NOT NULL,
  skipped_reports INTEGER NOT NULL DEFAULT 0
) STRICT;
CREATE INDEX scans_by_host ON scans (host_id, id);

-- History events. Finding events (detected / resolved / reopened of exposures) are grouped: one row per
-- host, scan, refresh or host removal and type, its exposures packed in items (count × 4 uint32: the lead's
-- name_id, vuln_id, the lead's pkg_id, severity); a first report's hundreds of detections are one row.
-- (Stores from before schema 4 hold events of binary findings in the same form.) Host events
-- (enrolled / reenrolled / revoked / removed / inventory_shrunk) have no items.
CREATE TABLE events (
  id INTEGER PRIMARY KEY,
  at INTEGER NOT NULL,
  type TEXT NOT NULL,
  host_id INTEGER NOT NULL,
  scan_id INTEGER, refresh_id INTEGER,
  cause TEXT,
  count INTEGER NOT NULL DEFAULT 0,
  items BLOB
) STRICT;
CREATE INDEX events_by_host ON events (host_id, id);

CREATE TABLE refreshes (
  id INTEGER PRIMARY KEY, started_at INTEGER NOT NULL, finished_at INTEGER,
  feeds TEXT NOT NULL, outcome TEXT, message TEXT,
  hosts INTEGER, detected INTEGER, resolved INTEGER, reopened INTEGER, duration_ms INTEGER
) STRICT;

-- Aggregates of exposures kept up to date by every change, so fleet statistics never scan them
-- (per-vulnerability counts are kept in memory: vuln-index.ts).
CREATE TABLE open_age (grp TEXT NOT NULL, severity INTEGER NOT NULL, day INTEGER NOT NULL, n INTEGER NOT NULL,
  PRIMARY KEY (grp, severity, day)) STRICT, WITHOUT ROWID;
CREATE TABLE daily (day INTEGER NOT NULL, grp TEXT NOT NULL, severity INTEGER NOT NULL,
  detected INTEGER NOT NULL DEFAULT 0, reopened INTEGER NOT NULL DEFAULT 0, resolved INTEGER NOT NULL DEFAULT 0,
  resolved_ms INTEGER NOT NULL DEFAULT 0, resolved_in_sla INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (day, grp, severity)) STRICT, WITHOUT ROWID;
CREATE TABLE open_daily (day INTEGER NOT NULL, grp TEXT NOT NULL, severity INTEGER NOT NULL,
  open INTEGER NOT NULL, fixable INTEGER NOT NULL, PRIMARY KEY (day, grp, severity)) STRICT, WITHOUT ROWID;

-- Credentials: only hashes are stored. People's accounts, sessions and API tokens, and the
-- audit log: people-schema.ts.
${PEOPLE}
${AUDIT}
CREATE TABLE enrollment_tokens (id INTEGER PRIMARY KEY, hash TEXT NOT NULL UNIQUE, name TEXT NOT NULL,
  grp TEXT NOT NULL DEFAULT '', tags TEXT NOT NULL DEFAULT '[]', uses_left INTEGER, expires_at INTEGER,
  created_at INTEGER NOT NULL, revoked_at INTEGER, used INTEGER NOT NULL DEFAULT 0) STRICT;
CREATE TABLE host_tokens (hash TEXT PRIMARY KEY, host_id INTEGER NOT NULL, created_at INTEGER NOT NULL,
  revoked_at INTEGER) STRICT;
CREATE INDEX host_tokens_by_host ON host_tokens (host_id);
${EXCEPTIONS}
`;
