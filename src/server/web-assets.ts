// Where the dashboard's files come from: a directory (the configured web_dir, or web/dist of a
// directory installation), served by @fastify/static; or, in the single executable, the
// embedded assets (web/dist/...), held in memory and served by one route each.
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { extname, join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { installedFile, installedFiles, isSingleExecutable, projectRoot } from '../project-root.ts';

export type WebAssets = { kind: 'directory'; dir: string } | { kind: 'embedded'; files: Map<string, Buffer> };

/** The dashboard of this installation, or null when it has none (not built). */
export function findWebAssets(configuredDir?: string): WebAssets | null {
  if (!configuredDir && isSingleExecutable()) {
    const files = new Map(
      installedFiles('web/dist').map((path) => [path.slice('web/dist/'.length), installedFile(path)!]),
    );
    return files.has('index.html') ? { kind: 'embedded', files } : null;
  }
  const dir = configuredDir ?? join(projectRoot(), 'web', 'dist');
  return existsSync(join(dir, 'index.html')) ? { kind: 'directory', dir } : null;
}

/** The index page, which also answers the dashboard's client-side routes. */
export async function indexPage(assets: WebAssets): Promise<Buffer> {
  // A directory is read at each request, as @fastify/static does: a rebuilt dashboard shows without a restart.
  return assets.kind === 'embedded' ? assets.files.get('index.html')! : readFile(join(assets.dir, 'index.html'));
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.png': 'image/png',
  '.ico': 'image/vnd.microsoft.icon',
  '.woff2': 'font/woff2',
};

/**
 * The embedded files, each at /NAME and index.html also at /, with what @fastify/static sends
 * for a file: its type, an ETag (answered with 304 when it matches) and `public, max-age=0`.
 */
export function serveEmbedded(scope: FastifyInstance, files: Map<string, Buffer>): void {
  for (const [name, body] of files) {
    const type = TYPES[extname(name)] ?? 'application/octet-stream';
    const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`;
    const paths = name === 'index.html' ? ['/', '/index.html'] : [`/${name}`];
    for (const path of paths) {
      scope.get(path, { schema: { hide: true } }, async (request, reply) => {
        reply.header('etag', etag).header('cache-control', 'public, max-age=0');
        if (request.headers['if-none-match'] === etag) return reply.code(304).send();
        return reply.type(type).send(body);
      });
    }
  }
}
