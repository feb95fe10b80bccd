// Patching across a fleet, on the real server (store, HTTP on loopback) with a clock the test
// controls, and several agents talking to it through the agent's own HTTP, lease and report
// clients and the host-side reboot flow (rebootIfDue / afterBoot): policies validated and
// versioned, at most K hosts of a group holding reboot leases, a dead host's lease expiring,
// ring gates following the canary ring's runs, and the dashboard endpoints.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readInventory } from '../src/inventory/index.ts';
import { parsePolicy, type PatchPolicy } from '../src/core/policy/schema.ts';
import { AgentHttpClient } from '../src/agent/http.ts';
import { fetchPolicy, PatchReportSpool, ServerLeaseClient, ServerReportClient } from '../src/agent/patch-clients.ts';
import { afterBoot, rebootIfDue } from '../src/patch/reboot-flow.ts';
import { PATCH_RUN_SCHEMA, PatchRunSchema, type PatchRun } from '../src/patch/types.ts';
import { api, enrollTestHost, fullReportOf, startTestServer, type TestServer } from './support/server.ts';
import { BOOKWORM_ROOT, copyBookwormRoot, trackerFeedV1, upgradeSource } from './support/fixtures.ts';
import { seededRandom } from './support/seeded-random.ts';

const MIN = 60_000;
const HOUR = 60 * MIN;
const quiet = { info() {}, warn() {} };

interface Agent {
  name: string;
  id: number;
  token: string;
  http: AgentHttpClient;
  lease: ServerLeaseClient;
  report: ServerReportClient;
  spool: PatchReportSpool;
  stateFile: string;
  boot: string;
}

async function agent(s: TestServer, dir: string, name: string, group: string, tags: string[] = []): Promise<Agent> {
  const token = await enrollTestHost(s, name, group);
  const hosts = (await api(s.url, `/api/v1/hosts?search=${name}`, { token: s.adminToken })).body as {
    items: { id: number; hostname: string }[];
  };
  const id = hosts.items.find((h) => h.hostname === name)!.id;
  if (tags.length)
    assert.equal(
      (await api(s.url, `/api/v1/hosts/${id}`, { method: 'PATCH', token: s.adminToken, body: { tags } })).status,
      200,
    );
  const http = new AgentHttpClient({ server: s.url, timeoutMs: 10_000, token });
  const spool = new PatchReportSpool(join(dir, name), quiet);
  return {
    name,
    id,
    token,
    http,
    lease: new ServerLeaseClient(http),
    report: new ServerReportClient(http, spool, () => s.clock.now(), quiet),
    spool,
    stateFile: join(dir, name, 'pending-reboot.json'),
    boot: `${name}-boot-1`,
  };
}

/** A patch run as an agent reports it (what patchHost returns); times from the test clock. */
function runOf(
  s: TestServer,
  a: Agent,
  policy: PatchPolicy,
  o: { outcome: PatchRun['outcome']; reboot?: boolean; changes?: PatchRun['changes'] },
): PatchRun {
  const t = s.clock.now();
  const failed = o.outcome === 'failed' || o.outcome === 'partial';
  return PatchRunSchema.parse({
    schema: PATCH_RUN_SCHEMA,
    id: randomUUID(),
    host: {
      hostname: a.name,
      machine_id: null,
      root: '/',
      os: { id: 'debian', version_id: '12', codename: 'bookworm' },
    },
    policy: { name: policy.name, version: policy.version, group: policy.group },
    backend: 'unattended-upgrades',
    mode: 'run',
    started_at: new Date(t - 5 * MIN).toISOString(),
    finished_at: new Date(t).toISOString(),
    outcome: o.outcome,
    skip_reason: null,
    exit_code: failed ? 1 : 0,
    changes: o.changes ?? [
      {
        name: 'libssl3',
        arch: 'amd64',
        action: 'upgrade',
        from: '3.0.19-1~deb12u2',
        to: '3.0.19-1~deb12u3',
        automatic: false,
        ok: !failed,
      },
    ],
    held_back: [],
    errors: failed
      ? [
          {
            kind: 'dpkg',
            where: '/var/log/dpkg.log:12',
            package: 'libssl3',
            message: 'subprocess installed post-installation script returned error exit status 1',
          },
        ]
      : [],
    reboot: {
      required: o.reboot ?? false,
      because: o.reboot ? ['reboot-required'] : [],
      packages: o.reboot ? ['libssl3'] : [],
      kernel: { running: null, newest_installed: null, installed: [], needrestart_status: null, reboot_needed: null },
      status: o.reboot ? 'pending_lease' : 'not_required',
    },
    restarts: { needed: [], restarted: [], failed: [], skipped: [] },
    cves_closed: null,
    findings_before: null,
    findings_after: null,
    warnings: [],
  });
}

