// Downloads feed inputs into a local cache, shared by every feed. A cached copy is revalidated
// with its ETag / Last-Modified, so an unchanged feed costs one small request. The cache only
// ever holds complete files: a body is written to a temporary file, checked against
// Content-Length, and renamed into place; a failed download leaves the previous copy as it was.
import { createHash, randomBytes } from 'node:crypto';
import {
  createReadStream,
  createWriteStream,
  existsSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { mkdir, open } from 'node:fs/promises';
import { STATUS_CODES } from 'node:http';
import { basename, join } from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { createGunzip } from 'node:zlib';
import { z } from 'zod';
import { PatchloopError } from '../core/errors.ts';
import { backoffDelay, sleep } from '../net/backoff.ts';
import { describeFailure, headerValue, isRetryableStatus, parseRetryAfter, requestError, send } from '../net/http.ts';
import { PATCHLOOP_VERSION } from '../version.ts';

export interface DownloadOptions {
  /** Attempts in all, the first one included (default 4). */
  attempts?: number;
  /** Ceiling of the first backoff delay; doubled on each retry, with jitter (default 1000 ms). */
  backoffMs?: number;
  /** Upper bound of one backoff delay (default 30 s). */
  maxBackoffMs?: number;
  /** A server asking (Retry-After) for a longer wait than this fails the download (default 120 s). */
  maxRetryAfterMs?: number;
  /** Idle timeout of one attempt: no byte for this long aborts it (default 60 s). */
  timeoutMs?: number;
  maxRedirects?: number;
  /** Default `patchloop/<version>`. */
  userAgent?: string;
  /**
   * Decompress a gzip file (as opposed to a gzip transfer encoding, always undone): `auto`
   * (default) for URLs ending in `.gz` other than `.tar.gz` / `.tgz`, which stay archives.
   */
  gunzip?: 'auto' | boolean;
  /** Called before each retry (for progress logs). */
  onRetry?: (info: RetryInfo) => void;
  /** Called as the body arrives: bytes so far, and the Content-Length when the server sent one. */
  onBytes?: (received: number, total: number | null) => void;
  signal?: AbortSignal;
}

export interface RetryInfo {
  url: string;
  /** The attempt that failed (1-based). */
  attempt: number;
  reason: string;
  delayMs: number;
}

export interface DownloadResult {
  url: string;
  /** The complete local copy (decompressed when the URL named a `.gz` file). */
  path: string;
  /** The server (or, for file:// URLs, the file's size and mtime) said the cached copy is current. */
  notModified: boolean;
  etag: string | null;
  lastModified: string | null;
}

export class DownloadError extends PatchloopError {
  readonly url: string;
  /** HTTP status of the last response, when there was one. */
  readonly status: number | null;
  readonly retryable: boolean;
  /** The wait a 429/503 response asked for (Retry-After), when it named one. */
  readonly retryAfterMs: number | null;
  constructor(
    url: string,
    message: string,
    options: { status?: number | null; retryable?: boolean; retryAfterMs?: number | null; cause?: unknown } = {},
  ) {
    super('PL_E_DOWNLOAD', `download of ${url} failed: ${message}`, { cause: options.cause });
    this.url = url;
    this.status = options.status ?? null;
    this.retryable = options.retryable ?? false;
    this.retryAfterMs = options.retryAfterMs ?? null;
  }
}

const cacheMetaSchema = z.object({
  url: z.string(),
  etag: z.string().nullable(),
  lastModified: z.string().nullable(),
  /** file:// sources: the size and mtime the copy was made from. */
  sourceSize: z.number().optional(),
  sourceMtimeMs: z.number().optional(),
});
type CacheMeta = z.infer<typeof cacheMetaSchema>;

/** Downloads `url` into `cacheDir` (created when missing) and returns the local copy. */
export async function download(url: string, cacheDir: string, opts: DownloadOptions = {}): Promise<DownloadResult> {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new DownloadError(url, 'not a valid URL');
  }
  if (!['http:', 'https:', 'file:'].includes(parsed.protocol)) {
    throw new DownloadError(url, `unsupported protocol ${parsed.protocol} (http, https and file URLs are)`);
  }
  await mkdir(cacheDir, { recursive: true });
  const gunzip = wantsGunzip(parsed, opts.gunzip ?? 'auto');
  const path = join(cacheDir, cacheFileName(parsed, gunzip));
  const metaPath = `${path}.meta.json`;
  const cached = readCacheMeta(path, metaPath, url);
  if (parsed.protocol === 'file:') return copyLocal(parsed, url, path, metaPath, cached, gunzip);

  const attempts = Math.max(1, opts.attempts ?? 4);
  for (let attempt = 1; ; attempt++) {
    try {
      return await fetchOnce(url, path, metaPath, cached, gunzip, opts);
    } catch (err) {
      const failure =
        err instanceof DownloadError
          ? err
          : new DownloadError(url, describeFailure(err), { retryable: true, cause: err });
      if (!failure.retryable || attempt >= attempts || opts.signal?.aborted) throw failure;
      const maxRetryAfter = opts.maxRetryAfterMs ?? 120_000;
      if (failure.retryAfterMs !== null && failure.retryAfterMs > maxRetryAfter) {
        throw new DownloadError(
          url,
          `${failure.message} (the server asks to retry after ${Math.round(failure.retryAfterMs / 1000)} s)`,
          {
            status: failure.status,
            cause: failure,
          },
        );
      }
      const delayMs =
        failure.retryAfterMs ??
        backoffDelay(attempt - 1, { baseDelayMs: opts.backoffMs ?? 1000, maxDelayMs: opts.maxBackoffMs ?? 30_000 });
      opts.onRetry?.({ url, attempt, reason: failure.message, delayMs });
      await sleep(delayMs, opts.signal);
    }
  }
}

