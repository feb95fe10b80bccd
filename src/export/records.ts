// The records an exporter feeds to the ECS mapping: plain data, one shape per document
// kind, with zod schemas so a feeder reading them from anywhere outside the process can
// validate them at its boundary. Timestamps are ISO 8601 strings with an offset (`Z`).
import { z } from 'zod';
import {
  FINDING_STATUSES,
  SEVERITIES,
  type EpssInfo,
  type FindingStatus,
  type KevInfo,
  type Priority,
  type OsInfo,
  type PackageFormat,
  type Severity,
} from '../core/types.ts';

/** The host a record is about. */
export interface HostRecord {
  /** Stable host id (enrolment id or machine-id): part of every finding's identity. */
  id: string;
  /** Host name as the host reports it. */
  name: string;
  os: OsInfo;
  /** Running kernel release, or null when unknown. */
  kernel: string | null;
  /** Machine architecture (`x86_64`, `aarch64`), when known. */
  arch?: string | null;
  /** Fleet group the host belongs to (patch policy, ring, ...). */
  group?: string | null;
  tags?: string[];
  ip?: string[];
}

/** The patchloop agent that reported (ECS `agent.*`). */
export interface AgentRecord {
  id: string;
  version: string;
  name?: string | null;
}

export interface PackageRecord {
  name: string;
  version: string;
  arch: string;
  source: string;
  source_version: string;
  format?: PackageFormat;
}

export interface VulnerabilityRecord {
  /** Primary id (CVE where there is one). */
  id: string;
  aliases: string[];
  /** Normalised severity (DESIGN.md vocabulary). */
  severity: Severity;
  /** The publisher's own words (Debian urgency, Ubuntu priority, ...). */
  raw_severity?: string | null;
  description?: string | null;
  references?: string[];
  /** CVSS base score and its version, when a feed provides one. */
  score?: { base: number; version: string } | null;
  /** The CVSS vector of `score`. */
  score_vector?: string | null;
  published?: string | null;
}

/**
 * Lifecycle of a finding in the state index: `open` (seen in the last scan), `reopened`
 * (seen again after it was resolved), `resolved` (no longer seen: fixed, `fixed_at` set),
 * `stale` (its host stopped reporting: neither open nor fixed, until purged), `excepted` (still
 * there, held by an exception rule, `exception_id`: out of the open counts).
 */
export type FindingLifecycle = 'open' | 'reopened' | 'resolved' | 'stale' | 'excepted';
export const FINDING_LIFECYCLES: readonly FindingLifecycle[] = ['open', 'reopened', 'resolved', 'stale', 'excepted'];

/** One finding as the server's store knows it: the state document's source. */
export interface FindingRecord {
  host: HostRecord;
  agent?: AgentRecord | null;
  package: PackageRecord;
  vulnerability: VulnerabilityRecord;
  /** Fix availability as in scan output: fixed, affected, will_not_fix, fix_deferred, end_of_life. */
  status: FindingStatus;
  raw_status?: string | null;
  fixed_version: string | null;
  feed: string;
  advisory_ids: string[];
  state: FindingLifecycle;
  first_seen: string;
  /**
   * Start of the current (or, when resolved, the last) open period: first_seen, or when the
   * finding was last reopened. Time to remediate and SLA due dates count from here; absent
   * means first_seen.
   */
  opened_at?: string;
  last_seen: string;
  /** When the finding was last seen gone (state `resolved`); null otherwise. */
  fixed_at: string | null;
  /** When the finding must be fixed by policy (severity SLA); null when no SLA applies. */
  sla_due: string | null;
  /**
   * When this record last changed. Used as the document's external version, so a replayed
   * older copy never overwrites a newer one: it must grow with every change of the record
   * (two changes in the same millisecond: the store should add 1 ms).
   */
  updated_at: string;
  /** Scan run that last reported it. */
  scan_id?: string | null;
  /** Kernel package installed but not running: reported, not exposure. */
  kernel_not_running?: boolean;
  /**
   * The lead finding of its exposure (one vulnerability in one source package of the host,
   * core/exposure.ts): the one document per exposure that counts are made of. False for the
   * other binary packages of the exposure (and for kernels that are not running).
   */
  exposure_lead?: boolean;
  /** The server's exception rule holding the finding (state `excepted`), or null. */
  exception_id?: number | null;
  /** CISA Known Exploited Vulnerabilities entry, when the vulnerability is in the catalogue. */
  kev?: KevInfo | null;
  /** FIRST EPSS score, when known. */
  epss?: EpssInfo | null;
  /** What to fix first (core/priority.ts). */
  priority?: Priority | null;
}

