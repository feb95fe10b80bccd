// Group commit for reports. Reports that arrive together are ingested in one transaction,
// each in its own savepoint: a report is still all-or-nothing on its own, a failing one is
// rolled back alone, and every report is acknowledged only after the COMMIT that made it
// durable. One COMMIT per group instead of per report is what lets a fleet's daily deltas be
// taken at thousands per second.
//
// A large report (more than PREPARE_ABOVE packages) is first prepared in pieces with the event
// loop free in between (store/prepare.ts), one such report at a time, so that a 100,000-package
// inventory never stops the server from answering health checks, the dashboard and other
// hosts; its unit then joins a group like any other. Packages nothing holds any more are
// collected after the commits that released them (store/package-gc.ts).
import { setImmediate as nextTurn } from 'node:timers/promises';
import type { Report } from '../core/protocol.ts';
import type { FleetMatcher } from './fleet-matcher.ts';
import { ingestReport, type IngestOutcome, type PreparedSet } from './store/ingest.ts';
import { PackageCollector } from './store/package-gc.ts';
import { PREPARE_ABOVE, prepareReport, reportSize } from './store/prepare.ts';
import type { Store } from './store/store.ts';

/**
 * Large reports waiting or being prepared at once; beyond, a report is answered 503 (agents
 * keep it spooled and retry): each one waiting holds its parsed body in memory.
 */
export const MAX_LARGE_REPORTS = 4;

interface Pending {
  hostId: number;
  report: Report;
  prepared?: PreparedSet;
  resolve: (o: IngestOutcome) => void;
  reject: (err: unknown) => void;
}

export class IngestQueue {
  private readonly store: Store;
  private readonly matcher: FleetMatcher;
  private readonly maxGroup: number;
  private queue: Pending[] = [];
  private scheduled = false;
  /** The large report being prepared: the next one waits for it. */
  private preparing: Promise<unknown> = Promise.resolve();
  private largeReports = 0;
  readonly collector: PackageCollector;

  constructor(store: Store, matcher: FleetMatcher, maxGroup = 64) {
    this.store = store;
    this.matcher = matcher;
    this.maxGroup = maxGroup;
    this.collector = new PackageCollector(store, matcher);
  }

  submit(hostId: number, report: Report): Promise<IngestOutcome> {
    if (reportSize(report) > PREPARE_ABOVE) return this.submitLarge(hostId, report);
    return this.enqueue(hostId, report);
  }

  private async submitLarge(hostId: number, report: Report): Promise<IngestOutcome> {
    if (this.largeReports >= MAX_LARGE_REPORTS) {
      return {
        kind: 'rejected',
        status: 503,
        error: 'busy',
        message: `the server is taking ${MAX_LARGE_REPORTS} other large reports: send this one later`,
      };
    }
    this.largeReports++;
    const turn = this.preparing.then(() => this.prepareAndIngest(hostId, report)).finally(() => this.largeReports--);
    this.preparing = turn.catch(() => {});
    return turn;
  }

  private async prepareAndIngest(hostId: number, report: Report): Promise<IngestOutcome> {
    const held: number[] = [];
    try {
      const p = await prepareReport(this.store, this.matcher, hostId, report, held, () => nextTurn());
      if (p.outcome) return p.outcome;
      return await this.enqueue(hostId, report, p.prepared);
    } finally {
      // After the commit: the host's set holds what it kept; nothing else stays held.
      this.store.interner.release(held);
    }
  }

  private enqueue(hostId: number, report: Report, prepared?: PreparedSet): Promise<IngestOutcome> {
    return new Promise((resolve, reject) => {
      this.queue.push({ hostId, report, prepared, resolve, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        // After the I/O callbacks of this turn: requests parsed meanwhile join the group.
        setImmediate(() => this.flush());
      }
    });
  }

  private flush(): void {
    this.scheduled = false;
    while (this.queue.length > 0) {
      const group = this.queue.splice(0, this.maxGroup);
      let results;
      try {
        results = this.store.group(
          group.map((p) => () => ingestReport(this.store, this.matcher, p.hostId, p.report, p.prepared)),
        );
      } catch (err) {
        for (const p of group) p.reject(err);
        continue;
      }
      results.forEach((r, i) => (r.ok ? group[i].resolve(r.value) : group[i].reject(r.error)));
    }
  }
}
