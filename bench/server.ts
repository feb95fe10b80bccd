// `npm run bench:server [-- --hosts N --packages N --concurrency N --keep]`
// Simulates a fleet doing its daily run against a real `patchloop server` process on loopback:
//   1. enrolment of every host;
//   2. first full inventories (target ≥ 100 hosts/s);
//   3. the next day's delta reports, a quarter of the hosts having upgraded packages (≥ 1,000 hosts/s);
//   4. a feed refresh (new advisories, fixes published, withdrawn entries) and the re-match of the
//      whole fleet it triggers (≤ 60 s);
//   5. the dashboard's API calls (statistics p95 ≤ 50 ms; every page's calls p95 ≤ 100 ms);
// and the server's peak RSS (≤ 1 GiB). The fleet and the vulnerability DB come from
// bench/lib/fleet.ts (seeded, in the real formats; the export benchmark uses the same).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { gzipSync } from 'node:zlib';
import {
  EMPTY_DIGEST,
  keyHash,
  packageDelta,
  packageKey,
  REPORT_SCHEMA,
  toggleDigest,
  type WirePackage,
} from '../src/core/protocol.ts';
import { reportId } from '../src/agent/spool.ts';
import { startServerProcess } from '../test/support/server-process.ts';
import { runCliFromSources } from '../test/support/cli.ts';
import { fleetOf, RELEASES, writeVulnDb, type HostSpec } from './lib/fleet.ts';

/** What deploy/systemd/patchloop-server.service gives the server in NODE_OPTIONS. */
const SERVER_NODE_OPTIONS = '--max-old-space-size=512';

const { values: args } = parseArgs({
  options: {
    hosts: { type: 'string', default: '10000' },
    packages: { type: 'string', default: '1500' },
    concurrency: { type: 'string', default: '16' },
    keep: { type: 'boolean', default: false },
    /** V8 options for the server process (the systemd unit sets the same by default). */
    'server-node-options': { type: 'string', default: SERVER_NODE_OPTIONS },
    /** Write a CPU profile of the server process into this directory. */
    profile: { type: 'string' },
  },
});
const HOSTS = Number(args.hosts);
const PACKAGES = Number(args.packages);
const CONCURRENCY = Number(args.concurrency);
const fleet = fleetOf(PACKAGES);

// ---------------------------------------------------------------- HTTP
// A fresh connection pool per phase: idle keep-alive sockets may have been closed by the server
// while the next phase's reports were being prepared.
const pool_ = { agent: new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY }) };
function freshConnections(): void {
  pool_.agent.destroy();
  pool_.agent = new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY });
}
/** The server under test, set once it listens. */
const target = { url: new URL('http://127.0.0.1') };

function request(
  method: string,
  path: string,
  token: string,
  body?: Buffer,
  gz = false,
): Promise<{ status: number; body: string; ms: number }> {
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { authorization: `Bearer ${token}` };
    if (body) {
      headers['content-type'] = 'application/json';
      headers['content-length'] = String(body.length);
      if (gz) headers['content-encoding'] = 'gzip';
    }
    const req = http.request(
      { host: target.url.hostname, port: target.url.port, path, method, headers, agent: pool_.agent },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            body: Buffer.concat(chunks).toString('utf8'),
            ms: performance.now() - t0,
          }),
        );
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

async function pool<T>(items: T[], n: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: n }, async () => {
      while (next < items.length) await fn(items[next++]);
    }),
  );
}

// Package hashes repeat across the fleet: remembering them keeps preparing reports quick.
const hashMemo = new Map<string, Uint32Array>();
function packageDigest(packages: WirePackage[]): string {
  return toggleDigest(
    EMPTY_DIGEST,
    packages.map((p) => {
      const k = packageKey(p);
      let h = hashMemo.get(k);
      if (!h) {
        h = keyHash(k);
        hashMemo.set(k, h);
      }
      return h;
    }),
  );
}