function wantsGunzip(url: URL, mode: 'auto' | boolean): boolean {
  if (mode !== 'auto') return mode;
  const p = url.pathname.toLowerCase();
  return p.endsWith('.gz') && !p.endsWith('.tar.gz');
}

/** Unique per URL (hash), readable (the URL's file name, which also tells importers what it is). */
function cacheFileName(url: URL, gunzip: boolean): string {
  const hash = createHash('sha256').update(url.href).digest('hex').slice(0, 16);
  let base = basename(decodedPath(url.pathname)) || 'index';
  if (gunzip) base = base.replace(/\.gz$/i, '');
  base = base.replace(/[^A-Za-z0-9._+-]/g, '_').slice(-80) || 'index';
  return `${hash}-${base}`;
}

/** The path without its percent-encoding; as it is where that is malformed (`%ZZ`), rather than a URIError. */
function decodedPath(pathname: string): string {
  try {
    return decodeURIComponent(pathname);
  } catch {
    return pathname;
  }
}

function readCacheMeta(path: string, metaPath: string, url: string): CacheMeta | null {
  if (!existsSync(path) || !existsSync(metaPath)) return null;
  try {
    const meta = cacheMetaSchema.parse(JSON.parse(readFileSync(metaPath, 'utf8')));
    return meta.url === url ? meta : null;
  } catch {
    // A damaged cache record only costs a full download.
    return null;
  }
}

async function fetchOnce(
  url: string,
  path: string,
  metaPath: string,
  cached: CacheMeta | null,
  gunzip: boolean,
  opts: DownloadOptions,
): Promise<DownloadResult> {
  const headers: Record<string, string> = {
    'user-agent': opts.userAgent ?? defaultUserAgent(),
    'accept-encoding': 'gzip',
  };
  if (cached?.etag) headers['if-none-match'] = cached.etag;
  if (cached?.lastModified) headers['if-modified-since'] = cached.lastModified;

  let current = url;
  const maxRedirects = opts.maxRedirects ?? 5;
  const timeoutMs = opts.timeoutMs ?? 60_000;
  for (let redirects = 0; ; redirects++) {
    const res = await send(new URL(current), { headers, timeoutMs, signal: opts.signal }).catch((err: unknown) => {
      throw opts.signal?.aborted
        ? err
        : new DownloadError(url, requestError(current, err, timeoutMs).reason, { retryable: true, cause: err });
    });
    const status = res.statusCode;
    const location = headerValue(res.headers.location);
    if (status !== 200) await res.body.dump();
    if (status >= 300 && status < 400 && status !== 304 && location) {
      if (redirects >= maxRedirects) throw new DownloadError(url, `more than ${maxRedirects} redirects`, { status });
      current = new URL(location, current).href;
      if (!/^https?:$/.test(new URL(current).protocol))
        throw new DownloadError(url, `redirected to a non-HTTP URL ${current}`, { status });
      continue;
    }
    if (status === 304) {
      if (!cached)
        throw new DownloadError(url, 'the server answered 304 Not Modified to an unconditional request', { status });
      return { url, path, notModified: true, etag: cached.etag, lastModified: cached.lastModified };
    }
    if (status !== 200) {
      const retryable = isRetryableStatus(status);
      throw new DownloadError(url, `HTTP ${status}${STATUS_CODES[status] ? ` ${STATUS_CODES[status]}` : ''}`, {
        status,
        retryable,
        retryAfterMs: retryable ? parseRetryAfter(res.headers['retry-after']) : null,
      });
    }
    const etag = headerValue(res.headers.etag);
    const lastModified = headerValue(res.headers['last-modified']);
    const counter = new LengthCheck(url, status, headerValue(res.headers['content-length']), opts.onBytes);
    await writeAtomically(path, metaPath, { url, etag, lastModified }, (out) => {
      const stages: (Readable | NodeJS.WritableStream | NodeJS.ReadWriteStream)[] = [res.body, counter];
      const encoding = (headerValue(res.headers['content-encoding']) ?? '').toLowerCase();
      if (encoding === 'gzip' || encoding === 'x-gzip') stages.push(createGunzip());
      else if (encoding && encoding !== 'identity')
        throw new DownloadError(url, `unsupported Content-Encoding ${encoding}`, { status });
      if (gunzip) stages.push(createGunzip());
      stages.push(out);
      return pipeline(stages, { signal: opts.signal });
    }).catch((err: unknown) => {
      res.body.destroy();
      if (err instanceof DownloadError) throw err;
      if ((err as { code?: string }).code?.startsWith('Z_')) {
        throw new DownloadError(url, `not valid gzip data: ${describe(err)}`, { status, cause: err });
      }
      const short = counter.shortfall();
      const why = opts.signal?.aborted ? describe(err) : requestError(current, err, timeoutMs).reason;
      throw new DownloadError(url, short ? `${short} (${why})` : why, { status, retryable: true, cause: err });
    });
    return { url, path, notModified: false, etag, lastModified };
  }
}

