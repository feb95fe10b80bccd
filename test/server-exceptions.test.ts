// Exception rules through the real server on loopback, with the real bookworm host's packages
// and a Debian tracker feed: rules take findings out of the open and SLA counts (overview, host
// counters) and count them as excepted; expiry on the server's clock, revocation and a severity
// that rose reopen them with a `reopened` event naming why; rules are versioned, audited, and
// checked (expiry required and bounded, no wildcards); OpenVEX in and out.
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OpenVexSchema } from '../src/core/exceptions-openvex.ts';
import { readInventory } from '../src/inventory/index.ts';
import { DAY_MS } from '../src/server/clock.ts';
import { SEVERITIES, type Inventory } from '../src/core/types.ts';
import { BOOKWORM_ROOT, trackerFeedV1, writeFeedFile } from './support/fixtures.ts';
import { api, enrollTestHost, fullReportOf, startTestServer, type TestServer } from './support/server.ts';
import { until } from './support/until.ts';

let s: TestServer;
let inv: Inventory;
let feedDir: string;
const hostTokens: Record<string, string> = {};

interface Overview {
  open: Record<string, number>;
  sla: { by_severity: Record<string, { open: number; overdue: number }> };
}
interface Rule {
  id: number;
  state: string;
  held: number;
  version: number;
}
interface Summary {
  excepted: number;
  expiring: number;
  active_rules: number;
  rules_expiring: number;
}

const get = async <T>(path: string): Promise<T> => {
  const r = await api(s.url, path, { token: s.adminToken });
  assert.equal(r.status, 200, `${path}: ${r.text}`);
  return r.body as T;
};
const overview = () => get<Overview>('/api/v1/stats/overview');
const summary = () => get<Summary>('/api/v1/exceptions/summary');
const hostOpen = async (name: string): Promise<number> => {
  const hosts = await get<{ items: { hostname: string; open: Record<string, number> }[] }>(
    `/api/v1/hosts?search=${name}`,
  );
  return hosts.items.find((h) => h.hostname === name)!.open.total;
};
const create = (body: unknown) => api(s.url, '/api/v1/exceptions', { token: s.adminToken, body });
const report = async (host: string) => {
  const r = await api(s.url, '/api/v1/reports', { token: hostTokens[host], body: fullReportOf(inv, host) });
  assert.equal(r.status, 200, r.text);
};
const reopenedEvents = async (cause: string) =>
  (await get<{ items: { cause: string | null }[] }>('/api/v1/events?type=reopened&limit=5000')).items.filter(
    (e) => e.cause === cause,
  ).length;

/** A CISA KEV catalogue (its real format) of these CVEs and the days they were added. */
function kevCatalogue(entries: [string, string][]): unknown {
  return {
    title: 'CISA Catalog of Known Exploited Vulnerabilities',
    catalogVersion: '2026.11.01',
    dateReleased: '2026-11-01T00:00:00.000Z',
    count: entries.length,
    vulnerabilities: entries.map(([cveID, dateAdded]) => ({
      cveID,
      vendorProject: 'Example',
      product: 'example',
      vulnerabilityName: 'Example vulnerability',
      dateAdded,
      shortDescription: 'An example.',
      requiredAction: 'Apply updates.',
      dueDate: '2026-12-01',
      knownRansomwareCampaignUse: 'Unknown',
    })),
  };
}

before(async () => {
  feedDir = mkdtempSync(join(tmpdir(), 'patchloop-exc-feed-'));
  const feed = writeFeedFile(feedDir, 'debian.json', trackerFeedV1());
  const kev = writeFeedFile(feedDir, 'kev.json', kevCatalogue([['CVE-2099-9999', '2026-10-01']]));
  s = await startTestServer(trackerFeedV1(), {
    feeds: {
      refresh_interval: 0,
      sources: [
        { name: 'debian', from: [feed] },
        { name: 'kev', from: [kev] },
      ],
    },
    exceptions: { max_days: 90, check_interval: '100ms' },
  });
  inv = await readInventory(BOOKWORM_ROOT, { kernel: '6.1.0-40-amd64' });
  for (const [host, group] of [
    ['web-1', 'web'],
    ['web-2', 'web'],
    ['db-1', 'db'],
  ]) {
    hostTokens[host] = await enrollTestHost(s, host, group);
    await report(host);
  }
});
after(() => s.close());

