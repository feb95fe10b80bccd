// download() against real HTTP servers on 127.0.0.1 (node:http): conditional requests, gzip,
// retries, truncated bodies, redirects, timeouts and file:// URLs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, readdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { gzipSync } from 'node:zlib';
import { download, DownloadError, type RetryInfo } from './download.ts';

// A real tracker excerpt as the payload, so the bytes are the kind the feeds download.
const PAYLOAD = readFileSync(
  new URL('../../../shared/data/feeds/debian/tracker-json-sample/debian.json', import.meta.url),
);

type Handler = (req: IncomingMessage, res: ServerResponse, hit: number) => void;

async function withServer(
  handler: Handler,
  body: (base: string, requests: IncomingMessage[]) => Promise<void>,
): Promise<void> {
  const requests: IncomingMessage[] = [];
  const server = createServer((req, res) => {
    requests.push(req);
    handler(req, res, requests.length);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  try {
    await body(`http://127.0.0.1:${port}`, requests);
  } finally {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

function cacheDir(t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'patchloop-dl-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

const fast = { backoffMs: 1, maxBackoffMs: 2 };

test('a cached copy is revalidated with its ETag and a 304 keeps it', async (t) => {
  const dir = cacheDir(t);
  await withServer(
    (req, res) => {
      if (req.headers['if-none-match'] === '"v1"') {
        res.writeHead(304).end();
        return;
      }
      res.writeHead(200, { etag: '"v1"', 'content-length': PAYLOAD.length }).end(PAYLOAD);
    },
    async (base, requests) => {
      const first = await download(`${base}/tracker/data/json`, dir, fast);
      assert.equal(first.notModified, false);
      assert.equal(first.etag, '"v1"');
      assert.deepEqual(readFileSync(first.path), PAYLOAD);
      assert.equal(requests[0].headers['if-none-match'], undefined);
      assert.match(requests[0].headers['user-agent'] ?? '', /^patchloop\/\d+\.\d+\.\d+/);

      const second = await download(`${base}/tracker/data/json`, dir, fast);
      assert.equal(second.notModified, true);
      assert.equal(second.path, first.path);
      assert.equal(requests[1].headers['if-none-match'], '"v1"');
      assert.deepEqual(readFileSync(second.path), PAYLOAD);
    },
  );
});

test('Last-Modified is sent back as If-Modified-Since; a changed resource replaces the copy', async (t) => {
  const dir = cacheDir(t);
  const stamp = 'Wed, 21 Oct 2026 07:28:00 GMT';
  await withServer(
    (req, res, hit) => {
      if (hit === 2 && req.headers['if-modified-since'] === stamp) {
        res.writeHead(304).end();
        return;
      }
      res.writeHead(200, { 'last-modified': stamp }).end(hit === 1 ? 'first' : 'third');
    },
    async (base, requests) => {
      const url = `${base}/list`;
      assert.equal((await download(url, dir, fast)).notModified, false);
      const second = await download(url, dir, fast);
      assert.equal(second.notModified, true);
      assert.equal(second.lastModified, stamp);
      const third = await download(url, dir, fast);
      assert.equal(third.notModified, false);
      assert.equal(requests[2].headers['if-modified-since'], stamp);
      assert.equal(readFileSync(third.path, 'utf8'), 'third');
    },
  );
});

test('gzip transfer encoding and .gz files are both stored decompressed; .tar.gz stays an archive', async (t) => {
  const dir = cacheDir(t);
  const gz = gzipSync(PAYLOAD);
  await withServer(
    (req, res) => {
      if (req.url === '/encoded')
        res.writeHead(200, { 'content-encoding': 'gzip', 'content-length': gz.length }).end(gz);
      else res.writeHead(200, { 'content-type': 'application/gzip', 'content-length': gz.length }).end(gz);
    },
    async (base, requests) => {
      const encoded = await download(`${base}/encoded`, dir, fast);
      assert.equal(requests[0].headers['accept-encoding'], 'gzip');
      assert.deepEqual(readFileSync(encoded.path), PAYLOAD);

      const file = await download(`${base}/feeds/debian.json.gz`, dir, fast);
      assert.match(file.path, /-debian\.json$/);
      assert.deepEqual(readFileSync(file.path), PAYLOAD);

      const archive = await download(`${base}/osv/all.tar.gz`, dir, fast);
      assert.match(archive.path, /-all\.tar\.gz$/);
      assert.deepEqual(readFileSync(archive.path), gz);
    },
  );
});

test('503 and 429 responses are retried, honouring Retry-After', async (t) => {
  const dir = cacheDir(t);
  const retries: RetryInfo[] = [];
  await withServer(
    (_req, res, hit) => {
      if (hit === 1) res.writeHead(503, { 'retry-after': '0' }).end('busy');
      else if (hit === 2) res.writeHead(429, { 'retry-after': '1' }).end('slow down');
      else res.writeHead(200).end(PAYLOAD);
    },
    async (base, requests) => {
      const result = await download(`${base}/json`, dir, { ...fast, onRetry: (r) => retries.push(r) });
      assert.deepEqual(readFileSync(result.path), PAYLOAD);
      assert.equal(requests.length, 3);
      assert.deepEqual(
        retries.map((r) => [r.attempt, r.delayMs]),
        [
          [1, 0],
          [2, 1000],
        ],
      );
      assert.match(retries[0].reason, /HTTP 503/);
    },
  );
});

test('attempts are bounded: a server that keeps failing gives a DownloadError', async (t) => {
  const dir = cacheDir(t);
  await withServer(
    (_req, res) => res.writeHead(502).end(),
    async (base, requests) => {
      await assert.rejects(download(`${base}/json`, dir, { ...fast, attempts: 3 }), (err: unknown) => {
        assert.ok(err instanceof DownloadError);
        assert.equal(err.status, 502);
        assert.match(err.message, /json failed: HTTP 502/);
        return true;
      });
      assert.equal(requests.length, 3);
      assert.deepEqual(readdirSync(dir), [], 'nothing is left in the cache');
    },
  );
});

test('a Retry-After beyond the allowed wait fails instead of sleeping', async (t) => {
  const dir = cacheDir(t);
  await withServer(
    (_req, res) => res.writeHead(503, { 'retry-after': '3600' }).end(),
    async (base, requests) => {
      await assert.rejects(download(`${base}/json`, dir, { ...fast, maxRetryAfterMs: 10_000 }), /retry after 3600 s/);
      assert.equal(requests.length, 1);
    },
  );
});

test('client errors are not retried', async (t) => {
  const dir = cacheDir(t);
  await withServer(
    (_req, res) => res.writeHead(404).end('no such file'),
    async (base, requests) => {
      await assert.rejects(
        download(`${base}/missing`, dir, fast),
        (err: unknown) => err instanceof DownloadError && err.status === 404 && !err.retryable,
      );
      assert.equal(requests.length, 1);
    },
  );
});

test('a truncated response is an error and keeps the previous cached copy', async (t) => {
  const dir = cacheDir(t);
  await withServer(
    (_req, res, hit) => {
      if (hit === 1) {
        res.writeHead(200, { etag: '"v1"', 'content-length': PAYLOAD.length }).end(PAYLOAD);
        return;
      }
      // Declares the whole body, sends a tenth of it, then drops the connection.
      res.writeHead(200, { etag: '"v2"', 'content-length': PAYLOAD.length });
      res.write(PAYLOAD.subarray(0, PAYLOAD.length / 10));
      setImmediate(() => res.socket?.destroy());
    },
    async (base, requests) => {
      const url = `${base}/json`;
      const first = await download(url, dir, fast);
      await assert.rejects(download(url, dir, { ...fast, attempts: 2 }), (err: unknown) => {
        assert.ok(err instanceof DownloadError);
        assert.match(err.message, /truncated response: received \d+ of \d+ bytes/);
        return true;
      });
      assert.equal(requests.length, 3, 'the truncated download was retried once');
      assert.deepEqual(readFileSync(first.path), PAYLOAD);
      const again = await download(url, dir, { ...fast, attempts: 1 }).catch((e: unknown) => e);
      assert.ok(again instanceof DownloadError);
      assert.equal(requests[3].headers['if-none-match'], '"v1"', 'the cache still describes the old copy');
      assert.deepEqual(readdirSync(dir).sort(), [basenameOf(first.path), `${basenameOf(first.path)}.meta.json`].sort());
    },
  );
});

test('a body shorter than its Content-Length with a clean close is reported as truncated', async (t) => {
  const dir = cacheDir(t);
  await withServer(
    (_req, res) => {
      // HTTP/1.0-style: no keep-alive, the server ends the socket after a short body.
      res.socket?.write(`HTTP/1.1 200 OK\r\ncontent-length: 1000\r\nconnection: close\r\n\r\nshort`);
      res.socket?.end();
    },
    async (base) => {
      await assert.rejects(
        download(`${base}/json`, dir, { ...fast, attempts: 1 }),
        /truncated response: received 5 of 1000 bytes/,
      );
      assert.deepEqual(readdirSync(dir), []);
    },
  );
});

test('a server that stops answering times out', async (t) => {
  const dir = cacheDir(t);
  await withServer(
    () => {
      // never answers
    },
    async (base, requests) => {
      await assert.rejects(
        download(`${base}/json`, dir, { ...fast, attempts: 2, timeoutMs: 100 }),
        /no data for 100 ms/,
      );
      assert.equal(requests.length, 2);
    },
  );
});

test('redirects are followed', async (t) => {
  const dir = cacheDir(t);
  await withServer(
    (req, res) => {
      if (req.url === '/old') res.writeHead(302, { location: '/new/debian.json' }).end();
      else res.writeHead(200).end(PAYLOAD);
    },
    async (base, requests) => {
      const result = await download(`${base}/old`, dir, fast);
      assert.deepEqual(readFileSync(result.path), PAYLOAD);
      assert.deepEqual(
        requests.map((r) => r.url),
        ['/old', '/new/debian.json'],
      );
    },
  );
});

test('file:// URLs are copied, and unchanged files report notModified', async (t) => {
  const dir = cacheDir(t);
  const src = join(cacheDir(t), 'debian.json.gz');
  writeFileSync(src, gzipSync(PAYLOAD));
  const url = pathToFileURL(src).href;
  const first = await download(url, dir);
  assert.equal(first.notModified, false);
  assert.deepEqual(readFileSync(first.path), PAYLOAD);
  assert.equal((await download(url, dir)).notModified, true);
  writeFileSync(src, gzipSync(Buffer.from('{}')));
  utimesSync(src, new Date(), new Date(Date.now() + 5000));
  const third = await download(url, dir);
  assert.equal(third.notModified, false);
  assert.equal(readFileSync(third.path, 'utf8'), '{}');
  await assert.rejects(download(pathToFileURL(join(dir, 'absent')).href, dir), /ENOENT/);
});

test('bad URLs are rejected with a clear message', async (t) => {
  const dir = cacheDir(t);
  await assert.rejects(download('not a url', dir), /not a valid URL/);
  await assert.rejects(download('ftp://example.org/x', dir), /unsupported protocol ftp:/);
});

function basenameOf(p: string): string {
  return p.slice(p.lastIndexOf('/') + 1);
}

test('a URL whose path holds malformed percent-encoding is downloaded, its cache file named from the raw path', async (t) => {
  const dir = cacheDir(t);
  await withServer(
    (_req, res) => res.writeHead(200, { 'content-length': PAYLOAD.length }).end(PAYLOAD),
    async (base) => {
      const r = await download(`${base}/feeds/debian%ZZ.json`, dir, fast);
      assert.deepEqual(readFileSync(r.path), PAYLOAD);
      assert.match(r.path, /-debian_ZZ\.json$/);
    },
  );
});
