// An in-process server on a loopback port for API tests: real store, real vulnerability DB
// (imported with `db update`), real HTTP. Time comes from a ManualClock the test controls.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import pino from 'pino';
import { packageDigest, REPORT_SCHEMA, toWirePackage, type Report, type ReportInput } from '../../src/core/protocol.ts';
import type { Inventory } from '../../src/core/types.ts';
import { ManualClock } from '../../src/server/clock.ts';
import { resolveConfig, type ServerConfigInput } from '../../src/server/config.ts';
import { startServer, type RunningServer } from '../../src/server/server.ts';
import { createApiToken, hashPassword } from '../../src/server/store/credentials.ts';
import { importDebianFeed } from './vulndb.ts';

export const ADMIN_PASSWORD = 'correct horse battery staple';

export interface TestServer {
  url: string;
  dataDir: string;
  clock: ManualClock;
  running: RunningServer;
  /** An admin API token (Bearer). */
  adminToken: string;
  close(): Promise<void>;
}

export interface TestServerOptions {
  /** Reuse a data directory (a restart); the feed is then not imported again. */
  dataDir?: string;
  port?: number;
  clock?: ManualClock;
}

export async function startTestServer(
  feed: unknown,
  config: Partial<ServerConfigInput> = {},
  o: TestServerOptions = {},
): Promise<TestServer> {
  const dataDir = o.dataDir ?? mkdtempSync(join(tmpdir(), 'patchloop-server-'));
  if (feed && !o.dataDir) importDebianFeed(dataDir, feed);
  const clock = o.clock ?? new ManualClock('2026-11-01T00:00:00Z');
  const resolved = resolveConfig({
    listen: { host: '127.0.0.1', port: o.port ?? 0 },
    data_dir: dataDir,
    admin: { username: 'admin', password_hash: await hashPassword(ADMIN_PASSWORD) },
    feeds: { refresh_interval: 0 },
    ...config,
  });
  const running = await startServer(resolved, { clock, logger: pino({ level: 'silent' }) });
  const url = running.url;
  const adminToken = createApiToken(running.ctx.store, 'tests').token;
  return { url, dataDir, clock, running, adminToken, close: () => running.close() };
}

export async function api(
  base: string,
  path: string,
  init: {
    method?: string;
    token?: string;
    body?: unknown;
    gzip?: boolean;
    headers?: Record<string, string>;
    raw?: Buffer | string;
  } = {},
): Promise<{ status: number; body: unknown; headers: Headers; text: string }> {
  const headers: Record<string, string> = { ...(init.headers ?? {}) };
  if (init.token) headers.authorization = `Bearer ${init.token}`;
  let body: Buffer | string | undefined = init.raw;
  if (init.body !== undefined) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(init.body);
    if (init.gzip) {
      body = gzipSync(body);
      headers['content-encoding'] = 'gzip';
    }
  }
  const res = await fetch(`${base}${path}`, {
    method: init.method ?? (body === undefined ? 'GET' : 'POST'),
    headers,
    body: typeof body === 'string' || body === undefined ? body : new Uint8Array(body),
  });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // not JSON (CSV, YAML, empty)
  }
  return { status: res.status, body: parsed, headers: res.headers, text };
}

export function fullReportOf(inv: Inventory, hostname: string): ReportInput {
  return {
    schema: REPORT_SCHEMA,
    report_id: randomUUID(),
    kind: 'full',
    collected_at: new Date().toISOString(),
    agent: { version: 'test' },
    host: { hostname, os: inv.os, kernel: inv.kernel, reboot_required: false },
    digest: packageDigest(inv.packages),
    packages: inv.packages.map(toWirePackage),
  };
}

/** The same report as the server holds it once validated (for calling the store directly). */
export function storedReportOf(inv: Inventory, hostname: string): Report {
  return { ...fullReportOf(inv, hostname), warnings: [], skipped_reports: 0 };
}

export async function enrollTestHost(s: TestServer, hostname: string, group = ''): Promise<string> {
  const t = await api(s.url, '/api/v1/enrollment-tokens', { token: s.adminToken, body: { name: hostname, group } });
  const e = await api(s.url, '/api/v1/enroll', { body: { token: (t.body as { token: string }).token, hostname } });
  if (e.status !== 201) throw new Error(`enrolment failed: ${e.status} ${e.text}`);
  return (e.body as { host_token: string }).host_token;
}
