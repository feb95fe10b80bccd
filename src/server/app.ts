// The fastify application: plugins, authentication, body decoding, error shape, routes, the
// API reference and OpenAPI description at /api/docs, and the dashboard's static files at / when built.
import { readFileSync } from 'node:fs';
import fastifyCookie from '@fastify/cookie';
import fastifyStatic from '@fastify/static';
import fastifySwagger from '@fastify/swagger';
import Fastify, { LogController, type FastifyBaseLogger } from 'fastify';
import {
  jsonSchemaTransform,
  serializerCompiler,
  validatorCompiler,
  type ZodTypeProvider,
} from 'fastify-type-provider-zod';
import type { ServerContext } from './context.ts';
import { registerAccessControl } from './http/access.ts';
import { registerAudit } from './http/audit.ts';
import { registerRequestLimits } from './http/request-limits.ts';
import { registerBodyDecoding } from './http/body.ts';
import { registerErrorHandling } from './http/errors.ts';
import { adminRoutes } from './routes/admin.ts';
import { apiDocsRoutes } from './routes/api-docs.ts';
import { agentRoutes } from './routes/agent.ts';
import { auditRoutes } from './routes/audit.ts';
import { exceptionRoutes } from './routes/exceptions.ts';
import { facetRoutes } from './routes/facets.ts';
import { fleetRoutes } from './routes/fleet.ts';
import { notificationRoutes } from './routes/notifications.ts';
import { oidcRoutes } from './routes/oidc.ts';
import { repoRoutes } from './routes/repo.ts';
import { userRoutes } from './routes/users.ts';
import { patchingRoutes } from './patching/routes.ts';
import { reportRoutes } from './report/routes.ts';
import { remediationRoutes } from './routes/remediation.ts';
import { z } from 'zod';
import { findWebAssets, indexPage, serveEmbedded } from './web-assets.ts';

/** Client-side routes of the dashboard (web/src/main.tsx); `/` is its index file. */
const DASHBOARD_PAGES = [
  '/hosts',
  '/hosts/:id',
  '/vulnerabilities',
  '/vulnerabilities/:id',
  '/remediation',
  '/findings',
  '/exceptions',
  '/patching',
  '/policies',
  '/policies/:name',
  '/reports',
  '/users',
  '/audit',
  '/account',
  '/notifications',
];

export type App = Awaited<ReturnType<typeof buildApp>>;

export async function buildApp(ctx: ServerContext) {
  const tls = ctx.config.tls;
  const app = Fastify({
    loggerInstance: ctx.log as FastifyBaseLogger,
    // Requests are logged once, by the onResponse hook below, at a level that fits the outcome.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: ctx.config.limits.body,
    ...(tls ? { https: { cert: readFileSync(tls.cert), key: readFileSync(tls.key) } } : {}),
    return503OnClosing: true,
  }).withTypeProvider<ZodTypeProvider>();

  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  app.decorateRequest('principal', null);
  registerErrorHandling(app, ctx.config.limits.body);
  registerRequestLimits(app);
  registerBodyDecoding(app, ctx.config.limits.body);
  await app.register(fastifyCookie);
  await app.register(fastifySwagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'patchloop server API',
        version: ctx.version,
        description:
          'Agents enrol with an enrolment token and send inventory reports with their host token (Bearer). ' +
          'People log in for a session cookie (send the CSRF token as X-CSRF-Token on changes) or use an API token (Bearer).',
      },
      components: {
        securitySchemes: {
          bearer: { type: 'http', scheme: 'bearer' },
          session: { type: 'apiKey', in: 'cookie', name: 'patchloop_session' },
        },
      },
      security: [{ bearer: [] }, { session: [] }],
    },
    transform: jsonSchemaTransform,
  });

  registerAccessControl(app, ctx.store);
  registerAudit(app, ctx.store);
  app.addHook('onSend', async (request, reply, payload) => {
    reply.header('x-content-type-options', 'nosniff');
    reply.header('x-frame-options', 'DENY');
    reply.header('referrer-policy', 'no-referrer');
    if (isApiPath(request.url)) {
      if (!reply.hasHeader('cache-control')) reply.header('cache-control', 'no-store');
    } else {
      reply.header(
        'content-security-policy',
        "default-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
      );
    }
    return payload;
  });
  app.addHook('onResponse', async (request, reply) => {
    const level = reply.statusCode >= 500 ? 'error' : reply.statusCode >= 400 ? 'info' : 'debug';
    request.log[level](
      {
        method: request.method,
        url: request.url.split('?')[0],
        status: reply.statusCode,
        ms: Math.round(reply.elapsedTime),
      },
      'request',
    );
  });

  app.get(
    '/api/v1/health',
    {
      config: { access: 'public' },
      schema: {
        summary: 'Liveness',
        tags: ['meta'],
        response: { 200: z.object({ status: z.literal('ok'), version: z.string() }) },
      },
    },
    async () => ({ status: 'ok' as const, version: ctx.version }),
  );
  await app.register(agentRoutes(ctx));
  await app.register(adminRoutes(ctx));
  await app.register(userRoutes(ctx));
  await app.register(oidcRoutes(ctx));
  await app.register(auditRoutes(ctx));
  await app.register(exceptionRoutes(ctx));
  await app.register(facetRoutes(ctx));
  await app.register(fleetRoutes(ctx));
  await app.register(patchingRoutes(ctx));
  await app.register(reportRoutes(ctx));
  await app.register(remediationRoutes(ctx));
  await app.register(repoRoutes(ctx));
  await app.register(notificationRoutes(ctx));
  apiDocsRoutes(app);

  // The dashboard: the configured web_dir, else this installation's (a directory, or the
  // assets embedded in the single executable).
  const web = findWebAssets(ctx.config.web_dir);
  if (web) {
    // The dashboard's files are public (the data they show is not); this scope declares so for
    // the routes the static plugin (or the embedded files) add.
    await app.register(async (scope) => {
      scope.addHook('onRoute', (route) => {
        route.config = { ...route.config, access: 'public' };
      });
      if (web.kind === 'directory')
        await scope.register(fastifyStatic, { root: web.dir, prefix: '/', wildcard: false, index: 'index.html' });
      else serveEmbedded(scope, web.files);
    });
  } else {
    app.get('/', { config: { access: 'public' }, schema: { hide: true } }, async (_request, reply) =>
      reply
        .type('text/plain')
        .send(
          `patchloop server ${ctx.version}: the dashboard is not built (web/dist); the API is at /api/v1, its description at /api/docs\n`,
        ),
    );
  }
  if (web) {
    // The dashboard's own pages, loaded directly or reloaded, get its index page; keep in step
    // with the routes in web/src/main.tsx. Any other path is a 404.
    for (const page of DASHBOARD_PAGES) {
      app.get(page, { config: { access: 'public' }, schema: { hide: true } }, async (_request, reply) =>
        reply.type('text/html; charset=utf-8').send(await indexPage(web)),
      );
    }
  }
  app.setNotFoundHandler(async (request, reply) =>
    reply.code(404).send({ error: 'not_found', message: `no route ${request.method} ${request.url.split('?')[0]}` }),
  );
  return app;
}

/** API paths: JSON answers, never cached. (Access is decided per route, not by this prefix.) */
function isApiPath(url: string): boolean {
  return url === '/api' || url.startsWith('/api/');
}
