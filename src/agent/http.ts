// The agent's HTTP client: node:http(s) with an optional CA file, a timeout, gzip request
// bodies. Network failures become TransientError (retry later); answers are returned as is.
import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { gzipSync } from 'node:zlib';

export interface HttpResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

/** The server could not be reached or did not answer: worth retrying later. */
export class TransientError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TransientError';
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
    this.base = new URL(o.server);
    this.ca = o.caFile ? readFileSync(o.caFile) : undefined;
    this.timeoutMs = o.timeoutMs;
    this.token = o.token;
  }

  get origin(): string {
    return this.base.origin;
  }

  request(method: string, path: string, options: { json?: unknown; gzip?: boolean; headers?: Record<string, string> } = {}): Promise<HttpResponse> {
    const url = new URL(path.replace(/^\//, ''), this.base.href.endsWith('/') ? this.base : `${this.base.href}/`);
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
        reject(new TransientError(`${method} ${url.origin}${url.pathname}: ${err.code ?? err.message}`));
      });
      req.end(body);
    });
  }
}

/** The JSON body of a response, or null when it is not JSON. */
export function jsonBody(r: HttpResponse): unknown {
  try {
    return JSON.parse(r.body.toString('utf8'));
  } catch {
    return null;
  }
}
