// The running server: store, vulnerability DB, fleet matcher, HTTP app, the feed refresh
// schedule and the background jobs, started and stopped together.
import pino, { type Logger } from 'pino';
import { systemClock, type Clock } from './clock.ts';
import type { ServerConfig } from './config.ts';
import type { FeedControl, ServerContext } from './context.ts';
import { FeedRefresher } from './feed-refresh.ts';
import { FleetMatcher } from './fleet-matcher.ts';
import { IngestQueue } from './ingest-queue.ts';
import { Checkpointer } from './store/checkpointer.ts';
import { buildApp, type App } from './app.ts';
import { writeOpenSnapshot } from './queries/stats.ts';
import { ensureAdmin } from './store/credentials.ts';
import { rematchFleet, type RematchSummary } from './store/rematch.ts';
import { Store } from './store/store.ts';
import { VulnDbHolder } from './vulndb-holder.ts';
import { PATCHLOOP_VERSION } from '../version.ts';

export interface StartOptions {
  clock?: Clock;
  logger?: Logger;
  /** Where the one-time admin password is shown (default: stderr). */
  announce?: (text: string) => void;
}

export interface RunningServer {
  app: App;
  ctx: ServerContext;
  /** The address actually listened on (port 0 picks a free port). */
  url: string;
  refreshNow(): Promise<RefreshResult | null>;
  /** Resolves when the current background re-match (if any) has finished. */
  idle(): Promise<void>;
  close(): Promise<void>;
}

export interface RefreshResult {
  id: number;
  outcome: 'updated' | 'unchanged' | 'failed' | 'partial';
  rematch: RematchSummary | null;
}

const SNAPSHOT_EVERY_MS = 5 * 60_000;

export function packageVersion(): string {
  return PATCHLOOP_VERSION;
}

export function createLogger(level: string): Logger {
  return pino({
    level,
    base: { service: 'patchloop-server' },
    redact: { paths: ['req.headers.authorization', 'req.headers.cookie', 'token', 'host_token', 'password'], censor: '[redacted]' },
  });
}

