// Ingest of large reports into a real `patchloop server run` process on loopback (with the
// NODE_OPTIONS the systemd unit gives it):
//   - one full report each of 10,000, 50,000 and 100,000 packages (the real bookworm host's
//     729 packages padded with made-up ones; gzip, as agents send them): time to the
//     acknowledgement, the longest the server kept /api/v1/health waiting meanwhile (it is
//     polled back to back: its worst answer time is the event loop's worst stall as a client
//     sees it), and the server's RSS;
//   - a stream of reports of never-seen packages from one host, each replacing the last, then
//     the removal of every host, then a restart: the server's RSS and interned packages after
//     each (memory follows the current inventories, not every package ever reported);
//   - the same stream through the server's ingest path in this process (IngestQueue, collector),
//     where the live heap after a full garbage collection can be read: what the server keeps,
//     as opposed to what V8 has reserved (RSS).
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { gzipSync } from 'node:zlib';
import { readInventory } from '../src/inventory/index.ts';
import { systemClock } from '../src/server/clock.ts';
import { FleetMatcher } from '../src/server/fleet-matcher.ts';
import { IngestQueue } from '../src/server/ingest-queue.ts';
import { createApiToken, createEnrollmentToken, enrollHost } from '../src/server/store/credentials.ts';
import { removeHost } from '../src/server/store/hosts.ts';
import { Store } from '../src/server/store/store.ts';
import { VulnDb } from '../src/vulndb/reader.ts';
import { BOOKWORM_ROOT, trackerFeedV1 } from '../test/support/fixtures.ts';
import { startServerProcess, type ServerProcess } from '../test/support/server-process.ts';
import { importDebianFeed } from '../test/support/vulndb.ts';
import { fmtMs } from './lib/measure.ts';
import { fullReport, largeInventory } from '../test/support/large-report.ts';
import type { BenchContext, BenchRow, BenchSection } from './lib/context.ts';
import type { Inventory } from '../src/core/types.ts';

/** What deploy/systemd/patchloop-server.service gives the server. */
const SERVER_NODE_OPTIONS = '--max-old-space-size=512';
const SIZES = [10_000, 50_000, 100_000];
const STREAM_REPORTS = 36;
const STREAM_PACKAGES = 10_000;
/**
 * What the process may reserve: V8's old space (the limit above) plus young space, code, the
 * checkpoint worker and SQLite's page caches. What it keeps live is far less (the in-process figures).
 */
const RSS_BOUND = 768 * 2 ** 20;

const mib = (bytes: number): string => `${(bytes / 2 ** 20).toFixed(0)} MiB`;

function procStatus(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  const m = new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m?.[1] ?? 0) * 1024;
}

