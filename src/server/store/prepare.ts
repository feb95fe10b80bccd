// A large report is prepared before its atomic unit, a bounded piece at a time with the event
// loop free between pieces: its set resolved, its new packages interned, its packages matched
// into the fleet matcher's cache. The unit (ingest.ts) then finds everything ready and is left
// with one pass over the set and the findings diff. Health checks, dashboard reads and other
// hosts' reports are served meanwhile; the report is still written all-or-nothing.
//
// Everything the preparation finds or interns is held (interner holders) until the caller
// releases it after the unit, so the package collector cannot take it in between.
import type { Report } from '../../core/protocol.ts';
import { UnsupportedDistroError } from '../../core/distros.ts';
import type { HostMatcher } from './host-matcher.ts';
import { previousScan, type IngestOutcome, type PreparedSet } from './ingest.ts';
import { SetResolver, storedSet } from './report-set.ts';
import type { Store } from './store.ts';

/** Reports with more packages than this are prepared in pieces; smaller ones go straight to their unit. */
export const PREPARE_ABOVE = 5_000;
/** Packages per piece: a few milliseconds of work each. */
export const PIECE = 1_000;

export function reportSize(report: Report): number {
  return report.kind === 'full' ? report.packages.length : report.added.length + report.removed.length;
}

export interface Preparation {
  /** The prepared set, for ingestReport. */
  prepared?: PreparedSet;
  /** The answer, when preparing already found it (a delta that does not apply). */
  outcome?: IngestOutcome;
}

/**
 * Prepares a report; `held` collects every package id held for it (release them after the
 * unit, whatever its outcome). Throws ReportError for a full report whose digest is wrong.
 */
export async function prepareReport(
  store: Store,
  matcher: HostMatcher,
  hostId: number,
  report: Report,
  held: number[],
  pause: () => Promise<void>,
): Promise<Preparation> {
  // A resend of a stored report, or a delta on a base the server does not hold: the unit
  // answers those at once.
  if (previousScan(store, report.report_id)) return {};
  const stored = storedSet(store, hostId);
  if (report.kind === 'delta' && stored?.digest !== report.base) return {};

  const hold = (ids: number[]): void => {
    store.interner.hold(ids);
    for (const id of ids) held.push(id);
  };
  const resolver = new SetResolver(store, report, stored);
  for (let done = false; !done;) {
    const from = resolver.found.length;
    done = resolver.step(PIECE);
    hold(resolver.found.slice(from));
    if (!done) await pause();
  }
  const set = resolver.finish();
  if ('kind' in set) return { outcome: set };

  for (let i = 0; i < set.fresh.length; i += PIECE) {
    await pause();
    const ids = store.tx(() => set.fresh.slice(i, i + PIECE).map((key) => store.interner.packageIdForKey(key)));
    hold(ids);
    for (const id of ids) {
      set.keep.push(id);
      set.touched?.add(store.interner.pkg(id).nameId);
    }
  }
  set.fresh = [];

  const facts = {
    os: report.host.os,
    kernel: report.host.kernel,
    releaseHint: report.host.release ?? null,
    proAttached: report.host.pro_attached === true,
  };
  for (let i = 0; i < set.keep.length; i += PIECE) {
    await pause();
    try {
      // Matching interns vulnerability ids and finding details: a transaction of its own.
      store.tx(() => matcher.warm(facts, set.keep.slice(i, i + PIECE)));
    } catch (err) {
      // The unit records why the host cannot be matched.
      if (err instanceof UnsupportedDistroError) break;
      throw err;
    }
  }
  return { prepared: { basis: stored?.digest ?? null, set } };
}