export function reportBody(
  h: HostSpec,
  token: string,
  kind: 'full' | 'delta',
  day: number,
): { token: string; body: Buffer; digest: string } {
  const now = fleet.packagesOf(h, day);
  const host = { hostname: h.hostname, os: h.release.os, kernel: now.kernel, reboot_required: false };
  const common = {
    schema: REPORT_SCHEMA,
    report_id: reportId(),
    collected_at: new Date().toISOString(),
    agent: { version: 'bench' },
    host,
    digest: packageDigest(now.packages),
  };
  let report: object;
  if (kind === 'full') report = { ...common, kind: 'full', packages: now.packages };
  else {
    const before = fleet.packagesOf(h, day - 1).packages;
    report = { ...common, kind: 'delta', base: packageDigest(before), ...packageDelta(before, now.packages) };
  }
  return { token, body: gzipSync(JSON.stringify(report), { level: 6 }), digest: common.digest };
}

/** CPU seconds the process has used (user + system), so figures can be read on a busy machine. */
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

function peakRss(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1] ?? 0) * 1024;
}

function p95(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil(s.length * 0.95) - 1)];
}

// ---------------------------------------------------------------- run
const rows: { what: string; figure: string; target: string; ok: boolean }[] = [];
const log = (line: string): void => void process.stdout.write(`${line}\n`);
const row = (what: string, value: number, unit: string, target: string, ok: boolean): void => {
  rows.push({ what, figure: `${value.toFixed(value >= 100 ? 0 : 1)} ${unit}`, target, ok });
  log(`  ${what}: ${value.toFixed(1)} ${unit} (target ${target}) ${ok ? 'ok' : 'MISSED'}`);
};

if (import.meta.main)
  log(
    `machine: ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB; node ${process.version}`,
  );
if (import.meta.main)
  log(
    `server NODE_OPTIONS: ${args['server-node-options'] || '(none)'} (as in deploy/systemd/patchloop-server.service)`,
  );
if (import.meta.main)
  log(
    `fleet: ${HOSTS} hosts × ${PACKAGES} packages; ${RELEASES.map((r) => `${r.name} ${Math.round(r.share * 100)}%`).join(', ')}; ${CONCURRENCY} concurrent connections`,
  );

