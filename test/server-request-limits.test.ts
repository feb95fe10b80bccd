// What one request may cost, over real HTTP: every write route bounded (sizes, counts, string
// lengths, times in a sane range, ids by pattern), invalid UTF-8 refused, malformed cursors
// refused, and a client that trickles its body without a credential cut off.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { api, enrollTestHost, startTestServer, type TestServer } from './support/server.ts';
import { trackerFeedV1 } from './support/fixtures.ts';
import { samplePatchRun } from './support/patch-run.ts';
import { DEFAULT_REQUEST_LIMITS } from '../src/server/http/request-limits.ts';

let s: TestServer;
let hostToken: string;
before(async () => {
  s = await startTestServer(trackerFeedV1());
  hostToken = await enrollTestHost(s, 'limits-1', 'web');
});
after(() => s.close());

const run = (o: Partial<Parameters<typeof samplePatchRun>[0]> = {}) =>
  samplePatchRun({ id: 'run-ok', hostname: 'limits-1', finishedAt: new Date(s.clock.now()).toISOString(), ...o });

test('patch-run reports: huge texts, lists and run ids, and impossible times are refused; nothing is stored', async () => {
  const good = run();
  const cases: [string, unknown, number][] = [
    [
      '20 MB of error text',
      { ...good, id: 'r1', errors: [{ kind: 'dpkg', where: null, package: null, message: 'x'.repeat(20_000_000) }] },
      413,
    ],
    [
      'one 5,000-character error message',
      { ...good, id: 'r2', errors: [{ kind: 'dpkg', where: null, package: null, message: 'x'.repeat(5_000) }] },
      400,
    ],
    [
      '150,000 changes',
      {
        ...good,
        id: 'r3',
        changes: Array.from({ length: 150_000 }, (_, i) => ({ ...good.changes[0], name: `p${i}` })),
      },
      413,
    ],
    [
      '25,000 small changes',
      {
        ...good,
        id: 'r4',
        changes: Array.from({ length: 25_000 }, () => ({
          name: 'a',
          arch: null,
          action: 'upgrade',
          from: null,
          to: null,
          automatic: false,
          ok: true,
        })),
      },
      400,
    ],
    ['year 9999', { ...good, id: 'r5', finished_at: '9999-12-31T23:59:59Z' }, 400],
    ['a time without an offset', { ...good, id: 'r6', started_at: '2026-11-01 10:00' }, 400],
    ['a 10 KB run id', { ...good, id: 'r'.repeat(10_000) }, 400],
    ['a run id with a slash', { ...good, id: '../etc' }, 400],
    ['a negative finding count', { ...good, id: 'r7', findings_before: -1 }, 400],
  ];
  for (const [what, body, status] of cases) {
    const r = await api(s.url, '/api/v1/agent/patch-runs', { token: hostToken, body });
    assert.equal(r.status, status, `${what}: ${r.text.slice(0, 200)}`);
  }
  const list = (await api(s.url, '/api/v1/patch-runs', { token: s.adminToken })).body as { total: number };
  assert.equal(list.total, 0, 'no refused run was stored');
  assert.equal((await api(s.url, '/api/v1/agent/patch-runs', { token: hostToken, body: good })).status, 201);
});

test('boot and lease requests: ids by pattern, times in range', async () => {
  const boot = {
    run_id: 'run-ok',
    hostname: 'limits-1',
    lease_id: null,
    boot_id: 'b'.repeat(300),
    booted_at: new Date(s.clock.now()).toISOString(),
    kernel: null,
    reboot_still_required: false,
  };
  assert.equal((await api(s.url, '/api/v1/agent/boot', { token: hostToken, body: boot })).status, 400);
  assert.equal(
    (
      await api(s.url, '/api/v1/agent/boot', {
        token: hostToken,
        body: { ...boot, boot_id: 'b1', booted_at: '0001-01-01T00:00:00Z' },
      })
    ).status,
    400,
  );
  assert.equal(
    (
      await api(s.url, '/api/v1/agent/reboot-lease', {
        token: hostToken,
        body: { action: 'renew', lease_id: 'x'.repeat(1000) },
      })
    ).status,
    400,
  );
});

test('policies: a 10 MB description is refused, and so are huge lists; a normal policy is stored', async () => {
  const policy = { group: 'web', rings: [{ name: 'all' }] };
  const big = await api(s.url, '/api/v1/policies/web', {
    method: 'PUT',
    token: s.adminToken,
    body: { ...policy, description: 'd'.repeat(10_000_000) },
  });
  assert.equal(big.status, 413);
  const long = await api(s.url, '/api/v1/policies/web', {
    method: 'PUT',
    token: s.adminToken,
    body: { ...policy, description: 'd'.repeat(5_000) },
  });
  assert.equal(long.status, 400);
  assert.match(long.text, /description/);
  const many = await api(s.url, '/api/v1/policies/web', {
    method: 'PUT',
    token: s.adminToken,
    body: { ...policy, install: { blocklist: Array.from({ length: 5_000 }, (_, i) => `pkg${i}`) } },
  });
  assert.equal(many.status, 400);
  assert.equal((await api(s.url, '/api/v1/policies', { token: s.adminToken })).text, '[]');
  assert.equal(
    (await api(s.url, '/api/v1/policies/web', { method: 'PUT', token: s.adminToken, body: policy })).status,
    201,
  );
});

