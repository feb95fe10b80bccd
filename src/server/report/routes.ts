// The monthly management report on the server: the month's resolution figures (SLA and time to
// remediate of what was resolved in a month), the reports made so far (JSON, HTML, PDF in
// <data_dir>/reports), a report made now on request, and the monthly job that makes last
// month's report early in each month and sends it through the notification channels.
import { existsSync } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { ErrorSchema } from '../api/schemas.ts';
import type { ServerContext } from '../context.ts';
import { auditChange } from '../http/audit.ts';
import { HttpError } from '../http/errors.ts';
import { createApiToken, revokeApiToken } from '../store/credentials.ts';
import { builtinAdminId } from '../store/users.ts';
import { collectReport, ReportError, type ApiGet } from './collect.ts';
import { renderReport, type ReportFiles } from './render.ts';
import { monthDue } from './job.ts';
import { monthResolution } from './resolution.ts';
import { MonthSchema, previousMonth, ResolutionSchema } from './schema.ts';
import { reportSummary } from './summary.ts';

/** The first check a while after the start (a server restarted for an upgrade does no work at once), then hourly. */
const FIRST_CHECK_MS = 15 * 60_000;
const CHECK_EVERY_MS = 60 * 60_000;

const FILE = /^patchloop-report-(20\d\d-(?:0[1-9]|1[0-2]))\.(pdf|html|json)$/;
const TYPES: Record<string, string> = {
  pdf: 'application/pdf',
  html: 'text/html; charset=utf-8',
  json: 'application/json; charset=utf-8',
};

const StoredReportSchema = z.object({
  month: z.string(),
  files: z.array(z.object({ name: z.string(), format: z.string(), bytes: z.number().int(), created_at: z.string() })),
});

export function reportsDir(ctx: ServerContext): string {
  return join(ctx.config.data_dir, 'reports');
}

/**
 * Makes the report of `month` with the server's own API (answered in-process, as a viewer with a
 * token made for this run and revoked after it) and writes its files.
 */
export async function makeMonthlyReport(
  app: FastifyInstance,
  ctx: ServerContext,
  month: string,
  o: { outDir?: string; chromium?: string; source?: string } = {},
): Promise<ReportFiles> {
  const token = createApiToken(ctx.store, `monthly report ${month}`, {
    userId: builtinAdminId(ctx.store),
    role: 'viewer',
  });
  try {
    const get: ApiGet = async (path) => {
      const res = await app.inject({ method: 'GET', url: path, headers: { authorization: `Bearer ${token.token}` } });
      return { status: res.statusCode, body: res.body ? (JSON.parse(res.body) as unknown) : null };
    };
    const report = await collectReport(get, month, ctx.store.clock.now(), o.source ?? 'the patchloop server');
    return await renderReport(report, o.outDir ?? reportsDir(ctx), { chromium: o.chromium });
  } finally {
    revokeApiToken(ctx.store, token.id);
  }
}

/** Sends a made report through every configured channel; the ids of the messages queued (none: no channels). */
export async function sendMonthlyReport(ctx: ServerContext, files: ReportFiles): Promise<number[]> {
  if (ctx.notify.channelList().length === 0) return [];
  const report = JSON.parse(await readFile(files.json, 'utf8')) as Parameters<typeof reportSummary>[0];
  return ctx.notify.sendToChannels({
    title: `patchloop report ${report.month}`,
    text: reportSummary(report),
    attachments: [
      {
        filename: `patchloop-report-${report.month}.pdf`,
        contentType: 'application/pdf',
        content: await readFile(files.pdf),
      },
    ],
  });
}

async function listReports(ctx: ServerContext): Promise<z.infer<typeof StoredReportSchema>[]> {
  const dir = reportsDir(ctx);
  if (!existsSync(dir)) return [];
  const byMonth = new Map<string, z.infer<typeof StoredReportSchema>>();
  for (const name of (await readdir(dir)).sort()) {
    const m = FILE.exec(name);
    if (!m) continue;
    const st = await stat(join(dir, name));
    let entry = byMonth.get(m[1]);
    if (!entry) byMonth.set(m[1], (entry = { month: m[1], files: [] }));
    entry.files.push({ name, format: m[2], bytes: st.size, created_at: st.mtime.toISOString() });
  }
  return [...byMonth.values()].sort((a, b) => b.month.localeCompare(a.month));
}

