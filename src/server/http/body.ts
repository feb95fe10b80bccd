// Request bodies: agents send reports gzip-compressed. The body limit applies to the
// decompressed size too (fastify counts both), so a small compressed body that inflates
// beyond it is refused with 413 like any other oversized one.
import { createGunzip } from 'node:zlib';
import type { FastifyInstance } from 'fastify';
import type { Readable } from 'node:stream';

export function registerBodyDecoding(app: FastifyInstance): void {
  app.addHook('preParsing', async (request, reply, payload) => {
    const encoding = request.headers['content-encoding']?.toLowerCase().trim();
    if (!encoding || encoding === 'identity') return payload;
    if (encoding !== 'gzip') {
      const err = new Error(`unsupported content-encoding ${JSON.stringify(encoding)} (use gzip or none)`) as Error & { statusCode: number; code: string };
      err.statusCode = 415;
      err.code = 'PL_UNSUPPORTED_ENCODING';
      throw err;
    }
    const gunzip = createGunzip() as ReturnType<typeof createGunzip> & { receivedEncodedLength: number };
    gunzip.receivedEncodedLength = 0;
    (payload as Readable).on('data', (chunk: Buffer) => {
      gunzip.receivedEncodedLength += chunk.length;
    });
    gunzip.on('error', (e) => {
      (e as Error & { statusCode?: number; code?: string }).statusCode = 400;
      (e as Error & { code?: string }).code = 'PL_BAD_GZIP';
      e.message = `request body is not valid gzip: ${e.message}`;
    });
    void reply;
    return (payload as Readable).pipe(gunzip);
  });
}
