// The running server: store, vulnerability DB, fleet matcher, HTTP app, the feed refresh
// scheduler (refresh-scheduler.ts) and the background jobs, wired, started and stopped together.
import { mkdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { createSecureContext } from 'node:tls';
import pino, { type Logger } from 'pino';
import { systemClock, type Clock } from './clock.ts';
import type { ServerConfig } from './config.ts';
import type { ServerContext } from './context.ts';
import { FeedRefresher } from './feed-refresh.ts';
import { FleetMatcher } from './fleet-matcher.ts';
import { IngestQueue } from './ingest-queue.ts';
import { logBackgroundFailure, snapshotStatistics } from './background.ts';
import { endDueExceptions } from './store/exceptions-apply.ts';
import { RefreshScheduler, type RefreshResult } from './refresh-scheduler.ts';
import { Checkpointer } from './store/checkpointer.ts';
import { buildApp, type App } from './app.ts';
import { writeOpenSnapshot } from './queries/stats.ts';
import { ensureAdmin } from './store/credentials.ts';
import { Store } from './store/store.ts';
import { VulnDbHolder } from './vulndb-holder.ts';
import { LogStream } from './log-stream.ts';
import { NotifyService } from './notify/service.ts';
import { createChannel, type Channel } from './notify/channels/index.ts';
import { serverFacts } from './notify/facts.ts';
import { enrichmentOf } from './enrichment.ts';
import { acquireLock, LockHeldError, type HeldLock } from '../vulndb/lock.ts';
import { PATCHLOOP_VERSION } from '../version.ts';
import { PatchloopError } from '../core/errors.ts';

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
  /** Resolves when the feed refresh and the background re-match (if any) have finished. */
  idle(): Promise<void>;
  close(): Promise<void>;
}

const SNAPSHOT_EVERY_MS = 5 * 60_000;

export function packageVersion(): string {
  return PATCHLOOP_VERSION;
}

/** JSON lines on stdout, through a LogStream: a log that cannot be written never stops the server. */
export function createLogger(level: string): Logger {
  const stream = new LogStream();
  const log = pino(
    {
      level,
      base: { service: 'patchloop-server' },
      redact: {
        paths: ['req.headers.authorization', 'req.headers.cookie', 'token', 'host_token', 'password'],
        censor: '[redacted]',
      },
    },
    stream,
  );
  stream.onRecovered = (dropped, error) =>
    log.warn({ dropped_lines: dropped, error }, 'the log could not be written for a while; writing again');
  return log;
}

/** The lock file of a data directory's server (vulndb/lock.ts). */
export function serverLockFile(dataDir: string): string {
  return join(dataDir, 'server.lock');
}

/** One server per data directory: a second one is refused, naming the first one's pid. */
function lockDataDir(dataDir: string): HeldLock {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  try {
    return acquireLock(serverLockFile(dataDir), `the data directory ${dataDir} is in use by another patchloop server`);
  } catch (err) {
    if (err instanceof LockHeldError)
      throw new PatchloopError(
        'PL_E_SERVER_START',
        `${err.message}; stop that server first, or give this one its own data directory`,
      );
    throw err;
  }
}

const LISTEN_ERRORS: Record<string, string> = {
  EADDRINUSE: 'the address is already in use (another server on that port?)',
  EACCES: 'permission denied (ports below 1024 need root or CAP_NET_BIND_SERVICE)',
  EADDRNOTAVAIL: 'the address is not one of this machine',
  ENOTFOUND: 'unknown host name',
};

function listenError(host: string, port: number, err: NodeJS.ErrnoException): PatchloopError {
  return new PatchloopError(
    'PL_E_SERVER_START',
    `cannot listen on ${host}:${port}: ${LISTEN_ERRORS[err.code ?? ''] ?? err.code ?? err.message}`,
  );
}

/**
 * What would make the server fail after it opened the store, checked before it does: the
 * TLS files load and pair, and the address can be bound (bound and released again; a port
 * taken in the instant between is still reported, by the real listen).
 */
