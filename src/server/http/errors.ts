// One error shape for every failure: {error, message, details?}. Client errors say what was
// wrong; server errors are logged in full and answered without internals.
import type { FastifyError, FastifyInstance } from 'fastify';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';

export class HttpError extends Error {
  readonly statusCode: number;
  readonly code: string;
  readonly details?: { path: string; message: string }[];
  constructor(statusCode: number, code: string, message: string, details?: { path: string; message: string }[]) {
    super(message);
    this.name = 'HttpError';
    this.statusCode = statusCode;
    this.code = code;
    this.details = details;
  }
}

/** SQLite's primary result code for "database or disk is full" (extended codes share the low byte). */
const SQLITE_FULL = 13;

/**
 * A write that failed for want of space: SQLITE_FULL from the store, ENOSPC or EDQUOT from the
 * file system (also as the cause of another error). SQLite rolls such a transaction back and
 * the store stays readable; the same write succeeds once space is back.
 */
export function isStorageFull(err: unknown): boolean {
  for (let e = err, depth = 0; e && typeof e === 'object' && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const { errcode, code } = e as { errcode?: unknown; code?: unknown };
    if (typeof errcode === 'number' && (errcode & 0xff) === SQLITE_FULL) return true;
    if (code === 'ENOSPC' || code === 'EDQUOT') return true;
  }
  return false;
}

/** How long a client should wait before retrying a write refused for a full disk. */
const STORAGE_FULL_RETRY_S = 60;

const NAMED: Record<number, string> = {
  400: 'bad_request',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not_found',
  405: 'method_not_allowed',
  409: 'conflict',
  413: 'payload_too_large',
  415: 'unsupported_media_type',
  429: 'too_many_requests',
};

export function registerErrorHandling(app: FastifyInstance, bodyLimit: number): void {
  app.setErrorHandler((err: FastifyError & { details?: { path: string; message: string }[] }, request, reply) => {
    if (err instanceof HttpError) {
      return reply.code(err.statusCode).send({ error: err.code, message: err.message, ...(err.details ? { details: err.details } : {}) });
    }
    if (hasZodFastifySchemaValidationErrors(err)) {
      const details = err.validation.slice(0, 20).map((v) => ({
        path: [v.instancePath.replace(/^\//, '').replace(/\//g, '.')].filter(Boolean).join('') || '(root)',
        message: v.message ?? 'invalid',
      }));
      const where = err.validationContext ?? 'request';
      const isReport = request.routeOptions.url === '/api/v1/reports';
      const message = isReport
        ? `report rejected, nothing was stored: ${details.length} problem(s), first: ${details[0]?.path}: ${details[0]?.message}`
        : `invalid ${where}: ${details[0]?.path}: ${details[0]?.message}`;
      return reply.code(400).send({ error: isReport ? 'invalid_report' : 'bad_request', message, details });
    }
    const status = err.statusCode ?? 500;
    if (err.code === 'FST_ERR_CTP_BODY_TOO_LARGE' || status === 413) {
      return reply.code(413).send({ error: 'payload_too_large', message: `request body larger than ${request.routeOptions.bodyLimit ?? bodyLimit} bytes (after decompression)` });
    }
    if (status >= 400 && status < 500) {
      const message = err.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE' ? 'unsupported content-type (send application/json)' : err.message;
      return reply.code(status).send({ error: NAMED[status] ?? 'bad_request', message });
    }
    if (isStorageFull(err)) {
      // Not a fault of the request, nor of the server's code: the operator must free space.
      request.log.error({ error: err.message, method: request.method, url: request.url.split('?')[0] }, 'write refused: the disk is full');
      return reply
        .code(507)
        .header('retry-after', String(STORAGE_FULL_RETRY_S))
        .send({
          error: 'insufficient_storage',
          message: "the server's disk is full: nothing was stored. Reading works; retry the change once space has been freed on the server",
        });
    }
    request.log.error({ err }, 'request failed');
    return reply.code(500).send({ error: 'internal', message: 'internal server error' });
  });
}
