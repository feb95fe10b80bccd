// What the HTTP layer needs from the running server.
import type { Logger } from 'pino';
import type { ServerConfig } from './config.ts';
import type { FleetMatcher } from './fleet-matcher.ts';
import type { IngestQueue } from './ingest-queue.ts';
import type { NotifyService } from './notify/service.ts';
import type { Store } from './store/store.ts';
import type { VulnDbHolder } from './vulndb-holder.ts';

export interface FeedControl {
  /** Starts a refresh now; false when one is already running. */
  trigger(): boolean;
  refreshing(): boolean;
  /** When the next scheduled refresh starts (ms), or null when there is no schedule. */
  nextRefresh(): number | null;
}

export interface ServerContext {
  store: Store;
  matcher: FleetMatcher;
  ingest: IngestQueue;
  vulndb: VulnDbHolder;
  config: ServerConfig;
  log: Logger;
  version: string;
  feeds: FeedControl;
  /** Notification rules, queue and channels (notify/). */
  notify: NotifyService;
}
