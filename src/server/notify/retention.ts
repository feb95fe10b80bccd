// What the notification tables keep. An event's row in notify_pending is how it is told only
// once, so it stays while its event could be read again: events of the log, refreshes and SLA
// breaches never come again once their cursor passed (a month after their message is enough);
// a patch run's row stays as long (a run reported again later comes again); state events
// (stale hosts, pending reboots, expiring exceptions) stay for good, since the state may last.
// Messages (the delivery history the dashboard shows) are kept for `keepMessagesDays`.
import type { Store } from '../store/store.ts';
import type { NotifyState } from './tables.ts';

const DAY_MS = 86_400_000;
const ONCE_ONLY = ['finding:', 'feed_refresh:', 'sla:', 'patch_run:'];

/** Purges once a day at most; returns the rows removed (0 when it was not due). */
export function purgeOld(store: Store, state: NotifyState, now: number, keepMessagesDays = 180): number {
  const last = state.number('purged_at') ?? 0;
  if (now - last < DAY_MS) return 0;
  let removed = 0;
  store.tx(() => {
    const told = now - 30 * DAY_MS;
    for (const prefix of ONCE_ONLY) {
      removed += store.run(
        `DELETE FROM notify_pending WHERE event_key >= ? AND event_key < ? AND message_id IN
           (SELECT id FROM notify_messages WHERE state IN ('sent', 'dead') AND created_at < ?)`,
        prefix,
        `${prefix.slice(0, -1)};`,
        told,
      ).changes;
    }
    removed += store.run(
      "DELETE FROM notify_messages WHERE state IN ('sent', 'dead') AND created_at < ?",
      now - keepMessagesDays * DAY_MS,
    ).changes;
    state.set('purged_at', now);
  });
  return removed;
}
