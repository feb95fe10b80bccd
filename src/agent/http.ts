// The agent's side of the server's API over net/http.ts: the server's address checked, the
// host's token, gzip request bodies, TLS failures named as what to correct. An unreachable
// server is a RequestError with PL_E_SERVER_UNREACHABLE (retry later); answers are returned
// as they are.
import { connect as tlsConnect } from 'node:tls';
import { gzipSync } from 'node:zlib';
import { z } from 'zod';
import { PatchloopError } from '../core/errors.ts';
import { createPool, jsonOrNull, readBody, RequestError, send, type Headers, type Pool } from '../net/http.ts';

export interface HttpResponse {
  status: number;
  headers: Headers;
  body: Buffer;
}

/**
 * The server's address is wrong (not an http(s) URL, the API path instead of the server's
 * address, HTTPS against a plain-HTTP server, no patchloop server there): a mistake to
 * correct, not an outage to wait out.
 */
export class ServerAddressError extends PatchloopError {
  constructor(message: string) {
    super('PL_E_SERVER_ADDRESS', message);
  }
}

const URL_EXAMPLE = 'e.g. https://patchloop.example.org:8080';
/** A path that is the API itself, not where the server is: …/api, …/api/v1. */
const API_PATH = /\/api(?:\/v\d+)?\/?$/;

/**
 * A server URL as a person gives it, checked: http:// or https://, a host, no credentials,
 * query or fragment, and the server's address (a reverse proxy's base path is fine) rather
 * than the path of its API.
 */
export function parseServerUrl(text: string): URL {
  const shown = JSON.stringify(text);
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new ServerAddressError(`server URL ${shown} is not a URL (${URL_EXAMPLE})`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new ServerAddressError(`server URL ${shown}: it must start with http:// or https:// (${URL_EXAMPLE})`);
  }
  if (!url.hostname) throw new ServerAddressError(`server URL ${shown} names no host (${URL_EXAMPLE})`);
  if (url.username || url.password)
    throw new ServerAddressError(
      `server URL ${shown}: no user or password in the URL (the agent authenticates with its token)`,
    );
  if (url.search || url.hash)
    throw new ServerAddressError(`server URL ${shown}: no query or fragment (${URL_EXAMPLE})`);
  if (API_PATH.test(url.pathname)) {
    throw new ServerAddressError(
      `server URL ${shown} is the path of the API; give the server's address: ${url.origin}${url.pathname.replace(API_PATH, '')}`,
    );
  }
  return url;
}

/** A server URL in a configuration or credential file (zod), with parseServerUrl's messages. */
export const ServerUrlSchema = z.string().superRefine((text, ctx) => {
  try {
    parseServerUrl(text);
  } catch (err) {
    ctx.addIssue({ code: 'custom', message: (err as Error).message });
  }
});

export interface ClientOptions {
  server: string;
  caFile?: string;
  timeoutMs: number;
  token?: string;
}

export class AgentHttpClient {
  private readonly base: URL;
  private readonly pool: Pool;
  private readonly timeoutMs: number;
  private readonly token: string | undefined;

  constructor(o: ClientOptions) {
    this.base = parseServerUrl(o.server);
    this.pool = createPool({ caFile: o.caFile, connections: 2 });
    this.timeoutMs = o.timeoutMs;
    this.token = o.token;
  }

  get origin(): string {
    return this.base.origin;
  }

  /**
   * Checks that a patchloop server answers at the address (its public health route): a wrong
   * port, path or host is named as such instead of surfacing later as a refused token.
   */
  async checkServer(): Promise<void> {
    let res: HttpResponse;
    try {
      res = await this.request('GET', '/api/v1/health');
    } catch (err) {
      // A TLS server drops a plain-HTTP request without an answer: say so when it is one.
      if (
        err instanceof RequestError &&
        err.kind === 'network' &&
        this.base.protocol === 'http:' &&
        (await speaksTls(this.base, this.timeoutMs))
      ) {
        throw new ServerAddressError(`${this.base.origin} speaks HTTPS, not plain HTTP: use https://${this.base.host}`);
      }
      throw err;
    }
    const body = jsonBody(res) as { status?: unknown } | null;
    if (res.status === 200 && body?.status === 'ok') return;
    throw new ServerAddressError(
      `no patchloop server at ${this.base.href}: GET ${this.url('/api/v1/health').href} answered HTTP ${res.status}${body === null ? ' (not JSON)' : ''}; ` +
        "give the server's address, e.g. http://central:8080 (the port it listens on, no path)",
    );
  }

  private url(path: string): URL {
    return new URL(path.replace(/^\//, ''), this.base.href.endsWith('/') ? this.base : `${this.base.href}/`);
  }

  async request(
    method: 'GET' | 'POST' | 'PUT',
    path: string,
    options: { json?: unknown; gzip?: boolean; headers?: Record<string, string> } = {},
  ): Promise<HttpResponse> {
    const url = this.url(path);
    const headers: Record<string, string> = {
      'user-agent': 'patchloop-agent',
      accept: 'application/json',
      ...(options.headers ?? {}),
    };
    if (this.token) headers.authorization = `Bearer ${this.token}`;
    let body: Buffer | undefined;
    if (options.json !== undefined) {
      body = Buffer.from(JSON.stringify(options.json));
      headers['content-type'] = 'application/json';
      if (options.gzip) {
        body = gzipSync(body);
        headers['content-encoding'] = 'gzip';
      }
    }
    try {
      const answer = await send(url, { method, headers, body, pool: this.pool, timeoutMs: this.timeoutMs });
      return {
        status: answer.statusCode,
        headers: answer.headers,
        body: await readBody(answer, `${method} ${url.origin}${url.pathname}`, this.timeoutMs),
      };
    } catch (err) {
      if (!(err instanceof RequestError)) throw err;
      // TLS failures are configuration errors, not outages.
      if (err.kind === 'untrusted') {
        throw new PatchloopError(
          'PL_E_TLS',
          `${url.origin}: TLS certificate not trusted (${err.systemCode}); set ca_file in the agent configuration`,
          { cause: err },
        );
      }
      if (err.kind === 'plain-http') {
        throw new ServerAddressError(
          `${url.origin} does not speak HTTPS (it answered the TLS handshake in plain HTTP): use http://${url.host}, or give the server a TLS certificate`,
        );
      }
      if (err.kind === 'tls') throw new ServerAddressError(`${url.origin}: the TLS handshake failed (${err.reason})`);
      throw err;
    }
  }
}

/** Whether a TLS handshake succeeds at the URL's host and port (the certificate is not judged). */
function speaksTls(url: URL, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = tlsConnect({
      host: url.hostname,
      port: Number(url.port || 80),
      rejectUnauthorized: false,
      timeout: timeoutMs,
    });
    const done = (answer: boolean): void => {
      socket.destroy();
      resolve(answer);
    };
    socket.once('secureConnect', () => done(true));
    socket.once('error', () => done(false));
    socket.once('timeout', () => done(false));
  });
}

/** The JSON body of a response, or null when it is not JSON. */
export function jsonBody(r: HttpResponse): unknown {
  return jsonOrNull(r.body);
}
