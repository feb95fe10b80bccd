// Group commit for reports. Reports that arrive together are ingested in one transaction,
// each in its own savepoint: a report is still all-or-nothing on its own, a failing one is
// rolled back alone, and every report is acknowledged only after the COMMIT that made it
// durable. One COMMIT per group instead of per report is what lets a fleet's daily deltas be
// taken at thousands per second.
import type { Report } from '../core/protocol.ts';
import type { FleetMatcher } from './fleet-matcher.ts';
import { ingestReport, type IngestOutcome } from './store/ingest.ts';
import type { Store } from './store/store.ts';

interface Pending {
  hostId: number;
  report: Report;
  resolve: (o: IngestOutcome) => void;
  reject: (err: unknown) => void;
}

export class IngestQueue {
  private readonly store: Store;
  private readonly matcher: FleetMatcher;
  private readonly maxGroup: number;
  private queue: Pending[] = [];
  private scheduled = false;

  constructor(store: Store, matcher: FleetMatcher, maxGroup = 64) {
    this.store = store;
    this.matcher = matcher;
    this.maxGroup = maxGroup;
  }

  submit(hostId: number, report: Report): Promise<IngestOutcome> {
    return new Promise((resolve, reject) => {
      this.queue.push({ hostId, report, resolve, reject });
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
        results = this.store.group(group.map((p) => () => ingestReport(this.store, this.matcher, p.hostId, p.report)));
      } catch (err) {
        for (const p of group) p.reject(err);
        continue;
      }
      results.forEach((r, i) => (r.ok ? group[i].resolve(r.value) : group[i].reject(r.error)));
    }
  }
}
