import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { authorizationHeader, ClusterError, SearchClient, splitUrlCredentials } from './client.ts';

test('basic auth and API keys become the Authorization header the products expect', () => {
  const basic = authorizationHeader({ username: 'elastic', password: 'pä:ss' });
  assert.equal(basic, `Basic ${Buffer.from('elastic:pä:ss').toString('base64')}`);
  // `id:api_key` is encoded here; the `encoded` form Elasticsearch returns is sent as is.
  assert.equal(
    authorizationHeader({ apiKey: 'VuaCfGcBCdbkQm-e5aOx:ui2lp2axTNmsyakw9tvNnw' }),
    `ApiKey ${Buffer.from('VuaCfGcBCdbkQm-e5aOx:ui2lp2axTNmsyakw9tvNnw').toString('base64')}`,
  );
  assert.equal(
    authorizationHeader({ apiKey: 'VnVhQ2ZHY0JDZGJrUW0tZTVhT3g6dWkybHAyYXhUTm1zeWFrdzl0dk5udw==' }),
    'ApiKey VnVhQ2ZHY0JDZGJrUW0tZTVhT3g6dWkybHAyYXhUTm1zeWFrdzl0dk5udw==',
  );
  assert.equal(authorizationHeader(undefined), undefined);
});

test('credentials in the URL become basic auth and leave the URL; explicit auth wins', () => {
  const split = splitUrlCredentials('https://ingest:s%40cret@search.example.net:9200/es?x=1#y', undefined);
  assert.equal(split.base.href, 'https://search.example.net:9200/es/');
  assert.deepEqual(split.auth, { username: 'ingest', password: 's@cret' });
  const explicit = splitUrlCredentials('https://ingest:other@search.example.net:9200', { apiKey: 'k' });
  assert.deepEqual(explicit.auth, { apiKey: 'k' });
  assert.equal(explicit.base.href, 'https://search.example.net:9200/');
});

function closedPort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

test('no secret in what the client shows: URL, inspect, JSON, error messages', async () => {
  const port = await closedPort();
  const client = new SearchClient({
    url: `http://ingest:hunter2-secret@127.0.0.1:${port}`,
    retry: { maxRetries: 1, baseDelayMs: 1, maxDelayMs: 2 },
  });
  assert.equal(client.url, `http://127.0.0.1:${port}`);
  assert.ok(!inspect(client, { depth: 10, showHidden: true }).includes('hunter2'));
  assert.ok(!JSON.stringify(client).includes('hunter2'));
  const warnings: string[] = [];
  const logged = new SearchClient(
    {
      url: `http://127.0.0.1:${port}`,
      auth: { apiKey: 'id:hunter2-key' },
      retry: { maxRetries: 1, baseDelayMs: 1, maxDelayMs: 2 },
    },
    {
      debug: (m) => warnings.push(m),
      info: (m) => warnings.push(m),
      warn: (m) => warnings.push(m),
    },
  );
  for (const c of [client, logged]) {
    const error = await c.info().then(
      () => assert.fail('nothing listens there'),
      (e: unknown) => e,
    );
    assert.ok(error instanceof ClusterError);
    assert.equal(error.status, null);
    assert.equal(error.retryable, true);
    assert.match(
      error.message,
      new RegExp(`GET http://127\\.0\\.0\\.1:${port}/: cannot reach the cluster \\(ECONNREFUSED`),
    );
    assert.ok(!error.message.includes('hunter2'));
    await c.close();
  }
  assert.equal(warnings.length, 1, 'one retry was logged');
  assert.ok(!warnings.join('\n').includes('hunter2'));
});

test('options are validated: bad URL, unknown fields, unreadable or non-PEM CA file', () => {
  assert.throws(() => new SearchClient({ url: 'ftp://search.example.net' }), /export options: url: /);
  assert.throws(
    () =>
      new SearchClient({ url: 'http://localhost:9200', auth: { username: 'u', password: 'p', token: 'x' } } as never),
    /auth/,
  );
  assert.throws(() => new SearchClient({ url: 'http://localhost:9200', bulk: { maxDocs: 0 } }), /bulk\.maxDocs/);
  const dir = mkdtempSync(join(tmpdir(), 'patchloop-client-'));
  try {
    assert.throws(
      () => new SearchClient({ url: 'https://localhost:9200', caFile: join(dir, 'missing.pem') }),
      /cannot read CA file .*missing\.pem/,
    );
    writeFileSync(join(dir, 'key.pem'), '-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n');
    assert.throws(
      () => new SearchClient({ url: 'https://localhost:9200', caFile: join(dir, 'key.pem') }),
      /holds no PEM certificate/,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