test('a rule is refused without a justification, with a wildcard, or without a bounded expiry for an accepted risk', async () => {
  const inAWeek = new Date(s.clock.now() + 7 * DAY_MS).toISOString();
  const cases: [unknown, RegExp][] = [
    [{ scope: { vulnerability: 'CVE-2099-1002' }, kind: 'accepted_risk', justification: 'x' }, /needs an expiry/],
    [
      {
        scope: { vulnerability: 'CVE-2099-1002' },
        kind: 'accepted_risk',
        justification: 'x',
        expires_at: new Date(s.clock.now() + 91 * DAY_MS).toISOString(),
      },
      /more than 90 days/,
    ],
    [
      { scope: { vulnerability: 'CVE-2099-1002' }, kind: 'mitigated', justification: 'x', expires_at: '2020-01-01' },
      /in the past/,
    ],
    [{ scope: { vulnerability: 'CVE-2099-*' }, kind: 'false_positive', justification: 'x' }, /wildcards/],
    [{ scope: { vulnerability: 'CVE-2099-1002' }, kind: 'false_positive', justification: '  ' }, /justification/],
    [{ scope: {}, kind: 'false_positive', justification: 'x' }, /at least one/],
    [{ scope: { package: 'zlib' }, kind: 'ignored', justification: 'x', expires_at: inAWeek }, /kind/],
  ];
  for (const [body, message] of cases) {
    const r = await create(body);
    assert.equal(r.status, 400, JSON.stringify(body));
    assert.match(r.text, message);
  }
  assert.deepEqual((await get<{ items: unknown[] }>('/api/v1/exceptions')).items, []);
});

test('an accepted risk takes its findings out of the open and SLA counts until it expires, then they reopen', async () => {
  const before = await overview();
  const web1 = await hostOpen('web-1');
  // CVE-2099-1002 (medium, zlib1g and zlib1g-dev: one exposure per host) on the web group only.
  const expires = new Date(s.clock.now() + 10 * DAY_MS).toISOString();
  const r = await create({
    scope: { vulnerability: 'cve-2099-1002', group: 'web' },
    kind: 'accepted_risk',
    justification: 'zlib is only used for static assets here',
    owner: 'web-team',
    expires_at: expires,
  });
  assert.equal(r.status, 201, r.text);
  const rule = r.body as Rule;
  assert.deepEqual([rule.state, rule.held, rule.version], ['active', 2, 1]);

  const during = await overview();
  assert.equal(during.open.medium, before.open.medium - 2);
  assert.equal(during.open.total, before.open.total - 2);
  assert.equal(during.sla.by_severity.medium.open, before.sla.by_severity.medium.open - 2);
  assert.equal(await hostOpen('web-1'), web1 - 1);
  assert.equal(await hostOpen('db-1'), web1, 'db-1 is outside the rule');
  assert.deepEqual(await summary(), { excepted: 2, expiring: 0, active_rules: 1, rules_expiring: 0 });

  // The findings list shows the state and the rule.
  const held = await get<{ items: { state: string; exception_id: number | null; host: { hostname: string } }[] }>(
    '/api/v1/findings?state=excepted&vulnerability=CVE-2099-1002',
  );
  assert.deepEqual(held.items.map((f) => [f.host.hostname, f.state, f.exception_id]).sort(), [
    ['web-1', 'excepted', rule.id],
    ['web-2', 'excepted', rule.id],
  ]);
  const open = await get<{ items: { host: { hostname: string } }[] }>(
    '/api/v1/findings?state=open&vulnerability=CVE-2099-1002',
  );
  assert.deepEqual(
    open.items.map((f) => f.host.hostname),
    ['db-1'],
  );

  // A new report of the same packages keeps them excepted, counted once.
  await report('web-1');
  assert.equal((await overview()).open.total, during.open.total);
  assert.equal(await hostOpen('web-1'), web1 - 1);
  assertCountsAgree();

  // Overdue: 91 days on, mediums are past their 90-day SLA; the excepted ones are not counted.
  s.clock.advance(4 * DAY_MS);
  assert.deepEqual(await summary(), { excepted: 2, expiring: 2, active_rules: 1, rules_expiring: 1 });

  // The clock passes the expiry: the findings come back, with a reopened event naming why.
  s.clock.advance(7 * DAY_MS);
  await until(async () => (await summary()).excepted === 0, 'the expired rule to give its findings back');
  const after = await overview();
  assert.equal(after.open.total, before.open.total);
  assert.equal(await hostOpen('web-1'), web1);
  assert.equal(await reopenedEvents('exception expired'), 2);
  assertCountsAgree();
  const expired = await get<{ state: string; versions: unknown[] }>(`/api/v1/exceptions/${rule.id}`);
  assert.equal(expired.state, 'expired');
});