export type VulnerabilityEventAction = 'detected' | 'resolved' | 'reopened';

/** A change of a finding's lifecycle: one document in the vulnerability event stream. */
export interface VulnerabilityEventRecord {
  action: VulnerabilityEventAction;
  /** When the change was observed (the scan time). */
  at: string;
  /** The finding as it stands after the change. */
  finding: FindingRecord;
  /**
   * The advisory data at the time of the event is not known (the finding is gone from the
   * source, e.g. its host was removed): status, fixed version, feed and advisories are left
   * out of the document instead of being guessed.
   */
  detail_unknown?: boolean;
}

export type PatchPackageAction = 'upgrade' | 'install' | 'remove';

/** One run of the patch tool on a host (unattended-upgrades, dnf-automatic, apk). */
export interface PatchRunRecord {
  /** Run id, unique per host (e.g. the agent's run counter or a UUID). */
  id: string;
  host: HostRecord;
  agent?: AgentRecord | null;
  tool: string;
  started_at: string;
  ended_at: string | null;
  outcome: 'success' | 'failure' | 'unknown';
  /** The patch tool's own verdict when it says more than the outcome (`partial`, `nothing_to_do`, `skipped`, ...). */
  result?: string | null;
  /** `scheduled` (timer) or `manual` (operator-triggered), when known. */
  trigger?: string | null;
  packages: {
    name: string;
    arch?: string | null;
    from_version: string | null;
    to_version: string | null;
    action: PatchPackageAction;
  }[];
  reboot_required: boolean;
  error?: string | null;
}

export type SeverityCounts = Record<Severity, number>;

/**
 * Whether a host reports: `reporting` (heard from within the stale threshold), `stale`
 * (heard from before, not since), `never` (enrolled, no report yet).
 */
export type HostReportingState = 'reporting' | 'stale' | 'never';
export const HOST_REPORTING_STATES: readonly HostReportingState[] = ['reporting', 'stale', 'never'];

/** One host as the server knows it now: the host state document's source. */
export interface HostStateRecord {
  host: HostRecord;
  agent?: AgentRecord | null;
  state: HostReportingState;
  enrolled_at: string;
  /** Last report received, or null before the first. */
  last_seen: string | null;
  /** Distribution and release the server matched the host against (null when unmatched). */
  distro: string | null;
  release: string | null;
  /** The host said a reboot is required (reboot-required flag). */
  reboot_required: boolean;
  /** A kernel newer than the running one is installed. */
  kernel_newer: boolean;
  package_count: number;
  /** Open findings by severity, and those of them with a fix available. */
  open: SeverityCounts;
  fixable: SeverityCounts;
  /** Why the host's packages could not be matched, when they could not. */
  match_error: string | null;
}

/** One host's numbers for one UTC day: cheap trend lines without scanning history. */
export interface HostDaySummaryRecord {
  host: HostRecord;
  agent?: AgentRecord | null;
  /** UTC day, `YYYY-MM-DD`. */
  date: string;
  /** When these numbers were computed. */
  at: string;
  /** Open (open + reopened) findings by severity. */
  open: SeverityCounts;
  /** Open findings with a fixed version available. */
  fixable: number;
  /** Open findings past their SLA due date. */
  sla_breached: number;
  detected: number;
  resolved: number;
  reboot_required: boolean | null;
  /** Updates the package manager has pending, when known. */
  pending_updates?: number | null;
  security_updates?: number | null;
  last_scan_at: string | null;
}

const timestamp = z.iso.datetime({ offset: true });
const nonEmpty = z.string().min(1);

export const hostRecordSchema = z.object({
  id: nonEmpty,
  name: nonEmpty,
  os: z.object({
    id: z.string(),
    version_id: z.string(),
    codename: z.string(),
    pretty_name: z.string(),
    id_like: z.array(z.string()).optional(),
  }),
  kernel: z.string().nullable(),
  arch: z.string().nullable().optional(),
  group: z.string().nullable().optional(),
  tags: z.array(z.string()).optional(),
  ip: z.array(z.string()).optional(),
}) satisfies z.ZodType<HostRecord>;

export const agentRecordSchema = z.object({
  id: nonEmpty,
  version: nonEmpty,
  name: z.string().nullable().optional(),
}) satisfies z.ZodType<AgentRecord>;

const severitySchema = z.enum(SEVERITIES as [Severity, ...Severity[]]);

