// The HTTP API's request and response shapes (version 1). The same zod schemas validate
// requests, type the handlers and produce the OpenAPI description at /api/docs.
import { z } from 'zod';
import { FINDING_STATUSES, SEVERITIES } from '../../core/types.ts';
import {
  EnrichmentFields,
  EnrichmentFilters,
  KnownExploitedOpenSchema,
  PriorityCountsSchema,
} from './enrichment-schemas.ts';

export const SeveritySchema = z.enum(SEVERITIES as [string, ...string[]]);
export const StatusSchema = z.enum(FINDING_STATUSES as [string, ...string[]]);

const bool = z.enum(['true', 'false']).transform((v) => v === 'true');
/** A comma-separated list of enum values in a query string. */
const csvOf = (values: readonly string[]) =>
  z
    .string()
    .transform((s) =>
      s
        .split(',')
        .map((x) => x.trim())
        .filter(Boolean),
    )
    .pipe(z.array(z.enum(values as [string, ...string[]])).min(1));

export const SeverityCountsSchema = z.object({
  critical: z.number().int(),
  high: z.number().int(),
  medium: z.number().int(),
  low: z.number().int(),
  negligible: z.number().int(),
  unknown: z.number().int(),
  total: z.number().int(),
});

/**
 * A whole number in a path or query, written plainly: digits only, no sign, space, exponent,
 * fraction or leading zero — so one value has one spelling (`1 `, `01`, `1e0` are refused).
 */
export function wholeNumber(min: number, max: number) {
  return z
    .string()
    .regex(/^(0|[1-9][0-9]{0,15})$/, 'expected a whole number')
    .transform(Number)
    .pipe(z.number().int().min(min).max(max));
}

export const PagingQuery = {
  page: wholeNumber(1, 1_000_000).default(1),
  per_page: wholeNumber(1, 500).default(50),
  order: z.enum(['asc', 'desc']).optional(),
};

export const pageOf = <T extends z.ZodType>(item: T) =>
  z.object({
    /** Matching items; a lower bound when total_exact is false (counting stops at 10,000). */
    total: z.number().int(),
    total_exact: z.boolean(),
    page: z.number().int(),
    per_page: z.number().int(),
    items: z.array(item),
  });

export const OsSchema = z.object({
  id: z.string(),
  version_id: z.string(),
  codename: z.string(),
  pretty_name: z.string(),
});

export const SupportSchema = z.object({
  state: z.enum(['supported', 'extended', 'ended', 'unknown']),
  ends: z.string().optional(),
  ended: z.string().optional(),
  name: z.string().optional(),
});

export const HostSummarySchema = z.object({
  id: z.number().int(),
  hostname: z.string(),
  group: z.string(),
  tags: z.array(z.string()),
  os: OsSchema.nullable(),
  distro: z.string().nullable(),
  release: z.string().nullable(),
  kernel: z.string().nullable(),
  last_seen: z.string().nullable(),
  stale: z.boolean(),
  reboot_pending: z.boolean(),
  package_count: z.number().int(),
  open: SeverityCountsSchema,
  fixable: SeverityCountsSchema,
  match_error: z.string().nullable(),
  agent_version: z.string().nullable(),
  /** Whether the host's release still gets security updates (from the distribution's own support dates). */
  support: SupportSchema,
});

export const ScanSchema = z.object({
  id: z.number().int(),
  kind: z.string(),
  at: z.string(),
  collected_at: z.string().nullable(),
  package_count: z.number().int(),
  added: z.number().int(),
  removed: z.number().int(),
  detected: z.number().int(),
  resolved: z.number().int(),
  reopened: z.number().int(),
  open: z.number().int(),
  skipped_reports: z.number().int(),
});

export const HostDetailSchema = HostSummarySchema.extend({
  machine_id: z.string().nullable(),
  enrolled_at: z.string(),
  reboot_required: z.boolean(),
  kernel_newer_installed: z.boolean(),
  /** Exposures found only on kernel images installed but not running (not counted in `open`). */
  kernel_not_running_findings: z.number().int(),
  support: SupportSchema,
  unsupported_packages: z.array(z.object({ source: z.string(), kind: z.string(), note: z.string() })),
  warnings: z.array(z.string()),
  match_warnings: z.array(z.string()),
  /**
   * The host's last report listed fewer than a fifth of the packages it had (from at least 20):
   * accepted, but flagged until the count recovers. Null otherwise.
   */
  inventory_shrunk: z
    .object({ at: z.string(), scan_id: z.number().int(), before: z.number().int(), after: z.number().int() })
    .nullable(),
  credential_revoked: z.boolean(),
  recent_scans: z.array(ScanSchema),
});

