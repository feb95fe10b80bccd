// Table definitions of one feed file. Bump SCHEMA_VERSION on any incompatible change: readers
// refuse files of another version with a message that says to run `patchloop db update`.
// 3: entries are filed under the CVE wherever the feed names one (an advisory that names CVEs
// is one entry per CVE with the advisory in advisory_ids), and ids are normalised
// (feeds/common/ids.ts); a version-2 file would give findings named by advisory.
// The enrichment tables kev, epss and cvss were added within version 3, on purpose: the change
// only adds tables, so a file without them reads as one without enrichment (the reader looks
// for them), and an older patchloop reading a newer file (an agent syncing a newer server's DB)
// ignores them and keeps matching.
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
-- CISA Known Exploited Vulnerabilities (feed kev). ransomware: 1 known, 0 not known, NULL not said.
CREATE TABLE kev (
  cve TEXT PRIMARY KEY, date_added TEXT NOT NULL, due_date TEXT NOT NULL, ransomware INTEGER,
  vendor TEXT NOT NULL, product TEXT NOT NULL, name TEXT NOT NULL, required_action TEXT NOT NULL
) STRICT, WITHOUT ROWID;
-- FIRST EPSS scores (feed epss); the score date and model version are in meta.
CREATE TABLE epss (cve TEXT PRIMARY KEY, score REAL NOT NULL, percentile REAL NOT NULL) STRICT, WITHOUT ROWID;
-- CVSS base scores a feed carries, one per vulnerability, scorer and version.
CREATE TABLE cvss (
  vuln_id TEXT NOT NULL, source TEXT NOT NULL, version TEXT NOT NULL, score REAL NOT NULL, vector TEXT NOT NULL,
  PRIMARY KEY (vuln_id, source, version)
) STRICT, WITHOUT ROWID;
`;

/** Built after the bulk insert: faster than maintaining it row by row. */
export const CREATE_INDEXES = `
CREATE INDEX entries_by_package ON entries (distro, release, package);
CREATE INDEX entries_by_vuln ON entries (vuln_id);
`;
