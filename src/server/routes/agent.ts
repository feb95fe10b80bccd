// Routes agents use: enrolment, reports, and the vulnerability DB download.
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { createGzip } from 'node:zlib';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import {
  EnrollRequestSchema,
  EnrollResponseSchema,
  ReportAckSchema,
  ReportSchema,
  ResendFullSchema,
  VulnDbManifestSchema,
} from '../../core/protocol.ts';
import { feedFile } from '../../vulndb/paths.ts';
import { ErrorSchema } from '../api/schemas.ts';
import type { ServerContext } from '../context.ts';
import { HttpError } from '../http/errors.ts';
import { EnrolmentRefused, enrollHost } from '../store/credentials.ts';
import { ReportError } from '../store/ingest.ts';

/** sha256 of feed files, by identity (inode, size, mtime): computed once per file version. */
const hashes = new Map<string, string>();

export const agentRoutes =
  (ctx: ServerContext): FastifyPluginAsyncZod =>
  async (app) => {
    app.post(
      '/api/v1/enroll',
      {
        config: { access: 'public' },
        schema: {
          summary: 'Enrol a host with an enrolment token; returns its agent credential (shown once)',
          tags: ['agent'],
          body: EnrollRequestSchema,
          response: { 201: EnrollResponseSchema, 401: ErrorSchema, 409: ErrorSchema },
        },
      },
      async (request, reply) => {
        let r;
        try {
          r = enrollHost(ctx.store, request.body);
        } catch (err) {
          if (!(err instanceof EnrolmentRefused)) throw err;
          request.log.warn({ hostname: request.body.hostname, reason: err.reason }, 'enrolment refused');
          throw new HttpError('PL_E_ENROLMENT_REFUSED', err.message, { error: err.reason });
        }
        if (!r) throw new HttpError('PL_E_UNAUTHORIZED', 'invalid, expired or used-up enrolment token');
        request.log.info({ host_id: r.host_id, hostname: request.body.hostname }, 'host enrolled');
        return reply.code(201).send({ ...r, server_time: new Date(ctx.store.clock.now()).toISOString() });
      },
    );

    app.post(
      '/api/v1/reports',
      {
        config: { access: 'host' },
        bodyLimit: ctx.config.limits.body,
        schema: {
          summary: 'Send an inventory report (full, or a delta on the last acknowledged one); gzip accepted',
          description:
            'Idempotent by report_id: a resent report is answered with the original acknowledgement (status "duplicate"). ' +
            'A delta the server cannot apply is answered 409 resend_full. A malformed report is rejected whole (400).',
          tags: ['agent'],
          body: ReportSchema,
          response: {
            200: ReportAckSchema,
            400: ErrorSchema,
            403: ErrorSchema,
            409: z.union([ResendFullSchema, ErrorSchema]),
            503: ErrorSchema,
          },
        },
      },
      async (request, reply) => {
        const principal = request.principal;
        if (principal?.kind !== 'host') throw new HttpError('PL_E_FORBIDDEN', 'not allowed with these credentials');
        let out;
        try {
          out = await ctx.ingest.submit(principal.hostId, request.body);
        } catch (err) {
          if (err instanceof ReportError)
            throw new HttpError('PL_E_REPORT_INVALID', `report rejected, nothing was stored: ${err.message}`);
          throw err;
        }
        if (out.kind === 'resend') return reply.code(409).send(out.body);
        if (out.kind === 'rejected') return reply.code(out.status).send({ error: out.error, message: out.message });
        request.log.debug(
          { host_id: principal.hostId, report_id: out.ack.report_id, status: out.ack.status, changes: out.ack.changes },
          'report',
        );
        return reply.code(200).send(out.ack);
      },
    );

    app.get(
      '/api/v1/vulndb',
      {
        config: { access: 'host-or-viewer' },
        schema: {
          summary: 'List the vulnerability DB feed files agents can download for standalone scans',
          tags: ['agent'],
          querystring: z.object({ distro: z.string().max(64).optional() }),
          response: { 200: VulnDbManifestSchema },
        },
      },
      async (request) => {
        const db = ctx.vulndb.current();
        // A host gets its distribution's feeds and those about vulnerabilities of any distribution
        // (KEV, EPSS: they cover none), so its standalone scans rank findings as the server does.
        const feeds = request.query.distro
          ? [...db.feedsFor(request.query.distro), ...db.feeds().filter((f) => f.distros.length === 0)]
          : db.feeds();
        const out = [];
        for (const f of feeds) {
          const { sha256, size } = await fileHash(f.file);
          out.push({
            feed: f.feed,
            updated_at: f.updated_at,
            distros: f.distros,
            entry_count: f.entry_count,
            size,
            sha256,
            url: `/api/v1/vulndb/${f.feed}`,
          });
        }
        return { feeds: out };
      },
    );

    app.get(
      '/api/v1/vulndb/:feed',
      {
        config: { access: 'host-or-viewer' },
        schema: {
          summary: 'Download one feed file (SQLite); ETag is its sha256, If-None-Match gives 304; gzip on request',
          tags: ['agent'],
          params: z.object({ feed: z.string().regex(/^[a-z0-9][a-z0-9_-]{0,63}$/) }),
        },
      },
      async (request, reply) => {
        const file = feedFile(ctx.config.data_dir, request.params.feed);
        if (!existsSync(file)) throw new HttpError('PL_E_NOT_FOUND', `no feed ${request.params.feed}`);
        // Open first: a refresh may rename a new file over this path; the handle keeps this version.
        const handle = await open(file, 'r');
        try {
          const { sha256, size } = await fileHash(file, handle);
          const etag = `"${sha256}"`;
          reply.header('etag', etag).header('cache-control', 'no-cache');
          if (request.headers['if-none-match'] === etag) {
            await handle.close();
            return reply.code(304).send();
          }
          reply
            .type('application/vnd.sqlite3')
            .header('content-disposition', `attachment; filename="${request.params.feed}.sqlite"`);
          const stream = handle.createReadStream({ start: 0 });
          if (/\bgzip\b/.test(String(request.headers['accept-encoding'] ?? ''))) {
            return reply.header('content-encoding', 'gzip').send(stream.pipe(createGzip({ level: 6 })));
          }
          return reply.header('content-length', size).send(stream);
        } catch (err) {
          await handle.close().catch(() => {});
          throw err;
        }
      },
    );
  };

async function fileHash(
  file: string,
  given?: Awaited<ReturnType<typeof open>>,
): Promise<{ sha256: string; size: number }> {
  const handle = given ?? (await open(file, 'r'));
  try {
    const st = await handle.stat();
    const key = `${file}:${st.ino}:${st.size}:${st.mtimeMs}`;
    let sha = hashes.get(key);
    if (!sha) {
      const h = createHash('sha256');
      for await (const chunk of handle.createReadStream({ start: 0, autoClose: false })) h.update(chunk as Buffer);
      sha = h.digest('hex');
      for (const k of hashes.keys()) if (k.startsWith(`${file}:`)) hashes.delete(k);
      hashes.set(key, sha);
    }
    return { sha256: sha, size: st.size };
  } finally {
    if (!given) await handle.close();
  }
}
