// Gathers the monthly report from the server's API: the overview (the fleet now, open and past
// SLA, known exploited, releases), the trends (the month's days), the month's resolution (SLA
// and MTTR), the month's patch runs, the remediation roll-up and the exceptions. Whatever asks
// (the command line over HTTP, the server's own monthly job in-process) passes how to GET; every
// answer is validated, and a part the server does not have (404) says so in the report.
import { z } from 'zod';
import { SEVERITIES } from '../../core/types.ts';
import { PatchloopError } from '../../core/errors.ts';
import { KnownExploitedOpenSchema } from '../api/enrichment-schemas.ts';
import { ExceptedSummarySchema } from '../api/exception-schemas.ts';
import { OverviewSchema, SeverityCountsSchema } from '../api/schemas.ts';
import { PatchRunItemSchema } from '../patching/schemas.ts';
import { DAY_MS, dayOf } from '../clock.ts';
import {
  DaySchema,
  ExceptionLineSchema,
  monthRange,
  RemediationLineSchema,
  REPORT_SCHEMA,
  ResolutionSchema,
  type MonthlyReport,
} from './schema.ts';

/** GET one API path (with its query); the status and the parsed JSON body. */
export type ApiGet = (path: string) => Promise<{ status: number; body: unknown }>;

/** The trends keep a year of days: an older month cannot be reported. */
const MAX_DAYS = 365;
const RUNS_PAGE = 200;
const TOP_REMEDIATION = 10;
const LISTED_EXCEPTIONS = 20;

// What the report reads of each answer, as the API describes it; other fields are left out.
const OverviewInput = OverviewSchema.pick({
  hosts: true,
  open: true,
  fixable: true,
  releases: true,
  feeds: true,
}).extend({
  sla: z.object({ by_severity: z.record(z.string(), z.object({ open: z.number().int(), overdue: z.number().int() })) }),
  // Absent on a server without the known exploited figures.
  known_exploited: KnownExploitedOpenSchema.optional(),
});
const TrendsInput = z.object({ days: z.array(DaySchema) });
const RunsInput = z.object({
  total: z.number().int(),
  items: z.array(PatchRunItemSchema.pick({ host: true, finished_at: true, outcome: true })),
});
const RemediationInput = z.object({ total: z.number().int(), items: z.array(RemediationLineSchema) });
const ExceptionsInput = z.object({
  summary: ExceptedSummarySchema,
  items: z.array(ExceptionLineSchema.extend({ scope: z.record(z.string(), z.unknown()) })),
});

export class ReportError extends PatchloopError {
  constructor(message: string) {
    super('PL_E_FAILED', message);
  }
}

/** GETs `path` and validates the answer; null when the server has no such route (404). */
async function read<S extends z.ZodType>(
  api: ApiGet,
  path: string,
  schema: S,
  optional = false,
): Promise<z.output<S> | null> {
  const { status, body } = await api(path);
  if (status === 404 && optional) return null;
  if (status !== 200) {
    const message = (body as { message?: unknown } | null)?.message;
    throw new ReportError(`GET ${path} answered ${status}${typeof message === 'string' ? `: ${message}` : ''}`);
  }
  const r = schema.safeParse(body);
  if (!r.success)
    throw new ReportError(
      `GET ${path}: unexpected answer (${r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')})`,
    );
  return r.data;
}

/** Words for an exception's scope: `CVE-2024-1 in openssl on group web`. */
function scopeText(scope: Record<string, unknown>): string {
  const parts: string[] = [];
  const s = (k: string) => (typeof scope[k] === 'string' ? (scope[k] as string) : null);
  if (s('vulnerability')) parts.push(s('vulnerability')!);
  if (s('package')) parts.push(`package ${s('package')}`);
  if (s('host')) parts.push(`host ${s('host')}`);
  if (s('group')) parts.push(`group ${s('group')}`);
  if (s('tag')) parts.push(`tag ${s('tag')}`);
  return parts.join(', ') || 'everything';
}