async function post(
  url: string,
  path: string,
  body: Buffer,
  headers: Record<string, string>,
): Promise<{ status: number; text: string }> {
  const res = await fetch(`${url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: new Uint8Array(body),
  });
  return { status: res.status, text: await res.text() };
}

interface Sent {
  ms: number;
  /** Slowest /health answer while the report was in flight, and how many answered before its acknowledgement. */
  healthMaxMs: number;
  healthAnswers: number;
}

/** Sends a report and polls /health back to back until it is acknowledged. */
async function sendWatched(url: string, hostToken: string, body: Buffer): Promise<Sent> {
  let done = false;
  let healthMaxMs = 0;
  let healthAnswers = 0;
  const t0 = performance.now();
  const report = post(url, '/api/v1/reports', body, {
    authorization: `Bearer ${hostToken}`,
    'content-encoding': 'gzip',
  }).finally(() => (done = true));
  const poll = (async () => {
    // Every probe sent before the acknowledgement counts, also one that waited until after it.
    while (!done) {
      const t = performance.now();
      const r = await fetch(`${url}/api/v1/health`);
      await r.arrayBuffer();
      if (!done) healthAnswers++;
      healthMaxMs = Math.max(healthMaxMs, performance.now() - t);
    }
  })();
  const r = await report;
  const ms = performance.now() - t0;
  await poll;
  if (r.status !== 200) throw new Error(`report: ${r.status} ${r.text.slice(0, 300)}`);
  return { ms, healthMaxMs, healthAnswers };
}

/** Live heap (after a full collection) through the store/ingest path, under a stream of never-seen packages. */
async function liveHeap(ctx: BenchContext, dataDir: string, base: Inventory): Promise<BenchRow[]> {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  const heap = (): number => {
    gc();
    gc();
    return process.memoryUsage().heapUsed;
  };
  const store = Store.open(join(dataDir, 'in-process.sqlite'), systemClock);
  const db = VulnDb.open(dataDir);
  const matcher = new FleetMatcher(db, store.interner, store.matchGeneration(), {
    today: () => new Date().toISOString().slice(0, 10),
  });
  store.onInternRollback = () => matcher.reset(db, matcher.generation);
  const queue = new IngestQueue(store, matcher);
  const settle = async (): Promise<void> => {
    while (store.interner.garbageCount > 0) await new Promise((r) => setImmediate(r));
  };
  try {
    const hostId = enrollHost(store, {
      token: createEnrollmentToken(store, { name: 'bench', uses: 1, ttlMs: null }).token,
      hostname: 'stream',
    })!.host_id;
    const empty = heap();
    let held = 0;
    for (let i = 1; i <= STREAM_REPORTS; i++) {
      const out = await queue.submit(
        hostId,
        fullReport(base, largeInventory(base, STREAM_PACKAGES, `heap${i}`), 'stream'),
      );
      if (out.kind !== 'ack') throw new Error(`stream report: ${JSON.stringify(out)}`);
      await settle();
      if (i === 1) held = heap();
    }
    const afterStream = heap();
    const perPackage = (held - empty) / STREAM_PACKAGES;
    ctx.log(
      `live heap, store/ingest path in this process: ${mib(empty)} with one host enrolled; ${mib(held)} holding ${STREAM_PACKAGES} packages; ` +
        `${mib(afterStream)} after ${STREAM_REPORTS} such reports of never-seen packages (${store.interner.packageCount} interned, ${matcher.cachedPackages} match results cached; ≈ ${perPackage.toFixed(0)} bytes per package held)`,
    );
    removeHost(store, hostId);
    await settle();
    const afterRemoval = heap();
    ctx.log(
      `live heap after removing the host: ${mib(afterRemoval)} (${store.interner.packageCount} packages interned: those its history names)`,
    );
    return [
      {
        what: `live heap growth over ${STREAM_REPORTS - 1} more such reports`,
        figure: mib(afterStream - held),
        target: '≤ 16 MiB',
        ok: afterStream - held <= 16 * 2 ** 20,
      },
      {
        what: 'live heap per package held (interner, match cache, lookups)',
        figure: `${perPackage.toFixed(0)} B`,
        target: '≤ 1,000 B',
        ok: perPackage <= 1000,
      },
      {
        what: 'live heap after removing the host, over the empty store',
        figure: mib(afterRemoval - empty),
        target: '≤ 16 MiB',
        ok: afterRemoval - empty <= 16 * 2 ** 20,
      },
    ];
  } finally {
    store.close();
    db.close();
  }
}

export const section: BenchSection = {
  async run(ctx: BenchContext): Promise<BenchRow[]> {
    const rows: BenchRow[] = [];
    const dataDir = mkdtempSync(join(tmpdir(), 'patchloop-bench-ingest-'));
    importDebianFeed(dataDir, trackerFeedV1());
    const storeFile = join(dataDir, 'server.sqlite');
    const setup = Store.open(storeFile, systemClock);
    const enrolment = createEnrollmentToken(setup, { name: 'bench', uses: null, ttlMs: 2 * 3_600_000 }).token;
    const admin = createApiToken(setup, 'bench').token;
    setup.close();
    const base = await readInventory(BOOKWORM_ROOT, { kernel: '6.1.0-40-amd64' });
    const env = { NODE_OPTIONS: SERVER_NODE_OPTIONS };
    const start = () => startServerProcess(['--data-dir', dataDir], '127.0.0.1:0', env);
    const interned = (): number => {
      const db = new DatabaseSync(storeFile, { readOnly: true });
      try {
        return (db.prepare('SELECT count(*) AS n FROM pkgs').get() as { n: number }).n;
      } finally {
        db.close();
      }
    };
    const enrol = async (url: string, hostname: string): Promise<string> => {
      const r = await post(url, '/api/v1/enroll', Buffer.from(JSON.stringify({ token: enrolment, hostname })), {});
      if (r.status !== 201) throw new Error(`enrolment: ${r.status} ${r.text}`);
      return (JSON.parse(r.text) as { host_token: string }).host_token;
    };
    ctx.log(
      `server: patchloop server run, NODE_OPTIONS=${SERVER_NODE_OPTIONS}; data: the bookworm host's ${base.packages.length} packages padded with made-up ones; tracker feed fixture`,
    );

    let server: ServerProcess | null = await start();
    try {
      const pid = server.child.pid!;
      ctx.log(`RSS after start: ${mib(procStatus(pid, 'VmRSS'))}`);
      for (const n of SIZES) {
        const token = await enrol(server.url, `large-${n}`);
        const body = gzipSync(JSON.stringify(fullReport(base, largeInventory(base, n, `size${n}`), `large-${n}`)));
        const sent = await sendWatched(server.url, token, body);
        const rss = procStatus(pid, 'VmRSS');
        ctx.log(
          `${n} packages (${(body.length / 1024).toFixed(0)} KiB gzip): acknowledged in ${fmtMs(sent.ms)}; /health answered ${sent.healthAnswers} times meanwhile, ` +
            `slowest ${fmtMs(sent.healthMaxMs)}; RSS ${mib(rss)}, peak ${mib(procStatus(pid, 'VmHWM'))}`,
        );
        rows.push({
          what: `ingest of a ${n / 1000}k-package full report`,
          figure: fmtMs(sent.ms),
          target: n === 100_000 ? '≤ 10 s' : '—',
          ok: n !== 100_000 || sent.ms <= 10_000,
        });
        rows.push({
          what: `  longest /health wait during it (event-loop stall)`,
          figure: fmtMs(sent.healthMaxMs),
          target: '≤ 1 s',
          ok: sent.healthMaxMs <= 1000,
        });
        rows.push({ what: `  server RSS after it`, figure: mib(rss), target: '≤ 768 MiB', ok: rss <= RSS_BOUND });
      }

      const token = await enrol(server.url, 'stream');
      let rssStream = 0;
      for (let i = 1; i <= STREAM_REPORTS; i++) {
        const body = gzipSync(
          JSON.stringify(fullReport(base, largeInventory(base, STREAM_PACKAGES, `stream${i}`), 'stream')),
        );
        await sendWatched(server.url, token, body);
        if (i % 12 === 0) {
          await new Promise((r) => setTimeout(r, 500));
          rssStream = procStatus(pid, 'VmRSS');
          ctx.log(
            `stream of never-seen packages: ${i} reports × ${STREAM_PACKAGES} (${i * (STREAM_PACKAGES - base.packages.length)} distinct made-up packages): RSS ${mib(rssStream)}, ${interned()} packages interned`,
          );
        }
      }
      rows.push({
        what: `RSS after ${STREAM_REPORTS} × ${STREAM_PACKAGES / 1000}k never-seen packages, one host`,
        figure: mib(rssStream),
        target: '≤ 768 MiB',
        ok: rssStream <= RSS_BOUND,
      });

      const hosts = (await (
        await fetch(`${server.url}/api/v1/hosts?per_page=100`, { headers: { authorization: `Bearer ${admin}` } })
      ).json()) as { items: { id: number }[] };
      for (const h of hosts.items) {
        const r = await fetch(`${server.url}/api/v1/hosts/${h.id}`, {
          method: 'DELETE',
          headers: { authorization: `Bearer ${admin}` },
        });
        if (r.status !== 204) throw new Error(`delete host ${h.id}: ${r.status}`);
      }
      await new Promise((r) => setTimeout(r, 2000));
      const rssDeleted = procStatus(pid, 'VmRSS');
      const left = interned();
      ctx.log(
        `after removing every host: RSS ${mib(rssDeleted)}, ${left} packages interned (the ones the history names)`,
      );
      rows.push({ what: 'RSS after removing every host', figure: mib(rssDeleted), target: '—', ok: true });
      rows.push({
        what: 'packages interned after removing every host',
        figure: String(left),
        target: `≤ ${base.packages.length}`,
        ok: left <= base.packages.length,
      });

      await server.stop('SIGTERM');
      server = await start();
      await fetch(`${server.url}/api/v1/health`);
      const rssRestart = procStatus(server.child.pid!, 'VmRSS');
      ctx.log(`after a restart: RSS ${mib(rssRestart)}`);
      rows.push({ what: 'RSS after a restart', figure: mib(rssRestart), target: '—', ok: true });
      await server.stop('SIGTERM');
      server = null;
      rows.push(...(await liveHeap(ctx, dataDir, base)));
    } finally {
      await server?.stop('SIGTERM');
      rmSync(dataDir, { recursive: true, force: true });
    }
    ctx.log('reproduce: npm run bench -- ingest');
    return rows;
  },
};
