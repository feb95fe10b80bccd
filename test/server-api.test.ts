// The server's HTTP API over loopback: authentication and CSRF, enrolment, report validation
// and limits, the dashboard queries, exports, the vulnerability DB download, OpenAPI.
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { gzipSync } from 'node:zlib';
import { readInventory } from '../src/inventory/index.ts';
import { DAY_MS } from '../src/server/clock.ts';
import {
  api,
  ADMIN_PASSWORD,
  enrollTestHost,
  fullReportOf,
  startTestServer,
  type TestServer,
} from './support/server.ts';
import { BOOKWORM_ROOT, trackerFeedV1 } from './support/fixtures.ts';
import type { Inventory } from '../src/core/types.ts';

let s: TestServer;
let inv: Inventory;
let hostToken: string;

before(async () => {
  s = await startTestServer(trackerFeedV1(), { limits: { body: 1024 * 1024 } });
  inv = await readInventory(BOOKWORM_ROOT, { kernel: '6.1.0-40-amd64' });
  hostToken = await enrollTestHost(s, 'bookworm-1', 'web');
  const r = await api(s.url, '/api/v1/reports', {
    token: hostToken,
    body: fullReportOf(inv, 'bookworm-1'),
    gzip: true,
  });
  assert.equal(r.status, 200, r.text);
});
after(() => s.close());

test('requests without, or with wrong or revoked credentials get 401 and no detail', async () => {
  const none = await api(s.url, '/api/v1/hosts');
  assert.equal(none.status, 401);
  assert.deepEqual(none.body, { error: 'unauthorized', message: 'authentication required' });
  const wrong = await api(s.url, '/api/v1/hosts', { token: 'pla_not-a-real-token' });
  assert.deepEqual(wrong.body, none.body);
  const junk = await api(s.url, '/api/v1/reports', { token: 'plh_forged', body: fullReportOf(inv, 'x') });
  assert.deepEqual([junk.status, junk.body], [401, none.body]);
  // An agent's token does not open the admin API.
  const asHost = await api(s.url, '/api/v1/hosts', { token: hostToken });
  assert.equal(asHost.status, 403);
  // A revoked host credential looks exactly like a wrong one.
  const other = await enrollTestHost(s, 'to-revoke');
  const hosts = (await api(s.url, '/api/v1/hosts?search=to-revoke', { token: s.adminToken })).body as {
    items: { id: number }[];
  };
  const rv = await api(s.url, `/api/v1/hosts/${hosts.items[0].id}/revoke`, { token: s.adminToken, method: 'POST' });
  assert.deepEqual(rv.body, { revoked: 1 });
  const after = await api(s.url, '/api/v1/reports', { token: other, body: fullReportOf(inv, 'to-revoke') });
  assert.deepEqual([after.status, after.body], [401, none.body]);
});

test('admin login sets an HttpOnly session cookie; changes need the CSRF token', async () => {
  const bad = await api(s.url, '/api/v1/auth/login', { body: { username: 'admin', password: 'wrong password' } });
  assert.equal(bad.status, 401);
  const ok = await api(s.url, '/api/v1/auth/login', { body: { username: 'admin', password: ADMIN_PASSWORD } });
  assert.equal(ok.status, 200, ok.text);
  const cookie = ok.headers.getSetCookie().find((c) => c.startsWith('patchloop_session='))!;
  assert.match(cookie, /HttpOnly/i);
  assert.match(cookie, /SameSite=Strict/i);
  const session = cookie.split(';')[0];
  const csrf = (ok.body as { csrf_token: string }).csrf_token;
  const read = await api(s.url, '/api/v1/stats/overview', { headers: { cookie: session } });
  assert.equal(read.status, 200);
  const noCsrf = await api(s.url, '/api/v1/enrollment-tokens', { headers: { cookie: session }, body: { name: 'x' } });
  assert.equal(noCsrf.status, 403);
  const crossSite = await api(s.url, '/api/v1/enrollment-tokens', {
    headers: { cookie: session, 'x-csrf-token': csrf, origin: 'https://evil.example' },
    body: { name: 'x' },
  });
  assert.equal(crossSite.status, 403);
  const withCsrf = await api(s.url, '/api/v1/enrollment-tokens', {
    headers: { cookie: session, 'x-csrf-token': csrf },
    body: { name: 'x' },
  });
  assert.equal(withCsrf.status, 201, withCsrf.text);
  const out = await api(s.url, '/api/v1/auth/logout', {
    headers: { cookie: session, 'x-csrf-token': csrf },
    method: 'POST',
  });
  assert.equal(out.status, 204);
  assert.equal((await api(s.url, '/api/v1/stats/overview', { headers: { cookie: session } })).status, 401);
});

