// Table definitions of one feed file. Bump SCHEMA_VERSION on any incompatible change: readers
// refuse files of another version with a message that says to run `patchloop db update`.
// 3: entries are filed under the CVE wherever the feed names one (an advisory that names CVEs
// is one entry per CVE with the advisory in advisory_ids), and ids are normalised
// (feeds/common/ids.ts); a version-2 file would give findings named by advisory.
export const SCHEMA_VERSION = 3;

export const CREATE_TABLES = `
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) STRICT;
CREATE TABLE entries (
  distro TEXT NOT NULL, release TEXT NOT NULL, package TEXT NOT NULL, key_kind TEXT NOT NULL,
  scheme TEXT NOT NULL, vuln_id TEXT NOT NULL, status TEXT NOT NULL, raw_status TEXT NOT NULL,
  introduced TEXT, fixed_version TEXT, last_affected TEXT,
  severity TEXT NOT NULL, raw_severity TEXT NOT NULL,
  advisory_ids TEXT NOT NULL,            -- JSON array
  module_stream TEXT, arches TEXT,       -- arches: JSON array or NULL
  pro_only INTEGER NOT NULL DEFAULT 0,
  aliases TEXT                           -- JSON array copied from vulnerabilities at the end of an import
) STRICT;
CREATE TABLE vulnerabilities (
  id TEXT PRIMARY KEY, aliases TEXT NOT NULL, description TEXT NOT NULL,
  published TEXT, modified TEXT, refs TEXT NOT NULL
) STRICT;
CREATE TABLE support (
  distro TEXT NOT NULL, release TEXT NOT NULL, package TEXT NOT NULL,
  kind TEXT NOT NULL, note TEXT NOT NULL, PRIMARY KEY (distro, release, package)
) STRICT;
`;

/** Built after the bulk insert: faster than maintaining it row by row. */
export const CREATE_INDEXES = `
CREATE INDEX entries_by_package ON entries (distro, release, package);
CREATE INDEX entries_by_vuln ON entries (vuln_id);
`;
