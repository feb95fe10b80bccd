// The server's vulnerability data cycle, in one place: when feeds are refreshed (the schedule,
// or on demand), the refresh itself (FeedRefresher, recorded in the `refreshes` table), and
// what new data sets off — a new match generation and the re-match of the fleet. Re-matches
// run one at a time; at most one refresh runs at once.
//
// The generation: every host row records the generation of the vulnerability data its
// findings come from (`match_gen`), and the store the current one (meta `match_gen`) with the
// fingerprint of the feed files it belongs to (meta `vulndb_fingerprint`). New feed files, by
// a refresh or by a `db update` while the server was down, make a new generation; hosts
// behind it are re-matched, also after a restart that interrupted a re-match.
import type { Logger } from 'pino';
import { counted } from '../core/plural.ts';
import { logBackgroundFailure, snapshotStatistics } from './background.ts';
import type { Clock } from './clock.ts';
import type { FeedControl } from './context.ts';
import type { FeedRefresher } from './feed-refresh.ts';
import type { FleetMatcher } from './fleet-matcher.ts';
import { rematchFleet, type RematchSummary } from './store/rematch.ts';
import type { Store } from './store/store.ts';
import type { VulnDbHolder } from './vulndb-holder.ts';

export interface RefreshResult {
  id: number;
  outcome: 'updated' | 'unchanged' | 'failed' | 'partial';
  rematch: RematchSummary | null;
}

export interface RefreshSchedulerOptions {
  store: Store;
  matcher: FleetMatcher;
  vulndb: VulnDbHolder;
  /** Updates the configured feeds; `changed` when any feed file was replaced. */
  refresher: Pick<FeedRefresher, 'refresh' | 'stop'>;
  clock: Clock;
  log: Logger;
  /** The configured feeds' names, recorded with each refresh. */
  feeds: string[];
  /** Time between scheduled refreshes (ms); 0: refreshes only on demand. */
  intervalMs: number;
}

/** A refresh that could not even be recorded (the disk is full) is tried again this much later. */
const RETRY_MS = 60_000;
/** A scheduled refresh never starts sooner than this (after a start, or a refresh long overdue). */
const MIN_DELAY_MS = 5_000;
/** setTimeout's longest delay. */
const MAX_TIMER_MS = 2 ** 31 - 1;

export class RefreshScheduler implements FeedControl {
  private readonly o: RefreshSchedulerOptions;
  private readonly abort = new AbortController();
  private current: Promise<RefreshResult | null> | null = null;
  /** The last re-match started (they are chained: one at a time). */
  private rematching: Promise<void> = Promise.resolve();
  private timer: NodeJS.Timeout | null = null;
  private nextAt: number | null = null;

  constructor(options: RefreshSchedulerOptions) {
    this.o = options;
  }

  /**
   * Feed files replaced while the server was down (a manual `db update`) make a new
   * generation. Called before the server takes reports, so they are matched with it.
   */
  adoptFeedFilesOnDisk(): void {
    if (this.o.store.meta('vulndb_fingerprint') !== this.o.vulndb.fingerprint()) this.newGeneration();
  }

  /**
   * Re-matches the hosts matched with older data (a crash mid re-match, new feed files) and plans the first refresh.
   */
  start(): void {
    const { store, matcher, log } = this.o;
    const behind = store.get<{ n: number }>(
      'SELECT count(*) AS n FROM hosts WHERE os IS NOT NULL AND match_gen != ?',
      matcher.generation,
    )!.n;
    if (behind > 0) {
      log.info({ hosts: behind }, 're-matching hosts matched with older vulnerability data');
      this.rematch(null).catch((err: unknown) => logBackgroundFailure(log, 're-match', err));
    }
    this.schedule();
  }

  trigger(): boolean {
    if (this.current) return false;
    void this.refreshNow();
    return true;
  }

  refreshing(): boolean {
    return this.current !== null;
  }

  nextRefresh(): number | null {
    return this.nextAt;
  }

  /** Refreshes the feeds now (or joins the refresh running); null when it could not begin. */
  refreshNow(): Promise<RefreshResult | null> {
    if (this.current) return this.current;
    const { store, clock, log } = this.o;
    const started = clock.now();
    let id: number;
    try {
      id = store.run(
        'INSERT INTO refreshes (started_at, feeds) VALUES (?, ?)',
        started,
        JSON.stringify(this.o.feeds),
      ).lastInsertRowid;
    } catch (err) {
      logBackgroundFailure(log, 'feed refresh', err);
      this.schedule(RETRY_MS);
      return Promise.resolve(null);
    }
    this.current = this.refresh(id, started).finally(() => {
      this.current = null;
      this.schedule();
    });
    return this.current;
  }

