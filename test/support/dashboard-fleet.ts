// A realistic fleet for the dashboard's browser tests, screenshots and measurements, built
// through the server's real API: hosts enrol with enrolment tokens and send inventory reports
// (full, then deltas) of the real bookworm host in ../shared/data, varied per host; new
// advisories arrive through feed refreshes (each re-matches the fleet) and hosts patch on
// their group's rhythm. Time runs on a ManualClock over the past `days` days, so trends, time
// to remediate, SLA breaches, stale hosts and pending reboots all have history behind them.
// Patching goes through the real API too: policies for most groups (PUT /api/v1/policies),
// every patch day reported as a patch run by the host (before its next inventory, which
// confirms the CVEs the run closed), failures on some hosts, and reboot leases asked for at
// the end by the hosts of a group that reboots one at a time.
import { mkdirSync, writeFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { PATCH_RUN_SCHEMA, type PatchRun } from '../../src/patch/types.ts';
import pino from 'pino';
import { generateTracker } from './debian-tracker-generator.ts';
import {
  packageDigest,
  REPORT_SCHEMA,
  toWirePackage,
  type ReportInput,
  type WirePackage,
} from '../../src/core/protocol.ts';
import type { OsInfo } from '../../src/core/types.ts';
import { compareVersions } from '../../src/core/version/index.ts';
import { readInventory } from '../../src/inventory/index.ts';
import { DAY_MS, ManualClock } from '../../src/server/clock.ts';
import { resolveConfig } from '../../src/server/config.ts';
import { startServer } from '../../src/server/server.ts';
import { createApiToken, hashPassword } from '../../src/server/store/credentials.ts';
import { BOOKWORM_ROOT } from './fixtures.ts';
import { seededRandom } from './seeded-random.ts';
import { startServerProcess, type ServerProcess } from './server-process.ts';

export interface FleetSpec {
  hosts: number;
  /** How far back the history goes. */
  days: number;
  /** CVE ids in the generated tracker (the more, the more findings per host). */
  cves: number;
  seed?: number;
  /** Feed refreshes that bring new advisories over the period. */
  feedUpdates?: number;
  /** Days between a host's reports (1: daily, as the agent's timer does by default). */
  reportEvery?: number;
  log?: (line: string) => void;
}

export interface Fleet {
  dir: string;
  dataDir: string;
  feedFile: string;
  /** The admin's password (its scrypt hash is in the server config). */
  password: string;
  passwordHash: string;
  hosts: number;
  /** When the simulated history ends (just before now). */
  endedAt: number;
  /** Policies stored, by name (each governs the group of the same name). */
  policies: string[];
}

const PASSWORD = 'dashboard test password';
const RELEASES: Record<string, OsInfo> = {
  bookworm: { id: 'debian', version_id: '12', codename: 'bookworm', pretty_name: 'Debian GNU/Linux 12 (bookworm)' },
  trixie: { id: 'debian', version_id: '13', codename: 'trixie', pretty_name: 'Debian GNU/Linux 13 (trixie)' },
  bullseye: { id: 'debian', version_id: '11', codename: 'bullseye', pretty_name: 'Debian GNU/Linux 11 (bullseye)' },
};

interface Role {
  prefix: string;
  group: string;
  tags: string[];
  weight: number;
  /** Days between patch runs (0: never patches) and the share of fixes a run installs. */
  patchEvery: number;
  patchShare: number;
  /** Days a pending reboot waits. */
  rebootAfter: number;
}

const ROLES: Role[] = [
  { prefix: 'web', group: 'web', tags: ['prod', 'dc1'], weight: 5, patchEvery: 7, patchShare: 0.8, rebootAfter: 2 },
  { prefix: 'api', group: 'web', tags: ['prod', 'dc2'], weight: 4, patchEvery: 7, patchShare: 0.7, rebootAfter: 3 },
  { prefix: 'db', group: 'db', tags: ['prod', 'dc1'], weight: 3, patchEvery: 21, patchShare: 0.6, rebootAfter: 30 },
  {
    prefix: 'k8s-node',
    group: 'k8s',
    tags: ['prod', 'dc2'],
    weight: 6,
    patchEvery: 5,
    patchShare: 0.9,
    rebootAfter: 1,
  },
  { prefix: 'ci-runner', group: 'ci', tags: ['staging'], weight: 3, patchEvery: 3, patchShare: 1, rebootAfter: 1 },
  {
    prefix: 'mail',
    group: 'infra',
    tags: ['prod', 'dc1'],
    weight: 1,
    patchEvery: 14,
    patchShare: 0.5,
    rebootAfter: 10,
  },
  {
    prefix: 'legacy-app',
    group: 'infra',
    tags: ['prod', 'legacy'],
    weight: 1,
    patchEvery: 0,
    patchShare: 0,
    rebootAfter: 0,
  },
];

/**
 * The fleet's patch policies (group infra has none: its hosts say so). web and db roll out in
 * rings, canary first; k8s reboots one host at a time, at any time, so its hosts queue for the
 * reboot lease; ci only reports.
 */
const POLICIES: Record<string, object> = {
  web: {
    group: 'web',
    description: 'Web and API front ends: canary first, the rest a day later',
    schedule: {
      windows: [
        { days: ['mon', 'tue', 'wed', 'thu', 'fri'], start: '01:00', end: '05:00', time_zone: 'Europe/Berlin' },
      ],
    },
    rings: [
      { name: 'canary', tags: ['canary'] },
      { name: 'rest', soak_hours: 24 },
    ],
    reboot: { mode: 'when_required', max_concurrent: 2, lease_ttl_minutes: 60 },
  },
  db: {
    group: 'db',
    description: 'Databases: security updates in the Sunday window, canary first',
    schedule: { windows: [{ days: ['sun'], start: '02:00', end: '06:00', time_zone: 'UTC' }] },
    rings: [
      { name: 'canary', tags: ['canary'] },
      { name: 'rest', soak_hours: 48 },
    ],
    install: { blocklist: ['postgresql-*'] },
    reboot: { mode: 'when_required', max_concurrent: 1, lease_ttl_minutes: 120 },
  },
  k8s: {
    group: 'k8s',
    description: 'Kubernetes nodes: patch any time, reboot one node at a time',
    reboot: { mode: 'when_required', only_in_window: false, max_concurrent: 1, lease_ttl_minutes: 24 * 60 },
  },
  ci: { group: 'ci', description: 'CI runners: patch and report, never reboot', reboot: { mode: 'never' } },
};

type Tracker = Record<string, Record<string, { releases: Record<string, { status: string; fixed_version?: string }> }>>;

/** Newest fixed version per release and source package (what `apt upgrade` would bring). */
function fixedVersions(tracker: Tracker): Map<string, Map<string, string>> {
  const out = new Map<string, Map<string, string>>();
  for (const [source, ids] of Object.entries(tracker)) {
    for (const rec of Object.values(ids)) {
      for (const [rel, e] of Object.entries(rec.releases)) {
        if (e.status !== 'resolved' || !e.fixed_version || e.fixed_version === '0') continue;
        let m = out.get(rel);
        if (!m) out.set(rel, (m = new Map()));
        const cur = m.get(source);
        if (!cur || compareVersions('deb', cur, e.fixed_version) < 0) m.set(source, e.fixed_version);
      }
    }
  }
  return out;
}

/** The tracker as known on a day: advisories published up to then (by a stable hash of the id). */
function trackerAsOf(tracker: Tracker, published: (id: string) => number, day: number): Tracker {
  const out: Tracker = {};
  for (const [source, ids] of Object.entries(tracker)) {
    const kept = Object.entries(ids).filter(([id]) => published(id) <= day);
    if (kept.length) out[source] = Object.fromEntries(kept);
  }
  return out;
}

interface SimHost {
  name: string;
  role: Role;
  release: keyof typeof RELEASES;
  token: string;
  packages: WirePackage[];
  digest: string;
  enrolDay: number;
  stopDay: number;
  patchOffset: number;
  lastPatchDay: number;
  rebootDueDay: number | null;
  neverReports: boolean;
  /** The patch run whose reboot is still to come (reported again once the host is back). */
  rebootRun: PatchRun | null;
}

export async function buildFleet(dir: string, spec: FleetSpec): Promise<Fleet> {
  const log = spec.log ?? (() => {});
  const rand = seededRandom(spec.seed ?? 7);
  const dataDir = join(dir, 'data');
  mkdirSync(dataDir, { recursive: true });
  const fullTracker = join(dir, 'tracker-full.json');
  const feedFile = join(dir, 'debian-tracker.json');
  await generateTracker(fullTracker, {
    seed: spec.seed ?? 7,
    cves: spec.cves,
    dpkgStatus: [join(BOOKWORM_ROOT, 'var/lib/dpkg/status')],
  });
  const tracker = JSON.parse(readFileSync(fullTracker, 'utf8')) as Tracker;
  // Most advisories are known when the history starts; the rest are published over the period.
  const published = (id: string): number => {
    let h = 2166136261;
    for (let i = 0; i < id.length; i++) h = Math.imul(h ^ id.charCodeAt(i), 16777619);
    const u = (h >>> 0) / 4294967296;
    return u < 0.8 ? 0 : Math.floor(((u - 0.8) / 0.2) * spec.days);
  };

  const passwordHash = await hashPassword(PASSWORD);
  const endedAt = Date.now() - 30 * 60_000;
  const clock = new ManualClock(endedAt - spec.days * DAY_MS - 9 * 3_600_000);
  const config = resolveConfig({
    listen: { host: '127.0.0.1', port: 0 },
    data_dir: dataDir,
    admin: { username: 'admin', password_hash: passwordHash },
    feeds: { refresh_interval: 0, sources: [{ name: 'debian', from: [feedFile] }] },
    log_level: 'silent',
  });
  const server = await startServer(config, { clock, logger: pino({ level: 'silent' }) });
  const base = server.url;
  const adminToken = createApiToken(server.ctx.store, 'fleet builder').token;
  const call = async (path: string, body: unknown, token: string, method = 'POST'): Promise<unknown> => {
    const res = await fetch(`${base}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`${path}: HTTP ${res.status} ${text}`);
    return JSON.parse(text);
  };

  try {
    const feedSteps = spec.feedUpdates ?? 6;
    const refreshDays = new Set(
      Array.from({ length: feedSteps }, (_, i) => Math.round(((i + 1) * spec.days) / (feedSteps + 1))),
    );
    // Hosts can only install fixes that have been published: the tracker as of the last refresh.
    let known = trackerAsOf(tracker, published, 0);
    let fixes = fixedVersions(known);
    writeFileSync(feedFile, JSON.stringify(known));
    await server.refreshNow();

    const policyVersions = new Map<string, { name: string; version: number; group: string }>();
    for (const [name, doc] of Object.entries(POLICIES)) {
      const stored = (await call(`/api/v1/policies/${name}`, doc, adminToken, 'PUT')) as {
        name: string;
        version: number;
        group: string;
      };
      policyVersions.set(stored.group, { name: stored.name, version: stored.version, group: stored.group });
    }

    const inventory = await readInventory(BOOKWORM_ROOT, { kernel: '6.1.0-40-amd64' });
    const basePackages = inventory.packages.map(toWirePackage);
    const totalWeight = ROLES.reduce((n, r) => n + r.weight, 0);
    const counters = new Map<string, number>();
    const tokens = new Map<string, string>();
    const hosts: SimHost[] = [];
    for (let i = 0; i < spec.hosts; i++) {
      let pick = rand() * totalWeight;
      const role = ROLES.find((r) => (pick -= r.weight) < 0) ?? ROLES[0];
      const n = (counters.get(role.prefix) ?? 0) + 1;
      counters.set(role.prefix, n);
      const r = rand();
      const release: keyof typeof RELEASES =
        role.prefix === 'legacy-app' || r < 0.12 ? 'bullseye' : r < 0.26 ? 'trixie' : 'bookworm';
      const tags = [...role.tags, ...(n === 1 ? ['canary'] : [])];
      const key = `${role.group}|${tags.join(',')}`;
      if (!tokens.has(key)) {
        const t = (await call(
          '/api/v1/enrollment-tokens',
          { name: key, uses: 1_000_000, ttl_seconds: null, group: role.group, tags },
          adminToken,
        )) as { token: string };
        tokens.set(key, t.token);
      }
      // Hosts drop a few packages each, so no two inventories are quite the same.
      const packages = basePackages.filter(() => rand() > 0.03);
      // A few hosts stopped reporting (always the second one, so small fleets have one too).
      const stale = i === 1 || rand() < 0.05;
      hosts.push({
        name: `${role.prefix}-${String(n).padStart(2, '0')}.${role.tags.includes('dc2') ? 'dc2' : 'dc1'}.example.net`,
        role,
        release,
        token: tokens.get(key)!,
        packages,
        digest: packageDigest(packages),
        enrolDay: Math.floor(rand() * rand() * spec.days * 0.6),
        stopDay: stale ? spec.days - 3 - Math.floor(rand() * 15) : spec.days + 1,
        patchOffset: Math.floor(rand() * 7),
        lastPatchDay: 0,
        rebootDueDay: null,
        neverReports: i === 4 || (i > 4 && rand() < 0.012),
        rebootRun: null,
      });
    }

    const send = async (h: SimHost, report: ReportInput): Promise<void> => {
      await call('/api/v1/reports', report, h.token);
    };
    const facts = (h: SimHost, day: number) => ({
      hostname: h.name,
      os: RELEASES[h.release],
      kernel: inventory.kernel,
      reboot_required: h.rebootDueDay !== null && day < h.rebootDueDay,
    });
    const common = (h: SimHost, day: number) => ({
      schema: REPORT_SCHEMA as typeof REPORT_SCHEMA,
      report_id: randomUUID(),
      collected_at: new Date(clock.now()).toISOString(),
      agent: { version: '0.1.0' },
      host: facts(h, day),
    });

    for (let day = 0; day <= spec.days; day++) {
      // Each day starts with any feed refresh; hosts report in the hours after it, all before endedAt.
      const dayStart = endedAt - (spec.days - day) * DAY_MS - 8 * 3_600_000;
      clock.set(dayStart);
      if (refreshDays.has(day)) {
        known = trackerAsOf(tracker, published, day);
        fixes = fixedVersions(known);
        writeFileSync(feedFile, JSON.stringify(known));
        const r = await server.refreshNow();
        await server.idle();
        log(`day ${day}: feed refresh ${r?.outcome}, ${r?.rematch?.detected ?? 0} detected`);
      }
      for (const h of hosts) {
        if (day < h.enrolDay || day > h.stopDay) continue;
        // A report a day, at a time of day of the host's own.
        clock.set(dayStart + h.patchOffset * 3_600_000);
        if (day === h.enrolDay) {
          const e = (await call('/api/v1/enroll', { token: h.token, hostname: h.name }, '')) as { host_token: string };
          h.token = e.host_token;
          if (h.neverReports) continue;
          await send(h, { ...common(h, day), kind: 'full', digest: h.digest, packages: h.packages });
          continue;
        }
        if (h.neverReports || (day + h.patchOffset) % (spec.reportEvery ?? 1) !== 0) continue;
        if (h.rebootDueDay !== null && day >= h.rebootDueDay) {
          h.rebootDueDay = null;
          // The host is back: its agent sends the boot report for the run that asked for it.
          if (h.rebootRun) {
            const boot = {
              run_id: h.rebootRun.id,
              hostname: h.name,
              lease_id: null,
              boot_id: randomUUID(),
              booted_at: new Date(clock.now() - 60_000).toISOString(),
              kernel: inventory.kernel,
              reboot_still_required: false,
            };
            await call('/api/v1/agent/boot', boot, h.token);
            h.rebootRun = null;
          }
        }
        const patchDay = h.role.patchEvery > 0 && day - h.lastPatchDay >= h.role.patchEvery;
        if (patchDay) h.lastPatchDay = day;
        const baseDigest = h.digest;
        const removed: WirePackage[] = [];
        const added: WirePackage[] = [];
        if (patchDay) {
          const fix = fixes.get(h.release) ?? new Map<string, string>();
          const next = h.packages.map((p) => {
            const to = fix.get(p.source);
            if (!to || compareVersions('deb', p.source_version, to) >= 0 || rand() > h.role.patchShare) return p;
            const upgraded = { ...p, version: to, source_version: to };
            removed.push(p);
            added.push(upgraded);
            return upgraded;
          });
          if (added.length) {
            h.packages = next;
            h.digest = packageDigest(next);
            // k8s nodes reboot one at a time through the lease; over the last two weeks the
            // queue is stuck behind a node that holds it, so theirs are still to come.
            h.rebootDueDay = h.role.group === 'k8s' && day > spec.days - 14 ? spec.days + 1 : day + h.role.rebootAfter;
          }
        }
        if (patchDay) {
          const policy = policyVersions.get(h.role.group);
          if (policy) {
            const run = patchRunOf(h, policy, clock.now(), removed, added, rand);
            // A failed run installed nothing: the host keeps its packages and needs no reboot.
            if (run.outcome === 'failed') {
              h.packages = h.packages.map((p) => removed.find((r) => r.name === p.name && r.arch === p.arch) ?? p);
              h.digest = baseDigest;
              if (added.length) h.rebootDueDay = null;
              removed.length = 0;
              added.length = 0;
            }
            await call('/api/v1/agent/patch-runs', run, h.token);
            // The newest run carries the reboot still to come (policy "never": none is coming).
            if (run.reboot.required && run.reboot.status !== 'policy_never') h.rebootRun = run;
          }
        }
        await send(h, { ...common(h, day), kind: 'delta', base: baseDigest, digest: h.digest, added, removed });
      }
    }
    clock.set(endedAt);
    // The k8s nodes whose reboot is still to come queue for the group's one lease: one gets it,
    // the others wait.
    for (const h of hosts) {
      if (
        h.role.group !== 'k8s' ||
        h.neverReports ||
        h.stopDay <= spec.days ||
        h.rebootRun === null ||
        h.rebootDueDay === null
      )
        continue;
      const lease = (await call(
        '/api/v1/agent/reboot-lease',
        { action: 'acquire', run_id: h.rebootRun.id },
        h.token,
      )) as { granted: boolean };
      log(`${h.name}: reboot lease ${lease.granted ? 'granted' : 'refused, waits'}`);
    }
    await server.idle();
    log(`fleet: ${hosts.length} hosts over ${spec.days} days`);
    return {
      dir,
      dataDir,
      feedFile,
      password: PASSWORD,
      passwordHash,
      hosts: hosts.length,
      endedAt,
      policies: Object.keys(POLICIES),
    };
  } finally {
    await server.close();
  }
}

/**
 * The patch run a host reports for a patch day: the upgrades it made, or (db canaries always,
 * other hosts now and then) a dpkg failure. Reboot state as the agent reports it before the reboot.
 */
function patchRunOf(
  h: SimHost,
  policy: { name: string; version: number; group: string },
  now: number,
  removed: WirePackage[],
  added: WirePackage[],
  rand: () => number,
): PatchRun {
  const canaryFails = h.role.group === 'db' && h.name.startsWith('db-01.');
  const r = rand();
  const outcome: PatchRun['outcome'] =
    added.length === 0 ? 'nothing_to_do' : canaryFails || r < 0.04 ? 'failed' : r < 0.1 ? 'partial' : 'success';
  const broken = outcome === 'failed' || outcome === 'partial' ? added[0] : undefined;
  const rebootNever = (POLICIES[h.role.group] as { reboot?: { mode?: string } }).reboot?.mode === 'never';
  const required = outcome !== 'failed' && added.length > 0;
  const leased = h.role.group === 'k8s';
  return {
    schema: PATCH_RUN_SCHEMA,
    id: randomUUID(),
    host: {
      hostname: h.name,
      machine_id: null,
      root: '/',
      os: {
        id: RELEASES[h.release].id,
        version_id: RELEASES[h.release].version_id,
        codename: RELEASES[h.release].codename,
      },
    },
    policy,
    backend: 'unattended-upgrades',
    mode: 'run',
    started_at: new Date(now - 6 * 60_000).toISOString(),
    finished_at: new Date(now - 60_000).toISOString(),
    outcome,
    skip_reason: null,
    exit_code: outcome === 'failed' || outcome === 'partial' ? 1 : 0,
    changes: added.map((p, i) => ({
      name: p.name,
      arch: p.arch,
      action: 'upgrade' as const,
      from: removed[i]?.version ?? null,
      to: p.version,
      automatic: false,
      ok: outcome === 'failed' ? false : p !== broken,
    })),
    held_back: [],
    errors: broken
      ? [
          {
            kind: 'dpkg' as const,
            where: '/var/log/unattended-upgrades/unattended-upgrades-dpkg.log:42',
            package: broken.name,
            message: `dpkg: error processing package ${broken.name} (--configure): installed ${broken.name} package post-installation script subprocess returned error exit status 1`,
          },
        ]
      : [],
    reboot: {
      required,
      because: required ? ['reboot-required'] : [],
      packages: required ? added.slice(0, 3).map((p) => p.name) : [],
      kernel: {
        running: '6.1.0-40-amd64',
        newest_installed: '6.1.0-40-amd64',
        installed: ['6.1.0-40-amd64'],
        needrestart_status: 1,
        reboot_needed: false,
      },
      status: !required ? 'not_required' : rebootNever ? 'policy_never' : leased ? 'pending_lease' : 'pending_window',
      detail: '',
      lease_id: null,
      requested_at: null,
      back_at: null,
      boot_id_before: null,
    },
    restarts: { needed: [], restarted: [], failed: [], skipped: [] },
    cves_closed: null,
    findings_before: null,
    findings_after: null,
    warnings: [],
  };
}

/**
 * `patchloop server run` through ./bin/patchloop over the fleet's data, the way an installation
 * runs it: a YAML config, the fleet's feed as the Debian source, the built dashboard at /.
 */
export function startFleetServer(fleet: Fleet): Promise<ServerProcess> {
  const configFile = join(fleet.dir, 'server.yaml');
  writeFileSync(
    configFile,
    [
      `data_dir: ${JSON.stringify(fleet.dataDir)}`,
      'admin:',
      '  username: admin',
      `  password_hash: ${JSON.stringify(fleet.passwordHash)}`,
      'feeds:',
      '  refresh_interval: 0',
      '  sources:',
      '    - name: debian',
      `      from: [${JSON.stringify(fleet.feedFile)}]`,
      '',
    ].join('\n'),
  );
  return startServerProcess(['--config', configFile], '127.0.0.1:0', {}, { bin: true });
}