test('revoking a rule reopens its findings; versions and the audit log keep what happened', async () => {
  const before = await overview();
  const r = await create({
    scope: { package: 'curl' },
    kind: 'will_fix_later',
    justification: 'curl is replaced in the next release',
  });
  assert.equal(r.status, 201, r.text);
  const rule = r.body as Rule;
  // CVE-2099-1005 (low) on curl's binaries, one exposure on each of the three hosts.
  assert.equal(rule.held, 3);
  assert.equal((await overview()).open.low, before.open.low - 3);

  const viewer = await api(s.url, `/api/v1/exceptions/${rule.id}/revoke`, { token: 'pla_nope', body: {} });
  assert.equal(viewer.status, 401);
  const rv = await api(s.url, `/api/v1/exceptions/${rule.id}/revoke`, {
    token: s.adminToken,
    body: { reason: 'the replacement slipped' },
  });
  assert.equal(rv.status, 200, rv.text);
  assert.deepEqual([(rv.body as Rule).state, (rv.body as Rule).held, (rv.body as Rule).version], ['revoked', 0, 2]);
  assert.equal((await overview()).open.low, before.open.low);
  assert.equal(await reopenedEvents('exception revoked'), 3);
  const again = await api(s.url, `/api/v1/exceptions/${rule.id}/revoke`, { token: s.adminToken, body: {} });
  assert.equal(again.status, 409);

  const detail = await get<{ versions: { version: number; change: string; rule: { revoke_reason: string | null } }[] }>(
    `/api/v1/exceptions/${rule.id}`,
  );
  assert.deepEqual(
    detail.versions.map((v) => [v.version, v.change, v.rule.revoke_reason]),
    [
      [1, 'created', null],
      [2, 'revoked', 'the replacement slipped'],
    ],
  );
  const audit = await get<{ items: { action: string; target: { id: string } | null; outcome: string }[] }>(
    '/api/v1/audit?action=exception.*',
  );
  const mine = audit.items.filter((a) => a.target?.id === String(rule.id)).map((a) => [a.action, a.outcome]);
  assert.deepEqual(mine.sort(), [
    ['exception.create', 'success'],
    ['exception.revoke', 'failure'],
    ['exception.revoke', 'success'],
  ]);
  // Nothing is deleted: revoked and expired rules are listed with their state.
  const revoked = await get<{ items: Rule[] }>('/api/v1/exceptions?state=revoked');
  assert.deepEqual(
    revoked.items.map((x) => x.id),
    [rule.id],
  );
});