async function putPolicy(
  s: TestServer,
  name: string,
  doc: object,
): Promise<{ status: number; body: { version: number; policy: PatchPolicy } & Record<string, unknown> }> {
  const r = await api(s.url, `/api/v1/policies/${name}`, { method: 'PUT', token: s.adminToken, body: doc });
  return { status: r.status, body: r.body as { version: number; policy: PatchPolicy } };
}

async function leases(
  s: TestServer,
  group: string,
): Promise<
  { id: string; host: { hostname: string }; state: string; granted_at: string | null; expires_at: string | null }[]
> {
  const r = await api(s.url, `/api/v1/reboot-leases?group=${group}`, { token: s.adminToken });
  assert.equal(r.status, 200, r.text);
  return r.body as never;
}

test('patching on a fleet: policies, reboot leases, rings and the dashboard endpoints', async (t) => {
  const s = await startTestServer(trackerFeedV1());
  const dir = mkdtempSync(join(tmpdir(), 'patchloop-patching-fleet-'));
  t.after(async () => {
    await s.close();
    rmSync(dir, { recursive: true, force: true });
    rmSync(s.dataDir, { recursive: true, force: true });
  });
  // Tuesday 2026-11-03 01:00 UTC, inside the web group's window.
  s.clock.set('2026-11-03T01:00:00Z');

  await t.test('policies are validated field by field and versioned', async () => {
    const bad = await api(s.url, '/api/v1/policies/web', {
      method: 'PUT',
      token: s.adminToken,
      body: {
        group: 'web',
        rings: [{ name: 'canary', soak_hours: 5 }],
        schedule: { windows: [{ start: '25:00', end: '03:00', time_zone: 'Mars/Olympus' }] },
      },
    });
    assert.equal(bad.status, 400);
    const details = (bad.body as { details: { path: string; message: string }[] }).details;
    const paths = details.map((d) => d.path);
    assert.ok(paths.includes('rings[0].soak_hours'), paths.join(', '));
    assert.ok(paths.includes('schedule.windows[0].start'), paths.join(', '));
    assert.match(
      details.find((d) => d.path === 'schedule.windows[0].time_zone')!.message,
      /unknown time zone "Mars\/Olympus"/,
    );
    assert.equal((await api(s.url, '/api/v1/policies/web', { token: s.adminToken })).status, 404, 'nothing stored');

    const web = {
      group: 'web',
      schedule: { windows: [{ days: ['tue'], start: '00:30', end: '05:00', time_zone: 'UTC' }] },
      reboot: { mode: 'when_required', max_concurrent: 2, lease_ttl_minutes: 30 },
    };
    const v1 = await putPolicy(s, 'web', web);
    assert.equal(v1.status, 201);
    assert.equal(v1.body.version, 1);
    assert.equal(v1.body.policy.install.updates, 'security', 'defaults filled in');
    const same = await putPolicy(s, 'web', web);
    assert.equal(same.status, 200, 'an identical document is not a new version');
    assert.equal(same.body.version, 1);
    const v2 = await putPolicy(s, 'web', { ...web, install: { blocklist: ['linux-image-*'] } });
    assert.equal(v2.status, 201);
    assert.equal(v2.body.version, 2);
    const stale = await putPolicy(s, 'web', { ...web, version: 2 });
    assert.equal(stale.status, 409, 'version 2 exists: the next change must be version 3');
    const wrongName = await putPolicy(s, 'web', { ...web, name: 'db' });
    assert.equal(wrongName.status, 400);
    const taken = await putPolicy(s, 'web-too', web);
    assert.equal(taken.status, 409);
    assert.match(String(taken.body.message), /already governed by policy web/);
    const old = await api(s.url, '/api/v1/policies/web?version=1', { token: s.adminToken });
    assert.deepEqual((old.body as { policy: PatchPolicy }).policy.install.blocklist, []);
    const list = (await api(s.url, '/api/v1/policies', { token: s.adminToken })).body as {
      name: string;
      version: number;
      versions: number;
    }[];
    assert.deepEqual(
      list.map((p) => [p.name, p.version, p.versions]),
      [['web', 2, 2]],
    );
    const versions = (await api(s.url, '/api/v1/policies/web/versions', { token: s.adminToken })).body as {
      version: number;
    }[];
    assert.deepEqual(
      versions.map((v) => v.version),
      [2, 1],
    );
    // agents cannot change policies
    const a = await agent(s, dir, 'web-0', 'web');
    assert.equal((await api(s.url, '/api/v1/policies/web', { method: 'PUT', token: a.token, body: web })).status, 403);
  });

  await t.test(
    'never more than K hosts of a group hold a reboot lease; a dead host loses its lease to the TTL',
    async () => {
      const stored = (await api(s.url, '/api/v1/policies/web', { token: s.adminToken })).body as {
        policy: PatchPolicy;
      };
      const policy = parsePolicy(stored.policy);
      const fleet = await Promise.all(
        ['web-1', 'web-2', 'web-3', 'web-4', 'web-5'].map((n) => agent(s, dir, n, 'web')),
      );
      const runs = new Map<string, PatchRun>();
      for (const a of fleet) {
        const run = runOf(s, a, policy, { outcome: 'success', reboot: true });
        await a.report.sendRun(run);
        runs.set(a.name, run);
      }
      const rebooted: string[] = [];
      const deps = (a: Agent) => ({
        policy,
        lease: a.lease,
        report: a.report,
        now: () => s.clock.now(),
        reboot: async () => void rebooted.push(a.name),
        stateFile: a.stateFile,
        bootId: async () => a.boot,
      });
      // All five ask at once.
      const after = await Promise.all(fleet.map((a) => rebootIfDue(runs.get(a.name)!, deps(a))));
      fleet.forEach((a, i) => runs.set(a.name, after[i]));
      assert.equal(after.filter((r) => r.reboot.status === 'rebooting').length, 2);
      assert.equal(after.filter((r) => r.reboot.status === 'pending_lease').length, 3);
      assert.equal(rebooted.length, 2);
      assert.ok(
        after
          .filter((r) => r.reboot.status === 'pending_lease')
          .every((r) => /2 of 2 reboot slots of web taken/.test(r.reboot.detail)),
      );
      let view = await leases(s, 'web');
      assert.deepEqual(
        view
          .filter((l) => l.state === 'held')
          .map((l) => l.host.hostname)
          .sort(),
        [...rebooted].sort(),
      );
      assert.equal(view.filter((l) => l.state === 'waiting').length, 3);

      // The first to reboot comes back: its boot report releases the slot, a waiting host gets it.
      const [first, dead] = fleet.filter((a) => rebooted.includes(a.name));
      s.clock.advance(4 * MIN);
      first.boot = `${first.name}-boot-2`;
      const back = await afterBoot({
        stateFile: first.stateFile,
        bootId: async () => first.boot,
        now: () => s.clock.now(),
        bootedAt: async () => s.clock.now() - MIN,
        kernel: '6.1.0-41-amd64',
        rebootStillRequired: async () => false,
        lease: first.lease,
        report: first.report,
      });
      assert.equal(back.state, 'back');
      const firstRun = (await api(s.url, `/api/v1/patch-runs/${runs.get(first.name)!.id}`, { token: s.adminToken }))
        .body as { reboot: { status: string; back_at: string | null } };
      assert.equal(firstRun.reboot.status, 'rebooted');
      assert.equal(firstRun.reboot.back_at, new Date(s.clock.now()).toISOString());

      const waiting = fleet.filter((a) => !rebooted.includes(a.name));
      const second = await Promise.all(waiting.map((a) => rebootIfDue(runs.get(a.name)!, deps(a))));
      waiting.forEach((a, i) => runs.set(a.name, second[i]));
      assert.equal(second.filter((r) => r.reboot.status === 'rebooting').length, 1, 'one slot was free');
      view = await leases(s, 'web');
      assert.equal(view.filter((l) => l.state === 'held').length, 2);
      assert.ok(view.some((l) => l.state === 'held' && l.host.hostname === dead.name));

      // The dead host never reports back. 30 minutes after it got its lease, the lease is gone.
      const deadLease = runs.get(dead.name)!.reboot.lease_id!;
      s.clock.advance(25 * MIN); // 29 min after the dead host got its lease
      const still = await Promise.all(
        waiting
          .filter((a) => runs.get(a.name)!.reboot.status === 'pending_lease')
          .map((a) => rebootIfDue(runs.get(a.name)!, deps(a))),
      );
      assert.ok(
        still.every((r) => r.reboot.status === 'pending_lease'),
        'the slots are still taken before the TTL',
      );
      s.clock.advance(MIN);
      const renewDead = await api(s.url, '/api/v1/agent/reboot-lease', {
        token: dead.token,
        body: { action: 'renew', lease_id: deadLease },
      });
      assert.equal(renewDead.status, 409, 'an expired lease cannot be renewed');
      assert.match((renewDead.body as { message: string }).message, /expired at/);
      const pendingHosts = waiting.filter((a) => runs.get(a.name)!.reboot.status === 'pending_lease');
      const third = await Promise.all(pendingHosts.map((a) => rebootIfDue(runs.get(a.name)!, deps(a))));
      assert.equal(
        third.filter((r) => r.reboot.status === 'rebooting').length,
        1,
        "the dead host's slot went to a waiting host",
      );
      view = await leases(s, 'web');
      assert.ok(!view.some((l) => l.host.hostname === dead.name), 'the expired lease is not shown as held');
      assert.equal(view.filter((l) => l.state === 'held').length, 2);

      // Another group has its own semaphore, and a host of another group cannot release this one's leases.
      const other = await agent(s, dir, 'mail-1', 'mail');
      const held = view.find((l) => l.state === 'held')!;
      const foreign = await api(s.url, '/api/v1/agent/reboot-lease', {
        token: other.token,
        body: { action: 'release', lease_id: held.id },
      });
      assert.equal(foreign.status, 404);
      assert.equal((await leases(s, 'web')).filter((l) => l.state === 'held').length, 2);
    },
  );

  await t.test('many agents asking and releasing at random never exceed K', async () => {
    const policy = (
      await putPolicy(s, 'batch', { group: 'batch', reboot: { max_concurrent: 3, lease_ttl_minutes: 10 } })
    ).body.policy;
    const fleet = await Promise.all(Array.from({ length: 12 }, (_, i) => agent(s, dir, `batch-${i}`, 'batch')));
    const holding = new Map<string, { lease: string; expires: number }>();
    const rand = seededRandom(7);
    let grants = 0;
    for (let round = 0; round < 15; round++) {
      const answers = await Promise.all(
        fleet.map(async (a) => ({
          a,
          r: holding.has(a.name)
            ? null
            : await a.lease.acquire({ group: 'batch', host: a.name, run_id: `r-${round}`, ttl_seconds: 600 }),
        })),
      );
      for (const { a, r } of answers)
        if (r?.granted) holding.set(a.name, { lease: r.lease_id, expires: Date.parse(r.expires_at) });
      for (const [name, h] of holding) if (h.expires <= s.clock.now()) holding.delete(name);
      grants += answers.filter((x) => x.r?.granted).length;
      assert.ok(holding.size <= policy.reboot.max_concurrent, `round ${round}: ${holding.size} hosts hold a lease`);
      const server = (await leases(s, 'batch')).filter((l) => l.state === 'held');
      assert.deepEqual(
        server.map((l) => l.host.hostname).sort(),
        [...holding.keys()].sort(),
        `round ${round}: the server agrees`,
      );
      // some come back and release, some die (their lease runs out), time passes
      for (const a of fleet) {
        const h = holding.get(a.name);
        if (h && rand() < 0.5) {
          await a.lease.release(h.lease);
          holding.delete(a.name);
        }
      }
      s.clock.advance(Math.floor(rand() * 6) * MIN);
    }
    assert.ok(grants >= 15, `leases went round (${grants} granted)`);
  });

  await t.test('a failed canary ring blocks the next ring; a healthy one opens it after the soak', async () => {
    const db = (
      await putPolicy(s, 'db', {
        group: 'db',
        rings: [
          { name: 'canary', tags: ['canary'] },
          { name: 'rest', soak_hours: 24 },
        ],
        reboot: { mode: 'never' },
      })
    ).body.policy;
    const canary = await agent(s, dir, 'db-canary', 'db', ['canary']);
    const rest = await agent(s, dir, 'db-2', 'db');
    const gate = async (a: Agent) => fetchPolicy(a.http);

    let p = await gate(canary);
    assert.deepEqual(p.ring, { name: 'canary', index: 0 });
    assert.equal(p.gate?.state, 'open');
    assert.equal(p.policy?.name, 'db');
    p = await gate(rest);
    assert.deepEqual(p.ring, { name: 'rest', index: 1 });
    assert.equal(p.gate?.state, 'blocked');
    assert.ok(
      p.gate?.reasons.some((r) => /db-canary has no patch run yet/.test(r)),
      p.gate?.reasons.join('\n'),
    );

    await canary.report.sendRun(runOf(s, canary, db, { outcome: 'failed' }));
    p = await gate(rest);
    assert.equal(p.gate?.state, 'blocked', 'a failed canary run stops the next ring');
    assert.ok(
      p.gate?.reasons.some((r) => /db-canary's run at .* failed/.test(r)),
      p.gate?.reasons.join('\n'),
    );
    const ringsView = (await api(s.url, '/api/v1/rings', { token: s.adminToken })).body as {
      policy: string;
      ring: string;
      index: number;
      hosts: number;
      patched: number;
      failed: number;
      gate: { state: string };
    }[];
    const dbRings = ringsView.filter((r) => r.policy === 'db');
    assert.deepEqual(
      dbRings.map((r) => [r.ring, r.index, r.hosts, r.patched, r.failed, r.gate.state]),
      [
        ['canary', 0, 1, 0, 1, 'open'],
        ['rest', 1, 1, 0, 0, 'blocked'],
      ],
    );

    s.clock.advance(HOUR);
    await canary.report.sendRun(runOf(s, canary, db, { outcome: 'success' }));
    const healthySince = s.clock.now();
    p = await gate(rest);
    assert.equal(p.gate?.state, 'waiting');
    assert.equal(p.gate?.state === 'waiting' && p.gate.until, new Date(healthySince + 24 * HOUR).toISOString());
    s.clock.advance(24 * HOUR - MIN);
    assert.equal((await gate(rest)).gate?.state, 'waiting');
    s.clock.advance(MIN);
    p = await gate(rest);
    assert.equal(p.gate?.state, 'open', p.gate?.reasons.join('\n'));

    const hp = await api(s.url, `/api/v1/hosts/${rest.id}/policy`, { token: s.adminToken });
    assert.equal(hp.status, 200, hp.text);
    const view = hp.body as Record<string, unknown> & {
      ring: unknown;
      gate: { state: string };
      outlook: { would_install: string | null; reboot: string };
    };
    assert.deepEqual(Object.keys(view).sort(), [
      'gate',
      'lines',
      'next_window',
      'outlook',
      'policy',
      'ring',
      'windows',
    ]);
    assert.deepEqual(view.policy, { name: 'db', version: 1, group: 'db' });
    assert.deepEqual(view.ring, { name: 'rest', index: 1 });
    assert.equal(view.gate.state, 'open');
    assert.equal(view.next_window, null, 'no windows');
    assert.match(String(view.outlook.would_install), /security updates only/);
    assert.match(view.outlook.reboot, /never/);
    // a host whose group has no policy says so
    const lone = await agent(s, dir, 'lone', 'nobody');
    const none = (await api(s.url, `/api/v1/hosts/${lone.id}/policy`, { token: s.adminToken })).body as {
      policy: unknown;
      lines: string[];
    };
    assert.equal(none.policy, null);
    assert.match(none.lines[0], /No policy governs group "nobody"/);
    assert.equal((await fetchPolicy(lone.http)).policy, null);
  });

  await t.test(
    'a patch run is shown with the vulnerabilities the next inventory confirms closed, and the host needs a reboot',
    async () => {
      const policy = (await putPolicy(s, 'ops', { group: 'ops', reboot: { mode: 'never' } })).body.policy;
      const a = await agent(s, dir, 'ops-1', 'ops');
      const inv = await readInventory(BOOKWORM_ROOT);
      const send = async (report: unknown) => {
        const r = await api(s.url, '/api/v1/reports', { token: a.token, body: report, gzip: true });
        assert.equal(r.status, 200, r.text);
      };
      await send(fullReportOf(inv, 'ops-1'));
      const before = (await api(s.url, `/api/v1/hosts/${a.id}`, { token: s.adminToken })).body as {
        reboot_pending: boolean;
        open: { total: number };
      };
      assert.equal(before.reboot_pending, false);

      const libssl = inv.packages.find((p) => p.name === 'libssl3')!;
      const run = {
        ...runOf(s, a, policy, {
          outcome: 'success',
          reboot: true,
          changes: [
            {
              name: 'libssl3',
              arch: libssl.arch,
              action: 'upgrade',
              from: libssl.version,
              to: '3.0.19-1~deb12u3',
              automatic: false,
              ok: true,
            },
          ],
        }),
        reboot: {
          ...runOf(s, a, policy, { outcome: 'success', reboot: true }).reboot,
          status: 'policy_never' as const,
        },
      };
      await a.report.sendRun(run);
      assert.equal(
        (await api(s.url, '/api/v1/agent/patch-runs', { token: a.token, body: run })).status,
        200,
        'idempotent by run id',
      );
      assert.equal(
        (await api(s.url, '/api/v1/agent/patch-runs', { token: a.token, body: { ...run, outcome: 'excellent' } }))
          .status,
        400,
      );

      let page = (await api(s.url, `/api/v1/patch-runs?host=${a.id}`, { token: s.adminToken })).body as {
        total: number;
        items: Record<string, unknown>[];
      };
      assert.equal(page.total, 1);
      assert.equal(page.items[0].cves_closed, null, 'not confirmed before the next inventory report');
      assert.equal(
        ((await api(s.url, `/api/v1/hosts/${a.id}`, { token: s.adminToken })).body as { reboot_pending: boolean })
          .reboot_pending,
        true,
        'the run says a reboot is needed',
      );

      // The next inventory: openssl's binaries upgraded as the run did.
      const root = copyBookwormRoot();
      try {
        assert.ok(upgradeSource(root, 'openssl', '3.0.19-1~deb12u3') > 0);
        await send(fullReportOf(await readInventory(root), 'ops-1'));
      } finally {
        rmSync(root, { recursive: true, force: true });
      }
      page = (await api(s.url, `/api/v1/patch-runs?host=${a.id}`, { token: s.adminToken })).body as typeof page;
      const item = page.items[0];
      assert.deepEqual(
        Object.keys(item).sort(),
        [
          'backend',
          'changes',
          'cves_closed',
          'errors',
          'failed_changes',
          'finished_at',
          'held_back',
          'host',
          'id',
          'mode',
          'outcome',
          'policy',
          'reboot',
          'skip_reason',
          'started_at',
        ].sort(),
      );
      assert.deepEqual(item.cves_closed, ['CVE-2099-1001']);
      assert.deepEqual(item.host, { id: a.id, hostname: 'ops-1', group: 'ops' });
      assert.deepEqual(item.policy, { name: 'ops', version: 1 });
      assert.equal(item.failed_changes, 0);
      assert.deepEqual((item.reboot as { status: string; lease_id: string | null }).status, 'policy_never');

      // filters and the summary
      const failedOnly = (await api(s.url, '/api/v1/patch-runs?outcome=failed,partial', { token: s.adminToken }))
        .body as { items: { host: { hostname: string } }[] };
      assert.deepEqual(
        failedOnly.items.map((r) => r.host.hostname),
        ['db-canary'],
      );
      const byGroup = (await api(s.url, '/api/v1/patch-runs?group=web&per_page=2&page=1', { token: s.adminToken }))
        .body as { total: number; items: unknown[] };
      assert.equal(byGroup.total, 5);
      assert.equal(byGroup.items.length, 2);
      assert.equal((await api(s.url, '/api/v1/patch-runs?since=yesterday', { token: s.adminToken })).status, 400);
      const summary = (await api(s.url, '/api/v1/patch-runs/summary?days=7', { token: s.adminToken })).body as {
        by_outcome: Record<string, number>;
        hosts_failed: number;
        last_at: string;
      };
      assert.deepEqual(Object.keys(summary).sort(), ['by_outcome', 'days', 'hosts_failed', 'last_at']);
      assert.equal(summary.by_outcome.failed, 1);
      assert.equal(summary.by_outcome.success, 5 + 1 + 1);
      assert.equal(summary.hosts_failed, 0, "the canary's latest run succeeded");
      assert.equal(summary.last_at, run.finished_at);
      const docs = (await api(s.url, '/api/docs', {})).body as { paths: Record<string, unknown> };
      for (const p of [
        '/api/v1/patch-runs',
        '/api/v1/patch-runs/summary',
        '/api/v1/rings',
        '/api/v1/reboot-leases',
        '/api/v1/hosts/{id}/policy',
        '/api/v1/policies/{name}',
        '/api/v1/agent/policy',
        '/api/v1/agent/reboot-lease',
        '/api/v1/agent/patch-runs',
        '/api/v1/agent/boot',
      ]) {
        assert.ok(docs.paths[p], `${p} in the OpenAPI description`);
      }
    },
  );

  await t.test('reports wait in the spool while the server is down, and go out in order afterwards', async () => {
    const policy = (await api(s.url, '/api/v1/policies/ops', { token: s.adminToken })).body as { policy: PatchPolicy };
    const a = await agent(s, dir, 'ops-2', 'ops');
    const down = new AgentHttpClient({ server: 'http://127.0.0.1:9', timeoutMs: 2000, token: a.token });
    const offline = new ServerReportClient(down, a.spool, () => s.clock.now(), quiet);
    const run = runOf(s, a, policy.policy, { outcome: 'success' });
    await offline.sendRun(run);
    await offline.sendRun({ ...run, warnings: ['second state of the same run'] });
    assert.equal(a.spool.pending(), 1, 'a newer state of a run replaces the waiting one');
    const r = await a.spool.flush(a.http);
    assert.deepEqual(r, { sent: 1, pending: 0, rejected: 0 });
    const got = (await api(s.url, `/api/v1/patch-runs/${run.id}`, { token: s.adminToken })).body as {
      record: PatchRun;
    };
    assert.deepEqual(got.record.warnings, ['second state of the same run']);
  });
});