export const HostsQuerySchema = z.object({
  ...PagingQuery,
  search: z.string().max(200).optional(),
  group: z.string().max(200).optional(),
  tag: z.string().max(200).optional(),
  distro: z.string().max(64).optional(),
  release: z.string().max(64).optional(),
  state: z.enum(['reporting', 'stale', 'never']).optional(),
  reboot_pending: bool.optional(),
  /** Hosts with at least one open finding of this severity or worse. */
  min_severity: SeveritySchema.optional(),
  sort: z
    .enum(['hostname', 'last_seen', 'open', ...SEVERITIES, 'fixable', 'group', 'release', 'reboot_pending'])
    .default('hostname'),
});

export const HostPatchSchema = z
  .object({
    group: z.string().max(200).optional(),
    tags: z.array(z.string().min(1).max(100)).max(50).optional(),
  })
  .strict();

export const PackageSchema = z.object({
  name: z.string(),
  version: z.string(),
  arch: z.string(),
  source: z.string(),
  source_version: z.string(),
  format: z.string(),
  /** On the host's package view: the package's own open findings (one per vulnerability). */
  open_findings: z.number().int().optional(),
});

export const PackagesQuerySchema = z.object({ ...PagingQuery, search: z.string().max(200).optional() });

/**
 * A finding as the findings pages list it: one exposure, the counting unit — a vulnerability in
 * a source package of a host (core/exposure.ts), with the binary packages it is found on. Its
 * severity, status, fix and advisories are those of its lead binary finding (`package`).
 */
export const FindingSchema = z.object({
  id: z.string(),
  host: z.object({ id: z.number().int(), hostname: z.string(), group: z.string() }),
  vulnerability: z.string(),
  /** The vulnerability's other names: aliases and the advisories that name it. */
  aliases: z.array(z.string()),
  /** The lead binary package; its source is the exposure's. */
  package: PackageSchema.omit({ format: true, open_findings: true }),
  /** Every binary package of the exposure: the open ones while it is open, else those it was last seen on. */
  packages: z.array(z.object({ name: z.string(), version: z.string(), arch: z.string() })),
  severity: SeveritySchema,
  status: StatusSchema,
  fixable: z.boolean(),
  fixed_version: z.string().nullable(),
  raw_status: z.string(),
  raw_severity: z.string(),
  feed: z.string(),
  advisory_ids: z.array(z.string()),
  ...EnrichmentFields,
  /** excepted: still there, but held by an exception rule (exception_id) and out of the open counts. */
  state: z.enum(['open', 'excepted', 'resolved']),
  exception_id: z.number().int().nullable(),
  first_seen: z.string(),
  opened_at: z.string(),
  last_seen: z.string().nullable(),
  resolved_at: z.string().nullable(),
  resolved_scan: z.number().int().nullable(),
  resolved_cause: z.string().nullable(),
  reopened: z.number().int(),
  /** Days open (to resolution, or to now). */
  age_days: z.number(),
  sla_due: z.string(),
  overdue: z.boolean(),
});

/** One row of a findings export: a binary package's finding (the exposure it belongs to in `exposure`). */
export const FindingRowSchema = FindingSchema.omit({ packages: true }).extend({ exposure: z.string() });

export const FindingsQuerySchema = z.object({
  ...PagingQuery,
  state: z.enum(['open', 'excepted', 'resolved', 'all']).default('open'),
  severity: csvOf(SEVERITIES).optional(),
  status: csvOf(FINDING_STATUSES).optional(),
  fixable: bool.optional(),
  group: z.string().max(200).optional(),
  host: wholeNumber(1, Number.MAX_SAFE_INTEGER).optional(),
  /** A vulnerability id, one of its aliases, or an advisory that names it (ALSA-2024:10274: every CVE it fixes). */
  vulnerability: z.string().max(100).optional(),
  /** A binary or source package name. */
  package: z.string().max(200).optional(),
  min_age_days: wholeNumber(0, 100_000).optional(),
  max_age_days: wholeNumber(0, 100_000).optional(),
  overdue: bool.optional(),
  ...EnrichmentFilters,
  sort: z.enum(['severity', 'age', 'host', 'vulnerability', 'priority']).default('severity'),
});