async function main(): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), 'patchloop-bench-'));
  const t0 = performance.now();
  const entries = await writeVulnDb(dataDir, 1);
  log(
    `vulnerability DB: ${entries} advisory entries over ${RELEASES.length} releases (generated in ${((performance.now() - t0) / 1000).toFixed(1)} s)`,
  );
  const config = join(dataDir, 'server.yaml');
  writeFileSync(config, `data_dir: ${dataDir}\nfeeds:\n  refresh_interval: 0\nlog_level: warn\n`);
  const nodeOptions = [args['server-node-options'], args.profile ? `--cpu-prof --cpu-prof-dir=${args.profile}` : '']
    .join(' ')
    .trim();
  const server = await startServerProcess(
    ['--config', config],
    '127.0.0.1:0',
    nodeOptions ? { NODE_OPTIONS: nodeOptions } : {},
  );
  target.url = new URL(server.url);
  const pid = server.child.pid!;
  try {
    const enrolToken = (
      await runCliFromSources(['server', 'enrollment-token', '--config', config, '--unlimited', '--ttl', '2h'])
    ).stdout.trim();

    // 1. Enrolment.
    const specs = Array.from({ length: HOSTS }, (_, i) => fleet.hostSpec(i));
    const tokens: string[] = new Array(HOSTS);
    let t = performance.now();
    await pool(specs, CONCURRENCY, async (h) => {
      const body = Buffer.from(JSON.stringify({ token: enrolToken, hostname: h.hostname }));
      const res = await new Promise<{ status: number; body: string }>((resolve, reject) => {
        const req = http.request(
          {
            host: target.url.hostname,
            port: target.url.port,
            path: '/api/v1/enroll',
            method: 'POST',
            agent: pool_.agent,
            headers: { 'content-type': 'application/json', 'content-length': String(body.length) },
          },
          (r) => {
            let s = '';
            r.on('data', (c) => (s += c));
            r.on('end', () => resolve({ status: r.statusCode ?? 0, body: s }));
          },
        );
        req.on('error', reject);
        req.end(body);
      });
      if (res.status !== 201) throw new Error(`enrolment failed: ${res.status} ${res.body}`);
      tokens[h.index] = (JSON.parse(res.body) as { host_token: string }).host_token;
    });
    log(`enrolment: ${HOSTS} hosts in ${((performance.now() - t) / 1000).toFixed(1)} s`);

    // 2. First full inventories (bodies prepared before the clock starts).
    t = performance.now();
    const fulls = specs.map((h) => reportBody(h, tokens[h.index], 'full', 0));
    const size = fulls.reduce((n, b) => n + b.body.length, 0);
    log(
      `prepared ${HOSTS} full reports (${(size / HOSTS / 1024).toFixed(1)} KiB gzip each) in ${((performance.now() - t) / 1000).toFixed(1)} s`,
    );
    let findings = 0;
    freshConnections();
    let cpu = cpuSeconds(pid);
    t = performance.now();
    await pool(fulls, CONCURRENCY, async (r) => {
      const res = await request('POST', '/api/v1/reports', r.token, r.body, true);
      if (res.status !== 200) throw new Error(`full report: ${res.status} ${res.body.slice(0, 300)}`);
      findings += (JSON.parse(res.body) as { changes: { open: number } }).changes.open;
    });
    let secs = (performance.now() - t) / 1000;
    log(
      `first full inventories: ${HOSTS} in ${secs.toFixed(1)} s; ${Math.round(findings / HOSTS)} open findings per host on average; server CPU ${(((cpuSeconds(pid) - cpu) * 1000) / HOSTS).toFixed(1)} ms per host`,
    );
    row('first full inventories', HOSTS / secs, 'hosts/s', '≥ 100', HOSTS / secs >= 100);
    fulls.length = 0;

    // 3. The next day: delta reports.
    t = performance.now();
    const deltas = specs.map((h) => reportBody(h, tokens[h.index], 'delta', 1));
    log(`prepared ${HOSTS} delta reports in ${((performance.now() - t) / 1000).toFixed(1)} s`);
    let changed = 0;
    freshConnections();
    cpu = cpuSeconds(pid);
    t = performance.now();
    await pool(deltas, CONCURRENCY, async (r) => {
      const res = await request('POST', '/api/v1/reports', r.token, r.body, true);
      if (res.status !== 200) throw new Error(`delta report: ${res.status} ${res.body.slice(0, 300)}`);
      const c = (JSON.parse(res.body) as { changes: { resolved: number; detected: number } }).changes;
      if (c.resolved || c.detected) changed++;
    });
    secs = (performance.now() - t) / 1000;
    log(
      `daily delta reports: ${HOSTS} in ${secs.toFixed(1)} s; ${changed} hosts had finding changes; server CPU ${(((cpuSeconds(pid) - cpu) * 1000) / HOSTS).toFixed(2)} ms per host`,
    );
    row('daily delta reports', HOSTS / secs, 'hosts/s', '≥ 1,000', HOSTS / secs >= 1000);

    // 4. Feed refresh: new vulnerability data, then the server re-matches every host.
    t = performance.now();
    const entries2 = await writeVulnDb(dataDir, 2);
    log(
      `vulnerability DB generation 2: ${entries2} entries (written in ${((performance.now() - t) / 1000).toFixed(1)} s)`,
    );
    const adminToken = createApiToken(dataDir);
    freshConnections();
    cpu = cpuSeconds(pid);
    t = performance.now();
    const started = await request('POST', '/api/v1/feeds/refresh', adminToken, Buffer.from('{}'));
    if (started.status !== 202) throw new Error(`refresh: ${started.status} ${started.body}`);
    let last:
      | {
          outcome: string | null;
          hosts: number | null;
          detected: number | null;
          resolved: number | null;
          duration_ms: number | null;
        }
      | undefined;
    for (;;) {
      await new Promise((r) => setTimeout(r, 250));
      const f = JSON.parse((await request('GET', '/api/v1/feeds', adminToken)).body) as {
        refreshing: boolean;
        recent: (typeof last)[];
      };
      if (!f.refreshing && f.recent[0]?.outcome) {
        last = f.recent[0];
        break;
      }
    }
    secs = (performance.now() - t) / 1000;
    log(
      `feed refresh: ${last?.hosts} hosts re-matched, ${last?.detected} detected, ${last?.resolved} resolved, in ${secs.toFixed(1)} s (server CPU ${(cpuSeconds(pid) - cpu).toFixed(1)} s)`,
    );
    row('re-match of the fleet after a feed refresh', secs, 's', '≤ 60 s', secs <= 60);

    // 5. Dashboard API calls.
    const hostId = Math.floor(HOSTS / 2) + 1;
    const topVuln = (
      JSON.parse((await request('GET', '/api/v1/vulnerabilities?sort=hosts&per_page=1', adminToken)).body) as {
        items: { id: string }[];
      }
    ).items[0].id;
    const statsCalls = [
      '/api/v1/stats/overview',
      '/api/v1/stats/trends?days=90',
      '/api/v1/stats/overview?group=',
      '/api/v1/vulnerabilities?sort=hosts&per_page=10',
      '/api/v1/vulnerabilities?sort=severity&per_page=10',
    ];
    const pageCalls = [
      '/api/v1/hosts?sort=open&per_page=50',
      '/api/v1/hosts?state=stale&per_page=50',
      '/api/v1/hosts?search=host-0421&per_page=50',
      `/api/v1/hosts/${hostId}`,
      `/api/v1/hosts/${hostId}/findings?per_page=50`,
      `/api/v1/hosts/${hostId}/packages?per_page=100`,
      `/api/v1/hosts/${hostId}/history?limit=100`,
      '/api/v1/findings?severity=critical&per_page=50',
      '/api/v1/findings?fixable=true&sort=age&per_page=50',
      '/api/v1/findings?overdue=true&per_page=50',
      `/api/v1/findings?vulnerability=${topVuln}&per_page=50`,
      '/api/v1/vulnerabilities?search=CVE-2021-1&per_page=50',
      `/api/v1/vulnerabilities/${topVuln}`,
      '/api/v1/events?per_page=100',
    ];
    const measure = async (path: string, n: number): Promise<number> => {
      const times: number[] = [];
      for (let i = 0; i < n; i++) {
        const r = await request('GET', path, adminToken);
        if (r.status !== 200) throw new Error(`${path}: ${r.status} ${r.body.slice(0, 200)}`);
        times.push(r.ms);
      }
      return p95(times);
    };
    let worstStats = 0;
    for (const c of statsCalls) {
      const p = await measure(c, 100);
      log(`  p95 ${p.toFixed(1)} ms  ${c}`);
      worstStats = Math.max(worstStats, p);
    }
    row('fleet statistics queries, worst p95', worstStats, 'ms', '≤ 50 ms', worstStats <= 50);
    let worstPage = worstStats;
    for (const c of pageCalls) {
      const p = await measure(c, 60);
      log(`  p95 ${p.toFixed(1)} ms  ${c}`);
      worstPage = Math.max(worstPage, p);
    }
    row('dashboard page API calls, worst p95', worstPage, 'ms', '≤ 100 ms', worstPage <= 100);

    const rss = peakRss(pid);
    row('server peak RSS', rss / 2 ** 20, 'MiB', '≤ 1024 MiB', rss <= 2 ** 30);
  } finally {
    await server.stop('SIGTERM');
    pool_.agent.destroy();
    if (!args.keep) rmSync(dataDir, { recursive: true, force: true });
    else log(`data kept in ${dataDir}`);
  }

  log('');
  for (const r of rows)
    log(`${r.what.padEnd(48)} ${r.figure.padStart(14)}   target ${r.target.padEnd(10)} ${r.ok ? 'ok' : 'MISSED'}`);
  log(`\nreproduce: npm run bench:server -- --hosts ${HOSTS} --packages ${PACKAGES} --concurrency ${CONCURRENCY}`);
  process.exitCode = rows.every((r) => r.ok) ? 0 : 1;
}

if (import.meta.main) await main();

function createApiToken(dir: string): string {
  // An admin API token straight in the store (the server shares it through WAL).
  const out = execFileSync(process.execPath, [
    '--input-type=module',
    '-e',
    `
    import { Store } from ${JSON.stringify(new URL('../src/server/store/store.ts', import.meta.url).href)};
    import { createApiToken } from ${JSON.stringify(new URL('../src/server/store/credentials.ts', import.meta.url).href)};
    import { systemClock } from ${JSON.stringify(new URL('../src/server/clock.ts', import.meta.url).href)};
    const s = Store.open(${JSON.stringify(join(dir, 'server.sqlite'))}, systemClock);
    process.stdout.write(createApiToken(s, 'bench').token);
    s.close();
  `,
  ]);
  return out.toString();
}
