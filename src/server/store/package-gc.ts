// Package collection: packages that no host's current set has and no finding or event names
// are deleted, from the store and from memory (the interner, the fleet matcher's cache). So a
// host that replaces its packages, or is removed, leaves nothing behind, and memory follows
// the fleet's current inventories plus the packages its history names — not every package
// ever reported. Collection runs in bounded batches, each its own short transaction.
import type { HostMatcher } from './host-matcher.ts';
import type { Store } from './store.ts';

/** Packages per collection transaction. */
export const COLLECT_BATCH = 2_000;

/** Collects up to `limit` unreferenced packages (and names no package has any more); returns how many. */
export function collectPackages(store: Store, matcher: HostMatcher | null, limit = COLLECT_BATCH): number {
  const ids = store.interner.garbage(limit);
  if (ids.length === 0) return 0;
  const perName = new Map<number, number>();
  for (const id of ids) {
    const nameId = store.interner.pkg(id).nameId;
    perName.set(nameId, (perName.get(nameId) ?? 0) + 1);
  }
  const names = [...perName].filter(([nameId, n]) => store.interner.nameUses(nameId) === n).map(([nameId]) => nameId);
  store.tx(() => {
    store.run('DELETE FROM pkgs WHERE id IN (SELECT value FROM json_each(?))', JSON.stringify(ids));
    if (names.length > 0)
      store.run('DELETE FROM pkg_names WHERE id IN (SELECT value FROM json_each(?))', JSON.stringify(names));
    store.afterCommit(() => {
      // The matcher asks the interner about kernel images: it forgets first.
      matcher?.forgetPackages(ids);
      store.interner.forget(ids);
      store.interner.forgetNames(names);
    });
  });
  return ids.length;
}

/**
 * Runs collection soon after packages become garbage (a report replaced a set, a host was
 * removed), a batch per turn of the event loop until none is left.
 */
export class PackageCollector {
  private readonly store: Store;
  private readonly matcher: HostMatcher;
  private scheduled = false;
  /** The last collection failed (the store refused the write): retried on the next garbage. */
  lastError: unknown = null;

  constructor(store: Store, matcher: HostMatcher) {
    this.store = store;
    this.matcher = matcher;
    store.interner.onGarbage = () => this.schedule();
    // Leftovers of a previous run (a report prepared but never committed).
    if (store.interner.garbageCount > 0) this.schedule();
  }

  schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      try {
        if (collectPackages(this.store, this.matcher) > 0 && this.store.interner.garbageCount > 0) this.schedule();
        this.lastError = null;
      } catch (err) {
        this.lastError = err;
      }
    });
  }
}