export async function startServer(config: ServerConfig, options: StartOptions = {}): Promise<RunningServer> {
  const clock = options.clock ?? systemClock;
  const log = options.logger ?? createLogger(config.log_level);
  const store = Store.open(
    config.store.file,
    clock,
    { slaDays: config.sla_days, staleAfterMs: config.stale_after },
    { synchronous: config.store.synchronous, cacheMiB: Math.round(config.store.cache / 1024 / 1024) },
  );
  // WAL checkpoints happen in a worker; the automatic one is only a backstop (~80 MB of WAL).
  store.db.exec('PRAGMA wal_autocheckpoint = 20000; PRAGMA journal_size_limit = 67108864;');
  const checkpointer = new Checkpointer(config.store.file, 1000, (m) => log.warn({ error: m }, 'WAL checkpoint failed'));
  const vulndb = new VulnDbHolder(config.data_dir);
  let generation = store.matchGeneration();
  const matcher = new FleetMatcher(vulndb.current(), store.interner, generation, {
    includeUndetermined: config.match.include_undetermined,
    today: () => new Date(clock.now()).toISOString().slice(0, 10),
    onWarning: (m) => log.debug({ warning: m }, 'matcher skipped an entry'),
  });
  store.onInternRollback = () => matcher.reset(vulndb.current(), matcher.generation);

  // Feed files replaced while the server was down (a manual `db update`): new generation.
  const fingerprint = vulndb.fingerprint();
  if (store.meta('vulndb_fingerprint') !== fingerprint) {
    generation++;
    store.setMeta('match_gen', String(generation));
    store.setMeta('vulndb_fingerprint', fingerprint);
    matcher.reset(vulndb.current(), generation);
  }

  const admin = await ensureAdmin(store, config.admin.username, config.admin.password_hash);
  if (admin.created) {
    const text =
      `\npatchloop server: created the admin account "${config.admin.username}" with the password\n\n    ${admin.password}\n\n` +
      'It is shown this once. Set your own with `patchloop server set-admin-password`, or admin.password_hash in the config.\n\n';
    (options.announce ?? ((t: string) => process.stderr.write(t)))(text);
    log.info({ username: config.admin.username }, 'admin account created (password shown once on stderr)');
  }

  const refresher = new FeedRefresher({
    dataDir: config.data_dir,
    sources: config.feeds.sources,
    timeoutMs: config.feeds.timeout,
    log: log.child({ job: 'feeds' }),
    fingerprint: () => vulndb.fingerprint(),
  });

  const abort = new AbortController();
  let refreshing: Promise<RefreshResult | null> | null = null;
  let rematching: Promise<void> = Promise.resolve();
  let nextRefreshAt: number | null = null;
  let refreshTimer: NodeJS.Timeout | null = null;

  const rematch = (refreshId: number | null): Promise<RematchSummary> => {
    const run = rematching.then(async () => {
      const summary = await rematchFleet(store, matcher, { refreshId, signal: abort.signal });
      if (!abort.signal.aborted) {
        writeOpenSnapshot(store);
        store.db.exec('PRAGMA analysis_limit = 1000; PRAGMA optimize;');
      }
      log.info({ ...summary, generation: matcher.generation }, 'fleet re-matched');
      return summary;
    });
    rematching = run.then(() => undefined, () => undefined);
    return run;
  };

  const newData = (refreshId: number | null): Promise<RematchSummary> => {
    vulndb.reload();
    generation = matcher.generation + 1;
    store.setMeta('match_gen', String(generation));
    store.setMeta('vulndb_fingerprint', vulndb.fingerprint());
    matcher.reset(vulndb.current(), generation);
    return rematch(refreshId);
  };

  const refreshNow = (): Promise<RefreshResult | null> => {
    if (refreshing) return refreshing;
    const started = clock.now();
    const id = store.run('INSERT INTO refreshes (started_at, feeds) VALUES (?, ?)', started, JSON.stringify(config.feeds.sources.map((s) => s.name)))
      .lastInsertRowid;
    refreshing = (async (): Promise<RefreshResult | null> => {
      let outcome: RefreshResult['outcome'] = 'unchanged';
      let summary: RematchSummary | null = null;
      let message: string | null;
      try {
        const r = await refresher.refresh();
        const failed = r.feeds.filter((f) => !f.ok);
        message = failed.map((f) => `${f.name}: ${f.message}`).join('\n') || null;
        if (r.changed || vulndb.fingerprint() !== store.meta('vulndb_fingerprint')) {
          summary = await newData(id);
          outcome = failed.length ? 'partial' : 'updated';
        } else if (failed.length) {
          outcome = 'failed';
        }
      } catch (err) {
        outcome = 'failed';
        message = err instanceof Error ? err.message : String(err);
        log.error({ err }, 'feed refresh failed');
      }
      const finished = clock.now();
      store.run(
        'UPDATE refreshes SET finished_at = ?, outcome = ?, message = ?, hosts = ?, detected = ?, resolved = ?, reopened = ?, duration_ms = ? WHERE id = ?',
        finished, outcome, message, summary?.hosts ?? null, summary?.detected ?? null, summary?.resolved ?? null, summary?.reopened ?? null, finished - started, id,
      );
      store.setMeta('last_refresh_at', String(started));
      return { id, outcome, rematch: summary };
    })().finally(() => {
      refreshing = null;
      schedule();
    });
    return refreshing;
  };

  const schedule = (): void => {
    if (refreshTimer) clearTimeout(refreshTimer);
    refreshTimer = null;
    nextRefreshAt = null;
    if (abort.signal.aborted || config.feeds.refresh_interval === 0 || config.feeds.sources.length === 0) return;
    const last = Number(store.meta('last_refresh_at') ?? 0);
    nextRefreshAt = Math.max(clock.now() + 5_000, last + config.feeds.refresh_interval);
    refreshTimer = setTimeout(() => void refreshNow(), Math.min(nextRefreshAt - clock.now(), 2 ** 31 - 1));
  };

  const feeds: FeedControl = {
    trigger: () => {
      if (refreshing) return false;
      void refreshNow();
      return true;
    },
    refreshing: () => refreshing !== null,
    nextRefresh: () => nextRefreshAt,
  };

  const ingest = new IngestQueue(store, matcher);
  const ctx: ServerContext = { store, matcher, ingest, vulndb, config, log, version: packageVersion(), feeds };
  const app = await buildApp(ctx);
  const address = await app.listen({ host: config.listen.host, port: config.listen.port });
  log.info({ address, data_dir: config.data_dir, feeds: vulndb.current().feeds().map((f) => f.feed) }, 'patchloop server listening');

  // Hosts matched with older data (a crash mid re-match, new feed files): finish the job.
  const behind = store.get<{ n: number }>('SELECT count(*) AS n FROM hosts WHERE os IS NOT NULL AND match_gen != ?', matcher.generation)!.n;
  if (behind > 0) {
    log.info({ hosts: behind }, 're-matching hosts matched with older vulnerability data');
    void rematch(null);
  }
  schedule();
  const snapshots = setInterval(() => {
    writeOpenSnapshot(store);
    // Keeps the query planner's statistics current as the fleet grows (bounded work).
    store.db.exec('PRAGMA analysis_limit = 1000; PRAGMA optimize;');
  }, SNAPSHOT_EVERY_MS);
  snapshots.unref();

  return {
    app,
    ctx,
    url: address,
    refreshNow,
    idle: async () => {
      await refreshing;
      await rematching;
    },
    close: async () => {
      abort.abort();
      if (refreshTimer) clearTimeout(refreshTimer);
      clearInterval(snapshots);
      refresher.stop();
      await app.close();
      await refreshing?.catch(() => null);
      await rematching;
      writeOpenSnapshot(store);
      await checkpointer.stop();
      store.close();
      vulndb.close();
      log.info('patchloop server stopped');
    },
  };
}