test("a rule's justification, owner, expiry and escalation cover change in new versions; its scope and kind do not", async () => {
  const iso = (days: number) => new Date(s.clock.now() + days * DAY_MS).toISOString();
  const made = await create({
    scope: { vulnerability: 'CVE-2099-1001', host: 'db-1' },
    kind: 'accepted_risk',
    justification: 'openssl upgrade waits for the vendor',
    expires_at: iso(10),
  });
  const rule = made.body as Rule;
  assert.equal(rule.held, 1);
  const patch = (body: unknown) =>
    api(s.url, `/api/v1/exceptions/${rule.id}`, { method: 'PATCH', token: s.adminToken, body });
  assert.match((await patch({ expires_at: iso(91) })).text, /more than 90 days/);
  assert.match((await patch({ expires_at: null })).text, /needs an expiry/);
  assert.equal((await patch({ scope: { host: 'web-1' } })).status, 400);
  assert.equal((await patch({})).status, 400);
  const changed = await patch({
    justification: 'the vendor ships in three weeks',
    owner: 'db-team',
    expires_at: iso(21),
  });
  assert.equal(changed.status, 200, changed.text);
  const after = changed.body as Rule & { justification: string; owner: string; expires_at: string };
  assert.deepEqual(
    [after.version, after.held, after.justification, after.owner, after.expires_at],
    [2, 1, 'the vendor ships in three weeks', 'db-team', iso(21)],
  );
  const detail = await get<{ versions: { change: string; rule: { justification: string } }[] }>(
    `/api/v1/exceptions/${rule.id}`,
  );
  assert.deepEqual(
    detail.versions.map((v) => [v.change, v.rule.justification]),
    [
      ['created', 'openssl upgrade waits for the vendor'],
      ['updated', 'the vendor ships in three weeks'],
    ],
  );
  assert.equal(
    (await api(s.url, `/api/v1/exceptions/${rule.id}/revoke`, { token: s.adminToken, body: {} })).status,
    200,
  );
  assert.equal((await patch({ owner: 'nobody' })).status, 409);
  const audit = await get<{ items: { action: string; target: { id: string } | null; outcome: string }[] }>(
    '/api/v1/audit?action=exception.update',
  );
  assert.deepEqual(
    audit.items
      .filter((a) => a.target?.id === String(rule.id))
      .map((a) => a.outcome)
      .sort(),
    // Bodies the schema refuses are audited before any rule is read (without a target).
    ['failure', 'failure', 'failure', 'success'],
  );
});

test('a rule never hides a finding whose severity rose after it took it, unless it covers escalations', async () => {
  const plain = (
    await create({ scope: { vulnerability: 'CVE-2099-1002', host: 'db-1' }, kind: 'mitigated', justification: 'WAF' })
  ).body as Rule;
  const covering = (
    await create({
      scope: { vulnerability: 'CVE-2099-1002', host: 'web-1' },
      kind: 'false_positive',
      justification: 'vulnerable_code_not_present: static build',
      cover_escalation: true,
    })
  ).body as Rule;
  assert.deepEqual([plain.held, covering.held], [1, 1]);
  // The publisher raises CVE-2099-1002 from medium to high; a refresh re-matches the fleet.
  const feed = trackerFeedV1() as Record<string, Record<string, { releases: { bookworm: { urgency: string } } }>>;
  feed.zlib['CVE-2099-1002'].releases.bookworm.urgency = 'high';
  writeFeedFile(feedDir, 'debian.json', feed);
  const refreshed = await s.running.refreshNow();
  assert.equal(refreshed?.outcome, 'updated', JSON.stringify(refreshed));
  const rules = await get<{ items: Rule[] }>('/api/v1/exceptions?state=active');
  const held = new Map(rules.items.map((r) => [r.id, r.held]));
  assert.equal(held.get(plain.id), 0, 'the escalated finding is back in the counts');
  assert.equal(held.get(covering.id), 1);
  assert.equal(await reopenedEvents('severity rose'), 1);
  assertCountsAgree();
});

