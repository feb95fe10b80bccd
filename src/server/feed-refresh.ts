// Scheduled feed refresh. Each feed is updated by src/feeds/update.ts in a worker thread
// (src/feeds/update-thread.ts): the import runs with a heap of its own under a hard limit and
// is terminated when it overruns its time, the server keeps answering, and a failed update
// leaves the previous feed in place (the writer's atomic swap). The feed lock is shared with a
// `patchloop db update` run by hand. When any feed file changed, the caller re-matches the fleet.
import type { Logger } from 'pino';
import type { FeedUpdateResult } from '../feeds/update.ts';

export interface FeedSourceConfig {
  name: string;
  from?: string[];
}

export interface RefreshOutcome {
  /** `message` says what happened (for a failure: which database was kept, and why); `result` has the details. */
  feeds: { name: string; ok: boolean; message: string; result: FeedUpdateResult }[];
  changed: boolean;
}

/**
 * Heap of one feed import. Full-size feeds need a few hundred MB (the Debian tracker about 200);
 * the limit is there so that an input that would need far more fails alone.
 */
export const FEED_IMPORT_HEAP_MB = 1024;

export interface FeedRefresherOptions {
  dataDir: string;
  sources: FeedSourceConfig[];
  /** Time allowed to one feed's update. */
  timeoutMs: number;
  /** Heap limit of one feed's import (default FEED_IMPORT_HEAP_MB). */
  heapLimitMb?: number;
  log: Logger;
  /** Identifies the feed files on disk; a different value afterwards means new data. */
  fingerprint: () => string;
}

export class FeedRefresher {
  private readonly o: FeedRefresherOptions;
  private readonly stopping = new AbortController();

  constructor(options: FeedRefresherOptions) {
    this.o = options;
  }

  /** Updates every configured feed, one after the other. Never throws for a failed feed. */
  async refresh(): Promise<RefreshOutcome> {
    const { updateFeedInThread } = await import('../feeds/update-thread.ts');
    const before = this.o.fingerprint();
    const feeds: RefreshOutcome['feeds'] = [];
    for (const source of this.o.sources) {
      if (this.stopping.signal.aborted) break;
      const log = this.o.log.child({ feed: source.name });
      const result = await updateFeedInThread(source.name, {
        dataDir: this.o.dataDir,
        from: source.from,
        timeoutMs: this.o.timeoutMs,
        heapLimitMb: this.o.heapLimitMb ?? FEED_IMPORT_HEAP_MB,
        signal: this.stopping.signal,
        onEvent: (e) =>
          e.kind === 'warning' ? log.debug({ warning: e.message }, 'feed import warning') : log.info(e.message),
      });
      const ok = result.status !== 'failed';
      feeds.push({ name: source.name, ok, message: result.message, result });
      const details = {
        status: result.status,
        entries: result.database?.entries ?? null,
        seconds: Number(result.seconds.toFixed(1)),
        warnings: result.warning_count,
      };
      if (ok) log.info(details, result.status === 'updated' ? 'feed updated' : 'feed up to date');
      else log.error({ ...details, message: result.message }, 'feed update failed; previous data kept');
    }
    return { feeds, changed: this.o.fingerprint() !== before };
  }

  stop(): void {
    this.stopping.abort();
  }
}
