// TLS with a CA file, and the credentials the client sends, against the real OpenSearch
// node. The node has no security plugin (it is not on Maven Central), so TLS is terminated
// by a plain HTTPS forwarder in front of it, with a certificate from a CA that openssl
// makes here: the client must trust exactly that CA, and refuse any other.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { createServer, type Server } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ClusterError, SearchClient } from '../src/export/client.ts';
import { bulk } from '../src/export/bulk.ts';
import { Spool, ship } from '../src/export/spool.ts';
import { testClusterUrl, uniquePrefix } from './support/opensearch.ts';

let dir = '';
let proxy: Server;
let proxyUrl = '';
let upstream: URL;
const seenAuthorization: (string | undefined)[] = [];

function openssl(args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
}

/** A CA, and a server certificate for 127.0.0.1 signed by it. */
function makeCertificates(): void {
  for (const ca of ['ca', 'other-ca']) {
    openssl([
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      `${ca}.key`,
      '-out',
      `${ca}.pem`,
      '-days',
      '2',
      '-subj',
      `/CN=patchloop test ${ca}`,
    ]);
  }
  openssl([
    'req',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    'server.key',
    '-out',
    'server.csr',
    '-subj',
    '/CN=127.0.0.1',
  ]);
  writeFileSync(join(dir, 'server.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
  openssl([
    'x509',
    '-req',
    '-in',
    'server.csr',
    '-CA',
    'ca.pem',
    '-CAkey',
    'ca.key',
    '-CAcreateserial',
    '-out',
    'server.pem',
    '-days',
    '2',
    '-extfile',
    'server.ext',
  ]);
}

before(async () => {
  upstream = new URL(await testClusterUrl());
  dir = mkdtempSync(join(tmpdir(), 'patchloop-tls-'));
  makeCertificates();
  proxy = createServer(
    { key: readFileSync(join(dir, 'server.key')), cert: readFileSync(join(dir, 'server.pem')) },
    (req, res) => {
      seenAuthorization.push(req.headers.authorization);
      const forward = httpRequest(
        {
          host: upstream.hostname,
          port: upstream.port,
          method: req.method,
          path: req.url,
          headers: { ...req.headers, host: upstream.host },
        },
        (answer) => {
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
        },
      );
      forward.on('error', () => res.writeHead(502).end());
      req.pipe(forward);
    },
  );
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  proxyUrl = `https://127.0.0.1:${(proxy.address() as { port: number }).port}`;
});

after(async () => {
  if (proxy) await new Promise((resolve) => proxy.close(resolve));
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test('with the CA file the client reaches the cluster over TLS and indexes; basic auth travels as the header', async () => {
  const client = new SearchClient({
    url: proxyUrl,
    caFile: join(dir, 'ca.pem'),
    auth: { username: 'exporter', password: 's3cret' },
  });
  const index = uniquePrefix('tls');
  try {
    assert.equal((await client.info()).kind, 'opensearch');
    const report = await bulk(
      client,
      [{ action: 'create', index, id: 'one', doc: { '@timestamp': '2026-03-02T06:00:00Z' } }],
      { refresh: true },
    );
    assert.equal(report.created, 1);
    assert.ok(seenAuthorization.length >= 2);
    assert.ok(seenAuthorization.every((h) => h === `Basic ${Buffer.from('exporter:s3cret').toString('base64')}`));
  } finally {
    await client.request({ method: 'DELETE', path: `/${index}`, accept: [404] });
    await client.close();
  }
});

test('an API key travels as ApiKey base64(id:key)', async () => {
  seenAuthorization.length = 0;
  const client = new SearchClient({
    url: proxyUrl,
    caFile: join(dir, 'ca.pem'),
    auth: { apiKey: 'key-id:key-secret' },
  });
  await client.info();
  await client.close();
  assert.deepEqual(seenAuthorization, [`ApiKey ${Buffer.from('key-id:key-secret').toString('base64')}`]);
});

test('without the CA, or with another CA, the certificate is refused at once, and shipped items are kept', async () => {
  for (const caFile of [undefined, join(dir, 'other-ca.pem')]) {
    const client = new SearchClient({ url: proxyUrl, caFile, retry: { maxRetries: 3, baseDelayMs: 10 } });
    const error = await client.info().then(
      () => assert.fail('an untrusted certificate must be refused'),
      (e: unknown) => e,
    );
    assert.ok(error instanceof ClusterError);
    assert.equal(error.retryable, false);
    assert.match(
      error.message,
      /TLS (SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER_CERT_LOCALLY)/,
    );
    assert.match(error.message, /caFile must hold the CA/);

    const spool = new Spool(join(dir, `spool-${caFile ? 'other' : 'none'}`));
    const items = [{ action: 'create' as const, index: 'never-written', id: 'x', doc: { a: 1 } }];
    await assert.rejects(ship(client, spool, items), ClusterError);
    assert.equal(await spool.size(), 1, 'the item waits in the spool for a fixed configuration');
    await client.close();
  }
});