/** The open ages (SLA overdue) and the host counters count the same exposures, per severity. */
function assertCountsAgree(): void {
  const store = s.running.ctx.store;
  const ages = store.all<{ severity: number; n: number }>(
    'SELECT severity, sum(n) AS n FROM open_age GROUP BY severity HAVING sum(n) != 0 ORDER BY severity',
  );
  const hosts = store.get<Record<string, number>>(
    `SELECT ${SEVERITIES.map((sev) => `coalesce(sum(open_${sev}), 0) AS ${sev}`).join(', ')} FROM hosts`,
  )!;
  assert.deepEqual(
    ages.map((a) => [SEVERITIES[a.severity], a.n]),
    SEVERITIES.filter((sev) => hosts[sev] !== 0).map((sev) => [sev, hosts[sev]]),
  );
}

test('a vulnerability known exploited since a rule was made comes back, unless the rule covers escalations', async () => {
  const day = (ms: number) => new Date(ms).toISOString().slice(0, 10);
  const make = async (host: string, cover: boolean) =>
    (
      await create({
        scope: { vulnerability: 'CVE-2099-1005', host },
        kind: 'will_fix_later',
        justification: 'curl goes in the next image',
        cover_escalation: cover,
      })
    ).body as Rule;
  const plain = await make('web-2', false);
  const covering = await make('db-1', true);
  assert.deepEqual([plain.held, covering.held], [1, 1]);
  // CISA adds CVE-2099-1005 the next day; the feeds are refreshed (no finding changes).
  s.clock.advance(DAY_MS);
  writeFeedFile(
    feedDir,
    'kev.json',
    kevCatalogue([
      ['CVE-2099-9999', '2026-10-01'],
      ['CVE-2099-1005', day(s.clock.now())],
    ]),
  );
  assert.equal((await s.running.refreshNow())?.outcome, 'updated');
  const held = async (id: number) => (await get<Rule>(`/api/v1/exceptions/${id}`)).held;
  await until(async () => (await held(plain.id)) === 0, 'the finding known exploited since its rule to come back');
  assert.equal(await held(covering.id), 1);
  assert.equal(await reopenedEvents('known exploited'), 1);
  // A rule made knowing it (the day it was added) holds it.
  const knowing = await make('web-2', false);
  assert.equal(knowing.held, 1);
  assertCountsAgree();
  for (const r of [plain, covering, knowing])
    await api(s.url, `/api/v1/exceptions/${r.id}/revoke`, { token: s.adminToken, body: {} });
});

test("a host's tags and group decide which rules hold its findings; removing it keeps the counts consistent", async () => {
  hostTokens['web-3'] = await enrollTestHost(s, 'web-3', 'web');
  await report('web-3');
  const id = (await get<{ items: { id: number; hostname: string }[] }>('/api/v1/hosts?search=web-3')).items.find(
    (h) => h.hostname === 'web-3',
  )!.id;
  const patch = async (body: unknown) =>
    assert.equal((await api(s.url, `/api/v1/hosts/${id}`, { method: 'PATCH', token: s.adminToken, body })).status, 200);
  const held = async (ruleId: number) => (await get<Rule>(`/api/v1/exceptions/${ruleId}`)).held;

  await patch({ tags: ['dmz'] });
  const r = await create({
    scope: { vulnerability: 'CVE-2099-1005', tag: 'dmz' },
    kind: 'mitigated',
    justification: 'proxy',
  });
  const rule = r.body as Rule;
  assert.equal(rule.held, 1);
  assertCountsAgree();
  const before = await reopenedEvents('exception no longer applies');
  await patch({ tags: [] });
  assert.equal(await held(rule.id), 0);
  assert.equal(await reopenedEvents('exception no longer applies'), before + 1);
  assertCountsAgree();
  await patch({ tags: ['dmz'] });
  assert.equal(await held(rule.id), 1);
  // A group change moves the open ages of the host's open findings, not of those a rule holds.
  await patch({ group: 'db' });
  assert.equal(await held(rule.id), 1);
  assertCountsAgree();
  const excepted = (await summary()).excepted;
  assert.equal((await api(s.url, `/api/v1/hosts/${id}`, { method: 'DELETE', token: s.adminToken })).status, 204);
  assert.equal((await summary()).excepted, excepted - 1);
  assertCountsAgree();
  assert.equal(
    (await api(s.url, `/api/v1/exceptions/${rule.id}/revoke`, { token: s.adminToken, body: {} })).status,
    200,
  );
  assertCountsAgree();
});

