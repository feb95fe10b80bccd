import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { decideLease, parsePolicy, type Lease, type PatchPolicy } from '../core/policy/index.ts';
import { afterBoot, rebootIfDue } from './reboot-flow.ts';
import { PATCH_RUN_SCHEMA, PatchRunSchema, type BootReport, type PatchRun, type RebootLeaseClient } from './types.ts';

const MIN = 60_000;

/** The server's semaphore as the agents see it: decideLease over a shared table, on the test clock. */
class LeaseTable implements RebootLeaseClient {
  leases: Lease[] = [];
  private ids = 0;
  private policy: PatchPolicy;
  private clock: { now: number };
  constructor(policy: PatchPolicy, clock: { now: number }) {
    this.policy = policy;
    this.clock = clock;
  }
  async acquire(req: { host: string }) {
    const d = decideLease(
      this.leases,
      { host: req.host, now: this.clock.now, newId: `L${++this.ids}` },
      this.policy.reboot,
    );
    if (!d.granted) return { granted: false as const, retry_at: d.retry_at, reason: d.reason };
    this.leases = [
      ...this.leases.filter((l) => l.lease_id !== d.lease.lease_id && Date.parse(l.expires_at) > this.clock.now),
      d.lease,
    ];
    return { granted: true as const, lease_id: d.lease.lease_id, expires_at: d.lease.expires_at };
  }
  async renew(id: string) {
    return { expires_at: this.leases.find((l) => l.lease_id === id)?.expires_at ?? '' };
  }
  async release(id: string) {
    this.leases = this.leases.filter((l) => l.lease_id !== id);
  }
  live(): number {
    return this.leases.filter((l) => Date.parse(l.expires_at) > this.clock.now).length;
  }
}

function runNeedingReboot(host: string, policy: PatchPolicy): PatchRun {
  return PatchRunSchema.parse({
    schema: PATCH_RUN_SCHEMA,
    id: `run-${host}`,
    host: { hostname: host, machine_id: null, root: '/', os: { id: 'debian', version_id: '12', codename: 'bookworm' } },
    policy: { name: policy.name, version: policy.version, group: policy.group },
    backend: 'unattended-upgrades',
    mode: 'run',
    started_at: '2026-06-02T00:00:00.000Z',
    finished_at: '2026-06-02T00:05:00.000Z',
    outcome: 'success',
    skip_reason: null,
    exit_code: 0,
    changes: [
      {
        name: 'linux-image-6.1.0-56-amd64',
        arch: 'amd64',
        action: 'install',
        from: null,
        to: '6.1.192-2',
        automatic: true,
        ok: true,
      },
    ],
    held_back: [],
    errors: [],
    reboot: {
      required: true,
      because: ['reboot-required', 'kernel'],
      packages: ['linux-image-6.1.0-56-amd64'],
      kernel: {
        running: '6.1.0-50-amd64',
        newest_installed: '6.1.0-56-amd64',
        installed: ['6.1.0-50-amd64', '6.1.0-56-amd64'],
        needrestart_status: 3,
        reboot_needed: true,
      },
      status: 'pending_lease',
    },
    restarts: { needed: [], restarted: [], failed: [], skipped: [] },
    cves_closed: null,
    findings_before: null,
    findings_after: null,
    warnings: [],
  });
}

const policy = parsePolicy({
  name: 'web',
  version: 3,
  group: 'web',
  schedule: { windows: [{ start: '01:00', end: '05:00', time_zone: 'Europe/Berlin' }] },
  reboot: { mode: 'when_required', max_concurrent: 2, lease_ttl_minutes: 20 },
});

