// The saved objects import request, as Kibana and OpenSearch Dashboards expect it. Neither
// runs here: a loopback HTTP server takes the request in their place, and the request it
// receives is checked (path, overwrite, anti-CSRF header, authorization, a multipart body
// whose `file` part is the NDJSON), then answered the way they answer.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { importSavedObjects, importTarget } from './import.ts';
import { savedObjects, toNdjson } from './saved-objects.ts';

interface Captured {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: Buffer;
}

async function withServer(
  answer: (c: Captured) => { status: number; body: unknown },
  fn: (url: string, captured: Captured[]) => Promise<void>,
): Promise<void> {
  const captured: Captured[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const c = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks) };
      captured.push(c);
      const a = answer(c);
      res.writeHead(a.status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(a.body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    await fn(`http://127.0.0.1:${(server.address() as AddressInfo).port}`, captured);
  } finally {
    await new Promise((resolve) => server.close(resolve));
  }
}

/** The multipart body read back the way a server reads it. */
async function formFile(c: Captured): Promise<string> {
  const request = new Request('http://x/', {
    method: 'POST',
    headers: { 'content-type': String(c.headers['content-type']) },
    body: new Uint8Array(c.body),
  });
  const form = await request.formData();
  const file = form.get('file');
  assert.ok(file instanceof Blob, 'the NDJSON travels as the multipart part "file"');
  return file.text();
}

test('OpenSearch Dashboards: osd-xsrf, overwrite, basic auth, tenant; the NDJSON as the file part', async () => {
  const ndjson = toNdjson(savedObjects('opensearch-dashboards'));
  await withServer(
    () => ({ status: 200, body: { success: true, successCount: 20 } }),
    async (url, captured) => {
      const r = await importSavedObjects(ndjson, {
        url: `${url}/osd`,
        flavor: 'opensearch-dashboards',
        auth: { username: 'admin', password: 's3cret' },
        tenant: 'global',
      });
      assert.deepEqual(r, { successCount: 20, errors: [] });
      const c = captured[0];
      assert.equal(c.method, 'POST');
      assert.equal(c.url, '/osd/api/saved_objects/_import?overwrite=true');
      assert.equal(c.headers['osd-xsrf'], 'true');
      assert.equal(c.headers['kbn-xsrf'], undefined);
      assert.equal(c.headers.securitytenant, 'global');
      assert.equal(c.headers.authorization, `Basic ${Buffer.from('admin:s3cret').toString('base64')}`);
      assert.match(String(c.headers['content-type']), /^multipart\/form-data; boundary=/);
      assert.equal(await formFile(c), ndjson);
    },
  );
});

test('Kibana: kbn-xsrf, a space, an API key; refused objects and refused credentials are reported', async () => {
  await withServer(
    (c) =>
      c.headers.authorization === 'ApiKey a2V5'
        ? {
            status: 200,
            body: {
              success: false,
              successCount: 19,
              errors: [
                { id: 'patchloop-overview', type: 'dashboard', error: { type: 'missing_references', references: [] } },
              ],
            },
          }
        : { status: 401, body: { statusCode: 401, error: 'Unauthorized', message: 'Unauthorized' } },
    async (url, captured) => {
      const r = await importSavedObjects('{}\n', {
        url,
        flavor: 'kibana',
        auth: { apiKey: 'a2V5' },
        space: 'security team',
      });
      assert.deepEqual(r.errors, [{ id: 'patchloop-overview', type: 'dashboard', error: 'missing_references' }]);
      assert.equal(captured[0].url, '/s/security%20team/api/saved_objects/_import?overwrite=true');
      assert.equal(captured[0].headers['kbn-xsrf'], 'true');
      await assert.rejects(
        importSavedObjects('{}\n', { url, flavor: 'kibana', auth: { apiKey: 'wrong' } }),
        /HTTP 401: check the credentials/,
      );
    },
  );
});

test('credentials in the URL are refused; an unreachable server is said so', async () => {
  assert.throws(
    () => importTarget({ url: 'http://u:p@localhost:5601', flavor: 'kibana' }),
    /not in the dashboards URL/,
  );
  await assert.rejects(
    importSavedObjects('{}\n', { url: 'http://127.0.0.1:1', flavor: 'kibana', timeoutMs: 2000 }),
    /cannot reach Kibana/,
  );
});
