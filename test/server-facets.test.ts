// GET /api/v1/hosts/facets on the real server: the groups, tags and releases of a fleet that
// enrolled and reported through the API, each count checked against the hosts list filtered
// by that value, plus authentication, the OpenAPI description and the /hosts/:id neighbour.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { readInventory } from '../src/inventory/index.ts';
import { api, enrollTestHost, fullReportOf, startTestServer } from './support/server.ts';
import { BOOKWORM_ROOT, trackerFeedV1 } from './support/fixtures.ts';
import type { HostFacets } from '../src/server/routes/facets.ts';

type HostsPage = {
  total: number;
  items: {
    id: number;
    hostname: string;
    group: string;
    tags: string[];
    distro: string | null;
    release: string | null;
  }[];
};

test('host facets: groups, tags and releases with the host counts the hosts list agrees with', async (t) => {
  const s = await startTestServer(trackerFeedV1());
  t.after(async () => {
    await s.close();
    rmSync(s.dataDir, { recursive: true, force: true });
  });
  const inv = await readInventory(BOOKWORM_ROOT);
  const trixie = {
    ...inv,
    os: { id: 'debian', version_id: '13', codename: 'trixie', pretty_name: 'Debian GNU/Linux 13 (trixie)' },
  };
  // name, group, tags, inventory (null: enrolled, never reported)
  const fleet: [string, string, string[], typeof inv | null][] = [
    ['web-1', 'web', ['prod', 'canary'], inv],
    ['web-2', 'web', ['prod'], inv],
    ['web-3', 'web', ['prod'], trixie],
    ['db-1', 'db', ['prod', 'dc1'], inv],
    ['ci-1', 'ci', [], trixie],
    ['new-1', '', ['staging'], null],
  ];
  for (const [name, group, tags, report] of fleet) {
    const token = await enrollTestHost(s, name, group);
    if (report)
      assert.equal(
        (await api(s.url, '/api/v1/reports', { token, body: fullReportOf(report, name), gzip: true })).status,
        200,
      );
    const hosts = (await api(s.url, `/api/v1/hosts?search=${name}`, { token: s.adminToken })).body as HostsPage;
    const id = hosts.items.find((h) => h.hostname === name)!.id;
    // a duplicated tag still counts the host once
    if (tags.length)
      assert.equal(
        (
          await api(s.url, `/api/v1/hosts/${id}`, {
            method: 'PATCH',
            token: s.adminToken,
            body: { tags: [...tags, tags[0]] },
          })
        ).status,
        200,
      );
  }

  const r = await api(s.url, '/api/v1/hosts/facets', { token: s.adminToken });
  assert.equal(r.status, 200, r.text);
  const facets = r.body as HostFacets;
  assert.deepEqual(Object.keys(facets).sort(), ['groups', 'releases', 'tags']);

  const all = (await api(s.url, '/api/v1/hosts?per_page=500', { token: s.adminToken })).body as HostsPage;
  assert.equal(all.total, fleet.length);
  // Every value present in the fleet is listed, in order, and nothing else.
  assert.deepEqual(
    facets.groups.map((g) => g.name),
    [...new Set(all.items.map((h) => h.group))].sort(),
  );
  assert.deepEqual(
    facets.tags.map((g) => g.name),
    [...new Set(all.items.flatMap((h) => h.tags))].sort(),
  );
  const reported = all.items.filter((h) => h.distro !== null && h.release !== null);
  assert.deepEqual(
    facets.releases.map((x) => `${x.distro}/${x.release}`),
    [...new Set(reported.map((h) => `${h.distro}/${h.release}`))].sort(),
  );
  assert.equal(facets.releases.length, 2, 'bookworm and trixie');
  assert.equal(
    facets.groups.reduce((n, g) => n + g.hosts, 0),
    all.total,
  );
  assert.equal(
    facets.releases.reduce((n, x) => n + x.hosts, 0),
    reported.length,
  );
  assert.ok(reported.length < all.total, 'a host that never reported has no release');

  // Each count is what the hosts list says for that filter.
  const total = async (q: string) =>
    ((await api(s.url, `/api/v1/hosts?${q}`, { token: s.adminToken })).body as HostsPage).total;
  for (const g of facets.groups.filter((x) => x.name !== ''))
    assert.equal(g.hosts, await total(`group=${encodeURIComponent(g.name)}`), `group ${g.name}`);
  for (const tag of facets.tags)
    assert.equal(tag.hosts, await total(`tag=${encodeURIComponent(tag.name)}`), `tag ${tag.name}`);
  for (const x of facets.releases)
    assert.equal(x.hosts, await total(`distro=${x.distro}&release=${x.release}`), `release ${x.release}`);
  assert.equal(
    facets.tags.find((x) => x.name === 'prod')?.hosts,
    all.items.filter((h) => h.tags.includes('prod')).length,
  );
  assert.equal(facets.groups.find((x) => x.name === '')?.hosts, all.items.filter((h) => h.group === '').length);

  // Moving a host to another group moves its count.
  const db1 = all.items.find((h) => h.hostname === 'db-1')!;
  await api(s.url, `/api/v1/hosts/${db1.id}`, { method: 'PATCH', token: s.adminToken, body: { group: 'web' } });
  const after = (await api(s.url, '/api/v1/hosts/facets', { token: s.adminToken })).body as HostFacets;
  assert.equal(
    after.groups.find((g) => g.name === 'web')?.hosts,
    facets.groups.find((g) => g.name === 'web')!.hosts + 1,
  );
  assert.equal(
    after.groups.find((g) => g.name === 'db'),
    undefined,
    'a group without hosts is gone',
  );

  // People only, described in the OpenAPI document, and not taken for a host id.
  assert.equal((await api(s.url, '/api/v1/hosts/facets', {})).status, 401);
  const hostToken = await enrollTestHost(s, 'agent-1', 'web');
  assert.equal((await api(s.url, '/api/v1/hosts/facets', { token: hostToken })).status, 403);
  const docs = (await api(s.url, '/api/docs', {})).body as {
    paths: Record<string, { get?: { responses?: Record<string, unknown> } }>;
  };
  assert.ok(docs.paths['/api/v1/hosts/facets']?.get?.responses?.['200'], 'facets in the OpenAPI description');
  assert.equal((await api(s.url, `/api/v1/hosts/${db1.id}`, { token: s.adminToken })).status, 200);
});
