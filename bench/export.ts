// Export to Elasticsearch / OpenSearch: the server's exporter rebuilding the indices of a
// 10,000-host fleet into the test node, and an incremental export of a fleet's day.
//
// The fleet is the server benchmark's (bench/lib/fleet.ts: its releases, package universe and
// generated vulnerability DB), ingested straight into a store here (no HTTP: this measures
// the export, not the server). Day 0: every host's first inventory; day 1: the next day's
// inventories, a quarter of the hosts having upgraded. Figures:
//   - rebuild: recreate the state indices and resend the whole history from the day-0 store;
//   - incremental: the exporter's run after day 1 (resolved and new findings, events, hosts);
// each as wall time and documents per second into the node (scripts/opensearch-node; started
// here when PATCHLOOP_TEST_OPENSEARCH_URL does not name a running one).
//
// Size: PATCHLOOP_BENCH_EXPORT_HOSTS (10000), PATCHLOOP_BENCH_EXPORT_PACKAGES (1500). The
// day-0 store is kept in the bench cache (regenerated with --fresh, or when the store schema
// changes).
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { packageDigest, REPORT_SCHEMA, type Report } from '../src/core/protocol.ts';
import { SearchClient } from '../src/export/client.ts';
import { exportNames } from '../src/export/names.ts';
import { ManualClock } from '../src/server/clock.ts';
import { StoreExporter, type ExportRunReport } from '../src/server/export/exporter.ts';
import { FleetMatcher } from '../src/server/fleet-matcher.ts';
import { createEnrollmentToken, enrollHost } from '../src/server/store/credentials.ts';
import { ingestReport } from '../src/server/store/ingest.ts';
import { SCHEMA } from '../src/server/store/schema.ts';
import { Store } from '../src/server/store/store.ts';
import { VulnDb } from '../src/vulndb/reader.ts';
import { fleetOf, writeVulnDb, type Fleet } from './lib/fleet.ts';
import { fmtMs } from './lib/measure.ts';
import type { BenchContext, BenchRow, BenchSection } from './lib/context.ts';

const HOSTS = Number(process.env.PATCHLOOP_BENCH_EXPORT_HOSTS ?? 10_000);
const PACKAGES = Number(process.env.PATCHLOOP_BENCH_EXPORT_PACKAGES ?? 1_500);
const DAY0 = '2026-11-01T06:00:00Z';
const DAY_MS = 86_400_000;

function report(fleet: Fleet, index: number, day: number): Report {
  const h = fleet.hostSpec(index);
  const { packages, kernel } = fleet.packagesOf(h, day);
  return {
    schema: REPORT_SCHEMA,
    report_id: `bench-${index}-${day}`,
    kind: 'full',
    collected_at: new Date(Date.parse(DAY0) + day * DAY_MS).toISOString(),
    agent: { version: 'bench' },
    host: { hostname: h.hostname, os: h.release.os, kernel, reboot_required: false },
    digest: packageDigest(packages),
    warnings: [],
    skipped_reports: 0,
    packages,
  } as Report;
}

function ingestDay(
  fleet: Fleet,
  store: Store,
  matcher: FleetMatcher,
  ids: number[],
  day: number,
): { ms: number; findings: number } {
  const t = performance.now();
  let findings = 0;
  for (let i = 0; i < ids.length; i++) {
    const out = ingestReport(store, matcher, ids[i], report(fleet, i, day));
    if (out.kind !== 'ack') throw new Error(`host ${i} day ${day}: ${JSON.stringify(out)}`);
    findings += out.ack.changes.open;
  }
  return { ms: performance.now() - t, findings };
}

