// Routes for the dashboard and for users: hosts, findings (and their export), vulnerabilities,
// statistics, events, feeds.
import { Readable } from 'node:stream';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import {
  ErrorSchema,
  EventSchema,
  EventsQuerySchema,
  ExportQuerySchema,
  FeedStatusSchema,
  FindingSchema,
  FindingsQuerySchema,
  GroupQuerySchema,
  HostDetailSchema,
  HostHistoryQuerySchema,
  HostPatchSchema,
  HostsQuerySchema,
  HostSummarySchema,
  IdParams,
  OverviewSchema,
  PackageSchema,
  PackagesQuerySchema,
  pageOf,
  ScanSchema,
  TrendsQuerySchema,
  TrendsSchema,
  VulnDetailSchema,
  VulnsQuerySchema,
  VulnSummarySchema,
} from '../api/schemas.ts';
import type { ServerContext } from '../context.ts';
import { enrichmentOf, type ServerEnrichment } from '../enrichment.ts';
import { auditChange } from '../http/audit.ts';
import { HttpError } from '../http/errors.ts';
import { iso } from '../queries/common.ts';
import { listEvents } from '../queries/events.ts';
import { exportFindings, queryFindings } from '../queries/findings.ts';
import { hostDetail, hostHistory, hostPackages, listHosts } from '../queries/hosts.ts';
import { exploitOverview } from '../queries/priorities.ts';
import { overview, trends } from '../queries/stats.ts';
import { listVulns, vulnDetail } from '../queries/vulns.ts';
import { revokeHostTokens } from '../store/credentials.ts';
import { removeHost, updateHost } from '../store/hosts.ts';

