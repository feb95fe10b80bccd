// Enrolment never rebinds a host across groups: a valid enrolment token of one group and the
// machine id of a host in another group must not hand over that host, revoke its agent's
// credential or let the newcomer's reports resolve its findings. Real server on loopback.
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { readInventory } from '../src/inventory/index.ts';
import { api, enrollTestHost, fullReportOf, startTestServer, type TestServer } from './support/server.ts';
import { BOOKWORM_ROOT, trackerFeedV1 } from './support/fixtures.ts';
import type { Inventory } from '../src/core/types.ts';

let s: TestServer;
let inv: Inventory;

before(async () => {
  s = await startTestServer(trackerFeedV1());
  inv = await readInventory(BOOKWORM_ROOT, { kernel: '6.1.0-40-amd64' });
});
after(() => s.close());

async function enrolmentToken(group: string, uses: number | null = 1): Promise<string> {
  const t = await api(s.url, '/api/v1/enrollment-tokens', {
    token: s.adminToken,
    body: { name: `tok-${group}`, group, uses, ttl_seconds: 3600 },
  });
  assert.equal(t.status, 201, t.text);
  return (t.body as { token: string }).token;
}

const enrol = (token: string, hostname: string, machine_id: string) =>
  api(s.url, '/api/v1/enroll', { body: { token, hostname, machine_id } });

interface HostView {
  id: number;
  hostname: string;
  group: string;
  open: { total: number };
  credential_revoked: boolean;
}
const host = async (id: number) => (await api(s.url, `/api/v1/hosts/${id}`, { token: s.adminToken })).body as HostView;

test("a token of another group cannot take over a host by its machine id: refused, nothing changes, the host's agent keeps working", async () => {
  const machine = '1'.repeat(32);
  const prod = await enrol(await enrolmentToken('prod'), 'db-1', machine);
  assert.equal(prod.status, 201, prod.text);
  const victim = prod.body as { host_id: number; host_token: string };
  const first = await api(s.url, '/api/v1/reports', { token: victim.host_token, body: fullReportOf(inv, 'db-1') });
  assert.equal(first.status, 200, first.text);
  const before = await host(victim.host_id);
  assert.ok(before.open.total > 0, 'the real inventory has open findings');

  const sandboxToken = await enrolmentToken('sandbox', 5);
  const attempt = await enrol(sandboxToken, 'attacker', machine);
  assert.equal(attempt.status, 409, attempt.text);
  const body = attempt.body as { error: string; message: string; host_id?: unknown; host_token?: unknown };
  assert.equal(body.error, 'machine_id_in_other_group');
  assert.match(body.message, /another group/);
  assert.equal(body.host_token, undefined);
  assert.ok(!attempt.text.includes('prod'), 'the refusal does not name the host group');

  // The host is untouched: same name, group, findings, credential; no re-enrolment event.
  const afterAttempt = await host(victim.host_id);
  assert.deepEqual(
    [afterAttempt.hostname, afterAttempt.group, afterAttempt.open.total, afterAttempt.credential_revoked],
    ['db-1', 'prod', before.open.total, false],
  );
  const history = (await api(s.url, `/api/v1/hosts/${victim.host_id}/history`, { token: s.adminToken })).body as {
    events: { type: string }[];
  };
  assert.deepEqual(
    history.events.filter((e) => e.type.endsWith('enrolled')).map((e) => e.type),
    ['enrolled'],
  );
  const again = await api(s.url, '/api/v1/reports', { token: victim.host_token, body: fullReportOf(inv, 'db-1') });
  assert.equal(again.status, 200, again.text);

  // The refused attempt used up nothing: the sandbox token still enrols five new machines.
  const tokens = (await api(s.url, '/api/v1/enrollment-tokens', { token: s.adminToken })).body as {
    name: string;
    used: number;
    uses_left: number;
  }[];
  assert.deepEqual(
    tokens.filter((t) => t.name === 'tok-sandbox').map((t) => [t.used, t.uses_left]),
    [[0, 5]],
  );
  const fresh = await enrol(sandboxToken, 'sandbox-1', '2'.repeat(32));
  assert.equal(fresh.status, 201, fresh.text);
  assert.notEqual((fresh.body as { host_id: number }).host_id, victim.host_id);
});

test('re-enrolment follows the group the host is in now: after an admin moves it, only a token of the new group rebinds it', async () => {
  const machine = '3'.repeat(32);
  const web = (await enrol(await enrolmentToken('web'), 'web-7', machine)).body as {
    host_id: number;
    host_token: string;
  };
  const moved = await api(s.url, `/api/v1/hosts/${web.host_id}`, {
    token: s.adminToken,
    method: 'PATCH',
    body: { group: 'edge' },
  });
  assert.equal(moved.status, 200, moved.text);

  const oldGroup = await enrol(await enrolmentToken('web'), 'web-7', machine);
  assert.equal(oldGroup.status, 409, oldGroup.text);
  assert.equal(
    (await api(s.url, '/api/v1/reports', { token: web.host_token, body: fullReportOf(inv, 'web-7') })).status,
    200,
  );

  const newGroup = await enrol(await enrolmentToken('edge'), 'web-7-reinstalled', machine);
  assert.equal(newGroup.status, 201, newGroup.text);
  const rebound = newGroup.body as { host_id: number; host_token: string };
  assert.equal(rebound.host_id, web.host_id, 'a legitimate re-enrolment keeps the host record');
  // Only now is the old credential revoked.
  assert.equal(
    (await api(s.url, '/api/v1/reports', { token: web.host_token, body: fullReportOf(inv, 'web-7') })).status,
    401,
  );
  assert.equal((await host(web.host_id)).hostname, 'web-7-reinstalled');
  assert.equal(
    (await api(s.url, '/api/v1/reports', { token: rebound.host_token, body: fullReportOf(inv, 'web-7') })).status,
    200,
  );
  assert.equal((await host(web.host_id)).group, 'edge');
});

test('hosts enrolled without a machine id, and ungrouped hosts, enrol as before', async () => {
  const a = await enrollTestHost(s, 'no-machine-id');
  const b = await enrollTestHost(s, 'no-machine-id');
  assert.notEqual(a, b);
  const machine = '4'.repeat(32);
  const first = (await enrol(await enrolmentToken(''), 'plain', machine)).body as { host_id: number };
  const second = await enrol(await enrolmentToken(''), 'plain', machine);
  assert.equal(second.status, 201, second.text);
  assert.equal((second.body as { host_id: number }).host_id, first.host_id);
});
