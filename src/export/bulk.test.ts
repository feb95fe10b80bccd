import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer as createHttpServer } from 'node:http';
import { createServer } from 'node:net';
import fc from 'fast-check';
import { bulk, classifyItem, itemLines, planBatches, type BulkItem } from './bulk.ts';
import { SearchClient } from './client.ts';

const item = (i: number, size = 10): BulkItem => ({
  action: 'create',
  index: 'ds',
  id: `id-${i}`,
  doc: { n: i, pad: 'x'.repeat(size) },
});

test('NDJSON lines: external version on index, no document line on delete', () => {
  assert.equal(
    itemLines({ action: 'index', index: 'state', id: 'a', version: 1767312000000, doc: { x: 1 } }),
    '{"index":{"_index":"state","_id":"a","version":1767312000000,"version_type":"external"}}\n{"x":1}\n',
  );
  assert.equal(
    itemLines({ action: 'create', index: 'ds', id: 'e', doc: { y: 'é' } }),
    '{"create":{"_index":"ds","_id":"e"}}\n{"y":"é"}\n',
  );
  assert.equal(itemLines({ action: 'delete', index: 'state', id: 'a' }), '{"delete":{"_index":"state","_id":"a"}}\n');
});

test('batches keep order and stay within the document and byte limits', () => {
  fc.assert(
    fc.property(
      fc.array(fc.integer({ min: 0, max: 3000 }), { maxLength: 300 }),
      fc.integer({ min: 1, max: 50 }),
      fc.integer({ min: 1024, max: 20_000 }),
      (sizes, maxDocs, maxBytes) => {
        const items = sizes.map((size, i) => item(i, size));
        const batches = planBatches(items, { maxDocs, maxBytes });
        assert.deepEqual(
          batches.flatMap((b) => b.items),
          items,
        );
        for (const batch of batches) {
          assert.ok(batch.items.length >= 1 && batch.items.length <= maxDocs);
          const bytes = Buffer.byteLength(batch.body);
          // Only a single item larger than the limit may exceed it, alone.
          assert.ok(bytes <= maxBytes || batch.items.length === 1, `${bytes} bytes in ${batch.items.length} items`);
          assert.equal(batch.body, batch.items.map(itemLines).join(''));
        }
        // Greedy: no two neighbouring batches would have fit into one.
        for (let i = 1; i < batches.length; i++) {
          const joined = Buffer.byteLength(batches[i - 1].body) + Buffer.byteLength(itemLines(batches[i].items[0]));
          assert.ok(batches[i - 1].items.length >= maxDocs || joined > maxBytes);
        }
      },
    ),
  );
});

test('item outcomes: duplicates and stale versions are not failures, 429/5xx are retried, the rest is rejected', () => {
  const create: BulkItem = { action: 'create', index: 'ds', id: 'e', doc: {} };
  const versioned: BulkItem = { action: 'index', index: 'state', id: 'f', version: 5, doc: {} };
  const plain: BulkItem = { action: 'index', index: 'state', id: 'f', doc: {} };
  const remove: BulkItem = { action: 'delete', index: 'state', id: 'f' };
  const conflict = {
    type: 'version_conflict_engine_exception',
    reason: '[e]: version conflict, document already exists',
  };
  assert.deepEqual(classifyItem(create, { status: 201, result: 'created' }), { kind: 'created' });
  assert.deepEqual(classifyItem(plain, { status: 200, result: 'updated' }), { kind: 'updated' });
  assert.deepEqual(classifyItem(remove, { status: 200, result: 'deleted' }), { kind: 'deleted' });
  assert.deepEqual(classifyItem(create, { status: 409, error: conflict }), { kind: 'unchanged' });
  assert.deepEqual(classifyItem(versioned, { status: 409, error: conflict }), { kind: 'unchanged' });
  assert.deepEqual(classifyItem(remove, { status: 404, result: 'not_found' }), { kind: 'unchanged' });
  // Without an external version a conflict is a real problem.
  assert.equal(classifyItem(plain, { status: 409, error: conflict }).kind, 'rejected');
  for (const status of [429, 500, 502, 503, 504]) {
    assert.equal(
      classifyItem(create, { status, error: { type: 'es_rejected_execution_exception', reason: 'queue full' } }).kind,
      'retry',
      String(status),
    );
  }
  const mapping = classifyItem(create, {
    status: 400,
    error: {
      type: 'mapper_parsing_exception',
      reason: 'failed to parse field [x]',
      caused_by: { type: 'illegal_argument_exception', reason: 'bad date' },
    },
  });
  assert.deepEqual(mapping, {
    kind: 'rejected',
    status: 400,
    type: 'mapper_parsing_exception',
    reason: 'failed to parse field [x] (caused by illegal_argument_exception: bad date)',
  });
  assert.equal(
    classifyItem(create, { status: 404, error: { type: 'index_not_found_exception', reason: 'no such index' } }).kind,
    'rejected',
  );
});

function closedPort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

test('a cluster that cannot be reached leaves every item pending, nothing rejected, no exception', async () => {
  const client = new SearchClient({
    url: `http://127.0.0.1:${await closedPort()}`,
    retry: { maxRetries: 1, baseDelayMs: 1, maxDelayMs: 2 },
  });
  const items = Array.from({ length: 25 }, (_, i) => item(i));
  const report = await bulk(client, items);
  assert.deepEqual(report.pending, items);
  assert.deepEqual([report.created, report.rejected.length, report.total], [0, 0, 25]);
  assert.match(report.pendingReason ?? '', /cannot reach the cluster \(ECONNREFUSED/);
  await client.close();
});

test("items the cluster keeps refusing for now (429) stay pending, with the cluster's reason", async () => {
  // A loopback stand-in for an OpenSearch node whose write queue stays full.
  const server = createHttpServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'application/json' });
      if (req.url === '/')
        return void res.end(JSON.stringify({ version: { number: '2.19.6', distribution: 'opensearch' } }));
      const actions = Buffer.concat(chunks)
        .toString('utf8')
        .split('\n')
        .filter((line) => line.startsWith('{"create"'));
      const refused = { status: 429, error: { type: 'es_rejected_execution_exception', reason: 'write queue full' } };
      res.end(JSON.stringify({ errors: true, items: actions.map(() => ({ create: refused })) }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  const client = new SearchClient({
    url: `http://127.0.0.1:${port}`,
    retry: { maxRetries: 2, baseDelayMs: 1, maxDelayMs: 2 },
  });
  try {
    const items = Array.from({ length: 3 }, (_, i) => item(i));
    const report = await bulk(client, items);
    assert.equal(report.pending.length, 3);
    assert.equal(
      report.pendingReason,
      '3 items refused for now after 2 retries (429 es_rejected_execution_exception: write queue full)',
    );
  } finally {
    await client.close();
    await new Promise((resolve) => server.close(resolve));
  }
});