test('a fleet reboots at most K at a time; a host that never comes back loses its slot to the TTL', async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'patchloop-reboot-flow-'));
  try {
    const clock = { now: Date.parse('2026-06-02T00:00:00Z') }; // 02:00 Berlin, inside the window
    const table = new LeaseTable(policy, clock);
    const sent: { runs: PatchRun[]; boots: BootReport[] } = { runs: [], boots: [] };
    const report = {
      sendRun: async (r: PatchRun) => void sent.runs.push(r),
      sendBoot: async (b: BootReport) => void sent.boots.push(b),
    };
    const hosts = ['a', 'b', 'c', 'd', 'e'].map((h) => ({
      name: h,
      boot: `${h}-boot-1`,
      rebooted: 0,
      run: runNeedingReboot(h, policy),
      stateFile: path.join(dir, `${h}.json`),
    }));
    const deps = (h: (typeof hosts)[number]) => ({
      policy,
      lease: table,
      report,
      now: () => clock.now,
      reboot: async () => void h.rebooted++,
      stateFile: h.stateFile,
      bootId: async () => h.boot,
    });
    const comeBack = (h: (typeof hosts)[number]) => {
      h.boot = `${h.name}-boot-${h.rebooted + 1}`;
      return afterBoot({
        stateFile: h.stateFile,
        bootId: async () => h.boot,
        now: () => clock.now,
        bootedAt: async () => clock.now - 30_000,
        kernel: '6.1.0-56-amd64',
        rebootStillRequired: async () => false,
        lease: table,
        report,
      });
    };

    for (const h of hosts) h.run = await rebootIfDue(h.run, deps(h));
    assert.deepEqual(
      hosts.map((h) => h.run.reboot.status),
      ['rebooting', 'rebooting', 'pending_lease', 'pending_lease', 'pending_lease'],
    );
    assert.equal(table.live(), 2);
    assert.match(hosts[2].run.reboot.detail, /2 of 2 reboot slots taken \(a, b\); retry at 2026-06-02T00:20:00.000Z/);
    assert.deepEqual(
      sent.runs.map((r) => r.reboot.lease_id),
      ['L1', 'L2'],
      'the server hears of the reboot before it happens',
    );

    // Before the reboot has happened, the same boot id means "not yet", and the slot stays taken.
    assert.equal(
      (
        await afterBoot({
          stateFile: hosts[0].stateFile,
          bootId: async () => hosts[0].boot,
          now: () => clock.now,
          bootedAt: async () => 0,
          kernel: null,
          rebootStillRequired: async () => false,
          lease: table,
        })
      ).state,
      'not_rebooted',
    );

    // a comes back after 3 minutes; b never does (it died during the reboot).
    clock.now += 3 * MIN;
    const back = await comeBack(hosts[0]);
    assert.equal(back.state, 'back');
    assert.equal(back.state === 'back' && back.report.lease_id, 'L1');
    assert.equal(sent.boots.length, 1);
    assert.equal(table.live(), 1);
    for (const h of hosts.slice(2)) h.run = await rebootIfDue(h.run, deps(h));
    assert.deepEqual(
      hosts.slice(2).map((h) => h.run.reboot.status),
      ['rebooting', 'pending_lease', 'pending_lease'],
    );
    assert.equal(table.live(), 2);

    // c comes back; 20 minutes after b took its slot, b's lease has expired: d and e go.
    clock.now += 2 * MIN;
    await comeBack(hosts[2]);
    hosts[3].run = await rebootIfDue(hosts[3].run, deps(hosts[3]));
    assert.equal(hosts[3].run.reboot.status, 'rebooting');
    hosts[4].run = await rebootIfDue(hosts[4].run, deps(hosts[4]));
    assert.equal(hosts[4].run.reboot.status, 'pending_lease', 'b still holds its slot');
    clock.now = Date.parse('2026-06-02T00:20:00Z');
    hosts[4].run = await rebootIfDue(hosts[4].run, deps(hosts[4]));
    assert.equal(hosts[4].run.reboot.status, 'rebooting');
    assert.ok(table.live() <= 2);
    assert.deepEqual(
      hosts.map((h) => h.rebooted),
      [1, 1, 1, 1, 1],
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('outside the window no lease is asked for; a failed reboot command gives the lease back', async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'patchloop-reboot-flow-'));
  try {
    const clock = { now: Date.parse('2026-06-02T10:00:00Z') }; // noon in Berlin
    const table = new LeaseTable(policy, clock);
    const base = {
      policy,
      lease: table,
      now: () => clock.now,
      stateFile: path.join(dir, 'x.json'),
      bootId: async () => 'boot-1',
    };
    const waiting = await rebootIfDue(runNeedingReboot('x', policy), {
      ...base,
      reboot: async () => assert.fail('no reboot outside the window'),
    });
    assert.equal(waiting.reboot.status, 'pending_window');
    assert.match(waiting.reboot.detail, /next opens 2026-06-03 01:00 Europe\/Berlin/);
    assert.equal(table.leases.length, 0);

    clock.now = Date.parse('2026-06-03T00:00:00Z');
    const failed = await rebootIfDue(waiting, {
      ...base,
      reboot: async () => {
        throw new Error('Failed to connect to bus');
      },
    });
    assert.equal(failed.reboot.status, 'failed');
    assert.match(failed.reboot.detail, /Failed to connect to bus/);
    assert.equal(table.leases.length, 0, 'the slot is free again');
    assert.equal(
      (await afterBoot({ ...base, bootedAt: async () => 0, kernel: null, rebootStillRequired: async () => false }))
        .state,
      'none',
    );

    const never = parsePolicy({ name: 'n', version: 1, group: 'g', reboot: { mode: 'never' } });
    const r = runNeedingReboot('y', never);
    const kept = await rebootIfDue(
      { ...r, reboot: { ...r.reboot, status: 'policy_never' } },
      { ...base, policy: never, reboot: async () => assert.fail('never') },
    );
    assert.equal(kept.reboot.status, 'policy_never');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