export const findingRecordSchema = z.object({
  host: hostRecordSchema,
  agent: agentRecordSchema.nullable().optional(),
  package: z.object({
    name: nonEmpty,
    version: nonEmpty,
    arch: nonEmpty,
    source: z.string(),
    source_version: z.string(),
    format: z.enum(['deb', 'rpm', 'apk']).optional(),
  }),
  vulnerability: z.object({
    id: nonEmpty,
    aliases: z.array(z.string()),
    severity: severitySchema,
    raw_severity: z.string().nullable().optional(),
    description: z.string().nullable().optional(),
    references: z.array(z.string()).optional(),
    score: z
      .object({ base: z.number().min(0).max(10), version: z.string() })
      .nullable()
      .optional(),
    published: timestamp.nullable().optional(),
  }),
  status: z.enum(FINDING_STATUSES as [FindingStatus, ...FindingStatus[]]),
  raw_status: z.string().nullable().optional(),
  fixed_version: z.string().nullable(),
  feed: nonEmpty,
  advisory_ids: z.array(z.string()),
  state: z.enum(FINDING_LIFECYCLES as [FindingLifecycle, ...FindingLifecycle[]]),
  first_seen: timestamp,
  opened_at: timestamp.optional(),
  last_seen: timestamp,
  fixed_at: timestamp.nullable(),
  sla_due: timestamp.nullable(),
  updated_at: timestamp,
  scan_id: z.string().nullable().optional(),
  kernel_not_running: z.boolean().optional(),
  exposure_lead: z.boolean().optional(),
  exception_id: z.number().int().nullable().optional(),
}) satisfies z.ZodType<FindingRecord>;

export const vulnerabilityEventRecordSchema = z.object({
  action: z.enum(['detected', 'resolved', 'reopened']),
  at: timestamp,
  finding: findingRecordSchema,
  detail_unknown: z.boolean().optional(),
}) satisfies z.ZodType<VulnerabilityEventRecord>;

export const patchRunRecordSchema = z.object({
  id: nonEmpty,
  host: hostRecordSchema,
  agent: agentRecordSchema.nullable().optional(),
  tool: nonEmpty,
  started_at: timestamp,
  ended_at: timestamp.nullable(),
  outcome: z.enum(['success', 'failure', 'unknown']),
  result: z.string().nullable().optional(),
  trigger: z.string().nullable().optional(),
  packages: z.array(
    z.object({
      name: nonEmpty,
      arch: z.string().nullable().optional(),
      from_version: z.string().nullable(),
      to_version: z.string().nullable(),
      action: z.enum(['upgrade', 'install', 'remove']),
    }),
  ),
  reboot_required: z.boolean(),
  error: z.string().nullable().optional(),
}) satisfies z.ZodType<PatchRunRecord>;

const count = z.number().int().min(0);

export const hostDaySummaryRecordSchema = z.object({
  host: hostRecordSchema,
  agent: agentRecordSchema.nullable().optional(),
  date: z.iso.date(),
  at: timestamp,
  open: z.object({ critical: count, high: count, medium: count, low: count, negligible: count, unknown: count }),
  fixable: count,
  sla_breached: count,
  detected: count,
  resolved: count,
  reboot_required: z.boolean().nullable(),
  pending_updates: count.nullable().optional(),
  security_updates: count.nullable().optional(),
  last_scan_at: timestamp.nullable(),
}) satisfies z.ZodType<HostDaySummaryRecord>;

const severityCountsSchema = z.object({
  critical: count,
  high: count,
  medium: count,
  low: count,
  negligible: count,
  unknown: count,
});

export const hostStateRecordSchema = z.object({
  host: hostRecordSchema,
  agent: agentRecordSchema.nullable().optional(),
  state: z.enum(HOST_REPORTING_STATES as [HostReportingState, ...HostReportingState[]]),
  enrolled_at: timestamp,
  last_seen: timestamp.nullable(),
  distro: z.string().nullable(),
  release: z.string().nullable(),
  reboot_required: z.boolean(),
  kernel_newer: z.boolean(),
  package_count: count,
  open: severityCountsSchema,
  fixable: severityCountsSchema,
  match_error: z.string().nullable(),
}) satisfies z.ZodType<HostStateRecord>;

/** Validates one record; the error names the source (file:line, request, ...) and each bad field. */
export function parseRecord<T>(schema: z.ZodType<T>, value: unknown, source: string): T {
  const result = schema.safeParse(value);
  if (!result.success) {
    throw new Error(
      `${source}: ${result.error.issues.map((issue) => `${issue.path.join('.') || '(record)'}: ${issue.message}`).join('; ')}`,
    );
  }
  return result.data;
}