export const ExportQuerySchema = FindingsQuerySchema.omit({
  page: true,
  per_page: true,
  sort: true,
  order: true,
}).extend({
  format: z.enum(['csv', 'json', 'ndjson']).default('csv'),
});

export const EventSchema = z.object({
  /** Position in the feed ("row.index"): pass the last one as `after` to continue. */
  id: z.string(),
  at: z.string(),
  type: z.string(),
  host: z.object({ id: z.number().int(), hostname: z.string() }),
  vulnerability: z.string().nullable(),
  package: z.object({ name: z.string(), version: z.string(), arch: z.string() }).nullable(),
  severity: SeveritySchema.nullable(),
  scan_id: z.number().int().nullable(),
  refresh_id: z.number().int().nullable(),
  cause: z.string().nullable(),
});

// Digits bounded so that every cursor accepted is one the API could have returned itself.
const cursor = z
  .string()
  .regex(/^(0|[1-9][0-9]{0,14})(\.(0|[1-9][0-9]{0,8}))?$/, 'expected an event id such as 1234.5');

export const EventsQuerySchema = z.object({
  /** Events after this one (for tailing: pass the last id, or next_after, seen). */
  after: cursor.optional(),
  limit: wholeNumber(1, 5000).default(500),
  type: z
    .enum(['detected', 'resolved', 'reopened', 'enrolled', 'reenrolled', 'revoked', 'removed', 'inventory_shrunk'])
    .optional(),
  host: wholeNumber(1, Number.MAX_SAFE_INTEGER).optional(),
});

export const HostHistoryQuerySchema = z.object({
  /** Events older than this one (newest first; pass next_before to continue). */
  before: cursor.optional(),
  limit: wholeNumber(1, 1000).default(200),
});

export const VulnSummarySchema = z.object({
  id: z.string(),
  /** What it is in a line: the first sentence of its description. */
  title: z.string(),
  /** Its other names: aliases and the advisories that name it. */
  aliases: z.array(z.string()),
  severity: SeveritySchema,
  open_hosts: z.number().int(),
  /** Open exposures, one per host and source package; those a rule holds left out (of open_hosts too). */
  open_findings: z.number().int(),
  fixable_findings: z.number().int(),
  /** Open exposures an exception rule holds, counted apart. */
  excepted_findings: z.number().int(),
  fixed_versions: z.array(z.string()),
  /** KEV, EPSS, CVSS of the vulnerability; its priority is that of its most urgent open exposure. */
  ...EnrichmentFields,
  /** Its open exposures per priority. */
  priority_findings: PriorityCountsSchema,
});

export const VulnsQuerySchema = z.object({
  ...PagingQuery,
  /** Part of a vulnerability's id or of one of its other names (an alias, an advisory that names it). */
  search: z.string().max(100).optional(),
  min_severity: SeveritySchema.optional(),
  fixable: bool.optional(),
  ...EnrichmentFilters,
  sort: z.enum(['hosts', 'severity', 'findings', 'id', 'priority', 'epss', 'cvss']).default('hosts'),
});

export const VulnDetailSchema = VulnSummarySchema.extend({
  /**
   * Asked for by a name several vulnerabilities share (an advisory that fixes several CVEs):
   * those vulnerabilities; the counts are theirs together. Empty otherwise.
   */
  vulnerabilities: z.array(z.string()),
  description: z.string(),
  published: z.string().nullable(),
  modified: z.string().nullable(),
  references: z.array(z.string()),
  resolved_findings: z.number().int(),
});

export const GroupQuerySchema = z.object({ group: z.string().max(200).optional() });

