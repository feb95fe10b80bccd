// The client for Elasticsearch 8/9 and OpenSearch 2/3, over net/http.ts. Thin on purpose:
// the official Elastic client refuses OpenSearch (product check), and the two products differ
// only in a few places this module handles (media types, lifecycle APIs).
import { PatchloopError } from '../core/errors.ts';
import { backoffDelay, sleep } from '../net/backoff.ts';
import { createPool, isRetryableStatus, readBody, RequestError, send, type Pool } from '../net/http.ts';
import { detectProduct, mediaTypes, type Product } from './product.ts';
import { parseClientOptions, type Auth, type ClientOptions, type ClientOptionsInput } from './options.ts';

/** Minimal logger; a pino logger fits. Messages never contain credentials. */
export interface ExportLogger {
  debug(msg: string): void;
  info(msg: string): void;
  warn(msg: string): void;
}

export const silentLogger: ExportLogger = { debug() {}, info() {}, warn() {} };

/** A failed request: `status` is null when the cluster could not be reached at all. */
export class ClusterError extends PatchloopError {
  readonly status: number | null;
  /** Elasticsearch/OpenSearch error type, e.g. `mapper_parsing_exception`. */
  readonly type: string | null;
  readonly retryable: boolean;

  constructor(message: string, status: number | null, type: string | null, retryable: boolean) {
    super('PL_E_CLUSTER', message);
    this.status = status;
    this.type = type;
    this.retryable = retryable;
  }
}

export type HttpMethod = 'GET' | 'HEAD' | 'PUT' | 'POST' | 'DELETE';

export interface RequestSpec {
  method: HttpMethod;
  /** Path below the cluster URL, starting with `/`; segments must already be encoded. */
  path: string;
  query?: Record<string, string | number | boolean | undefined>;
  /** JSON body (serialised here). */
  body?: unknown;
  /** Pre-serialised NDJSON body (for `_bulk`). */
  ndjson?: string;
  /** Statuses returned to the caller instead of thrown (2xx always are). */
  accept?: readonly number[];
  /** Retry transport failures and 429/5xx answers with backoff (default true). */
  retry?: boolean;
}

export interface ClusterResponse<T = unknown> {
  status: number;
  body: T;
  headers: Record<string, string | string[] | undefined>;
}

/** Builds the Authorization header value; API keys given as `id:key` are encoded here. */
export function authorizationHeader(auth: Auth | undefined): string | undefined {
  if (!auth) return undefined;
  if ('apiKey' in auth) {
    const key = auth.apiKey.includes(':') ? Buffer.from(auth.apiKey, 'utf8').toString('base64') : auth.apiKey;
    return `ApiKey ${key}`;
  }
  return `Basic ${Buffer.from(`${auth.username}:${auth.password}`, 'utf8').toString('base64')}`;
}

/**
 * Splits `user:password@` out of the URL (used as basic auth unless `auth` is given), so
 * the URL that appears in messages and logs never carries a secret.
 */
export function splitUrlCredentials(raw: string, auth: Auth | undefined): { base: URL; auth: Auth | undefined } {
  const url = new URL(raw);
  let effective = auth;
  if (url.username || url.password) {
    effective ??= { username: decodeURIComponent(url.username), password: decodeURIComponent(url.password) };
    url.username = '';
    url.password = '';
  }
  url.search = '';
  url.hash = '';
  if (!url.pathname.endsWith('/')) url.pathname += '/';
  return { base: url, auth: effective };
}

export class SearchClient {
  readonly options: Readonly<Omit<ClientOptions, 'auth' | 'url'>>;
  /** Cluster URL without credentials (safe to print). */
  readonly url: string;
  readonly logger: ExportLogger;
  readonly #base: URL;
  readonly #authorization: string | undefined;
  readonly #pool: Pool;
  #product: Product | null = null;

  constructor(input: ClientOptionsInput | ClientOptions, logger: ExportLogger = silentLogger) {
    const options = parseClientOptions(input);
    const { base, auth } = splitUrlCredentials(options.url, options.auth);
    const { url: _url, auth: _auth, ...rest } = options;
    this.options = rest;
    this.#base = base;
    this.url = base.href.replace(/\/$/, '');
    this.#authorization = authorizationHeader(auth);
    this.logger = logger;
    this.#pool = createPool({ caFile: options.caFile });
  }

  /** Product detected by `info()`, or null before the first successful contact. */
  get product(): Product | null {
    return this.#product;
  }

