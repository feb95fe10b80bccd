// Re-matching the fleet after the vulnerability data changed: every host's stored package
// set is matched again (no agent involved) and the differences become history with cause
// 'feed'. Hosts are taken release by release so the fleet matcher's cache stays warm, in
// small transactions with a pause between them so reports keep being served meanwhile.
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { SEVERITIES, type OsInfo } from '../../core/types.ts';
import { AggregateBatch } from './aggregates.ts';
import { applyFindingsWithExceptions } from './exceptions-apply.ts';
import { UnsupportedDistroError } from '../../core/distros.ts';
import type { HostMatcher } from './host-matcher.ts';
import { decodeIds } from './package-set.ts';
import type { Store } from './store.ts';

export interface RematchSummary {
  hosts: number;
  /** Hosts whose every package gives the same result as before: nothing to compare or write. */
  unchanged: number;
  skipped: number;
  detected: number;
  resolved: number;
  reopened: number;
  duration_ms: number;
}

export interface RematchOptions {
  refreshId: number | null;
  /** Hosts per transaction. */
  batch?: number;
  /** Stop early (server shutting down); the remaining hosts are re-matched on their next report. */
  signal?: AbortSignal;
  /** Told after each batch: hosts gone through so far, of how many (a large fleet takes minutes). */
  onProgress?: (done: number, total: number) => void;
}

interface HostRow {
  id: number;
  grp: string;
  os: string;
  kernel: string | null;
  release_hint: string | null;
  pro_attached: number;
  match_gen: number;
  ids: Uint8Array;
}

export async function rematchFleet(
  store: Store,
  matcher: HostMatcher,
  options: RematchOptions,
): Promise<RematchSummary> {
  const started = performance.now();
  const summary: RematchSummary = {
    hosts: 0,
    unchanged: 0,
    skipped: 0,
    detected: 0,
    resolved: 0,
    reopened: 0,
    duration_ms: 0,
  };
  const ids = store
    .all<{ id: number }>(
      'SELECT h.id FROM hosts h JOIN host_packages p ON p.host_id = h.id WHERE h.os IS NOT NULL ORDER BY h.distro, h.release, h.id',
    )
    .map((r) => r.id);
  const batch = options.batch ?? 50;
  for (let i = 0; i < ids.length; i += batch) {
    if (options.signal?.aborted) break;
    const gen = matcher.generation;
    store.tx(() => {
      for (const id of ids.slice(i, i + batch)) rematchHost(store, matcher, id, gen, options.refreshId, summary);
    });
    options.onProgress?.(Math.min(i + batch, ids.length), ids.length);
    await yieldToEventLoop();
  }
  if (!options.signal?.aborted) matcher.forgetPrevious();
  summary.duration_ms = Math.round(performance.now() - started);
  return summary;
}

function rematchHost(
  store: Store,
  matcher: HostMatcher,
  hostId: number,
  gen: number,
  refreshId: number | null,
  summary: RematchSummary,
): void {
  const h = store.get<HostRow>(
    `SELECT h.id, h.grp, h.os, h.kernel, h.release_hint, h.pro_attached, h.match_gen, p.ids
     FROM hosts h JOIN host_packages p ON p.host_id = h.id WHERE h.id = ?`,
    hostId,
  );
  // Gone meanwhile, or a report already brought it up to this generation.
  if (!h || h.match_gen === gen) {
    summary.skipped++;
    return;
  }
  const now = store.clock.now();
  let match;
  try {
    match = matcher.matchHost({
      os: JSON.parse(h.os) as OsInfo,
      kernel: h.kernel,
      releaseHint: h.release_hint,
      proAttached: h.pro_attached === 1,
      pkgIds: decodeIds(h.ids),
    });
  } catch (err) {
    if (!(err instanceof UnsupportedDistroError)) throw err;
    store.run('UPDATE hosts SET match_error = ?, match_gen = ? WHERE id = ?', err.message, gen, hostId);
    summary.skipped++;
    return;
  }
  // Unchanged results mean unchanged findings only for a host matched with the previous data.
  if (match.sameAsBefore && h.match_gen === matcher.previousGeneration) {
    store.run('UPDATE hosts SET match_gen = ? WHERE id = ?', gen, hostId);
    summary.hosts++;
    summary.unchanged++;
    return;
  }
  const agg = new AggregateBatch(store);
  const counts = applyFindingsWithExceptions(
    store,
    { hostId, grp: h.grp, now, cause: 'feed', scanId: null, refreshId, lastSeen: now, agg },
    match.findings,
    'all',
  );
  agg.flush();
  const sets = [
    'distro = ?',
    'release = ?',
    'kernel_newer = ?',
    'dormant = ?',
    'unsupported = ?',
    'match_warnings = ?',
    'match_gen = ?',
    'match_error = NULL',
  ];
  for (let i = 0; i < SEVERITIES.length; i++) {
    if (counts.open[i]) sets.push(`open_${SEVERITIES[i]} = open_${SEVERITIES[i]} + ${counts.open[i]}`);
    if (counts.fixable[i]) sets.push(`fix_${SEVERITIES[i]} = fix_${SEVERITIES[i]} + ${counts.fixable[i]}`);
  }
  store.run(
    `UPDATE hosts SET ${sets.join(', ')} WHERE id = ?`,
    match.distro,
    match.release,
    match.kernelNewer ? 1 : 0,
    match.dormant,
    JSON.stringify(match.unsupported),
    JSON.stringify(match.warnings),
    gen,
    hostId,
  );
  summary.hosts++;
  summary.detected += counts.detected;
  summary.resolved += counts.resolved;
  summary.reopened += counts.reopened;
}
