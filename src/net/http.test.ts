// The HTTP client against real servers on 127.0.0.1: what a failure is classified as (refused,
// stalled, untrusted certificate, plain HTTP answering TLS), the CA file, Retry-After.
import { makeCertificate } from '../../test/support/tls.ts';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createPool, isRetryableStatus, parseRetryAfter, readBody, RequestError, send } from './http.ts';

async function listen(server: Server, t: { after: (fn: () => void) => void }): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => {
    server.closeAllConnections();
    server.close();
  });
  return (server.address() as AddressInfo).port;
}

async function failure(p: Promise<unknown>): Promise<RequestError> {
  const err = await p.then(
    () => assert.fail('the request must fail'),
    (e: unknown) => e,
  );
  assert.ok(err instanceof RequestError, String(err));
  return err;
}

function selfSigned(t: { after: (fn: () => void) => void }): { dir: string; key: Buffer; cert: Buffer } {
  const dir = mkdtempSync(join(tmpdir(), 'patchloop-net-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const { cert, key } = makeCertificate(dir);
  return { dir, key: readFileSync(key), cert: readFileSync(cert) };
}

test('a refused connection and a server that never answers are worth retrying; the reason names them', async (t) => {
  const closed = createHttpServer();
  const closedPort = await listen(closed, t);
  await new Promise<void>((resolve) => closed.close(() => resolve()));
  const refused = await failure(send(new URL(`http://127.0.0.1:${closedPort}/feed.json`), { timeoutMs: 5000 }));
  assert.deepEqual(
    [refused.kind, refused.code, refused.retryable, refused.systemCode],
    ['network', 'PL_E_SERVER_UNREACHABLE', true, 'ECONNREFUSED'],
  );
  assert.match(refused.message, new RegExp(`^GET http://127\\.0\\.0\\.1:${closedPort}/feed\\.json: ECONNREFUSED`));

  const silent = await listen(
    createHttpServer(() => {}),
    t,
  );
  const stalled = await failure(
    send(new URL(`http://127.0.0.1:${silent}/`), { method: 'POST', body: '{}', timeoutMs: 100 }),
  );
  assert.deepEqual([stalled.kind, stalled.retryable, stalled.reason], ['timeout', true, 'no data for 100 ms']);
});

test('a body cut short is a network failure; a whole one is read', async (t) => {
  const port = await listen(
    createHttpServer((req, res) => {
      res.writeHead(200, { 'content-length': 100 });
      if (req.url === '/cut') {
        res.write('x'.repeat(10));
        setImmediate(() => res.socket?.destroy());
      } else res.end('y'.repeat(100));
    }),
    t,
  );
  const whole = await send(new URL(`http://127.0.0.1:${port}/`), { timeoutMs: 5000 });
  assert.equal((await readBody(whole, 'GET /', 5000)).toString(), 'y'.repeat(100));
  const cut = await send(new URL(`http://127.0.0.1:${port}/cut`), { timeoutMs: 5000 });
  const lost = await failure(readBody(cut, 'GET /cut', 5000));
  assert.equal(lost.kind, 'network');
  assert.match(lost.message, /^GET \/cut: /);
});

test('TLS: an untrusted certificate and plain HTTP answering https:// are named, not retried; the CA file makes it trusted', async (t) => {
  const pki = selfSigned(t);
  const tlsPort = await listen(
    createHttpsServer({ key: pki.key, cert: pki.cert }, (_req, res) => res.end('ok')) as unknown as Server,
    t,
  );
  const untrusted = await failure(send(new URL(`https://127.0.0.1:${tlsPort}/`), { timeoutMs: 5000 }));
  assert.deepEqual([untrusted.kind, untrusted.code, untrusted.retryable], ['untrusted', 'PL_E_TLS', false]);
  assert.match(untrusted.reason, /^(DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT_IN_CHAIN): /);

  const pool = createPool({ caFile: join(pki.dir, 'server-cert.pem') });
  t.after(() => pool.close());
  const trusted = await send(new URL(`https://127.0.0.1:${tlsPort}/`), { pool, timeoutMs: 5000 });
  assert.equal((await readBody(trusted, 'GET /', 5000)).toString(), 'ok');

  const plainPort = await listen(
    createHttpServer((_req, res) => res.end('plain')),
    t,
  );
  const plain = await failure(send(new URL(`https://127.0.0.1:${plainPort}/`), { timeoutMs: 5000 }));
  assert.deepEqual([plain.kind, plain.code, plain.retryable], ['plain-http', 'PL_E_TLS', false]);

  assert.throws(
    () => createPool({ caFile: join(pki.dir, 'missing.pem') }),
    (e: Error & { code?: string }) => e.code === 'PL_E_CONFIG' && /cannot read CA file .*missing\.pem/.test(e.message),
  );
  assert.throws(() => createPool({ caFile: join(pki.dir, 'server-key.pem') }), /holds no PEM certificate/);
});

test("retryable statuses: overload, timeouts and unavailability, not the request's own faults", () => {
  assert.deepEqual([408, 429, 500, 502, 503, 504].map(isRetryableStatus), [true, true, true, true, true, true]);
  assert.deepEqual([400, 401, 403, 404, 409, 413, 501, 505].map(isRetryableStatus), [
    false,
    false,
    false,
    false,
    false,
    false,
    false,
    false,
  ]);
});

test('parseRetryAfter reads seconds and HTTP dates', () => {
  const now = Date.parse('Wed, 21 Oct 2026 07:28:00 GMT');
  assert.equal(parseRetryAfter('120', now), 120_000);
  assert.equal(parseRetryAfter('Wed, 21 Oct 2026 07:28:30 GMT', now), 30_000);
  assert.equal(parseRetryAfter('Wed, 21 Oct 2026 07:00:00 GMT', now), 0);
  assert.equal(parseRetryAfter('soon', now), null);
  assert.equal(parseRetryAfter(undefined, now), null);
});
