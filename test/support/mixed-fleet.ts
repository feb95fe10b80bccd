// The mixed fleet of real data the counting tests run on: the bookworm host (Debian tracker feed in
// the real schema), an AlmaLinux 9.4 root whose rpm database rpm wrote, booted into its newer
// kernel, against the complete AlmaLinux 9 OSV database, and an Alpine 3.15 root against the real
// secdb. Each root is scanned by `patchloop scan` and reported by the agent's own collector to a
// real server on loopback.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { cpSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { collectSnapshot, type Snapshot } from '../../src/agent/collect.ts';
import { packageDigest, REPORT_SCHEMA, type WirePackage } from '../../src/core/protocol.ts';
import type { ServerConfigInput } from '../../src/server/config.ts';
import { ESTATE, FEEDS, importFeed, rpmRoot, scanJson, temporary, type Report } from './estate.ts';
import { REPO_ROOT, SHARED_DATA } from './paths.ts';
import { api, enrollTestHost, startTestServer, type TestServer } from './server.ts';

/** The AlmaLinux root runs its newer kernel: the older one's CVEs that the newer fixes are dormant. */
export const ALMA_KERNEL = '5.14.0-427.18.1.el9_4.x86_64';

export interface FleetHost {
  name: string;
  root: string;
  kernel?: string;
  /** `patchloop scan --format json` of its root, with the same vulnerability DB as the server. */
  scan: Report;
  id: number;
  /** Its agent's credential, and what its collector found (sent as its first report). */
  token: string;
  snap: Snapshot;
}

export interface MixedFleet {
  server: TestServer;
  dataDir: string;
  /** Debian, AlmaLinux, Alpine, in that order. */
  hosts: FleetHost[];
}

/** The Alpine 3.15 root of the Alpine scan tests. */
function alpineRoot(): string {
  const root = temporary('alpine-3.15');
  cpSync(join(ESTATE, 'alpine/etc-3.15'), join(root, 'etc'), { recursive: true });
  mkdirSync(join(root, 'lib/apk/db'), { recursive: true });
  cpSync(join(ESTATE, 'alpine/installed-3.15'), join(root, 'lib/apk/db/installed'));
  return root;
}

/**
 * Imports the fleet's feeds (and `extraFeeds`, such as KEV and EPSS) into a new data directory,
 * starts a server on it, scans each root and reports it.
 */
export async function startMixedFleet(
  extraFeeds: [string, string[]][] = [],
  config: Partial<ServerConfigInput> = {},
): Promise<MixedFleet> {
  const dataDir = temporary('data-fleet');
  const feeds: [string, string[]][] = [
    ['debian', [join(REPO_ROOT, 'test/fixtures/debian/bookworm-host-tracker.json')]],
    ['almalinux', [join(FEEDS, 'almalinux/osv/almalinux9')]],
    ['alpine', [join(FEEDS, 'alpine/secdb-json'), join(FEEDS, 'alpine/secdb-yaml')]],
    ...extraFeeds,
  ];
  for (const [source, inputs] of feeds) await importFeed(source, inputs, dataDir);
  const roots: Omit<FleetHost, 'scan' | 'id' | 'token' | 'snap'>[] = [
    { name: 'debian-1', root: join(SHARED_DATA, 'pkgdb/dpkg/bookworm-host'), kernel: '6.1.0-40-amd64' },
    { name: 'alma-1', root: rpmRoot('almalinux-9.4.tsv', 'almalinux-9.4'), kernel: ALMA_KERNEL },
    { name: 'alpine-1', root: alpineRoot() },
  ];
  const server = await startTestServer(null, config, { dataDir });
  const hosts: FleetHost[] = [];
  for (const r of roots) {
    const scan = await scanJson(r.root, dataDir, r.kernel ? ['--kernel', r.kernel] : []);
    const token = await enrollTestHost(server, r.name, 'fleet');
    // What the agent sends: its own collector's snapshot of the root, as a full report.
    const snap = await collectSnapshot({ root: r.root, kernel: r.kernel, hostname: r.name });
    await sendFullReport(server, token, snap, snap.packages);
    const list = (await api(server.url, `/api/v1/hosts?search=${r.name}`, { token: server.adminToken })).body as {
      items: { id: number; hostname: string }[];
    };
    hosts.push({ ...r, scan, token, snap, id: list.items.find((h) => h.hostname === r.name)!.id });
  }
  return { server, dataDir, hosts };
}

/** A full report of these packages, as the agent sends it after collecting `snap`. */
export async function sendFullReport(
  server: TestServer,
  token: string,
  snap: Snapshot,
  packages: WirePackage[],
): Promise<void> {
  const body = {
    schema: REPORT_SCHEMA,
    report_id: randomUUID(),
    kind: 'full',
    collected_at: snap.collected_at,
    agent: { version: 'test' },
    host: snap.host,
    digest: packageDigest(packages),
    packages,
    warnings: snap.warnings,
  };
  const sent = await api(server.url, '/api/v1/reports', { token, body, gzip: true });
  assert.equal(sent.status, 200, sent.text);
}
