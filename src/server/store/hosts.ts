// Host administration: group and tags, removal. Aggregates keyed by group follow the host.
import { AggregateBatch } from './aggregates.ts';
import { reconcileHosts, releaseHost } from './exceptions-apply.ts';
import { closeAllFindings } from './history.ts';
import { storedSet } from './report-set.ts';
import type { Store } from './store.ts';

export function updateHost(store: Store, id: number, change: { group?: string; tags?: string[] }): boolean {
  return store.tx(() => {
    const h = store.get<{ grp: string }>('SELECT grp FROM hosts WHERE id = ?', id);
    if (!h) return false;
    if (change.tags !== undefined)
      store.run('UPDATE hosts SET tags = ? WHERE id = ?', JSON.stringify([...new Set(change.tags)].sort()), id);
    if (change.group !== undefined && change.group !== h.grp) {
      const agg = new AggregateBatch(store);
      // Exposures an exception holds are not in the open ages.
      for (const f of store.all<{ severity: number; opened_at: number }>(
        'SELECT severity, opened_at FROM exposures WHERE host_id = ? AND +open = 1 AND exception_id IS NULL',
        id,
      )) {
        agg.openAgeChange(h.grp, f.severity, f.opened_at, -1);
        agg.openAgeChange(change.group, f.severity, f.opened_at, 1);
      }
      agg.flush();
      store.run('UPDATE hosts SET grp = ? WHERE id = ?', change.group, id);
    }
    // Rules scoped by group or tag may cover the host now, or no longer.
    reconcileHosts(store, [id]);
    return true;
  });
}

/**
 * Removes a host and its findings, packages and credentials. Its open exposures are resolved
 * first (cause 'host_removed', see closeAllFindings); its events stay as the record (and the
 * packages they name stay pinned), under an id no other host will get.
 */
export function removeHost(store: Store, id: number): boolean {
  return store.tx(() => {
    const h = store.get<{ grp: string; hostname: string }>('SELECT grp, hostname FROM hosts WHERE id = ?', id);
    if (!h) return false;
    const now = store.clock.now();
    const agg = new AggregateBatch(store);
    releaseHost(store, id, agg);
    closeAllFindings(store, { hostId: id, grp: h.grp, now, agg });
    agg.flush();
    store.run('DELETE FROM findings WHERE host_id = ?', id);
    store.run('DELETE FROM exposures WHERE host_id = ?', id);
    // Its packages are no longer held by it; those nothing else holds or pins are collected.
    const set = storedSet(store, id);
    if (set) store.afterCommit(() => store.interner.release(set.ids));
    store.run('DELETE FROM host_packages WHERE host_id = ?', id);
    store.run('DELETE FROM host_tokens WHERE host_id = ?', id);
    store.run('DELETE FROM scans WHERE host_id = ?', id);
    store.run('DELETE FROM hosts WHERE id = ?', id);
    store.run(
      "INSERT INTO events (at, type, host_id, cause) VALUES (?, 'removed', ?, ?)",
      now,
      id,
      `hostname ${h.hostname}`,
    );
    return true;
  });
}