export const OverviewSchema = z.object({
  generated_at: z.string(),
  group: z.string().nullable(),
  hosts: z.object({
    total: z.number().int(),
    reporting: z.number().int(),
    stale: z.number().int(),
    never_reported: z.number().int(),
    reboot_pending: z.number().int(),
    unmatched: z.number().int(),
    with_critical: z.number().int(),
  }),
  open: SeverityCountsSchema,
  fixable: SeverityCountsSchema,
  sla: z.object({
    targets_days: z.record(z.string(), z.number()),
    by_severity: z.record(
      z.string(),
      z.object({
        open: z.number().int(),
        overdue: z.number().int(),
        /** Share of open findings still within their SLA (1 when there are none). */
        open_within_sla: z.number(),
        resolved_90d: z.number().int(),
        resolved_in_sla_90d: z.number().int(),
        /** Share of findings resolved in the last 90 days that were resolved within SLA. */
        resolved_within_sla: z.number().nullable(),
      }),
    ),
    compliance: z.number(),
  }),
  mttr_days: z.record(z.string(), z.number().nullable()),
  releases: z.array(
    z.object({
      distro: z.string(),
      release: z.string(),
      hosts: z.number().int(),
      support: SupportSchema,
      end_of_life: z.boolean(),
    }),
  ),
  feeds: z.array(z.object({ feed: z.string(), updated_at: z.string(), entry_count: z.number().int() })),
  last_refresh: z.object({ at: z.string(), outcome: z.string().nullable() }).nullable(),
  /** Known exploited vulnerabilities open now, with their hosts. */
  known_exploited: KnownExploitedOpenSchema,
  /** Open exposures per priority. */
  priority: PriorityCountsSchema,
});

export const TrendsQuerySchema = GroupQuerySchema.extend({ days: wholeNumber(1, 365).default(90) });

export const TrendsSchema = z.object({
  group: z.string().nullable(),
  days: z.array(
    z.object({
      date: z.string(),
      open: SeverityCountsSchema,
      new: SeverityCountsSchema,
      resolved: SeverityCountsSchema,
    }),
  ),
});

export const EnrollmentTokenCreateSchema = z
  .object({
    name: z.string().min(1).max(100).default('enrolment'),
    /** Hosts that may enrol with it (default 1: a one-time token); null for any number until it expires. */
    uses: z.number().int().min(1).max(1_000_000).nullable().default(1),
    /** Lifetime in seconds (default 24 h); null: until used up or revoked. */
    ttl_seconds: z
      .number()
      .int()
      .min(60)
      .max(366 * 86400)
      .nullable()
      .default(86400),
    group: z.string().max(200).default(''),
    tags: z.array(z.string().min(1).max(100)).max(50).default([]),
  })
  .strict()
  .refine((v) => v.uses !== null || v.ttl_seconds !== null, { message: 'give uses, ttl_seconds or both' });

export const EnrollmentTokenSchema = z.object({
  id: z.number().int(),
  name: z.string(),
  grp: z.string(),
  tags: z.array(z.string()),
  uses_left: z.number().int().nullable(),
  used: z.number().int(),
  expires_at: z.string().nullable(),
  created_at: z.string(),
  revoked: z.boolean(),
});

export const LoginSchema = z
  .object({ username: z.string().min(1).max(64), password: z.string().min(1).max(1024) })
  .strict();
export const SessionSchema = z.object({ username: z.string(), csrf_token: z.string(), expires_at: z.string() });

export const FeedStatusSchema = z.object({
  feeds: z.array(
    z.object({ feed: z.string(), updated_at: z.string(), distros: z.array(z.string()), entry_count: z.number().int() }),
  ),
  configured: z.array(z.string()),
  refresh_interval_seconds: z.number(),
  refreshing: z.boolean(),
  next_refresh: z.string().nullable(),
  recent: z.array(
    z.object({
      id: z.number().int(),
      started_at: z.string(),
      finished_at: z.string().nullable(),
      outcome: z.string().nullable(),
      message: z.string().nullable(),
      hosts: z.number().int().nullable(),
      detected: z.number().int().nullable(),
      resolved: z.number().int().nullable(),
      duration_ms: z.number().int().nullable(),
    }),
  ),
});

export const IdParams = z.object({ id: wholeNumber(1, Number.MAX_SAFE_INTEGER) });
export const ErrorSchema = z.object({
  error: z.string(),
  message: z.string(),
  details: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
});
