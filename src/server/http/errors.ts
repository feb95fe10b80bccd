// One error shape for every failure: {error, message, details?}. Client errors say what was
// wrong; server errors are logged in full and answered without internals. The one place that
// maps error codes (core/errors.ts) to HTTP statuses.
import type { FastifyError, FastifyInstance } from 'fastify';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import { isStorageFull, PatchloopError, type ErrorCode } from '../../core/errors.ts';
import { counted } from '../../core/plural.ts';

type Details = { path: string; message: string }[];

/** Codes the API answers as a client error or a wait, with the status and the body's `error` word. */
const API_ERRORS: Partial<Record<ErrorCode, [status: number, error: string]>> = {
  PL_E_BAD_REQUEST: [400, 'bad_request'],
  PL_E_POLICY: [400, 'invalid_policy'],
  PL_E_REPORT_INVALID: [400, 'invalid_report'],
  PL_E_UNAUTHORIZED: [401, 'unauthorized'],
  PL_E_FORBIDDEN: [403, 'forbidden'],
  PL_E_NOT_FOUND: [404, 'not_found'],
  PL_E_CONFLICT: [409, 'conflict'],
  PL_E_ENROLMENT_REFUSED: [409, 'enrolment_refused'],
  PL_E_TOO_MANY_REQUESTS: [429, 'too_many_requests'],
  PL_E_BUSY: [503, 'busy'],
};

/**
 * An error a route answers with: the status comes from its code; `error` names the case more precisely than the code's
 * word.
 */
export class HttpError extends PatchloopError {
  readonly error: string | undefined;
  readonly details: Details | undefined;
  constructor(code: ErrorCode, message: string, o: { error?: string; details?: Details } = {}) {
    super(code, message);
    this.error = o.error;
    this.details = o.details;
  }
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
  app.setErrorHandler((err: FastifyError, request, reply) => {
    const known = err instanceof PatchloopError ? API_ERRORS[err.code] : undefined;
    if (known) {
      const { error, details } = err instanceof HttpError ? err : { error: undefined, details: undefined };
      return reply
        .code(known[0])
        .send({ error: error ?? known[1], message: err.message, ...(details ? { details } : {}) });
    }
    if (hasZodFastifySchemaValidationErrors(err)) {
      const details = err.validation.slice(0, 20).map((v) => ({
        path: [v.instancePath.replace(/^\//, '').replace(/\//g, '.')].filter(Boolean).join('') || '(root)',
        message: v.message ?? 'invalid',
      }));
      const where = err.validationContext ?? 'request';
      const isReport = request.routeOptions.url === '/api/v1/reports';
      const message = isReport
        ? `report rejected, nothing was stored: ${counted(details.length, 'problem')}, first: ${details[0]?.path}: ${details[0]?.message}`
        : `invalid ${where}: ${details[0]?.path}: ${details[0]?.message}`;
      return reply.code(400).send({ error: isReport ? 'invalid_report' : 'bad_request', message, details });
    }
    const status = err.statusCode ?? 500;
    if (err.code === 'FST_ERR_CTP_BODY_TOO_LARGE' || status === 413) {
      return reply.code(413).send({
        error: 'payload_too_large',
        message: `request body larger than ${request.routeOptions.bodyLimit ?? bodyLimit} bytes (after decompression)`,
      });
    }
    if (status >= 400 && status < 500) {
      const message =
        err.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE'
          ? 'unsupported content-type (send application/json)'
          : err.message;
      return reply.code(status).send({ error: NAMED[status] ?? 'bad_request', message });
    }
    if (isStorageFull(err)) {
      // Not a fault of the request, nor of the server's code: the operator must free space.
      request.log.error(
        { error: err.message, method: request.method, url: request.url.split('?')[0] },
        'write refused: the disk is full',
      );
      return reply.code(507).header('retry-after', String(STORAGE_FULL_RETRY_S)).send({
        error: 'insufficient_storage',
        message:
          "the server's disk is full: nothing was stored. Reading works; retry the change once space has been freed on the server",
      });
    }
    request.log.error({ err }, 'request failed');
    return reply.code(500).send({ error: 'internal', message: 'internal server error' });
  });
}