test('every route has a body limit: 1 MiB unless it says otherwise', async () => {
  const r = await api(s.url, '/api/v1/enrollment-tokens', {
    token: s.adminToken,
    body: { name: 'x', tags: ['a'], pad: 'p'.repeat(DEFAULT_REQUEST_LIMITS.defaultBodyBytes) },
  });
  assert.equal(r.status, 413);
  assert.match(r.text, new RegExp(`larger than ${DEFAULT_REQUEST_LIMITS.defaultBodyBytes} bytes`));
});

test('invalid UTF-8 in a JSON body is refused with 400, not stored with replacement characters', async () => {
  const body = Buffer.concat([Buffer.from('{"name":"bad'), Buffer.from([0xc3, 0x28]), Buffer.from('"}')]);
  const r = await api(s.url, '/api/v1/enrollment-tokens', {
    token: s.adminToken,
    raw: body,
    headers: { 'content-type': 'application/json' },
  });
  assert.equal(r.status, 400);
  assert.match(r.text, /UTF-8/);
  const tokens = (await api(s.url, '/api/v1/enrollment-tokens', { token: s.adminToken })).body as { name: string }[];
  assert.ok(!tokens.some((t) => t.name.startsWith('bad')));
  // Valid multi-byte UTF-8 is fine.
  const ok = await api(s.url, '/api/v1/enrollment-tokens', { token: s.adminToken, body: { name: 'Zürich €' } });
  assert.equal(ok.status, 201);
});

test('event cursors: only cursors the API could have returned are accepted', async () => {
  for (const after of ['99999999999999999999999', '1.99999999999999999999', '1e5', '-1', '1.', '01', ' 1']) {
    const r = await api(s.url, `/api/v1/events?after=${encodeURIComponent(after)}`, { token: s.adminToken });
    assert.equal(r.status, 400, `after=${after}`);
  }
  const r = await api(s.url, '/api/v1/events?after=0', { token: s.adminToken });
  assert.equal(r.status, 200);
  const next = (r.body as { next_after: string | null }).next_after;
  if (next !== null)
    assert.equal(
      (await api(s.url, `/api/v1/events?after=${next}`, { token: s.adminToken })).status,
      200,
      'the returned cursor is accepted',
    );
});

test('ids in paths and queries have one spelling', async () => {
  for (const p of [
    '/api/v1/hosts/01',
    '/api/v1/hosts/1e0',
    '/api/v1/hosts/%2B1',
    '/api/v1/hosts/0x1',
    '/api/v1/hosts?page=1.0',
    '/api/v1/hosts?per_page=%2050',
  ]) {
    assert.equal((await api(s.url, p, { token: s.adminToken })).status, 400, p);
  }
});

test(
  'a body trickled without a credential is cut off; the server keeps answering meanwhile',
  { timeout: 60_000 },
  async () => {
    const u = new URL(s.url);
    const socket = connect(Number(u.port), u.hostname);
    await new Promise((r) => socket.once('connect', r));
    socket.write(
      'POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{',
    );
    const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    const trickle = setInterval(() => socket.write(' '), 500);
    try {
      assert.equal((await api(s.url, '/api/v1/health')).status, 200);
      await closed;
    } finally {
      clearInterval(trickle);
      socket.destroy();
    }
  },
);

test(
  'a refused request with an unread body gets its answer and the connection closed',
  { timeout: 60_000 },
  async () => {
    const u = new URL(s.url);
    const socket = connect(Number(u.port), u.hostname);
    await new Promise((r) => socket.once('connect', r));
    let answer = '';
    socket.on('data', (d: Buffer) => (answer += d.toString()));
    const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    socket.write(
      'POST /api/v1/enrollment-tokens HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{"name":',
    );
    await closed;
    assert.match(answer, /^HTTP\/1\.1 401 /);
    assert.match(answer, /\r\nconnection: close\r\n/i);
  },
);

test('body deadlines end with the request: no request (or its parsed body) is kept afterwards, gzip bodies included', async () => {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  gc();
  const before = process.memoryUsage().heapUsed;
  // 40 bodies of 700 KB (a few KB gzipped), parsed, then refused by validation.
  const pad = Array.from({ length: 7_000 }, (_, i) => `entry ${i} `.padEnd(100, 'x'));
  for (let i = 0; i < 40; i++) {
    const r = await api(s.url, '/api/v1/enrollment-tokens', {
      token: s.adminToken,
      body: { name: `gz-${i}`, pad },
      gzip: true,
    });
    assert.equal(r.status, 400);
  }
  gc();
  const grown = (process.memoryUsage().heapUsed - before) / 2 ** 20;
  assert.ok(grown < 15, `heap grew by ${grown.toFixed(1)} MiB after 40 requests`);
});