export const fleetRoutes =
  (ctx: ServerContext): FastifyPluginAsyncZod =>
  async (app) => {
    const { store } = ctx;
    // Made now, so the exporter ranks its documents with it before anyone asks the API.
    const ranked = enrichmentOf(ctx);
    const enrichment = (): ServerEnrichment => ranked;
    /** What the audit log keeps of a host: its name and the settings people change. */
    const hostAudited = (id: number): { hostname: string; group: string; tags: string[] } | null => {
      const h = store.get<{ hostname: string; grp: string; tags: string }>(
        'SELECT hostname, grp, tags FROM hosts WHERE id = ?',
        id,
      );
      return h ? { hostname: h.hostname, group: h.grp, tags: JSON.parse(h.tags) as string[] } : null;
    };
    const hostExists = (id: number): void => {
      if (!store.get('SELECT 1 AS x FROM hosts WHERE id = ?', id))
        throw new HttpError('PL_E_NOT_FOUND', `no host ${id}`);
    };

    app.get(
      '/api/v1/hosts',
      {
        config: { access: 'viewer' },
        schema: {
          summary: 'Hosts: filter, sort, page',
          tags: ['hosts'],
          querystring: HostsQuerySchema,
          response: { 200: pageOf(HostSummarySchema) },
        },
      },
      async (request) => listHosts(store, request.query),
    );

    app.get(
      '/api/v1/hosts/:id',
      {
        config: { access: 'viewer' },
        schema: {
          summary: 'One host with its state, support, warnings and recent scans',
          tags: ['hosts'],
          params: IdParams,
          response: { 200: HostDetailSchema, 404: ErrorSchema },
        },
      },
      async (request) => {
        const h = hostDetail(store, request.params.id);
        if (!h) throw new HttpError('PL_E_NOT_FOUND', `no host ${request.params.id}`);
        return h;
      },
    );

    app.patch(
      '/api/v1/hosts/:id',
      {
        config: { access: 'operator', audit: 'host.update' },
        schema: {
          summary: "Set a host's group and tags",
          tags: ['hosts'],
          params: IdParams,
          body: HostPatchSchema,
          response: { 200: HostDetailSchema, 404: ErrorSchema },
        },
      },
      async (request) => {
        auditChange(request, {
          target: { type: 'host', id: request.params.id },
          before: hostAudited(request.params.id),
        });
        if (!updateHost(store, request.params.id, request.body))
          throw new HttpError('PL_E_NOT_FOUND', `no host ${request.params.id}`);
        auditChange(request, { after: hostAudited(request.params.id) });
        return hostDetail(store, request.params.id)!;
      },
    );

    app.delete(
      '/api/v1/hosts/:id',
      {
        config: { access: 'admin', audit: 'host.delete' },
        schema: {
          summary: 'Remove a host (its findings, packages, credentials); events remain',
          tags: ['hosts'],
          params: IdParams,
          response: { 204: z.null(), 404: ErrorSchema },
        },
      },
      async (request, reply) => {
        auditChange(request, {
          target: { type: 'host', id: request.params.id },
          before: hostAudited(request.params.id),
        });
        if (!removeHost(store, request.params.id))
          throw new HttpError('PL_E_NOT_FOUND', `no host ${request.params.id}`);
        return reply.code(204).send(null);
      },
    );

    app.post(
      '/api/v1/hosts/:id/revoke',
      {
        config: { access: 'admin', audit: 'host.revoke' },
        schema: {
          summary: "Revoke the host's agent credential (it must enrol again)",
          tags: ['hosts'],
          params: IdParams,
          response: { 200: z.object({ revoked: z.number().int() }), 404: ErrorSchema },
        },
      },
      async (request) => {
        auditChange(request, { target: { type: 'host', id: request.params.id } });
        hostExists(request.params.id);
        const revoked = revokeHostTokens(store, request.params.id);
        auditChange(request, { after: { ...hostAudited(request.params.id), tokens_revoked: revoked } });
        return { revoked };
      },
    );

    app.get(
      '/api/v1/hosts/:id/packages',
      {
        config: { access: 'viewer' },
        schema: {
          summary: "The host's installed packages",
          tags: ['hosts'],
          params: IdParams,
          querystring: PackagesQuerySchema,
          response: { 200: pageOf(PackageSchema) },
        },
      },
      async (request) => {
        hostExists(request.params.id);
        return hostPackages(store, request.params.id, request.query);
      },
    );

    app.get(
      '/api/v1/hosts/:id/findings',
      {
        config: { access: 'viewer' },
        schema: {
          summary: "The host's findings (open by default)",
          tags: ['hosts'],
          params: IdParams,
          querystring: FindingsQuerySchema.omit({ host: true }),
          response: { 200: pageOf(FindingSchema) },
        },
      },
      async (request) => {
        hostExists(request.params.id);
        return queryFindings(store, enrichment(), { ...request.query, host: request.params.id });
      },
    );

    app.get(
      '/api/v1/hosts/:id/history',
      {
        config: { access: 'viewer' },
        schema: {
          summary: "The host's events (newest first) and scans",
          tags: ['hosts'],
          params: IdParams,
          querystring: HostHistoryQuerySchema,
          response: {
            200: z.object({
              events: z.array(EventSchema),
              next_before: z.string().nullable(),
              scans: z.array(ScanSchema),
            }),
          },
        },
      },
      async (request) => {
        hostExists(request.params.id);
        return hostHistory(store, request.params.id, request.query);
      },
    );

    app.get(
      '/api/v1/findings',
      {
        config: { access: 'viewer' },
        schema: {
          summary:
            'Findings across the fleet: by state, severity, status, fixable, group, host, vulnerability, package, age, SLA',
          tags: ['findings'],
          querystring: FindingsQuerySchema,
          response: { 200: pageOf(FindingSchema) },
        },
      },
      async (request) => queryFindings(store, enrichment(), request.query),
    );

    app.get(
      '/api/v1/findings/export',
      {
        config: { access: 'viewer' },
        schema: {
          summary: 'Export findings (same filters) as CSV, JSON or NDJSON, streamed',
          tags: ['findings'],
          querystring: ExportQuerySchema,
        },
      },
      async (request, reply) => {
        const q = request.query;
        const types = {
          csv: 'text/csv; charset=utf-8',
          json: 'application/json',
          ndjson: 'application/x-ndjson',
        } as const;
        const stamp = new Date(store.clock.now()).toISOString().slice(0, 10);
        reply
          .type(types[q.format])
          .header('content-disposition', `attachment; filename="patchloop-findings-${stamp}.${q.format}"`);
        return reply.send(Readable.from(exportFindings(store, enrichment(), q)));
      },
    );

    app.get(
      '/api/v1/vulnerabilities',
      {
        config: { access: 'viewer' },
        schema: {
          summary:
            'Vulnerabilities with open findings: most widespread (sort=hosts), most severe (sort=severity), search by id',
          tags: ['vulnerabilities'],
          querystring: VulnsQuerySchema,
          response: { 200: pageOf(VulnSummarySchema) },
        },
      },
      async (request) => listVulns(store, enrichment(), request.query),
    );

    app.get(
      '/api/v1/vulnerabilities/:id',
      {
        config: { access: 'viewer' },
        schema: {
          summary:
            'One vulnerability: description, counts, fixed versions (affected hosts: /api/v1/findings?vulnerability=ID)',
          tags: ['vulnerabilities'],
          params: z.object({ id: z.string().min(1).max(100) }),
          response: { 200: VulnDetailSchema, 404: ErrorSchema },
        },
      },
      async (request) => {
        const v = await vulnDetail(store, enrichment(), ctx.vulndb.current(), request.params.id);
        if (!v) throw new HttpError('PL_E_NOT_FOUND', `unknown vulnerability ${request.params.id}`);
        return v;
      },
    );

    app.get(
      '/api/v1/stats/overview',
      {
        config: { access: 'viewer' },
        schema: {
          summary:
            'Fleet KPIs: open and fixable by severity, hosts reporting/stale, reboots, SLA compliance, MTTR, releases and EOL, feeds',
          tags: ['statistics'],
          querystring: GroupQuerySchema,
          response: { 200: OverviewSchema },
        },
      },
      async (request) => ({
        ...overview(store, request.query.group, ctx.vulndb.current().feeds()),
        ...(await exploitOverview(store, enrichment(), request.query.group)),
      }),
    );

    app.get(
      '/api/v1/stats/trends',
      {
        config: { access: 'viewer' },
        schema: {
          summary: 'Open, new and resolved findings per day (default 90 days)',
          tags: ['statistics'],
          querystring: TrendsQuerySchema,
          response: { 200: TrendsSchema },
        },
      },
      async (request) => trends(store, request.query.group, request.query.days),
    );

    app.get(
      '/api/v1/events',
      {
        config: { access: 'viewer' },
        schema: {
          summary: 'Events in order, one item per finding; tail with after=<next_after>',
          tags: ['events'],
          querystring: EventsQuerySchema,
          response: { 200: z.object({ items: z.array(EventSchema), next_after: z.string().nullable() }) },
        },
      },
      async (request) => listEvents(store, request.query),
    );

    app.get(
      '/api/v1/feeds',
      {
        config: { access: 'viewer' },
        schema: {
          summary: 'Vulnerability feeds, the refresh schedule and recent refreshes',
          tags: ['feeds'],
          response: { 200: FeedStatusSchema },
        },
      },
      async () => {
        const next = ctx.feeds.nextRefresh();
        return {
          feeds: ctx.vulndb
            .current()
            .feeds()
            .map((f) => ({ feed: f.feed, updated_at: f.updated_at, distros: f.distros, entry_count: f.entry_count })),
          configured: ctx.config.feeds.sources.map((s) => s.name),
          refresh_interval_seconds: ctx.config.feeds.refresh_interval / 1000,
          refreshing: ctx.feeds.refreshing(),
          next_refresh: next === null ? null : iso(next),
          recent: store
            .all<{
              id: number;
              started_at: number;
              finished_at: number | null;
              outcome: string | null;
              message: string | null;
              hosts: number | null;
              detected: number | null;
              resolved: number | null;
              duration_ms: number | null;
            }>(
              'SELECT id, started_at, finished_at, outcome, message, hosts, detected, resolved, duration_ms FROM refreshes ORDER BY id DESC LIMIT 20',
            )
            .map((r) => ({ ...r, started_at: iso(r.started_at), finished_at: iso(r.finished_at) })),
        };
      },
    );

    app.post(
      '/api/v1/feeds/refresh',
      {
        config: { access: 'operator', audit: 'feeds.refresh' },
        schema: {
          summary: 'Refresh the feeds now (then re-match the fleet); 409 when a refresh is running',
          tags: ['feeds'],
          response: { 202: z.object({ started: z.literal(true) }), 409: ErrorSchema },
        },
      },
      async (_request, reply) => {
        if (!ctx.feeds.trigger()) throw new HttpError('PL_E_CONFLICT', 'a feed refresh is already running');
        return reply.code(202).send({ started: true });
      },
    );
  };
