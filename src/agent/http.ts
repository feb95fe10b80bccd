// The agent's HTTP client: node:http(s) with an optional CA file, a timeout, gzip request
// bodies. Network failures become TransientError (retry later); answers are returned as is.
import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { connect as tlsConnect } from 'node:tls';
import { gzipSync } from 'node:zlib';
import { z } from 'zod';
import { PatchloopError } from '../core/errors.ts';

export interface HttpResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
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
  if (url.username || url.password) throw new ServerAddressError(`server URL ${shown}: no user or password in the URL (the agent authenticates with its token)`);
  if (url.search || url.hash) throw new ServerAddressError(`server URL ${shown}: no query or fragment (${URL_EXAMPLE})`);
  if (API_PATH.test(url.pathname)) {
    throw new ServerAddressError(`server URL ${shown} is the path of the API; give the server's address: ${url.origin}${url.pathname.replace(API_PATH, '')}`);
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

/** The server could not be reached or did not answer: worth retrying later. */
export class TransientError extends PatchloopError {
  /** The system error (ECONNREFUSED, ECONNRESET, …), when there was one. */
  readonly systemCode: string | undefined;
  constructor(message: string, systemCode?: string) {
    super('PL_E_SERVER_UNREACHABLE', message);
    this.systemCode = systemCode;
  }
}

export interface ClientOptions {
  server: string;
  caFile?: string;
  timeoutMs: number;
  token?: string;
}

export class AgentHttpClient {
  private readonly base: URL;
  private readonly ca: Buffer | undefined;
  private readonly timeoutMs: number;
  private readonly token: string | undefined;

  constructor(o: ClientOptions) {
    this.base = parseServerUrl(o.server);
    this.ca = o.caFile ? readFileSync(o.caFile) : undefined;
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
      if (err instanceof TransientError && err.systemCode === 'ECONNRESET' && this.base.protocol === 'http:' && (await speaksTls(this.base, this.timeoutMs))) {
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

  request(method: string, path: string, options: { json?: unknown; gzip?: boolean; headers?: Record<string, string> } = {}): Promise<HttpResponse> {
    const url = this.url(path);
    const headers: Record<string, string> = { 'user-agent': 'patchloop-agent', accept: 'application/json', ...(options.headers ?? {}) };
    if (this.token) headers.authorization = `Bearer ${this.token}`;
    let body: Buffer | undefined;
    if (options.json !== undefined) {
      body = Buffer.from(JSON.stringify(options.json));
      headers['content-type'] = 'application/json';
      if (options.gzip) {
        body = gzipSync(body);
        headers['content-encoding'] = 'gzip';
      }
      headers['content-length'] = String(body.length);
    }
    const lib = url.protocol === 'https:' ? https : http;
    return new Promise((resolve, reject) => {
      const req = lib.request(url, { method, headers, ca: this.ca, timeout: this.timeoutMs }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
        res.on('error', (err) => reject(new TransientError(`${method} ${url.origin}${url.pathname}: ${err.message}`)));
      });
      req.on('timeout', () => req.destroy(new Error(`no answer within ${Math.round(this.timeoutMs / 1000)} s`)));
      req.on('error', (err: NodeJS.ErrnoException) => {
        // TLS trust failures are configuration errors, not outages.
        if (/CERT|SELF_SIGNED|UNABLE_TO_VERIFY/.test(err.code ?? '')) {
          reject(new Error(`${url.origin}: TLS certificate not trusted (${err.code}); set ca_file in the agent configuration`));
          return;
        }
        // A TLS handshake answered in plain HTTP ("wrong version number"): the URL's scheme is wrong.
        if (url.protocol === 'https:' && err.code === 'EPROTO') {
          const plain = /wrong version number|packet length too long|http request/i.test(err.message);
          reject(
            new ServerAddressError(
              plain
                ? `${url.origin} does not speak HTTPS (it answered the TLS handshake in plain HTTP): use http://${url.host}, or give the server a TLS certificate`
                : `${url.origin}: the TLS handshake failed (${err.message})`,
            ),
          );
          return;
        }
        reject(new TransientError(`${method} ${url.origin}${url.pathname}: ${err.code ?? err.message}`, err.code));
      });
      req.end(body);
    });
  }
}

/** Whether a TLS handshake succeeds at the URL's host and port (the certificate is not judged). */
function speaksTls(url: URL, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = tlsConnect({ host: url.hostname, port: Number(url.port || 80), rejectUnauthorized: false, timeout: timeoutMs });
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
  try {
    return JSON.parse(r.body.toString('utf8'));
  } catch {
    return null;
  }
}
