// Domain types shared by every part of patchloop. Pure declarations: no I/O, no side effects.

/** Names of the version-ordering schemes patchloop implements exactly. */
export type VersionSchemeName = 'deb' | 'rpm' | 'apk';

/** Package database formats the inventory readers understand. */
export type PackageFormat = 'deb' | 'rpm' | 'apk';

/** One installed binary package, as read from the host's package database. */
export interface InstalledPackage {
  name: string;
  /** deb: full version with epoch; rpm: `[E:]V-R` (epoch only when set); apk: `V-rN`. */
  version: string;
  arch: string;
  /** deb: `Source:` name (else the binary's own); rpm: name from SOURCERPM; apk: origin. */
  source: string;
  /** deb: version in `Source: name (ver)` (else the binary's own); rpm: source rpm E:V-R; apk: version. */
  source_version: string;
  format: PackageFormat;
  /** rpm: vendor string, when the database records one. */
  vendor?: string;
  /** rpm: modularity label (`name:stream:version:context`), when the package is modular. */
  modularity_label?: string;
  /** rpm: epoch, when set (also folded into `version`). */
  epoch?: number;
}

/** What `/etc/os-release` says about the host (fields absent there are empty strings). */
export interface OsInfo {
  id: string;
  version_id: string;
  codename: string;
  pretty_name: string;
  /** `ID_LIKE`, split on spaces; empty when absent. */
  id_like?: string[];
}

/** The whole inventory of one host or root directory (contract: `patchloop inventory`). */
export interface Inventory {
  os: OsInfo;
  /** Running kernel release (`uname -r`), or null when unknown (e.g. another root without --kernel). */
  kernel: string | null;
  packages: InstalledPackage[];
  /** Non-fatal problems met while reading (corrupt stanzas and the like), each naming file and line. */
  warnings?: string[];
}

/** Normalised finding status: one vocabulary for every distribution (DESIGN.md). */
export type FindingStatus = 'fixed' | 'affected' | 'will_not_fix' | 'fix_deferred' | 'end_of_life';

/**
 * Status of an advisory entry in the vulnerability DB. Adds the states that produce no
 * finding (`not_affected`) or none by default (`undetermined`, `under_investigation`).
 */
export type EntryStatus = FindingStatus | 'not_affected' | 'undetermined' | 'under_investigation';

export type Severity = 'critical' | 'high' | 'medium' | 'low' | 'negligible' | 'unknown';

/** Severities from most to least severe; index order is used for sorting and `--fail-on`. */
export const SEVERITIES: readonly Severity[] = ['critical', 'high', 'medium', 'low', 'negligible', 'unknown'];

export const FINDING_STATUSES: readonly FindingStatus[] = [
  'fixed',
  'affected',
  'will_not_fix',
  'fix_deferred',
  'end_of_life',
];

/** How an advisory entry names the package it applies to. */
export type PackageKeyKind = 'source' | 'binary';

/**
 * One normalised advisory entry: "vulnerability V affects package P in release R of distro D,
 * within this version interval, with this status". Every feed importer produces these;
 * the matcher consumes them. A multi-interval OSV range becomes several entries.
 */
export interface AdvisoryEntry {
  /** Feed that produced it: `debian`, `ubuntu`, `almalinux`, `rocky`, `redhat`, `alpine`, `osv`. */
  feed: string;
  /** Distribution id as in os-release `ID` (`debian`, `ubuntu`, `almalinux`, `rocky`, `rhel`, `alpine`). */
  distro: string;
  /** Release key: Debian/Ubuntu codename, RHEL-family major version, Alpine branch (`3.18`, `edge`). */
  release: string;
  /** Package name the entry is keyed on (source or binary, per `key_kind`). */
  package: string;
  key_kind: PackageKeyKind;
  scheme: VersionSchemeName;
  /** Primary id (CVE id where there is one, else the advisory id). */
  vuln_id: string;
  status: EntryStatus;
  /** The publisher's own status words, kept beside the normalised one. */
  raw_status: string;
  /** Versions below this are not affected (null: from the beginning). */
  introduced: string | null;
  /** First fixed version (null: no fix). Installed < fixed means affected. */
  fixed_version: string | null;
  /** Last affected version, for ranges that end without a fix (installed <= it means affected). */
  last_affected: string | null;
  severity: Severity;
  /** The publisher's own severity words (Debian urgency, Ubuntu priority, RH impact). */
  raw_severity: string;
  /** Advisory ids that carry the fix (DSA/DLA/USN/ALSA/RLSA/RHSA). */
  advisory_ids: string[];
  /** rpm: modularity stream (`nodejs:18`) the entry applies to; null for non-modular. */
  module_stream?: string | null;
  /** rpm: architectures the fixed build exists for; empty means any. */
  arches?: string[];
  /** Ubuntu: fix available only through Ubuntu Pro (esm-infra / esm-apps pocket). */
  pro_only?: boolean;
  /** The vulnerability's aliases, when the store keeps them with the entry (saves a lookup). */
  aliases?: string[];
}

