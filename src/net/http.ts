// The one HTTP client of patchloop, over undici: a connection pool with its TLS trust and
// keep-alive (createPool), one request with an idle timeout (send), the answer's body, and
// what went wrong classified (RequestError: the network, a timeout, TLS), so that callers
// decide about retries without reading messages. The agent, feed downloads, the exporter and
// the dashboards import use it; each keeps only what is its own (the spool, ETag caching,
// bulk batches, multipart).
import { readFileSync } from 'node:fs';
import { Agent, request, type Dispatcher } from 'undici';
import { PatchloopError } from '../core/errors.ts';

export type Pool = Dispatcher;
export type Answer = Dispatcher.ResponseData;
export type Headers = Answer['headers'];

export interface PoolOptions {
  /** PEM file with the CA certificate(s) to trust, in place of the system's. */
  caFile?: string;
  /** Connections per origin (default 8). */
  connections?: number;
}

/** A pool of keep-alive connections; idle ones never keep the process alive. */
export function createPool(o: PoolOptions = {}): Agent {
  return new Agent({
    connect: o.caFile ? { ca: readCaFile(o.caFile) } : {},
    keepAliveTimeout: 10_000,
    connections: o.connections ?? 8,
  });
}

/** The certificates of a CA file; a file that cannot be read or holds none is a configuration error. */
function readCaFile(file: string): string {
  let ca: string;
  try {
    ca = readFileSync(file, 'utf8');
  } catch (err) {
    throw new PatchloopError('PL_E_CONFIG', `cannot read CA file ${file}: ${(err as Error).message}`, { cause: err });
  }
  if (!ca.includes('-----BEGIN CERTIFICATE-----'))
    throw new PatchloopError('PL_E_CONFIG', `CA file ${file} holds no PEM certificate (-----BEGIN CERTIFICATE-----)`);
  return ca;
}

/**
 * What went wrong with a request that got no (complete) answer:
 * - `network`: refused, reset, closed, name not resolved;
 * - `timeout`: no answer, or no body data, within the timeout;
 * - `untrusted`: the peer's certificate is not trusted (a CA file is missing or wrong);
 * - `plain-http`: an https:// URL, answered in plain HTTP;
 * - `tls`: another TLS handshake failure.
 * The first two are worth retrying (PL_E_SERVER_UNREACHABLE); TLS ones are not (PL_E_TLS).
 */
export type FailureKind = 'network' | 'timeout' | 'untrusted' | 'plain-http' | 'tls';

export class RequestError extends PatchloopError {
  readonly kind: FailureKind;
  /** What happened, without the request: `ECONNREFUSED connect ECONNREFUSED 127.0.0.1:1`, `no data for 100 ms`. */
  readonly reason: string;
  /**
   * The system or library error code (ECONNREFUSED, UND_ERR_SOCKET, SELF_SIGNED_CERT_IN_CHAIN, …), when there was one.
   */
  readonly systemCode: string | null;
  constructor(where: string, kind: FailureKind, reason: string, systemCode: string | null, cause: unknown) {
    super(kind === 'network' || kind === 'timeout' ? 'PL_E_SERVER_UNREACHABLE' : 'PL_E_TLS', `${where}: ${reason}`, {
      cause,
    });
    this.kind = kind;
    this.reason = reason;
    this.systemCode = systemCode;
  }

  get retryable(): boolean {
    return this.kind === 'network' || this.kind === 'timeout';
  }
}

export interface SendOptions {
  method?: Dispatcher.HttpMethod;
  headers?: Record<string, string>;
  body?: string | Buffer;
  /** Default: undici's global pool, trusting the system's CAs. */
  pool?: Pool;
  /** No answer, or no body data, for this long fails the request (kind `timeout`). */
  timeoutMs: number;
  /** Aborting it fails the request with the signal's reason, unclassified. */
  signal?: AbortSignal;
}

