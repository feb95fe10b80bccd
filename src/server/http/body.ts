// Request bodies: agents send reports gzip-compressed. The body limit applies to the
// decompressed size too (fastify counts both), so a small compressed body that inflates
// beyond it is refused with 413 like any other oversized one.
import { Readable } from 'node:stream';
import { createGunzip, gunzipSync } from 'node:zlib';
import type { FastifyInstance } from 'fastify';

/** Bodies up to this size (compressed) are inflated in one call: cheaper than a stream. */
const SMALL_BODY = 64 * 1024;

function httpError(status: number, code: string, message: string): Error {
  return Object.assign(new Error(message), { statusCode: status, code });
}

export function registerBodyDecoding(app: FastifyInstance, bodyLimit: number): void {
  app.addHook('preParsing', async (request, _reply, payload) => {
    const encoding = request.headers['content-encoding']?.toLowerCase().trim();
    if (!encoding || encoding === 'identity') return payload;
    if (encoding !== 'gzip')
      throw httpError(
        415,
        'PL_UNSUPPORTED_ENCODING',
        `unsupported content-encoding ${JSON.stringify(encoding)} (use gzip or none)`,
      );

    const length = Number(request.headers['content-length']);
    if (Number.isInteger(length) && length <= SMALL_BODY) {
      const chunks: Buffer[] = [];
      let received = 0;
      for await (const c of payload) {
        chunks.push(c as Buffer);
        received += (c as Buffer).length;
        if (received > SMALL_BODY)
          throw httpError(400, 'FST_ERR_CTP_INVALID_CONTENT_LENGTH', 'request body longer than its content-length');
      }
      let inflated: Buffer;
      try {
        inflated = gunzipSync(Buffer.concat(chunks), {
          maxOutputLength: (request.routeOptions.bodyLimit ?? bodyLimit) + 1,
        });
      } catch (err) {
        if (err instanceof RangeError) throw httpError(413, 'FST_ERR_CTP_BODY_TOO_LARGE', 'request body too large');
        throw httpError(400, 'PL_BAD_GZIP', `request body is not valid gzip: ${(err as Error).message}`);
      }
      return Object.assign(Readable.from([inflated]), { receivedEncodedLength: received });
    }

    const gunzip = createGunzip() as ReturnType<typeof createGunzip> & { receivedEncodedLength: number };
    gunzip.receivedEncodedLength = 0;
    payload.on('data', (chunk: Buffer) => {
      gunzip.receivedEncodedLength += chunk.length;
    });
    gunzip.on('error', (e) => {
      Object.assign(e, { statusCode: 400, code: 'PL_BAD_GZIP' });
      e.message = `request body is not valid gzip: ${e.message}`;
    });
    return payload.pipe(gunzip);
  });
}