function nodeUrl(ctx: BenchContext): { url: string; started: boolean } {
  const given = process.env.PATCHLOOP_TEST_OPENSEARCH_URL;
  if (given) return { url: given, started: false };
  const script = join(ctx.repo, 'scripts/opensearch-node');
  try {
    execFileSync('sh', [script, 'status'], { stdio: 'pipe' });
    return { url: execFileSync('sh', [script, 'url'], { encoding: 'utf8' }).trim(), started: false };
  } catch {
    const out = execFileSync('sh', [script, 'start'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
    return { url: out.trim().split('\n').pop() as string, started: true };
  }
}

/**
 * CPU seconds of a process (user + system: fields 14 and 15 of /proc/PID/stat, in clock ticks
 * of 1/100 s), to read the figures on a busy shared machine.
 */
function cpuSeconds(pid: number): number | null {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return null;
  }
}

/** The process of the node at `url` when scripts/opensearch-node runs it (from its directory's pid and port files). */
function nodePid(ctx: BenchContext, url: string): number | null {
  const dir = process.env.PATCHLOOP_TEST_OPENSEARCH_DIR ?? join(ctx.repo, '.cache/opensearch');
  try {
    if (readFileSync(join(dir, 'node.port'), 'utf8').trim() !== new URL(url).port) return null;
    return Number(readFileSync(join(dir, 'node.pid'), 'utf8').trim());
  } catch {
    return null;
  }
}

/** Runs `run`, with its wall time and the CPU time this process and the node spent meanwhile. */
async function timed<T>(pid: number | null, run: () => Promise<T>): Promise<{ value: T; ms: number; cpu: string }> {
  const node0 = pid === null ? null : cpuSeconds(pid);
  const self0 = process.cpuUsage();
  const t = performance.now();
  const value = await run();
  const ms = performance.now() - t;
  const self = process.cpuUsage(self0);
  const node1 = pid === null ? null : cpuSeconds(pid);
  const nodeCpu = node0 === null || node1 === null ? 'unknown' : `${(node1 - node0).toFixed(0)} s`;
  return {
    value,
    ms,
    cpu: `CPU: exporter ${((self.user + self.system) / 1e6).toFixed(0)} s, OpenSearch node ${nodeCpu}`,
  };
}

function documents(r: ExportRunReport): number {
  const s = r.sent;
  return s.hosts + s.findings + s.events + s.patchRuns + s.summaries;
}

export const section: BenchSection = {
  async run(ctx: BenchContext): Promise<BenchRow[]> {
    const fleet = fleetOf(PACKAGES);
    // Keyed by the store schema too: a store built by another schema is not reused.
    const schema = createHash('sha1').update(SCHEMA).digest('hex').slice(0, 8);
    const base = join(ctx.cacheDir, `export-fleet-${HOSTS}x${PACKAGES}-${schema}`);
    const day0 = join(base, 'day0.sqlite');
    const clock = new ManualClock(DAY0);
    if (ctx.fresh || !existsSync(day0)) {
      // Stores of this size built by other schemas are of no use any more.
      for (const old of readdirSync(ctx.cacheDir).filter(
        (n) => n === `export-fleet-${HOSTS}x${PACKAGES}` || n.startsWith(`export-fleet-${HOSTS}x${PACKAGES}-`),
      )) {
        rmSync(join(ctx.cacheDir, old), { recursive: true, force: true });
      }
      mkdirSync(base, { recursive: true });
      const entries = await writeVulnDb(base, 1);
      const store = Store.open(join(base, 'build.sqlite'), clock);
      const matcher = new FleetMatcher(VulnDb.open(base), store.interner, store.matchGeneration(), {
        today: () => DAY0.slice(0, 10),
      });
      const { token } = createEnrollmentToken(store, { name: 'bench', uses: null, ttlMs: 365 * DAY_MS });
      const ids = Array.from(
        { length: HOSTS },
        (_, i) => enrollHost(store, { token, hostname: fleet.hostSpec(i).hostname })!.host_id,
      );
      const d0 = ingestDay(fleet, store, matcher, ids, 0);
      store.db.exec('PRAGMA wal_checkpoint(TRUNCATE)');
      store.close();
      copyFileSync(join(base, 'build.sqlite'), day0);
      rmSync(join(base, 'build.sqlite'));
      ctx.log(
        `generated ${day0}: ${HOSTS} hosts × ${PACKAGES} packages, ${entries} advisory entries; ${d0.findings} open findings (${Math.round(d0.findings / HOSTS)} per host), ingested in ${fmtMs(d0.ms)}`,
      );
    } else {
      ctx.log(`using ${day0} (pass --fresh to regenerate)`);
    }

    // Work on a copy: the cached day-0 store stays as it is.
    const work = join(base, 'run.sqlite');
    for (const f of readdirSync(base).filter((n) => n.startsWith('run.sqlite'))) rmSync(join(base, f));
    copyFileSync(day0, work);
    const store = Store.open(work, clock);
    const node = nodeUrl(ctx);
    const nodeProcess = nodePid(ctx, node.url);
    const client = new SearchClient({ url: node.url, requestTimeoutMs: 120_000 });
    const names = exportNames('bench-export');
    const exporter = new StoreExporter(store, client, {
      names,
      target: `${client.url}|${names.prefix}`,
      retention: { resolved: 30 * DAY_MS, stale: 30 * DAY_MS },
    });
    const rows: BenchRow[] = [];
    try {
      const product = await client.info();
      ctx.log(
        `cluster: ${product.kind} ${product.version} at ${client.url} (scripts/opensearch-node; bulk batches of ${client.options.bulk.maxDocs} documents)`,
      );
      for (const stream of [names.vulnerabilityEvents, names.hostSummaries])
        await client.request({ method: 'DELETE', path: `/_data_stream/${stream}`, accept: [404] });

      const { value: rebuilt, ms: rebuildMs, cpu: rebuildCpu } = await timed(nodeProcess, () => exporter.rebuild());
      if (rebuilt.unavailable || rebuilt.bulk.rejected)
        throw new Error(`rebuild: ${rebuilt.unavailable ?? `${rebuilt.bulk.rejected} rejected`}`);
      const docs = documents(rebuilt);
      ctx.log(
        `rebuild: ${rebuilt.sent.hosts} host, ${rebuilt.sent.findings} finding, ${rebuilt.sent.events} event documents in ${rebuilt.bulk.requests} _bulk requests, ${fmtMs(rebuildMs)}; ${rebuildCpu}`,
      );
      rows.push(
        {
          what: `rebuild the indices, ${HOSTS.toLocaleString('en')}-host fleet: wall time`,
          figure: fmtMs(rebuildMs),
          target: '≤ 60 min',
          ok: rebuildMs <= 3_600_000,
        },
        {
          what: 'export throughput into the test node (rebuild)',
          figure: `${Math.round(docs / (rebuildMs / 1000))} docs/s`,
          target: '≥ 2,000',
          ok: docs / (rebuildMs / 1000) >= 2000,
        },
      );

      // Day 1: the fleet's next inventories, then the exporter's incremental run.
      clock.set(Date.parse(DAY0) + DAY_MS);
      const matcher = new FleetMatcher(VulnDb.open(base), store.interner, store.matchGeneration(), {
        today: () => '2026-11-02',
      });
      const ids = store.all<{ id: number }>('SELECT id FROM hosts ORDER BY id').map((r) => r.id);
      const d1 = ingestDay(fleet, store, matcher, ids, 1);
      const changed =
        store.get<{ n: number | null }>(
          "SELECT sum(count) AS n FROM events WHERE type IN ('detected', 'resolved', 'reopened') AND at >= ?",
          Date.parse(DAY0) + DAY_MS,
        )!.n ?? 0;
      ctx.log(`day 1 ingested in ${fmtMs(d1.ms)}: ${changed} findings detected or resolved`);
      clock.advance(60_000);
      const { value: incremental, ms: incMs, cpu: incCpu } = await timed(nodeProcess, () => exporter.runOnce());
      if (incremental.unavailable) throw new Error(`incremental export: ${incremental.unavailable}`);
      const incDocs = documents(incremental);
      ctx.log(
        `incremental export after day 1: ${incremental.sent.hosts} host, ${incremental.sent.findings} finding, ${incremental.sent.events} event, ${incremental.sent.summaries} summary documents in ${incremental.steps} steps, ${fmtMs(incMs)}; ${incCpu}`,
      );
      rows.push({
        what: 'export throughput into the test node (a day of changes)',
        figure: `${Math.round(incDocs / (incMs / 1000))} docs/s`,
        target: '≥ 2,000',
        ok: incDocs / (incMs / 1000) >= 2000,
      });
      ctx.log(
        `load average (1, 5, 15 min) at the end: ${loadavg()
          .map((x) => x.toFixed(1))
          .join(', ')} on ${cpus().length} cores (other work on the machine counts)`,
      );
      ctx.log(
        `reproduce: PATCHLOOP_BENCH_EXPORT_HOSTS=${HOSTS} PATCHLOOP_BENCH_EXPORT_PACKAGES=${PACKAGES} npm run bench -- export`,
      );
    } finally {
      for (const stream of [names.vulnerabilityEvents, names.patchEvents, names.hostSummaries]) {
        await client.request({ method: 'DELETE', path: `/_data_stream/${stream}`, accept: [404] }).catch(() => null);
      }
      for (const index of [names.findings, names.hosts])
        await client.request({ method: 'DELETE', path: `/${index}`, accept: [404] }).catch(() => null);
      await client.close();
      store.close();
      for (const f of readdirSync(base).filter((n) => n.startsWith('run.sqlite'))) rmSync(join(base, f));
      if (node.started) execFileSync('sh', [join(ctx.repo, 'scripts/opensearch-node'), 'stop'], { stdio: 'inherit' });
    }
    return rows;
  },
};
