// A vulnerability's counts leave out what exception rules hold, as the findings API does: through
// the real server on loopback with the real bookworm host's packages and a Debian tracker feed, the
// vulnerability list and page count the open exposures (hosts, findings, fixable) the findings API
// lists as open, and the held ones apart (excepted_findings); a revocation gives them back, and a
// restart (the in-memory index rebuilt from the store) counts the same.
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { readInventory } from '../src/inventory/index.ts';
import type { Inventory } from '../src/core/types.ts';
import { BOOKWORM_ROOT, trackerFeedV1 } from './support/fixtures.ts';
import { api, enrollTestHost, fullReportOf, startTestServer, type TestServer } from './support/server.ts';

let s: TestServer;
let inv: Inventory;

interface VulnCounts {
  id: string;
  open_hosts: number;
  open_findings: number;
  fixable_findings: number;
  excepted_findings: number;
}

const get = async <T>(path: string): Promise<T> => {
  const r = await api(s.url, path, { token: s.adminToken });
  assert.equal(r.status, 200, `${path}: ${r.text}`);
  return r.body as T;
};

/** The findings API's count of a vulnerability's findings in a state, and their hosts. */
async function findings(vuln: string, state: 'open' | 'excepted') {
  const page = await get<{ total: number; items: { host: { hostname: string }; fixable: boolean }[] }>(
    `/api/v1/findings?state=${state}&vulnerability=${vuln}&per_page=500`,
  );
  assert.equal(page.items.length, page.total);
  return {
    total: page.total,
    hosts: new Set(page.items.map((f) => f.host.hostname)).size,
    fixable: page.items.filter((f) => f.fixable).length,
  };
}

/** The vulnerability as the list (searched by its id) and its page count it: both the same. */
async function counts(vuln: string): Promise<Omit<VulnCounts, 'id'> | undefined> {
  const list = await get<{ items: VulnCounts[] }>(`/api/v1/vulnerabilities?search=${vuln}&per_page=100`);
  const listed = list.items.find((v) => v.id === vuln);
  const page = await get<VulnCounts>(`/api/v1/vulnerabilities/${vuln}`);
  const pick = (v: VulnCounts) => ({
    open_hosts: v.open_hosts,
    open_findings: v.open_findings,
    fixable_findings: v.fixable_findings,
    excepted_findings: v.excepted_findings,
  });
  if (listed) assert.deepEqual(pick(listed), pick(page), `${vuln}: the list and the page agree`);
  return listed ? pick(listed) : undefined;
}

/** The vulnerability's counts are those of the findings API. */
async function assertAgree(vuln: string): Promise<Omit<VulnCounts, 'id'> | undefined> {
  const open = await findings(vuln, 'open');
  const held = await findings(vuln, 'excepted');
  const c = await counts(vuln);
  const page = await get<VulnCounts>(`/api/v1/vulnerabilities/${vuln}`);
  assert.deepEqual(
    {
      open_hosts: page.open_hosts,
      open_findings: page.open_findings,
      fixable_findings: page.fixable_findings,
      excepted_findings: page.excepted_findings,
    },
    {
      open_hosts: open.hosts,
      open_findings: open.total,
      fixable_findings: open.fixable,
      excepted_findings: held.total,
    },
    `${vuln}: the page counts what the findings API lists`,
  );
  return c;
}

const report = async (host: string, token: string) => {
  const r = await api(s.url, '/api/v1/reports', { token, body: fullReportOf(inv, host) });
  assert.equal(r.status, 200, r.text);
};

before(async () => {
  s = await startTestServer(trackerFeedV1());
  inv = await readInventory(BOOKWORM_ROOT, { kernel: '6.1.0-40-amd64' });
  for (const [host, group] of [
    ['web-1', 'web'],
    ['web-2', 'web'],
    ['db-1', 'db'],
  ])
    await report(host, await enrollTestHost(s, host, group));
});
after(() => s.close());

test("excepting a vulnerability's findings takes them out of its open counts; revoking gives them back", async () => {
  // CVE-2099-1002: one exposure on each of the three hosts.
  const vuln = 'CVE-2099-1002';
  const start = await assertAgree(vuln);
  assert.deepEqual([start?.open_hosts, start?.open_findings, start?.excepted_findings], [3, 3, 0]);

  const r = await api(s.url, '/api/v1/exceptions', {
    token: s.adminToken,
    body: { scope: { vulnerability: vuln, group: 'web' }, kind: 'false_positive', justification: 'not reachable' },
  });
  assert.equal(r.status, 201, r.text);
  const rule = r.body as { id: number; held: number };
  assert.equal(rule.held, 2);
  const during = await assertAgree(vuln);
  assert.deepEqual([during?.open_hosts, during?.open_findings, during?.excepted_findings], [1, 1, 2]);
  // Sorted by hosts, the list counts what is left open.
  const byHosts = await get<{ items: VulnCounts[] }>('/api/v1/vulnerabilities?sort=hosts&per_page=500');
  const counts = byHosts.items.map((v) => v.open_hosts);
  assert.deepEqual(
    counts,
    [...counts].sort((a, b) => b - a),
  );

  // A restart rebuilds the index from the store: the same counts.
  const dataDir = s.dataDir;
  const clock = s.clock;
  await s.close();
  s = await startTestServer(null, {}, { dataDir, clock });
  assert.deepEqual(await assertAgree(vuln), during);

  const rv = await api(s.url, `/api/v1/exceptions/${rule.id}/revoke`, {
    token: s.adminToken,
    body: { reason: 'wrong' },
  });
  assert.equal(rv.status, 200, rv.text);
  assert.deepEqual(await assertAgree(vuln), start);
});

test('a vulnerability whose every open finding a rule holds leaves the list; its page counts them as excepted', async () => {
  // CVE-2099-1005: curl's binaries, one exposure on each host.
  const vuln = 'CVE-2099-1005';
  const start = await assertAgree(vuln);
  assert.equal(start?.open_hosts, 3);
  const r = await api(s.url, '/api/v1/exceptions', {
    token: s.adminToken,
    body: { scope: { package: 'curl' }, kind: 'will_fix_later', justification: 'curl is replaced in the next release' },
  });
  assert.equal(r.status, 201, r.text);
  const rule = r.body as { id: number };
  assert.equal(await assertAgree(vuln), undefined, 'not listed while no finding of it is open');
  const page = await get<VulnCounts>(`/api/v1/vulnerabilities/${vuln}`);
  assert.deepEqual([page.open_hosts, page.open_findings, page.excepted_findings], [0, 0, 3]);
  const rv = await api(s.url, `/api/v1/exceptions/${rule.id}/revoke`, { token: s.adminToken, body: {} });
  assert.equal(rv.status, 200, rv.text);
  assert.deepEqual(await assertAgree(vuln), start);
});