/** One request; the answer whatever its status. Failures to get one are RequestErrors. */
export async function send(url: URL, o: SendOptions): Promise<Answer> {
  const method = o.method ?? 'GET';
  try {
    return await request(url, {
      method,
      headers: o.headers,
      body: o.body,
      dispatcher: o.pool,
      headersTimeout: o.timeoutMs,
      bodyTimeout: o.timeoutMs,
      signal: o.signal,
    });
  } catch (err) {
    throw o.signal?.aborted ? err : requestError(`${method} ${url.origin}${url.pathname}`, err, o.timeoutMs);
  }
}

/** The whole body of an answer; a connection lost or stalled on the way is a RequestError. */
export async function readBody(answer: Answer, where: string, timeoutMs: number): Promise<Buffer> {
  try {
    return Buffer.from(await answer.body.arrayBuffer());
  } catch (err) {
    throw requestError(where, err, timeoutMs);
  }
}

/** A failure of a request or of its body as a RequestError (one that already is, as it is). */
export function requestError(where: string, err: unknown, timeoutMs: number): RequestError {
  if (err instanceof RequestError) return err;
  // The system or library error along the cause chain that says what happened.
  let coded: unknown = err;
  while (coded instanceof Error && typeof (coded as { code?: unknown }).code !== 'string') coded = coded.cause;
  const code = coded instanceof Error ? ((coded as { code?: unknown }).code as string) : null;
  const message = coded instanceof Error ? coded.message : String(err);
  const failure = (kind: FailureKind, reason: string) => new RequestError(where, kind, reason, code, err);
  if (code && /^UND_ERR_(HEADERS|BODY|CONNECT)_TIMEOUT$/.test(code))
    return failure('timeout', `no data for ${timeoutMs} ms`);
  if (
    code === 'ERR_SSL_WRONG_VERSION_NUMBER' ||
    (code === 'EPROTO' && /wrong version number|packet length too long|http request/i.test(message))
  ) {
    return failure('plain-http', `${code}: the TLS handshake was answered in plain HTTP`);
  }
  if (code && /CERT|SELF_SIGNED|UNABLE_TO_(GET|VERIFY)|ERR_TLS_/.test(code))
    return failure('untrusted', `${code}: ${message}`);
  if (code && /^ERR_SSL_|^EPROTO$/.test(code)) return failure('tls', `${code}: ${message}`);
  return failure('network', describeFailure(err));
}

/** `CODE message: cause` of a failure, for messages. */
export function describeFailure(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const code = (err as { code?: unknown }).code;
  const cause = err.cause instanceof Error ? `: ${err.cause.message}` : '';
  return `${typeof code === 'string' ? `${code} ` : ''}${err.message}${cause}`;
}

/**
 * HTTP statuses worth retrying: overload (429), a request the server timed out (408),
 * restarts and proxies between (502/503/504), an internal failure (500, e.g. a node closing
 * mid-request). Everything else in 4xx and 5xx would fail again.
 */
export function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 429 || status === 500 || status === 502 || status === 503 || status === 504;
}

/** Retry-After: delay in seconds or an HTTP date, in milliseconds; null when absent or unreadable. */
export function parseRetryAfter(value: string | string[] | undefined, now: number = Date.now()): number | null {
  const v = headerValue(value);
  if (v === null) return null;
  if (/^\d+$/.test(v.trim())) return Number(v.trim()) * 1000;
  const when = Date.parse(v);
  return Number.isNaN(when) ? null : Math.max(0, when - now);
}

/** A header's (first) value. */
export function headerValue(v: string | string[] | undefined): string | null {
  if (v === undefined) return null;
  return Array.isArray(v) ? (v[0] ?? null) : v;
}

/** A body as JSON, or null when it is not JSON. */
export function jsonOrNull(body: Buffer | string): unknown {
  try {
    return JSON.parse(body.toString());
  } catch {
    return null;
  }
}