export const reportRoutes =
  (ctx: ServerContext): FastifyPluginAsyncZod =>
  async (app) => {
    const { store } = ctx;
    app.get(
      '/api/v1/stats/resolution',
      {
        config: { access: 'viewer' },
        schema: {
          summary:
            'Findings resolved in one month (default: the last whole month) by severity: how many, how many within their SLA, mean time to remediate',
          tags: ['stats'],
          querystring: z.object({ month: MonthSchema.optional() }),
          response: { 200: ResolutionSchema },
        },
      },
      async (request) => monthResolution(store, request.query.month ?? previousMonth(store.clock.now())),
    );
    app.get(
      '/api/v1/monthly-reports',
      {
        config: { access: 'viewer' },
        schema: {
          summary: 'Monthly reports made so far (PDF, HTML and JSON files), newest month first',
          tags: ['reports'],
          response: { 200: z.array(StoredReportSchema) },
        },
      },
      async () => listReports(ctx),
    );
    app.get(
      '/api/v1/monthly-reports/:file',
      {
        config: { access: 'viewer' },
        schema: {
          summary: 'One file of a monthly report: patchloop-report-YYYY-MM.pdf, .html or .json',
          tags: ['reports'],
          params: z.object({ file: z.string().regex(FILE, 'expected patchloop-report-YYYY-MM.pdf, .html or .json') }),
        },
      },
      async (request, reply) => {
        const file = join(reportsDir(ctx), request.params.file);
        if (!existsSync(file)) throw new HttpError('PL_E_NOT_FOUND', `no report file ${request.params.file}`);
        const format = FILE.exec(request.params.file)![2];
        return reply
          .type(TYPES[format])
          .header(
            'content-disposition',
            `${format === 'html' ? 'inline' : 'attachment'}; filename="${request.params.file}"`,
          )
          .send(await readFile(file));
      },
    );
    app.post(
      '/api/v1/monthly-reports',
      {
        config: { access: 'operator', audit: 'report.create' },
        schema: {
          summary:
            'Make the report of a month now (PDF and HTML printed by Chromium), and send it through the notification channels when asked',
          tags: ['reports'],
          body: z.strictObject({ month: MonthSchema, send: z.boolean().default(false) }),
          response: {
            201: StoredReportSchema.extend({ sent: z.array(z.number().int()) }),
            400: ErrorSchema,
            409: ErrorSchema,
          },
        },
      },
      async (request, reply) => {
        auditChange(request, { target: { type: 'report', id: request.body.month } });
        let files: ReportFiles;
        try {
          files = await makeMonthlyReport(app, ctx, request.body.month);
        } catch (err) {
          if (err instanceof ReportError) throw new HttpError('PL_E_CONFLICT', err.message);
          throw err;
        }
        const sent = request.body.send ? await sendMonthlyReport(ctx, files) : [];
        auditChange(request, { after: { month: request.body.month, sent: sent.length } });
        const entry = (await listReports(ctx)).find((r) => r.month === request.body.month)!;
        return reply.code(201).send({ ...entry, sent });
      },
    );

    // The monthly job: last month's report, once, then sent.
    const tried = new Map<string, number>();
    const check = async (): Promise<void> => {
      const now = store.clock.now();
      const month = monthDue(
        now,
        (m) => existsSync(join(reportsDir(ctx), `patchloop-report-${m}.pdf`)),
        tried.get(previousMonth(now)),
      );
      if (!month) return;
      tried.set(month, now);
      try {
        const files = await makeMonthlyReport(app, ctx, month);
        const sent = await sendMonthlyReport(ctx, files);
        ctx.log.info({ month, pdf: files.pdf, messages: sent.length }, 'monthly report made');
      } catch (err) {
        ctx.log.warn({ month, err: (err as Error).message }, 'monthly report not made; the job tries again tomorrow');
      }
    };
    let timer: NodeJS.Timeout | null = null;
    app.addHook('onReady', async () => {
      if (!ctx.config.reports.monthly) return;
      const tick = () => {
        void check().finally(() => {
          if (timer) timer = setTimeout(tick, CHECK_EVERY_MS).unref();
        });
      };
      timer = setTimeout(tick, FIRST_CHECK_MS).unref();
    });
    app.addHook('onClose', async () => {
      if (timer) clearTimeout(timer);
      timer = null;
    });
  };