/** Descriptive data about one vulnerability, independent of packages. */
export interface VulnerabilityInfo {
  id: string;
  aliases: string[];
  description: string;
  published: string | null;
  modified: string | null;
  references: string[];
}

/** CISA Known Exploited Vulnerabilities: the catalogue's entry for a CVE (dates as `YYYY-MM-DD`). */
export interface KevInfo {
  date_added: string;
  /** The date US federal agencies must remediate by. */
  due_date: string;
  /** Known use in ransomware campaigns: true "Known", false "Unknown"… as CISA says; null when not said. */
  ransomware: boolean | null;
}

/** FIRST EPSS: probability of exploitation activity in the next 30 days, and its percentile. */
export interface EpssInfo {
  /** 0..1 */
  score: number;
  /** 0..1: the share of scored CVEs with a lower or equal score. */
  percentile: number;
  /** The day the score is of (`score_date` of the file, `YYYY-MM-DD`). */
  date?: string;
}

export type CvssVersion = '2.0' | '3.0' | '3.1' | '4.0';

/** One CVSS base score as a feed carries it. */
export interface CvssScore {
  version: CvssVersion;
  /** Base score 0.0–10.0 (computed from the vector when the feed gives only the vector). */
  score: number;
  /** The vector string (`CVSS:3.1/AV:N/…`, `CVSS:4.0/…`; v2 as written, without prefix). */
  vector: string;
  /** Who scored it: the feed (`osv`, `redhat`, `ubuntu`, …) or the publisher it names (`nvd`). */
  source: string;
}

/** What the vulnerability DB knows about one vulnerability id beyond its advisories. */
export interface Enrichment {
  kev?: KevInfo;
  epss?: EpssInfo;
  cvss?: CvssScore[];
}

export type PriorityLevel = 'P1' | 'P2' | 'P3' | 'P4';

export const PRIORITY_LEVELS: readonly PriorityLevel[] = ['P1', 'P2', 'P3', 'P4'];

/** What to fix first (core/priority.ts): a level and the reason in words. */
export interface Priority {
  level: PriorityLevel;
  /** e.g. "known exploited, fix available, running kernel". */
  reason: string;
}

/**
 * One scan finding: an installed binary package affected by one vulnerability (contract).
 * Counts are not of findings but of exposures (core/exposure.ts: one vulnerability in one source
 * package). Enrichment (DESIGN.md "Finding identity": `kev`, `epss`, `cvss`, `priority`) is
 * optional, present when known, per vulnerability id (vulndb/reader.ts `enrichment`).
 */
export interface Finding {
  /** The CVE whenever the feed names one (core/vuln-id.ts), else the record's own id. */
  id: string;
  /** Other names of the vulnerability: the advisories that name it, the feed's aliases. */
  aliases: string[];
  package: {
    name: string;
    version: string;
    arch: string;
    source: string;
    source_version: string;
  };
  status: FindingStatus;
  raw_status: string;
  fixed_version: string | null;
  severity: Severity;
  raw_severity: string;
  feed: string;
  /** Every advisory naming the vulnerability for this package whose fix is not installed yet. */
  advisory_ids: string[];
  /** Why: the versions compared and the rule that fired, for explainable results. */
  reason: string;
  /** Kernel packages installed but not running: reported, but not exposure. */
  kernel_not_running?: boolean;
  /**
   * Where `severity` comes from when not from the distribution's own rating: `cvss` when the
   * distribution rates nothing (`raw_severity` empty or unknown) and a CVSS base score does
   * (FIRST's bands on the highest-version score). Absent: the distribution's rating.
   */
  severity_source?: 'cvss';
  kev?: KevInfo;
  epss?: EpssInfo;
  cvss?: CvssScore[];
  priority?: Priority;
}