test('OpenVEX: not_affected statements become false-positive rules; the fleet exports as a valid document', async () => {
  const doc = {
    '@context': 'https://openvex.dev/ns/v0.2.0',
    '@id': 'https://example.org/vex/2026-001',
    author: 'Security team',
    timestamp: '2026-11-01T00:00:00Z',
    version: 1,
    statements: [
      {
        vulnerability: { name: 'CVE-2099-1001' },
        products: [{ '@id': 'pkg:deb/debian/openssl@3.0.19-1~deb12u2?arch=amd64' }],
        status: 'not_affected',
        justification: 'vulnerable_code_not_in_execute_path',
        impact_statement: 'the affected cipher is disabled',
      },
      { vulnerability: { name: 'CVE-2099-1005' }, status: 'under_investigation' },
    ],
  };
  const bad = await api(s.url, '/api/v1/exceptions/openvex', {
    token: s.adminToken,
    body: { ...doc, statements: [{ vulnerability: { name: 'CVE-1' }, status: 'not_affected' }] },
  });
  assert.equal(bad.status, 400);
  const r = await api(s.url, '/api/v1/exceptions/openvex', { token: s.adminToken, body: doc });
  assert.equal(r.status, 201, r.text);
  const out = r.body as { created: (Rule & { scope: unknown; kind: string })[]; skipped: { status: string }[] };
  assert.deepEqual(
    out.created.map((c) => [c.scope, c.kind, c.held]),
    [[{ vulnerability: 'CVE-2099-1001', package: 'openssl', version: '3.0.19-1~deb12u2' }, 'false_positive', 3]],
  );
  assert.deepEqual(
    out.skipped.map((x) => x.status),
    ['under_investigation'],
  );

  const exported = OpenVexSchema.parse(await get('/api/v1/exceptions/openvex'));
  const byVuln = exported.statements.map((st) => [st.vulnerability.name, st.status, st.justification ?? null]);
  assert.deepEqual(byVuln.sort(), [
    ['CVE-2099-1001', 'not_affected', 'vulnerable_code_not_in_execute_path'],
    ['CVE-2099-1002', 'not_affected', 'inline_mitigations_already_exist'],
    ['CVE-2099-1002', 'not_affected', 'vulnerable_code_not_present'],
  ]);
});

test('OpenVEX: a large document is imported in pieces (every rule made); one making too many rules is refused whole', async () => {
  const statements = (n: number) =>
    Array.from({ length: n }, (_, i) => ({
      vulnerability: { name: `CVE-2099-${String(9000 + i).padStart(5, '0')}` },
      products: [{ '@id': `pkg:deb/debian/zlib@1:1.2.13.dfsg-${i}` }],
      status: 'not_affected',
      justification: 'component_not_present',
    }));
  const doc = (n: number) => ({
    '@context': 'https://openvex.dev/ns/v0.2.0',
    '@id': `https://example.org/vex/large-${n}`,
    author: 'Security team',
    timestamp: '2026-11-01T00:00:00Z',
    version: 1,
    statements: statements(n),
  });
  const before = ((await get('/api/v1/exceptions')) as { items: unknown[] }).items.length;
  const tooMany = await api(s.url, '/api/v1/exceptions/openvex', { token: s.adminToken, body: doc(5_001) });
  assert.equal(tooMany.status, 400, tooMany.text);
  assert.match(tooMany.text, /5,001 rules; at most 5,000 are imported at once/);
  assert.equal(((await get('/api/v1/exceptions')) as { items: unknown[] }).items.length, before);
  const r = await api(s.url, '/api/v1/exceptions/openvex', { token: s.adminToken, body: doc(64) });
  assert.equal(r.status, 201, r.text);
  assert.equal((r.body as { created: unknown[] }).created.length, 64);
  assert.equal(((await get('/api/v1/exceptions')) as { items: unknown[] }).items.length, before + 64);
});
