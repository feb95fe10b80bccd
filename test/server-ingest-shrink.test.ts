// A host whose report suddenly lists almost nothing is accepted but flagged: an
// `inventory_shrunk` event with both counts, and a warning on the host (API field) that stands
// until the host has its packages back. Real server on loopback, the real bookworm inventory.
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import type { InstalledPackage, Inventory } from '../src/core/types.ts';
import { readInventory } from '../src/inventory/index.ts';
import { api, enrollTestHost, fullReportOf, startTestServer, type TestServer } from './support/server.ts';
import { BOOKWORM_ROOT, trackerFeedV1 } from './support/fixtures.ts';

let s: TestServer;
let inv: Inventory;

before(async () => {
  s = await startTestServer(trackerFeedV1());
  inv = await readInventory(BOOKWORM_ROOT, { kernel: '6.1.0-40-amd64' });
});
after(() => s.close());

interface Detail {
  id: number;
  package_count: number;
  open: { total: number };
  inventory_shrunk: { at: string; scan_id: number; before: number; after: number } | null;
}
interface Ack {
  scan_id: number;
  changes: { resolved: number; open: number };
}

async function hostNamed(hostname: string): Promise<Detail> {
  const list = (await api(s.url, `/api/v1/hosts?search=${hostname}`, { token: s.adminToken })).body as {
    items: { id: number }[];
  };
  return (await api(s.url, `/api/v1/hosts/${list.items[0].id}`, { token: s.adminToken })).body as Detail;
}

async function send(token: string, packages: InstalledPackage[], hostname: string): Promise<Ack> {
  const r = await api(s.url, '/api/v1/reports', { token, body: fullReportOf({ ...inv, packages }, hostname) });
  assert.equal(r.status, 200, r.text);
  return r.body as Ack;
}

const shrinkEvents = async (id: number) =>
  (
    (await api(s.url, `/api/v1/hosts/${id}/history`, { token: s.adminToken })).body as {
      events: { type: string; cause: string; scan_id: number }[];
    }
  ).events.filter((e) => e.type === 'inventory_shrunk');

test('an empty inventory is accepted, resolves the findings, and is flagged with an event and a host warning until the packages are back', async () => {
  const token = await enrollTestHost(s, 'emptied');
  await send(token, inv.packages, 'emptied');
  const full = await hostNamed('emptied');
  assert.equal(full.package_count, 729);
  assert.ok(full.open.total > 0);
  assert.equal(full.inventory_shrunk, null);

  const ack = await send(token, [], 'emptied');
  assert.equal(ack.changes.resolved, full.open.total, 'the report is accepted: its findings are resolved');
  const emptied = await hostNamed('emptied');
  assert.equal(emptied.package_count, 0);
  assert.deepEqual(
    { ...emptied.inventory_shrunk, at: undefined },
    { at: undefined, scan_id: ack.scan_id, before: 729, after: 0 },
  );
  assert.deepEqual(
    (await shrinkEvents(full.id)).map((e) => [e.cause, e.scan_id]),
    [['packages 729 → 0', ack.scan_id]],
  );
  const feed = (await api(s.url, `/api/v1/events?type=inventory_shrunk&host=${full.id}`, { token: s.adminToken }))
    .body as { items: { type: string }[] };
  assert.equal(feed.items.length, 1);

  // A few packages come back: still a fraction of what the host had, the warning stands.
  await send(token, inv.packages.slice(0, 50), 'emptied');
  assert.deepEqual(
    { ...(await hostNamed('emptied')).inventory_shrunk, at: undefined },
    { at: undefined, scan_id: ack.scan_id, before: 729, after: 50 },
  );

  // The whole inventory again: the warning goes, the event stays in the history.
  const back = await send(token, inv.packages, 'emptied');
  assert.equal(back.changes.open, full.open.total);
  assert.equal((await hostNamed('emptied')).inventory_shrunk, null);
  assert.equal((await shrinkEvents(full.id)).length, 1);
});

test('the rule: losing more than four fifths of at least 20 packages is drastic; less, or a small host, is not', async () => {
  const token = await enrollTestHost(s, 'shrinking');
  await send(token, inv.packages, 'shrinking');
  // 729 → 146 keeps just over a fifth: no flag. 146 → 29 keeps under a fifth: flagged.
  await send(token, inv.packages.slice(0, 146), 'shrinking');
  const mild = await hostNamed('shrinking');
  assert.equal(mild.inventory_shrunk, null);
  await send(token, inv.packages.slice(0, 29), 'shrinking');
  const drastic = await hostNamed('shrinking');
  assert.deepEqual([drastic.inventory_shrunk?.before, drastic.inventory_shrunk?.after], [146, 29]);
  // Shrinking again while flagged keeps the count it had before it first shrank.
  await send(token, inv.packages.slice(0, 5), 'shrinking');
  assert.deepEqual(
    [(await hostNamed('shrinking')).inventory_shrunk?.before, (await hostNamed('shrinking')).inventory_shrunk?.after],
    [146, 5],
  );
  assert.deepEqual(
    (await shrinkEvents(drastic.id)).map((e) => e.cause),
    ['packages 29 → 5', 'packages 146 → 29'],
  );

  const small = await enrollTestHost(s, 'tiny');
  await send(small, inv.packages.slice(0, 19), 'tiny');
  await send(small, [], 'tiny');
  assert.equal((await hostNamed('tiny')).inventory_shrunk, null);
});