  /** Resolves when no refresh and no re-match is running. */
  async idle(): Promise<void> {
    await this.current;
    await this.rematching;
  }

  /** Stops the schedule and the feed update running; resolves once the refresh and re-match under way have ended. */
  async stop(): Promise<void> {
    this.abort.abort();
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.nextAt = null;
    this.o.refresher.stop();
    await this.current?.catch(() => null);
    await this.rematching;
  }

  private async refresh(id: number, started: number): Promise<RefreshResult> {
    const { store, vulndb, clock, log } = this.o;
    let outcome: RefreshResult['outcome'] = 'unchanged';
    let summary: RematchSummary | null = null;
    let message: string | null;
    try {
      const r = await this.o.refresher.refresh();
      const failed = r.feeds.filter((f) => !f.ok);
      message = failed.map((f) => `${f.name}: ${f.message}`).join('\n') || null;
      if (r.changed || vulndb.fingerprint() !== store.meta('vulndb_fingerprint')) {
        vulndb.reload();
        this.newGeneration();
        summary = await this.rematch(id);
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
    try {
      store.run(
        'UPDATE refreshes SET finished_at = ?, outcome = ?, message = ?, hosts = ?, detected = ?, resolved = ?, reopened = ?, duration_ms = ? WHERE id = ?',
        finished,
        outcome,
        message,
        summary?.hosts ?? null,
        summary?.detected ?? null,
        summary?.resolved ?? null,
        summary?.reopened ?? null,
        finished - started,
        id,
      );
      store.setMeta('last_refresh_at', String(started));
    } catch (err) {
      logBackgroundFailure(log, 'recording the feed refresh', err);
    }
    return { id, outcome, rematch: summary };
  }

  /**
   * The vulnerability data now open in the holder becomes the next generation: recorded with
   * its fingerprint, and the matcher starts over with it (keeping the previous results aside
   * to tell which hosts' results did not change).
   */
  private newGeneration(): void {
    const { store, matcher, vulndb } = this.o;
    const generation = matcher.generation + 1;
    store.setMeta('match_gen', String(generation));
    store.setMeta('vulndb_fingerprint', vulndb.fingerprint());
    matcher.reset(vulndb.current(), generation);
  }

  /** Re-matches every host behind the matcher's generation, after the re-match under way. */
  private rematch(refreshId: number | null): Promise<RematchSummary> {
    const { store, matcher, log } = this.o;
    const run = this.rematching.then(async () => {
      const summary = await rematchFleet(store, matcher, {
        refreshId,
        signal: this.abort.signal,
        onProgress: progressLog(log),
      });
      if (!this.abort.signal.aborted) snapshotStatistics(store);
      log.info({ ...summary, generation: matcher.generation }, 'fleet re-matched');
      return summary;
    });
    this.rematching = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }

  /** Plans the next refresh; `retryInMs` for one that could not even begin. */
  private schedule(retryInMs?: number): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.nextAt = null;
    const { store, clock, intervalMs, feeds } = this.o;
    if (this.abort.signal.aborted || intervalMs === 0 || feeds.length === 0) return;
    const last = Number(store.meta('last_refresh_at') ?? 0);
    this.nextAt =
      retryInMs !== undefined ? clock.now() + retryInMs : Math.max(clock.now() + MIN_DELAY_MS, last + intervalMs);
    this.timer = setTimeout(() => void this.refreshNow(), Math.min(this.nextAt - clock.now(), MAX_TIMER_MS));
  }
}

/** How often a long re-match says how far it has come. */
const PROGRESS_EVERY_MS = 5_000;

/**
 * A re-match of a large fleet takes minutes: every few seconds the log says how many hosts are
 * done of how many (as `patchloop server run` on a terminal shows its log), nothing for a short one.
 */
export function progressLog(
  log: Pick<Logger, 'info'>,
  clock: () => number = () => performance.now(),
): (done: number, total: number) => void {
  const started = clock();
  let last = started;
  return (done, total) => {
    const now = clock();
    if (done >= total || now - last < PROGRESS_EVERY_MS) return;
    last = now;
    const seconds = (now - started) / 1000;
    log.info(
      { done, total, seconds: Math.round(seconds) },
      `re-matching hosts: ${done.toLocaleString('en-US')} of ${counted(total, 'host')}`,
    );
  };
}
