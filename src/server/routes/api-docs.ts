// The API reference at /api/docs: a page with Swagger UI (swagger-ui-dist, served from this
// server, never a CDN) reading the OpenAPI description, which is beside it as JSON
// (/api/docs/openapi.json) and YAML (/api/docs/openapi.yaml). A client asking /api/docs for
// anything but HTML gets the JSON description there too, as before the page existed.
//
// The viewer's two files are copied into web/dist by scripts/build-web, so a directory
// installation and the single executable carry them like the dashboard's own files; a source
// checkout whose dashboard is not built reads them from node_modules.
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { installedFile, isSingleExecutable, projectRoot } from '../../project-root.ts';

/** The viewer's files: the name served under /api/docs/ and in web/dist, and its type. */
export const VIEWER_FILES: Record<string, string> = {
  'swagger-ui-bundle.js': 'text/javascript; charset=utf-8',
  'swagger-ui.css': 'text/css; charset=utf-8',
};

// The page runs only its own scripts and styles; the viewer sets element styles from script
// (allowed without 'unsafe-inline') and its stylesheet draws icons from data: URLs. Requests go
// to this server only ("Try it out" sends reads with the page's session).
const CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "font-src 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
  "form-action 'none'",
].join('; ');

const PAGE = `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <meta name="viewport" content="width=device-width, initial-scale=1" />
    <title>patchloop API reference</title>
    <link rel="icon" href="/favicon.svg" type="image/svg+xml" />
    <link rel="stylesheet" href="/api/docs/swagger-ui.css" />
    <link rel="stylesheet" href="/api/docs/api-docs.css" />
  </head>
  <body>
    <header class="api-docs-head">
      <a href="/">← patchloop dashboard</a>
      <span>The OpenAPI description: <a href="/api/docs/openapi.json">JSON</a> · <a href="/api/docs/openapi.yaml">YAML</a></span>
    </header>
    <div id="swagger-ui"><noscript>The reference needs JavaScript; the description itself is at /api/docs/openapi.json.</noscript></div>
    <script src="/api/docs/swagger-ui-bundle.js"></script>
    <script src="/api/docs/api-docs.js"></script>
  </body>
</html>
`;

// No validator (it would send the description to validator.swagger.io); "Try it out" for reads only,
// since changes need the CSRF header the dashboard sends. Without deep links an operation's path is
// text, not a link inside the button that opens it (a control in a control, for screen readers).
const INIT = `window.ui = SwaggerUIBundle({
  url: '/api/docs/openapi.json',
  dom_id: '#swagger-ui',
  deepLinking: false,
  validatorUrl: null,
  supportedSubmitMethods: ['get'],
  defaultModelsExpandDepth: 0,
  docExpansion: 'list',
  tryItOutEnabled: false,
});
`;

// The page's header, and the viewer's light colours darkened to a contrast ratio of 4.5 or more
// (WCAG AA, checked with axe-core in test/dashboard-a11y.test.ts).
const STYLE = `body { margin: 0; font-family: system-ui, sans-serif; }
.api-docs-head { display: flex; gap: 1.5rem; justify-content: space-between; flex-wrap: wrap;
  padding: 0.6rem 1.25rem; background: #101828; color: #eaecf0; font-size: 14px; }
.api-docs-head a { color: #b2ddff; }
:focus-visible { outline: 2px solid #1f5fa8; outline-offset: 2px; }
.api-docs-head a:focus-visible { outline-color: #fff; }
.swagger-ui .opblock.opblock-get .opblock-summary-method { background: #1f63a8; }
.swagger-ui .opblock.opblock-post .opblock-summary-method { background: #12744a; }
.swagger-ui .opblock.opblock-put .opblock-summary-method { background: #9a5200; }
.swagger-ui .opblock.opblock-delete .opblock-summary-method { background: #b91c1c; }
.swagger-ui .opblock.opblock-patch .opblock-summary-method { background: #0c6e5b; }
.swagger-ui .info .title small pre { background: #4d5563; }
.swagger-ui .info .title small.version-stamp pre { background: #466300; }
.swagger-ui .info .url, .swagger-ui .info a { color: #1f5fa8; }
.swagger-ui .btn.authorize { color: #12744a; border-color: #12744a; }
.swagger-ui .btn.authorize svg { fill: #12744a; }
`;

/** One of the viewer's files: from the installation's web/dist, else (a source checkout) node_modules. */
async function viewerFile(name: string): Promise<Buffer | null> {
  const installed = installedFile(`web/dist/${name}`);
  if (installed || isSingleExecutable()) return installed;
  return readFile(join(projectRoot(), 'node_modules', 'swagger-ui-dist', name)).catch(() => null);
}

interface Served {
  body: Buffer;
  gzipped: Buffer;
  etag: string;
}

/**
 * The viewer's files as sent: read and gzipped once (the bundle is 1.8 MB, a quarter of that
 * gzipped), with an ETag so a browser that has them gets a 304.
 */
const gzipAsync = promisify(gzip);
const served = new Map<string, Promise<Served | null>>();
function viewer(name: string): Promise<Served | null> {
  let s = served.get(name);
  if (!s) {
    s = viewerFile(name).then(async (body) =>
      body
        ? {
            body,
            // Off the event loop: the first request for the bundle does not hold up the others.
            gzipped: await gzipAsync(body, { level: 9 }),
            etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`,
          }
        : null,
    );
    served.set(name, s);
  }
  return s;
}

function page(reply: FastifyReply, type: string, body: string | Buffer): FastifyReply {
  // The reference and its viewer change only with the server: cacheable, checked at each load.
  return reply.header('content-security-policy', CSP).header('cache-control', 'no-cache').type(type).send(body);
}

export function apiDocsRoutes(app: FastifyInstance): void {
  const hidden = { config: { access: 'public' as const }, schema: { hide: true } };
  app.get('/api/docs', hidden, async (request, reply) => {
    reply.header('vary', 'accept');
    if (!(request.headers.accept ?? '').includes('text/html')) return reply.send(app.swagger());
    return page(reply, 'text/html; charset=utf-8', PAGE);
  });
  app.get('/api/docs/openapi.json', hidden, async () => app.swagger());
  app.get('/api/docs/openapi.yaml', hidden, async (_request, reply) =>
    reply.type('application/yaml').send(app.swagger({ yaml: true })),
  );
  app.get('/api/docs/api-docs.js', hidden, async (_request, reply) =>
    page(reply, 'text/javascript; charset=utf-8', INIT),
  );
  app.get('/api/docs/api-docs.css', hidden, async (_request, reply) => page(reply, 'text/css; charset=utf-8', STYLE));
  for (const [name, type] of Object.entries(VIEWER_FILES)) {
    app.get(`/api/docs/${name}`, hidden, async (request, reply) => {
      const file = await viewer(name);
      if (!file) return reply.code(404).send({ error: 'not_found', message: `${name} is not installed` });
      reply.header('etag', file.etag).header('vary', 'accept-encoding');
      if (request.headers['if-none-match'] === file.etag) return reply.code(304).send();
      if (/\bgzip\b/.test(String(request.headers['accept-encoding'] ?? '')))
        return page(reply.header('content-encoding', 'gzip'), type, file.gzipped);
      return page(reply, type, file.body);
    });
  }
}
