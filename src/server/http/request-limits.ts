// What one request may cost the server before any handler runs: a body size per route, JSON
// that is valid UTF-8 (refused, not silently repaired), and deadlines, so a client that trickles
// its headers or body cannot hold a connection (and a file descriptor) for ever. Callers without
// a credential get the shortest deadline; a refused request's connection is closed rather than
// left waiting for a body nobody will read.
import type { FastifyInstance, RouteOptions } from 'fastify';
import { HttpError } from './errors.ts';

export interface RequestLimits {
  /** Body limit of routes that do not set their own (the report route sets the configured one). */
  defaultBodyBytes: number;
  /** Time for the whole body of a request that carries no valid credential (login, enrolment). */
  publicBodyMs: number;
  /** Time for the whole body of an authenticated request. */
  bodyMs: number;
  /** Time for the request headers to arrive. */
  headersMs: number;
}

export const DEFAULT_REQUEST_LIMITS: RequestLimits = {
  defaultBodyBytes: 1024 * 1024,
  publicBodyMs: 15_000,
  bodyMs: 10 * 60_000,
  headersMs: 20_000,
};

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });

export function registerRequestLimits(app: FastifyInstance, limits: RequestLimits = DEFAULT_REQUEST_LIMITS): void {
  app.addHook('onRoute', (route: RouteOptions) => {
    route.bodyLimit ??= limits.defaultBodyBytes;
  });

  // JSON is decoded strictly: a body with invalid UTF-8 is refused instead of being stored with
  // replacement characters. Parsing is fastify's own (prototype-poisoning checks included).
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (request, body, done) => {
    let text: string;
    try {
      text = utf8.decode(body as Buffer);
    } catch {
      done(new HttpError('PL_E_BAD_REQUEST', 'request body is not valid UTF-8'), undefined);
      return;
    }
    parseJson(request, text, done);
  });

  // Registered before the body decoding so the body is still unread here. The timer holds only
  // the raw request (not the parsed body), and is cleared when the body has arrived or, at the
  // latest, when the response is sent.
  const timers = new WeakMap<object, NodeJS.Timeout>();
  app.addHook('preParsing', async (request, _reply, payload) => {
    const raw = request.raw;
    if (raw.readableEnded) return payload;
    const ms = request.principal ? limits.bodyMs : limits.publicBodyMs;
    const log = request.log;
    const path = request.url.split('?')[0];
    const timer = setTimeout(() => {
      log.info({ url: path, ms }, 'request body not received in time: connection closed');
      raw.destroy();
    }, ms);
    timer.unref();
    timers.set(request, timer);
    const done = (): void => clearTimeout(timer);
    raw.once('end', done);
    raw.once('close', done);
    return payload;
  });
  app.addHook('onResponse', async (request) => {
    clearTimeout(timers.get(request));
  });

  // A request refused before its body was read: close the connection instead of waiting for it.
  app.addHook('onSend', async (request, reply, payload) => {
    if (reply.statusCode >= 400 && hasUnreadBody(request.raw)) reply.header('connection', 'close');
    return payload;
  });

  app.server.headersTimeout = limits.headersMs;
  // Node's own backstop for every request (fastify disables it by default).
  app.server.requestTimeout = limits.bodyMs + limits.headersMs;
}

function hasUnreadBody(raw: { readableEnded: boolean; headers: Record<string, unknown> }): boolean {
  const hasBody = raw.headers['transfer-encoding'] !== undefined || Number(raw.headers['content-length'] ?? 0) > 0;
  return hasBody && !raw.readableEnded;
}