test('an enrolment token is one-time by default and expires', async () => {
  const t = (
    await api(s.url, '/api/v1/enrollment-tokens', { token: s.adminToken, body: { name: 'once', ttl_seconds: 3600 } })
  ).body as { token: string };
  assert.equal((await api(s.url, '/api/v1/enroll', { body: { token: t.token, hostname: 'a' } })).status, 201);
  const again = await api(s.url, '/api/v1/enroll', { body: { token: t.token, hostname: 'b' } });
  assert.equal(again.status, 401);
  const multi = (
    await api(s.url, '/api/v1/enrollment-tokens', {
      token: s.adminToken,
      body: { name: 'fleet', uses: null, ttl_seconds: 3600 },
    })
  ).body as { token: string };
  assert.equal((await api(s.url, '/api/v1/enroll', { body: { token: multi.token, hostname: 'c' } })).status, 201);
  s.clock.advance(3601 * 1000);
  assert.equal((await api(s.url, '/api/v1/enroll', { body: { token: multi.token, hostname: 'd' } })).status, 401);
  const list = (await api(s.url, '/api/v1/enrollment-tokens', { token: s.adminToken })).body as {
    name: string;
    used: number;
  }[];
  assert.equal(list.find((x) => x.name === 'fleet')?.used, 1);
  assert.ok(!JSON.stringify(list).includes(multi.token), 'tokens are never listed');
});

test('a malformed report is rejected whole with a message naming the problem, and nothing is written', async () => {
  const report = fullReportOf(inv, 'bookworm-1') as { packages: Record<string, unknown>[] };
  report.packages[5] = { ...report.packages[5], version: '' };
  const before = (await api(s.url, '/api/v1/hosts?search=bookworm-1', { token: s.adminToken })).body as {
    items: { last_seen: string }[];
  };
  const r = await api(s.url, '/api/v1/reports', { token: hostToken, body: report });
  assert.equal(r.status, 400);
  const body = r.body as { error: string; message: string; details: { path: string }[] };
  assert.equal(body.error, 'invalid_report');
  assert.match(body.message, /nothing was stored/);
  assert.equal(body.details[0].path, 'packages.5.version');
  const notJson = await api(s.url, '/api/v1/reports', {
    token: hostToken,
    raw: '{"schema": ',
    headers: { 'content-type': 'application/json' },
  });
  assert.equal(notJson.status, 400);
  const badGzip = await api(s.url, '/api/v1/reports', {
    token: hostToken,
    raw: 'not gzip',
    headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' },
  });
  assert.equal(badGzip.status, 400);
  const brotli = await api(s.url, '/api/v1/reports', {
    token: hostToken,
    raw: '{}',
    headers: { 'content-type': 'application/json', 'content-encoding': 'br' },
  });
  assert.equal(brotli.status, 415);
  const afterList = (await api(s.url, '/api/v1/hosts?search=bookworm-1', { token: s.adminToken })).body as {
    items: { last_seen: string }[];
  };
  assert.equal(afterList.items[0].last_seen, before.items[0].last_seen);
});

test('oversized bodies get 413, also when a small gzip body inflates beyond the limit', async () => {
  const big = 'x'.repeat(2 * 1024 * 1024);
  const raw = await api(s.url, '/api/v1/reports', {
    token: hostToken,
    raw: JSON.stringify({ pad: big }),
    headers: { 'content-type': 'application/json' },
  });
  assert.equal(raw.status, 413);
  const bomb = gzipSync(JSON.stringify({ pad: big }));
  assert.ok(bomb.length < 64 * 1024);
  const zipped = await api(s.url, '/api/v1/reports', {
    token: hostToken,
    raw: bomb,
    headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' },
  });
  assert.equal(zipped.status, 413);
  assert.equal((zipped.body as { error: string }).error, 'payload_too_large');
});