/** Passes the body through, counting it; at the end it must match the Content-Length. */
class LengthCheck extends Transform {
  private readonly url: string;
  private readonly status: number;
  private readonly declared: number | null;
  private readonly onBytes: DownloadOptions['onBytes'];
  private received = 0;

  constructor(url: string, status: number, contentLength: string | null, onBytes?: DownloadOptions['onBytes']) {
    super();
    this.url = url;
    this.status = status;
    this.declared = contentLength === null ? null : Number(contentLength);
    this.onBytes = onBytes;
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: (err?: Error | null, data?: Buffer) => void): void {
    this.received += chunk.length;
    this.onBytes?.(this.received, this.declared);
    done(null, chunk);
  }

  override _flush(done: (err?: Error | null) => void): void {
    const short = this.shortfall();
    done(short ? new DownloadError(this.url, short, { status: this.status, retryable: true }) : null);
  }

  /** Why the body does not match its declared length, or null when it does (or none was declared). */
  shortfall(): string | null {
    if (this.declared === null || this.received === this.declared) return null;
    return `truncated response: received ${this.received} of ${this.declared} bytes`;
  }
}

/**
 * Runs `fill` against a temporary file beside `path`, then renames it into place and records
 * the cache metadata. On any failure the temporary file is removed and `path` is untouched.
 */
async function writeAtomically(
  path: string,
  metaPath: string,
  meta: CacheMeta,
  fill: (out: NodeJS.WritableStream) => Promise<void>,
): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  try {
    await fill(createWriteStream(tmp));
    const fh = await open(tmp, 'r');
    try {
      await fh.sync();
    } finally {
      await fh.close();
    }
    // Metadata first removed, then rewritten: a crash in between costs a full download, never
    // a stale ETag paired with other content.
    rmSync(metaPath, { force: true });
    renameSync(tmp, path);
    const metaTmp = `${metaPath}.tmp-${process.pid}`;
    writeFileSync(metaTmp, `${JSON.stringify(meta)}\n`);
    renameSync(metaTmp, metaPath);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
}

async function copyLocal(
  parsed: URL,
  url: string,
  path: string,
  metaPath: string,
  cached: CacheMeta | null,
  gunzip: boolean,
): Promise<DownloadResult> {
  const source = fileURLToPath(parsed);
  let st;
  try {
    st = statSync(source);
  } catch (err) {
    throw new DownloadError(url, describe(err), { cause: err });
  }
  if (!st.isFile()) throw new DownloadError(url, `${source} is not a regular file`);
  const lastModified = st.mtime.toUTCString();
  if (cached && cached.sourceSize === st.size && cached.sourceMtimeMs === st.mtimeMs) {
    return { url, path, notModified: true, etag: null, lastModified };
  }
  const meta: CacheMeta = { url, etag: null, lastModified, sourceSize: st.size, sourceMtimeMs: st.mtimeMs };
  try {
    await writeAtomically(path, metaPath, meta, (out) =>
      gunzip ? pipeline(createReadStream(source), createGunzip(), out) : pipeline(createReadStream(source), out),
    );
  } catch (err) {
    throw new DownloadError(url, describe(err), { cause: err });
  }
  return { url, path, notModified: false, etag: null, lastModified };
}

function describe(err: unknown): string {
  if (err instanceof Error) {
    const code = (err as NodeJS.ErrnoException).code;
    return code && !err.message.includes(code) ? `${err.message} (${code})` : err.message;
  }
  return String(err);
}

export function defaultUserAgent(): string {
  return `patchloop/${PATCHLOOP_VERSION}`;
}