  /** `GET /` once, then cached: which product and version this cluster runs. */
  async info(): Promise<Product> {
    if (this.#product) return this.#product;
    const response = await this.request({ method: 'GET', path: '/' });
    this.#product = detectProduct(response.body, response.headers);
    this.logger.info(`connected to ${this.#product.kind} ${this.#product.version} at ${this.url}`);
    return this.#product;
  }

  /** One request with retries (transport failures, 429, 5xx) as the options say. */
  async request<T = unknown>(spec: RequestSpec): Promise<ClusterResponse<T>> {
    const retries = spec.retry === false ? 0 : this.options.retry.maxRetries;
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.send<T>(spec);
      } catch (error) {
        if (!(error instanceof ClusterError) || !error.retryable || attempt >= retries) throw error;
        const delay = backoffDelay(attempt, this.options.retry);
        this.logger.warn(
          `${spec.method} ${spec.path}: ${error.message}; retry ${attempt + 1}/${retries} in ${delay} ms`,
        );
        await sleep(delay);
      }
    }
  }

  /** One attempt, no retry. Non-accepted statuses become a ClusterError. */
  async send<T = unknown>(spec: RequestSpec): Promise<ClusterResponse<T>> {
    const target = new URL(spec.path.replace(/^\//, ''), this.#base);
    for (const [key, value] of Object.entries(spec.query ?? {})) {
      if (value !== undefined) target.searchParams.set(key, String(value));
    }
    const types = mediaTypes(this.#product);
    const headers: Record<string, string> = { accept: types.json };
    if (this.#authorization) headers.authorization = this.#authorization;
    let body: string | undefined;
    if (spec.ndjson !== undefined) {
      body = spec.ndjson;
      headers['content-type'] = types.ndjson;
    } else if (spec.body !== undefined) {
      body = JSON.stringify(spec.body);
      headers['content-type'] = types.json;
    }
    const where = `${spec.method} ${this.url}${spec.path}`;
    const timeoutMs = this.options.requestTimeoutMs;
    let answer;
    try {
      answer = await send(target, { method: spec.method, headers, body, pool: this.#pool, timeoutMs });
    } catch (error) {
      if (!(error instanceof RequestError)) throw error;
      if (error.kind === 'untrusted') {
        // Resending cannot fix a certificate the client does not trust: say what to change.
        throw new ClusterError(
          `${where}: TLS ${error.reason} (caFile must hold the CA that signed the cluster's certificate)`,
          null,
          error.reason,
          false,
        );
      }
      throw new ClusterError(`${where}: cannot reach the cluster (${error.reason})`, null, null, true);
    }
    let text: string;
    try {
      text = (await readBody(answer, where, timeoutMs)).toString('utf8');
    } catch (error) {
      throw new ClusterError(
        `${where}: connection lost while reading the answer (${(error as RequestError).reason})`,
        null,
        null,
        true,
      );
    }
    let parsed: unknown = undefined;
    if (text.length > 0) {
      try {
        parsed = JSON.parse(text);
      } catch {
        if (answer.statusCode < 300) {
          throw new ClusterError(
            `${where}: answer ${answer.statusCode} is not JSON: ${text.slice(0, 200)}`,
            answer.statusCode,
            null,
            false,
          );
        }
        parsed = text;
      }
    }
    const ok = (answer.statusCode >= 200 && answer.statusCode < 300) || (spec.accept ?? []).includes(answer.statusCode);
    if (!ok) {
      const { type, reason } = errorOf(parsed);
      const detail = type ? `${type}: ${reason}` : typeof parsed === 'string' ? parsed.slice(0, 200) : reason;
      throw new ClusterError(
        `${where}: HTTP ${answer.statusCode} ${detail}`.trim(),
        answer.statusCode,
        type,
        isRetryableStatus(answer.statusCode),
      );
    }
    return { status: answer.statusCode, body: parsed as T, headers: answer.headers };
  }

  async close(): Promise<void> {
    await this.#pool.close();
  }

  /** What `console.log(client)` and JSON show: never the credentials. */
  toJSON(): { url: string; product: Product | null } {
    return { url: this.url, product: this.#product };
  }
}

/** `{error: {type, reason}}` (or the bare `{error: "..."}` some handlers send), flattened. */
export function errorOf(body: unknown): { type: string | null; reason: string } {
  if (body && typeof body === 'object' && 'error' in body) {
    const error = (body as { error: unknown }).error;
    if (typeof error === 'string') return { type: null, reason: error };
    if (error && typeof error === 'object') {
      const e = error as { type?: unknown; reason?: unknown; caused_by?: { type?: unknown; reason?: unknown } };
      let reason = typeof e.reason === 'string' ? e.reason : JSON.stringify(error).slice(0, 300);
      if (e.caused_by && typeof e.caused_by.reason === 'string')
        reason += ` (caused by ${String(e.caused_by.type)}: ${e.caused_by.reason})`;
      return { type: typeof e.type === 'string' ? e.type : null, reason };
    }
  }
  return { type: null, reason: '' };
}
