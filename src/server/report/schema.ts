// The monthly management report's data (patchloop.monthly-report/v1): every figure taken from
// the server's API for one calendar month (UTC), so the report says what the API says. The
// dashboard's report page renders it; the PDF and the HTML are that page printed by Chromium.
import { z } from 'zod';
import { SEVERITIES } from '../../core/types.ts';
import { KnownExploitedOpenSchema } from '../api/enrichment-schemas.ts';
import { ExceptedSummarySchema, ExceptionSchema } from '../api/exception-schemas.ts';
import { RemediationSchema } from '../api/remediation-schemas.ts';
import { OverviewSchema, SeverityCountsSchema, TrendsSchema } from '../api/schemas.ts';

export const REPORT_SCHEMA = 'patchloop.monthly-report/v1';

/** A calendar month, `2026-11`. */
export const MonthSchema = z.string().regex(/^(20\d\d)-(0[1-9]|1[0-2])$/, 'expected a month as YYYY-MM, e.g. 2026-11');

const bySeverity = <T extends z.ZodType>(t: T) =>
  z.object(Object.fromEntries(SEVERITIES.map((s) => [s, t])) as Record<(typeof SEVERITIES)[number], T>);

/** Findings resolved in one month by severity: how many, how many within their SLA, how fast. */
export const ResolutionSchema = z.object({
  month: MonthSchema,
  from: z.string(),
  to: z.string(),
  targets_days: z.record(z.string(), z.number()),
  by_severity: bySeverity(
    z.object({
      resolved: z.number().int(),
      resolved_in_sla: z.number().int(),
      /** Share resolved within the SLA; null when nothing was resolved. */
      within_sla: z.number().nullable(),
      /** Mean time to remediate in days (detection to resolution); null when nothing was resolved. */
      mttr_days: z.number().nullable(),
    }),
  ),
  total: z.object({
    resolved: z.number().int(),
    resolved_in_sla: z.number().int(),
    within_sla: z.number().nullable(),
    mttr_days: z.number().nullable(),
  }),
});
export type Resolution = z.infer<typeof ResolutionSchema>;

/** The parts of the API's answers the report carries, as the API describes them. */
export const ReportHostsSchema = OverviewSchema.shape.hosts.omit({ unmatched: true });
export const ReleaseSchema = OverviewSchema.shape.releases.element;
export const DaySchema = TrendsSchema.shape.days.element;
export const RemediationLineSchema = RemediationSchema.omit({ vulnerability_ids: true, releases: true });
export const ExceptionLineSchema = ExceptionSchema.pick({
  id: true,
  kind: true,
  owner: true,
  expires_at: true,
  held: true,
});

export const MonthlyReportSchema = z.object({
  schema: z.literal(REPORT_SCHEMA),
  month: MonthSchema,
  /** First and last day of the month (UTC). */
  from: z.string(),
  to: z.string(),
  /** False while the month is not over: its figures are to date. */
  complete: z.boolean(),
  generated_at: z.string(),
  /** Where the figures come from (the server's address, or its data directory). */
  source: z.string(),
  /** The fleet now. */
  fleet: z.object({ hosts: ReportHostsSchema, open: SeverityCountsSchema, fixable: SeverityCountsSchema }),
  /** Open findings through the month and what came and went. */
  exposure: z.object({
    open_start: SeverityCountsSchema,
    open_end: SeverityCountsSchema,
    new: SeverityCountsSchema,
    resolved: SeverityCountsSchema,
    days: z.array(DaySchema),
  }),
  sla: ResolutionSchema.extend({
    /** Open now, and of those past their SLA (from the overview). */
    open_now: bySeverity(z.object({ open: z.number().int(), overdue: z.number().int() })),
  }),
  known_exploited: z.discriminatedUnion('loaded', [
    z.object({ loaded: z.literal(false), reason: z.string() }),
    KnownExploitedOpenSchema.extend({ loaded: z.literal(true) }),
  ]),
  patching: z.object({
    runs: z.number().int(),
    by_outcome: z.record(z.string(), z.number().int()),
    /** Successful (or nothing to do) of the runs that tried to install: success, nothing to do, partial, failed. */
    success_rate: z.number().nullable(),
    hosts_patched: z.number().int(),
    /** Hosts whose last run of the month failed or partly failed. */
    hosts_failing: z.array(z.object({ id: z.number().int(), hostname: z.string(), outcome: z.string() })),
  }),
  remediation: z.discriminatedUnion('available', [
    z.object({ available: z.literal(false), reason: z.string() }),
    z.object({ available: z.literal(true), total: z.number().int(), top: z.array(RemediationLineSchema) }),
  ]),
  exceptions: z.discriminatedUnion('available', [
    z.object({ available: z.literal(false), reason: z.string() }),
    ExceptedSummarySchema.extend({
      available: z.literal(true),
      /** Active rules, soonest expiry first; their scope in words. */
      rules: z.array(ExceptionLineSchema.extend({ scope: z.string() })),
    }),
  ]),
  /** Releases of the fleet and their security support; out_of_support counts hosts on ended releases. */
  support: z.object({ out_of_support: z.number().int(), releases: z.array(ReleaseSchema) }),
});
export type MonthlyReport = z.infer<typeof MonthlyReportSchema>;

/** The month's first day, the day after its last (ms, UTC), and its days as ISO dates. */
export function monthRange(month: string): { start: number; end: number; from: string; to: string } {
  const [y, m] = month.split('-').map(Number);
  const start = Date.UTC(y, m - 1, 1);
  const end = Date.UTC(y, m, 1);
  return {
    start,
    end,
    from: new Date(start).toISOString().slice(0, 10),
    to: new Date(end - 1).toISOString().slice(0, 10),
  };
}

/** The month before the one `now` is in (what the monthly job reports on). */
export function previousMonth(now: number): string {
  const d = new Date(now);
  const prev = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() - 1, 1));
  return prev.toISOString().slice(0, 7);
}