test('the dashboard queries answer from the stored report', async () => {
  const hosts = (await api(s.url, '/api/v1/hosts?sort=open&group=web', { token: s.adminToken })).body as {
    total: number;
    items: { id: number; hostname: string; open: { total: number; high: number }; fixable: { total: number } }[];
  };
  assert.equal(hosts.total, 1);
  const h = hosts.items[0];
  // Counted per vulnerability and source package: openssl's three binaries (CVE-2099-1001),
  // zlib's two (CVE-2099-1002) and curl's four (CVE-2099-1005) are three exposures.
  assert.deepEqual([h.hostname, h.open.total, h.open.high, h.fixable.total], ['bookworm-1', 3, 1, 1]);

  const detail = (await api(s.url, `/api/v1/hosts/${h.id}`, { token: s.adminToken })).body as {
    release: string;
    support: { state: string };
    recent_scans: unknown[];
  };
  assert.equal(detail.release, 'bookworm');
  assert.equal(detail.recent_scans.length, 1);
  // The per-binary view: each installed package with its own open findings.
  const pkgs = (await api(s.url, `/api/v1/hosts/${h.id}/packages?search=openssl`, { token: s.adminToken })).body as {
    total: number;
    items: { name: string; open_findings: number }[];
  };
  const expected = inv.packages
    .filter((p) => p.name.includes('openssl') || p.source.includes('openssl'))
    .map((p) => p.name)
    .sort();
  assert.ok(expected.includes('libssl3'));
  assert.deepEqual(
    pkgs.items.map((p) => p.name),
    expected,
  );
  assert.deepEqual(
    pkgs.items.filter((p) => p.open_findings > 0).map((p) => [p.name, p.open_findings]),
    [
      ['libssl-dev', 1],
      ['libssl3', 1],
      ['openssl', 1],
    ],
  );

  const high = (await api(s.url, '/api/v1/findings?severity=high&fixable=true', { token: s.adminToken })).body as {
    total: number;
    items: {
      vulnerability: string;
      package: { name: string; source: string };
      packages: { name: string }[];
      fixed_version: string;
      state: string;
    }[];
  };
  // One exposure: the openssl source, its three binaries listed, the first by name its lead.
  assert.equal(high.total, 1);
  assert.deepEqual(
    high.items.map((f) => [
      f.vulnerability,
      f.package.source,
      f.package.name,
      f.packages.map((p) => p.name),
      f.fixed_version,
      f.state,
    ]),
    [['CVE-2099-1001', 'openssl', 'libssl-dev', ['libssl-dev', 'libssl3', 'openssl'], '3.0.19-1~deb12u3', 'open']],
  );
  // A package filter takes a binary name or a source name.
  for (const name of ['libssl3', 'openssl']) {
    assert.equal(
      ((await api(s.url, `/api/v1/findings?package=${name}`, { token: s.adminToken })).body as { total: number }).total,
      1,
      name,
    );
  }

  const byVuln = (await api(s.url, '/api/v1/findings?vulnerability=cve-2099-1002', { token: s.adminToken })).body as {
    total: number;
  };
  assert.equal(byVuln.total, 1);
  const vulns = (await api(s.url, '/api/v1/vulnerabilities?sort=severity', { token: s.adminToken })).body as {
    items: { id: string; severity: string; open_hosts: number; open_findings: number; fixed_versions: string[] }[];
  };
  assert.deepEqual(vulns.items[0], {
    id: 'CVE-2099-1001',
    aliases: [],
    severity: 'high',
    open_hosts: 1,
    open_findings: 1,
    fixable_findings: 1,
    excepted_findings: 0,
    fixed_versions: ['3.0.19-1~deb12u3'],
    // No KEV, EPSS or CVSS in this DB: the priority from the rating and the fix alone.
    kev: null,
    epss: null,
    cvss: [],
    cvss_score: null,
    priority: { level: 'P2', reason: 'high, fix available' },
    priority_findings: { P1: 0, P2: 1, P3: 0, P4: 0 },
    title: 'patchloop server test entry',
  });
  const search = (await api(s.url, '/api/v1/vulnerabilities?search=2099-1005', { token: s.adminToken })).body as {
    items: { id: string }[];
  };
  assert.deepEqual(
    search.items.map((v) => v.id),
    ['CVE-2099-1005'],
  );
  const one = await api(s.url, '/api/v1/vulnerabilities/CVE-2099-1001', { token: s.adminToken });
  assert.equal((one.body as { description: string }).description, 'patchloop server test entry');
  assert.equal((await api(s.url, '/api/v1/vulnerabilities/CVE-1999-0000', { token: s.adminToken })).status, 404);

  const overview = (await api(s.url, '/api/v1/stats/overview', { token: s.adminToken })).body as {
    open: { total: number };
    fixable: { high: number };
    hosts: { total: number; never_reported: number };
    releases: { release: string; hosts: number }[];
  };
  assert.equal(overview.open.total, 3);
  assert.equal(overview.fixable.high, 1);
  assert.deepEqual(
    overview.releases.map((r) => [r.release, r.hosts]),
    [['bookworm', 1]],
  );
  const trends = (await api(s.url, '/api/v1/stats/trends?days=7', { token: s.adminToken })).body as {
    days: { open: { total: number }; new: { total: number } }[];
  };
  assert.equal(trends.days.length, 7);
  assert.equal(trends.days.at(-1)!.open.total, 3);

  type Events = { items: { id: string; vulnerability: string }[]; next_after: string };
  const events = (await api(s.url, '/api/v1/events?type=detected', { token: s.adminToken })).body as Events;
  assert.equal(events.items.length, 3, 'one per exposure');
  const tail = (await api(s.url, `/api/v1/events?after=${events.next_after}&type=detected`, { token: s.adminToken }))
    .body as Events;
  assert.equal(tail.items.length, 0);
  // Paging through the feed gives every event once.
  const first = (await api(s.url, '/api/v1/events?type=detected&limit=2', { token: s.adminToken })).body as Events;
  const rest = (await api(s.url, `/api/v1/events?type=detected&after=${first.next_after}`, { token: s.adminToken }))
    .body as Events;
  assert.deepEqual(
    [...first.items, ...rest.items].map((e) => e.id),
    events.items.map((e) => e.id),
  );
});

