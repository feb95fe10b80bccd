// Routes of the remediation roll-up: what to upgrade across the fleet, and on one host.
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { HostRemediationSchema, RemediationQuerySchema, RemediationSchema } from '../api/remediation-schemas.ts';
import { ErrorSchema, IdParams, pageOf } from '../api/schemas.ts';
import type { ServerContext } from '../context.ts';
import { HttpError } from '../http/errors.ts';
import { enrichmentOf, type ServerEnrichment } from '../enrichment.ts';
import { hostRemediation, listRemediation } from '../queries/remediation.ts';

export const remediationRoutes =
  (ctx: ServerContext): FastifyPluginAsyncZod =>
  async (app) => {
    const facts = (): ServerEnrichment => enrichmentOf(ctx);
    app.get(
      '/api/v1/remediation',
      {
        config: { access: 'viewer' },
        schema: {
          summary:
            'What to upgrade across the fleet: per source package and version, the hosts and the vulnerabilities it closes',
          tags: ['remediation'],
          querystring: RemediationQuerySchema,
          response: { 200: pageOf(RemediationSchema) },
        },
      },
      async (request) => listRemediation(ctx.store, facts(), request.query),
    );

    app.get(
      '/api/v1/hosts/:id/remediation',
      {
        config: { access: 'viewer' },
        schema: {
          summary: 'What to upgrade on one host: per source package, the version and what it closes',
          tags: ['remediation', 'hosts'],
          params: IdParams,
          response: { 200: z.object({ items: z.array(HostRemediationSchema) }), 404: ErrorSchema },
        },
      },
      async (request) => {
        const items = hostRemediation(ctx.store, facts(), request.params.id);
        if (!items) throw new HttpError('PL_E_NOT_FOUND', `no host ${request.params.id}`);
        return { items };
      },
    );
  };
