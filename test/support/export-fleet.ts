// A small real fleet behind a real server for the exporter's tests: the real bookworm host
// (Debian tracker feed in the real schema), an AlmaLinux 9.4 host whose rpm database rpm
// itself wrote, matched against the complete AlmaLinux 9 OSV database from the shared data,
// and the changes a fleet goes through (an upgrade that fixes findings, a feed refresh that
// adds an advisory and publishes a fix, a host that stops reporting, a removed host).
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Inventory } from '../../src/core/types.ts';
import { readInventory } from '../../src/inventory/index.ts';
import { DAY_MS } from '../../src/server/clock.ts';
import type { ServerConfigInput } from '../../src/server/config.ts';
import { api, enrollTestHost, fullReportOf, startTestServer, type TestServer } from './server.ts';
import { BOOKWORM_ROOT } from './fixtures.ts';
import { CLI, SHARED_DATA } from './paths.ts';
import { buildRpmRoot } from './estate.ts';
import { importDebianFeed } from './vulndb.ts';

export const BOOKWORM_KERNEL = '6.1.0-40-amd64';
export const ALMA_KERNEL = '5.14.0-427.13.1.el9_4.x86_64';

/** The AlmaLinux 9.4 root: rpm's own database for the estate package list, and its os-release. */
export function almaRoot(into: string): string {
  return buildRpmRoot('almalinux-9.4.tsv', 'almalinux-9.4', join(into, 'alma-root'));
}

export interface FleetHost {
  name: string;
  group: string;
  token: string;
  inventory: Inventory | null;
  rebootRequired?: boolean;
}

export class TestFleet {
  readonly server: TestServer;
  readonly work: string;
  readonly feedFile: string;
  readonly hosts = new Map<string, FleetHost>();
  readonly bookworm: Inventory;
  readonly alma: Inventory;

  private constructor(server: TestServer, work: string, feedFile: string, bookworm: Inventory, alma: Inventory) {
    this.server = server;
    this.work = work;
    this.feedFile = feedFile;
    this.bookworm = bookworm;
    this.alma = alma;
  }

  /** A server with the Debian test feed (V1 data) and the AlmaLinux 9 OSV database; no hosts yet. */
  static async start(feed: unknown, config: Partial<ServerConfigInput> = {}): Promise<TestFleet> {
    const work = mkdtempSync(join(tmpdir(), 'patchloop-fleet-'));
    const dataDir = join(work, 'data');
    mkdirSync(dataDir);
    importDebianFeed(dataDir, feed);
    execFileSync(
      process.execPath,
      [
        CLI,
        'db',
        'update',
        '--source',
        'almalinux',
        '--from',
        join(SHARED_DATA, 'feeds/almalinux/osv/almalinux9'),
        '--data-dir',
        dataDir,
      ],
      {
        stdio: 'pipe',
      },
    );
    const feedFile = join(dataDir, 'inputs', 'debian.json');
    const server = await startTestServer(
      null,
      { ...config, feeds: { refresh_interval: 0, sources: [{ name: 'debian', from: [feedFile] }] } },
      { dataDir },
    );
    const bookworm = await readInventory(BOOKWORM_ROOT, { kernel: BOOKWORM_KERNEL });
    const alma = await readInventory(almaRoot(work), { kernel: ALMA_KERNEL });
    return new TestFleet(server, work, feedFile, bookworm, alma);
  }

  get store() {
    return this.server.running.ctx.store;
  }

  async enroll(name: string, group: string, inventory: Inventory | null, rebootRequired = false): Promise<FleetHost> {
    const token = await enrollTestHost(this.server, name, group);
    const host = { name, group, token, inventory, rebootRequired };
    this.hosts.set(name, host);
    return host;
  }

  /** A full report of the host's (current) inventory. */
  async report(name: string, inventory?: Inventory): Promise<void> {
    const host = this.hosts.get(name);
    if (!host) throw new Error(`no host ${name}`);
    if (inventory) host.inventory = inventory;
    if (!host.inventory) throw new Error(`host ${name} has no inventory`);
    const body = fullReportOf(host.inventory, name) as { host: { reboot_required: boolean } };
    body.host.reboot_required = host.rebootRequired === true;
    const r = await api(this.server.url, '/api/v1/reports', { token: host.token, body, gzip: true });
    if (r.status !== 200) throw new Error(`report of ${name}: ${r.status} ${r.text}`);
  }

  /** Replaces the Debian feed and runs the server's refresh (which re-matches the fleet). */
  async refresh(feed: unknown): Promise<void> {
    writeFileSync(this.feedFile, JSON.stringify(feed));
    const r = await this.server.running.refreshNow();
    if (!r || r.outcome !== 'updated') throw new Error(`feed refresh: ${JSON.stringify(r)}`);
    await this.server.running.idle();
  }

  advance(days: number): void {
    this.server.clock.advance(days * DAY_MS);
  }

  /** An admin API call on the server (its own statistics). */
  async get<T>(path: string): Promise<T> {
    const r = await api(this.server.url, path, { token: this.server.adminToken });
    if (r.status !== 200) throw new Error(`GET ${path}: ${r.status} ${r.text}`);
    return r.body as T;
  }

  async removeHost(name: string): Promise<void> {
    const list = await this.get<{ items: { id: number; hostname: string }[] }>(
      `/api/v1/hosts?search=${encodeURIComponent(name)}`,
    );
    const id = list.items.find((h) => h.hostname === name)?.id;
    if (id === undefined) throw new Error(`no host ${name} on the server`);
    const r = await api(this.server.url, `/api/v1/hosts/${id}`, { token: this.server.adminToken, method: 'DELETE' });
    if (r.status !== 204) throw new Error(`DELETE host ${name}: ${r.status} ${r.text}`);
    this.hosts.delete(name);
  }

  async close(): Promise<void> {
    await this.server.close();
    rmSync(this.work, { recursive: true, force: true });
  }
}