test('findings export as CSV and NDJSON with the same filters: a row per binary package, its aliases and its exposure', async () => {
  const csv = await api(s.url, '/api/v1/findings/export?format=csv&severity=high', { token: s.adminToken });
  assert.equal(csv.status, 200);
  assert.match(csv.headers.get('content-type')!, /text\/csv/);
  const lines = csv.text.trim().split('\r\n');
  assert.equal(lines.length, 4);
  assert.match(
    lines[0],
    /^host_id,hostname,group,vulnerability,aliases,severity,status,.*,advisory_ids,.*exposure,exception_id$/,
  );
  assert.ok(lines.slice(1).every((l) => l.includes(',CVE-2099-1001,,high,fixed,')));
  const nd = await api(s.url, '/api/v1/findings/export?format=ndjson', { token: s.adminToken });
  const rows = nd.text
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { package: { name: string }; exposure: string; aliases: string[] });
  assert.equal(rows.length, 9);
  // Three binaries of openssl, two of zlib, four of curl: three exposures, as the API lists them.
  assert.deepEqual([...new Set(rows.map((r) => r.exposure))].length, 3);
  const listed = (await api(s.url, '/api/v1/findings?per_page=10', { token: s.adminToken })).body as {
    items: { id: string }[];
  };
  assert.deepEqual(new Set(listed.items.map((f) => f.id)), new Set(rows.map((r) => r.exposure)));
});

test('the vulnerability DB is downloadable by agents with an ETag', async () => {
  const m = (await api(s.url, '/api/v1/vulndb?distro=debian', { token: hostToken })).body as {
    feeds: { feed: string; sha256: string; size: number; url: string }[];
  };
  assert.deepEqual(
    m.feeds.map((f) => f.feed),
    ['debian'],
  );
  const res = await fetch(`${s.url}${m.feeds[0].url}`, { headers: { authorization: `Bearer ${hostToken}` } });
  const bytes = Buffer.from(await res.arrayBuffer());
  assert.equal(res.headers.get('etag'), `"${m.feeds[0].sha256}"`);
  assert.equal(bytes.length, m.feeds[0].size);
  assert.equal(bytes.subarray(0, 15).toString(), 'SQLite format 3');
  const again = await fetch(`${s.url}${m.feeds[0].url}`, {
    headers: { authorization: `Bearer ${hostToken}`, 'if-none-match': res.headers.get('etag')! },
  });
  assert.equal(again.status, 304);
  assert.equal((await api(s.url, '/api/v1/vulndb/debian')).status, 401);
});

test('the OpenAPI description lists the API', async () => {
  const doc = (await api(s.url, '/api/docs')).body as { openapi: string; paths: Record<string, unknown> };
  assert.equal(doc.openapi, '3.1.0');
  for (const p of [
    '/api/v1/reports',
    '/api/v1/hosts',
    '/api/v1/findings',
    '/api/v1/stats/overview',
    '/api/v1/vulndb/{feed}',
  ])
    assert.ok(p in doc.paths, p);
});

test('hosts not heard from within stale_after are stale', async () => {
  s.clock.advance(3 * DAY_MS);
  const o = (await api(s.url, '/api/v1/stats/overview', { token: s.adminToken })).body as {
    hosts: { stale: number; reporting: number };
  };
  assert.equal(o.hosts.reporting, 0);
  assert.ok(o.hosts.stale >= 1);
  const stale = (await api(s.url, '/api/v1/hosts?state=stale', { token: s.adminToken })).body as {
    items: { stale: boolean }[];
  };
  assert.ok(stale.items.length >= 1 && stale.items.every((h) => h.stale));
});