async function checkCanServe(config: ServerConfig): Promise<void> {
  if (config.tls) {
    const read = (what: string, file: string): Buffer => {
      try {
        return readFileSync(file);
      } catch (err) {
        throw new PatchloopError(
          'PL_E_SERVER_START',
          `cannot read the TLS ${what} ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
        );
      }
    };
    const cert = read('certificate', config.tls.cert);
    const key = read('key', config.tls.key);
    try {
      createSecureContext({ cert, key });
    } catch (err) {
      throw new PatchloopError(
        'PL_E_SERVER_START',
        `the TLS certificate ${config.tls.cert} and key ${config.tls.key} cannot be used: ${(err as Error).message}`,
      );
    }
  }
  const { host, port } = config.listen;
  if (port === 0) return;
  await new Promise<void>((resolve, reject) => {
    const probe = createServer();
    probe.once('error', (err: NodeJS.ErrnoException) => reject(listenError(host, port, err)));
    probe.listen({ host, port, exclusive: true }, () => probe.close(() => resolve()));
  });
}

export async function startServer(config: ServerConfig, options: StartOptions = {}): Promise<RunningServer> {
  const clock = options.clock ?? systemClock;
  const log = options.logger ?? createLogger(config.log_level);
  // Checks that touch nothing on disk come first: a server that cannot start leaves no trace.
  await checkCanServe(config);
  // Notification channels read their secrets now: a missing one, or one others may read, stops
  // the start before anything is written.
  const channels = config.notifications.channels.map((c) => createChannel(c));
  const lock = lockDataDir(config.data_dir);
  // Everything started so far, stopped again when the start fails half-way.
  const stops: (() => unknown)[] = [() => lock.release()];
  const undo = async (): Promise<void> => {
    for (const stop of stops.reverse()) {
      try {
        await stop();
      } catch {
        // the start failed already; that error is the one to report
      }
    }
  };
  try {
    return await startWithLock(config, options, clock, log, lock, stops, channels);
  } catch (err) {
    await undo();
    throw err;
  }
}

async function startWithLock(
  config: ServerConfig,
  options: StartOptions,
  clock: Clock,
  log: Logger,
  lock: HeldLock,
  stops: (() => unknown)[],
  channels: Channel[],
): Promise<RunningServer> {
  const store = Store.open(
    config.store.file,
    clock,
    { slaDays: config.sla_days, staleAfterMs: config.stale_after },
    { synchronous: config.store.synchronous, cacheMiB: Math.round(config.store.cache / 1024 / 1024) },
  );
  stops.push(() => store.close());
  // WAL checkpoints happen in a worker; the automatic one is only a backstop (~80 MB of WAL).
  store.db.exec('PRAGMA wal_autocheckpoint = 20000; PRAGMA journal_size_limit = 67108864;');
  const checkpointer = new Checkpointer(config.store.file, 1000, (m) =>
    log.warn({ error: m }, 'WAL checkpoint failed'),
  );
  stops.push(() => checkpointer.stop());
  const vulndb = new VulnDbHolder(config.data_dir);
  stops.push(() => vulndb.close());
  const matcher = new FleetMatcher(vulndb.current(), store.interner, store.matchGeneration(), {
    includeUndetermined: config.match.include_undetermined,
    today: () => new Date(clock.now()).toISOString().slice(0, 10),
    onWarning: (m) => log.debug({ warning: m }, 'matcher skipped an entry'),
  });
  store.onInternRollback = () => matcher.reset(vulndb.current(), matcher.generation);

  const refresher = new FeedRefresher({
    dataDir: config.data_dir,
    sources: config.feeds.sources,
    timeoutMs: config.feeds.timeout,
    log: log.child({ job: 'feeds' }),
    fingerprint: () => vulndb.fingerprint(),
  });
  const refreshes = new RefreshScheduler({
    store,
    matcher,
    vulndb,
    refresher,
    clock,
    log,
    feeds: config.feeds.sources.map((s) => s.name),
    intervalMs: config.feeds.refresh_interval,
  });
  refreshes.adoptFeedFilesOnDisk();

  const ingest = new IngestQueue(store, matcher);
  const notify = new NotifyService({
    store,
    config: config.notifications,
    channels,
    clock,
    log,
    facts: serverFacts(enrichmentOf({ store, vulndb, config }), () => vulndb.current().hasEnrichment()),
  });
  stops.push(() => notify.stop());
  const ctx: ServerContext = {
    store,
    matcher,
    ingest,
    vulndb,
    config,
    log,
    version: packageVersion(),
    feeds: refreshes,
    notify,
  };
  const app = await buildApp(ctx);
  stops.push(() => app.close());
  let address: string;
  try {
    address = await app.listen({ host: config.listen.host, port: config.listen.port });
  } catch (err) {
    throw listenError(config.listen.host, config.listen.port, err as NodeJS.ErrnoException);
  }

  // Only a server that listens creates the admin account (a failed start changes nothing).
  const admin = await ensureAdmin(store, config.admin.username, config.admin.password_hash);
  if (admin.created) {
    const text =
      `\npatchloop server: created the admin account "${config.admin.username}" with the password\n\n    ${admin.password}\n\n` +
      'It is shown this once. Set your own with `patchloop server set-admin-password`, or admin.password_hash in the config.\n\n';
    (options.announce ?? ((t: string) => process.stderr.write(t)))(text);
    log.info({ username: config.admin.username }, 'admin account created (password shown once on stderr)');
  }

  log.info(
    {
      address,
      data_dir: config.data_dir,
      feeds: vulndb
        .current()
        .feeds()
        .map((f) => f.feed),
    },
    'patchloop server listening',
  );

  refreshes.start();
  notify.start();
  const snapshots = setInterval(() => {
    try {
      snapshotStatistics(store);
    } catch (err) {
      logBackgroundFailure(log, 'statistics snapshot', err);
    }
  }, SNAPSHOT_EVERY_MS);
  snapshots.unref();
  // Rules that expired give their findings back to the open counts (reopened: exception expired).
  const exceptionExpiry = setInterval(() => {
    try {
      endDueExceptions(store);
    } catch (err) {
      logBackgroundFailure(log, 'exception expiry', err);
    }
  }, config.exceptions.check_interval);
  exceptionExpiry.unref();

  return {
    app,
    ctx,
    url: address,
    refreshNow: () => refreshes.refreshNow(),
    idle: () => refreshes.idle(),
    close: async () => {
      clearInterval(snapshots);
      clearInterval(exceptionExpiry);
      const refreshesStopped = refreshes.stop();
      await app.close();
      await notify.stop();
      await refreshesStopped;
      try {
        writeOpenSnapshot(store);
      } catch (err) {
        logBackgroundFailure(log, 'statistics snapshot', err);
      }
      await checkpointer.stop();
      store.close();
      vulndb.close();
      lock.release();
      log.info('patchloop server stopped');
      log.flush();
    },
  };
}
