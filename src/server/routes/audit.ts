// The audit log, newest first, with filters (operators and admins read it).
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { AuditPageSchema, AuditQuerySchema } from '../api/people-schemas.ts';
import type { ServerContext } from '../context.ts';
import { queryAudit } from '../store/audit.ts';

export const auditRoutes =
  (ctx: ServerContext): FastifyPluginAsyncZod =>
  async (app) => {
    app.get(
      '/api/v1/audit',
      {
        config: { access: 'operator' },
        schema: {
          summary: 'The audit log: who changed what, when, before and after; newest first',
          description:
            'Filters: actor (account name), action (user.create, or user.* for every action on accounts), target_type and target_id, outcome ' +
            '(success, failure, denied), since and until (ISO times). Pages: pass next_before_id as before_id.',
          tags: ['audit'],
          querystring: AuditQuerySchema,
          response: { 200: AuditPageSchema },
        },
      },
      async (request) => queryAudit(ctx.store, request.query),
    );
  };