test('findings pages, merged from index ranges, agree with a sort of the whole export', async () => {
  // A second host, reporting a day later, so ages and hosts differ.
  const other = await enrollTestHost(s, 'bookworm-2', 'db');
  s.clock.advance(86_400_000);
  const r = await api(s.url, '/api/v1/reports', {
    token: other,
    body: fullReportOf({ ...inv, packages: inv.packages.slice(3) }, 'bookworm-2'),
  });
  assert.equal(r.status, 200, r.text);
  type F = {
    id: string;
    severity: string;
    opened_at: string;
    fixable: boolean;
    host: { id: number; group: string };
    vulnerability: string;
  };
  // The export lists binary findings; the pages list their exposures (one per source package:
  // here the binaries of one exposure share severity, fixability and opening time).
  const rows = (await api(s.url, '/api/v1/findings/export?format=ndjson', { token: s.adminToken })).text
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as F & { exposure: string });
  const all = [...new Map(rows.map((r) => [r.exposure, { ...r, id: r.exposure }])).values()];
  const sevIndex = (x: F) => ['critical', 'high', 'medium', 'low', 'negligible', 'unknown'].indexOf(x.severity);
  const cases: { query: string; keep: (x: F) => boolean; cmp: (a: F, b: F) => number }[] = [
    { query: '', keep: () => true, cmp: (a, b) => sevIndex(a) - sevIndex(b) || a.opened_at.localeCompare(b.opened_at) },
    {
      query: 'fixable=false',
      keep: (x) => !x.fixable,
      cmp: (a, b) => sevIndex(a) - sevIndex(b) || a.opened_at.localeCompare(b.opened_at),
    },
    {
      query: 'severity=medium,low&sort=age',
      keep: (x) => ['medium', 'low'].includes(x.severity),
      cmp: (a, b) => a.opened_at.localeCompare(b.opened_at),
    },
    { query: 'sort=age&order=desc', keep: () => true, cmp: (a, b) => b.opened_at.localeCompare(a.opened_at) },
    {
      query: 'group=db&fixable=true',
      keep: (x) => x.host.group === 'db' && x.fixable,
      cmp: (a, b) => sevIndex(a) - sevIndex(b) || a.opened_at.localeCompare(b.opened_at),
    },
  ];
  for (const c of cases) {
    const pages: F[] = [];
    let total: number | undefined;
    for (let page = 1; ; page++) {
      const p = (await api(s.url, `/api/v1/findings?${c.query}&per_page=4&page=${page}`, { token: s.adminToken }))
        .body as { total: number; items: F[] };
      total = p.total;
      pages.push(...p.items);
      if (p.items.length < 4) break;
    }
    const expected = all.filter(c.keep);
    assert.ok(expected.length > 0, c.query);
    assert.equal(total, expected.length, c.query);
    assert.equal(pages.length, expected.length, c.query);
    // The order the page walk gives respects the sort key (ties may be in any order).
    for (let i = 1; i < pages.length; i++)
      assert.ok(c.cmp(pages[i - 1], pages[i]) <= 0, `${c.query}: ${pages[i - 1].id} before ${pages[i].id}`);
    assert.deepEqual(new Set(pages.map((x) => x.id)), new Set(expected.map((x) => x.id)), c.query);
  }
});

test('a host enrolling again with the same machine id keeps its record; its old credential stops working', async () => {
  const machine_id = 'a'.repeat(32);
  const enrol = async () => {
    const t = (await api(s.url, '/api/v1/enrollment-tokens', { token: s.adminToken, body: { name: 're' } })).body as {
      token: string;
    };
    return (await api(s.url, '/api/v1/enroll', { body: { token: t.token, hostname: 'rebuilt', machine_id } })).body as {
      host_id: number;
      host_token: string;
    };
  };
  const first = await enrol();
  const second = await enrol();
  assert.equal(second.host_id, first.host_id);
  const report = (token: string) => api(s.url, '/api/v1/reports', { token, body: fullReportOf(inv, 'rebuilt') });
  assert.equal((await report(first.host_token)).status, 401);
  assert.equal((await report(second.host_token)).status, 200);
  const history = (await api(s.url, `/api/v1/hosts/${first.host_id}/history`, { token: s.adminToken })).body as {
    events: { type: string }[];
  };
  assert.deepEqual(
    history.events.filter((e) => e.type.endsWith('enrolled')).map((e) => e.type),
    ['reenrolled', 'enrolled'],
  );
  await api(s.url, `/api/v1/hosts/${first.host_id}`, { token: s.adminToken, method: 'DELETE' });
});