export async function collectReport(api: ApiGet, month: string, now: number, source: string): Promise<MonthlyReport> {
  const range = monthRange(month);
  if (range.start > now) throw new ReportError(`${month} has not begun yet`);
  const days = dayOf(now) - dayOf(range.start) + 1;
  if (days > MAX_DAYS)
    throw new ReportError(`${month} is more than ${MAX_DAYS} days ago: the server keeps daily trends for a year`);
  const complete = range.end <= now;
  const lastDay = complete ? dayOf(range.end - 1) : dayOf(now);

  const overview = (await read(api, '/api/v1/stats/overview', OverviewInput))!;
  const trends = (await read(api, `/api/v1/stats/trends?days=${days}`, TrendsInput))!;
  const monthDays = trends.days.filter(
    (d) => d.date >= range.from && d.date <= new Date(lastDay * DAY_MS).toISOString().slice(0, 10),
  );
  if (monthDays.length === 0) throw new ReportError(`the trends of ${month} are empty`);
  const resolution = (await read(api, `/api/v1/stats/resolution?month=${month}`, ResolutionSchema))!;

  // The month's patch runs, newest first, page by page.
  const runs: z.output<typeof RunsInput>['items'] = [];
  for (let page = 1; ; page++) {
    const p = (await read(
      api,
      `/api/v1/patch-runs?since=${encodeURIComponent(new Date(range.start).toISOString())}&per_page=${RUNS_PAGE}&page=${page}`,
      RunsInput,
    ))!;
    runs.push(...p.items.filter((r) => Date.parse(r.finished_at) < range.end));
    if (p.items.length < RUNS_PAGE || page * RUNS_PAGE >= p.total) break;
  }
  const remediation = await read(
    api,
    `/api/v1/remediation?per_page=${TOP_REMEDIATION}&sort=impact`,
    RemediationInput,
    true,
  );
  const exceptions = await read(api, '/api/v1/exceptions?state=active', ExceptionsInput, true);

  return {
    schema: REPORT_SCHEMA,
    month,
    from: range.from,
    to: range.to,
    complete,
    generated_at: new Date(now).toISOString(),
    source,
    fleet: { hosts: overview.hosts, open: overview.open, fixable: overview.fixable },
    exposure: exposureOf(monthDays),
    sla: {
      ...resolution,
      open_now: Object.fromEntries(
        SEVERITIES.map((s) => [
          s,
          { open: overview.sla.by_severity[s]?.open ?? 0, overdue: overview.sla.by_severity[s]?.overdue ?? 0 },
        ]),
      ) as MonthlyReport['sla']['open_now'],
    },
    known_exploited:
      overview.known_exploited && overview.feeds.some((f) => f.feed === 'kev')
        ? { loaded: true, ...overview.known_exploited }
        : {
            loaded: false,
            reason: overview.known_exploited
              ? 'KEV data not loaded: the server has not imported the CISA KEV catalogue (feed kev)'
              : 'KEV data not loaded: this server does not report known exploited vulnerabilities',
          },
    patching: patchingOf(runs),
    remediation: remediation
      ? { available: true, total: remediation.total, top: remediation.items }
      : { available: false, reason: 'this server has no remediation roll-up' },
    exceptions: exceptions
      ? {
          available: true,
          ...exceptions.summary,
          rules: exceptions.items
            .map((e) => ({
              id: e.id,
              kind: e.kind,
              scope: scopeText(e.scope),
              owner: e.owner,
              expires_at: e.expires_at,
              held: e.held,
            }))
            .sort((a, b) => (a.expires_at ?? '9999').localeCompare(b.expires_at ?? '9999') || a.id - b.id)
            .slice(0, LISTED_EXCEPTIONS),
        }
      : { available: false, reason: 'this server has no exceptions' },
    support: {
      out_of_support: overview.releases.filter((r) => r.end_of_life).reduce((n, r) => n + r.hosts, 0),
      releases: overview.releases,
    },
  };
}

function exposureOf(days: z.output<typeof TrendsInput>['days']): MonthlyReport['exposure'] {
  const sum = (pick: (d: (typeof days)[number]) => z.output<typeof SeverityCountsSchema>) => {
    const out = { total: 0, ...Object.fromEntries(SEVERITIES.map((s) => [s, 0])) } as z.output<
      typeof SeverityCountsSchema
    >;
    for (const d of days) for (const k of [...SEVERITIES, 'total'] as const) out[k] += pick(d)[k];
    return out;
  };
  return {
    open_start: days[0].open,
    open_end: days.at(-1)!.open,
    new: sum((d) => d.new),
    resolved: sum((d) => d.resolved),
    days,
  };
}

const TRIED = ['success', 'nothing_to_do', 'partial', 'failed'];

function patchingOf(runs: z.output<typeof RunsInput>['items']): MonthlyReport['patching'] {
  const byOutcome: Record<string, number> = {};
  for (const r of runs) byOutcome[r.outcome] = (byOutcome[r.outcome] ?? 0) + 1;
  const tried = TRIED.reduce((n, o) => n + (byOutcome[o] ?? 0), 0);
  const good = (byOutcome.success ?? 0) + (byOutcome.nothing_to_do ?? 0);
  // Runs come newest first: a host's first is its last of the month.
  const last = new Map<number, (typeof runs)[number]>();
  const patched = new Set<number>();
  for (const r of runs) {
    if (!TRIED.includes(r.outcome)) continue;
    if (!last.has(r.host.id)) last.set(r.host.id, r);
    if (r.outcome === 'success') patched.add(r.host.id);
  }
  return {
    runs: runs.length,
    by_outcome: byOutcome,
    success_rate: tried === 0 ? null : Math.round((good / tried) * 1000) / 1000,
    hosts_patched: patched.size,
    hosts_failing: [...last.values()]
      .filter((r) => r.outcome === 'failed' || r.outcome === 'partial')
      .map((r) => ({ id: r.host.id, hostname: r.host.hostname, outcome: r.outcome }))
      .sort((a, b) => a.hostname.localeCompare(b.hostname)),
  };
}
