// The audit log exported to the real OpenSearch node: the server's changes (accounts, logins,
// a denied request, a host change) become ECS documents in <prefix>-audit — one per entry, with
// event.*, user.*, source.ip and the states before and after — and exporting again, or
// rebuilding, writes no second copy.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { SearchClient } from '../src/export/client.ts';
import { exportNames, type ExportNames } from '../src/export/names.ts';
import { StoreExporter } from '../src/server/export/exporter.ts';
import { allDocs, removeExport, testClusterUrl, uniquePrefix } from './support/opensearch.ts';
import { api, enrollTestHost, startTestServer, type TestServer } from './support/server.ts';

const DAY = 86_400_000;

let s: TestServer;
let client: SearchClient;
let names: ExportNames;
let exporter: StoreExporter;

before(async () => {
  const url = await testClusterUrl();
  s = await startTestServer(null);
  client = new SearchClient({ url, retry: { maxRetries: 2, baseDelayMs: 50, maxDelayMs: 200 } });
  names = exportNames(uniquePrefix('audit'));
  exporter = new StoreExporter(s.running.ctx.store, client, {
    names,
    target: `${client.url}|${names.prefix}`,
    retention: { resolved: 30 * DAY, stale: 30 * DAY },
    refresh: true,
  });
});
after(async () => {
  if (client) {
    await removeExport(client, names);
    await client.close();
  }
  await s?.close();
});

interface Source {
  '@timestamp': string;
  event: { kind: string; category: string[]; type: string[]; action: string; outcome: string; dataset: string };
  user?: { name?: string; id?: string; roles?: string[]; target?: { name: string } };
  source?: { ip: string };
  patchloop: {
    audit: {
      id: number;
      actor_kind: string;
      outcome: string;
      target?: { type: string; id: string };
      before?: Record<string, unknown>;
      after?: Record<string, unknown>;
    };
  };
}

async function auditDocs(): Promise<Source[]> {
  return (await allDocs(client, names.audit))
    .map((d) => d._source as unknown as Source)
    .sort((a, b) => a.patchloop.audit.id - b.patchloop.audit.id);
}

async function entries(): Promise<{ id: number; action: string; outcome: string }[]> {
  return (
    (await api(s.url, '/api/v1/audit?limit=500', { token: s.adminToken })).body as {
      items: { id: number; action: string; outcome: string }[];
    }
  ).items.reverse();
}

test('each audit entry becomes one ECS document in the audit data stream; a second run and a rebuild add none', async () => {
  const made = await api(s.url, '/api/v1/users', {
    token: s.adminToken,
    body: { username: 'ines', role: 'viewer', password: 'ines long password' },
  });
  assert.equal(made.status, 201);
  const login = await api(s.url, '/api/v1/auth/login', { body: { username: 'ines', password: 'ines long password' } });
  const cookie = login.headers
    .getSetCookie()
    .map((c) => c.split(';')[0])
    .join('; ');
  assert.equal(
    (
      await api(s.url, '/api/v1/feeds/refresh', {
        method: 'POST',
        headers: { cookie, 'x-csrf-token': (login.body as { csrf_token: string }).csrf_token },
      })
    ).status,
    403,
  );
  await enrollTestHost(s, 'exported-host', 'web');
  const hosts = (await api(s.url, '/api/v1/hosts', { token: s.adminToken })).body as { items: { id: number }[] };
  await api(s.url, `/api/v1/hosts/${hosts.items[0].id}`, {
    method: 'PATCH',
    token: s.adminToken,
    body: { group: 'db' },
  });

  const first = await exporter.runOnce();
  assert.equal(first.rebuilt, true);
  const stored = await entries();
  assert.equal(first.sent.audit, stored.length);
  let docs = await auditDocs();
  assert.deepEqual(
    docs.map((d) => [d.patchloop.audit.id, d.event.action, d.patchloop.audit.outcome]),
    stored.map((e) => [e.id, e.action, e.outcome]),
  );

  const create = docs.find((d) => d.event.action === 'user.create')!;
  assert.deepEqual(create.event.category, ['iam']);
  assert.deepEqual(create.event.type, ['user', 'creation']);
  assert.deepEqual(
    [create.event.kind, create.event.outcome, create.event.dataset],
    ['event', 'success', 'patchloop.audit'],
  );
  assert.deepEqual(
    [create.user?.name, create.user?.roles, create.user?.target?.name, create.source?.ip],
    ['admin', ['admin'], 'ines', '127.0.0.1'],
  );
  assert.deepEqual(create.patchloop.audit.after, {
    username: 'ines',
    role: 'viewer',
    kind: 'local',
    display_name: null,
    disabled: false,
  });
  const denied = docs.find((d) => d.patchloop.audit.outcome === 'denied')!;
  assert.deepEqual(
    [denied.event.action, denied.event.outcome, denied.event.type, denied.user?.name],
    ['feeds.refresh', 'failure', ['change', 'denied'], 'ines'],
  );
  const change = docs.find((d) => d.event.action === 'host.update')!;
  assert.deepEqual(
    [change.event.category, change.patchloop.audit.before?.group, change.patchloop.audit.after?.group],
    [['configuration'], 'web', 'db'],
  );
  const logins = docs.filter((d) => d.event.action === 'auth.login');
  assert.deepEqual(
    logins.map((d) => [d.event.category, d.event.type, d.user?.name]),
    [[['authentication'], ['start'], 'ines']],
  );

  // Searchable as ECS: by account and by action.
  const byUser = await client.request<{ count: number }>({
    method: 'POST',
    path: `/${names.audit}/_count`,
    body: { query: { term: { 'user.name': 'ines' } } },
  });
  assert.equal(byUser.body.count, docs.filter((d) => d.user?.name === 'ines').length);

  // Incremental: only the new entry goes out.
  await api(s.url, '/api/v1/users', {
    token: s.adminToken,
    body: { username: 'jon', role: 'operator', password: 'jon long password' },
  });
  const second = await exporter.runOnce();
  assert.equal(second.sent.audit, 1);
  assert.equal((await exporter.runOnce()).sent.audit, 0);
  docs = await auditDocs();
  assert.equal(docs.length, stored.length + 1);
  assert.equal(docs.at(-1)?.user?.target?.name, 'jon');

  // A rebuild resends the whole log; the stream keeps one document per entry.
  const rebuilt = await exporter.rebuild();
  assert.equal(rebuilt.sent.audit, stored.length + 1);
  assert.equal((await auditDocs()).length, stored.length + 1);
});
