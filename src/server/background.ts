// The server's background work (feed refreshes, re-matches, statistics snapshots) runs
// without a request to answer: what fails is logged, never fatal to the server, and tried
// again later.
import type { Logger } from 'pino';
import { isStorageFull } from '../core/errors.ts';
import { writeOpenSnapshot } from './queries/stats.ts';
import type { Store } from './store/store.ts';

/** Logs background work that failed: a full disk (the most common cause) as a warning. */
export function logBackgroundFailure(log: Logger, what: string, err: unknown): void {
  if (isStorageFull(err)) log.warn({ error: (err as Error).message }, `${what}: the disk is full; tried again later`);
  else log.error({ err }, `${what} failed`);
}

/**
 * Today's open counts per group (the trends' daily points) and the query planner's
 * statistics, brought up to date: periodically, and after the fleet was re-matched.
 */
export function snapshotStatistics(store: Store): void {
  writeOpenSnapshot(store);
  // Keeps the query planner's statistics current as the fleet grows (bounded work).
  store.db.exec('PRAGMA analysis_limit = 1000; PRAGMA optimize;');
}
