// The exporter that follows the server's store into Elasticsearch / OpenSearch.
//
// Each step reads a batch of changes past the persisted cursor (store events, in-place finding
// updates, hosts whose document changed), writes the documents they call for, and moves the
// cursor only once the cluster has acknowledged every one of them. A cluster that is down
// costs nothing but time: the step leaves the cursor where it was and the next run resends
// (state documents carry ever-growing external versions, events have deterministic ids, so
// a resend changes nothing that was already written). Ingest never waits for the exporter.
//
// `rebuild` recreates the state indices from the store's current state and resends the
// whole event history (already present events are kept: their ids are deterministic).
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { bulk, emptyReport, type BulkItem, type BulkOptions, type BulkReport } from '../../export/bulk.ts';
import { ClusterError, type ExportLogger, type SearchClient } from '../../export/client.ts';
import { auditItem } from '../../export/audit.ts';
import { findingItem, hostStateItem, hostSummaryItem, patchRunItem, vulnerabilityEventItem } from '../../export/ecs.ts';
import { installTemplates } from '../../export/install.ts';
import type { ExportNames } from '../../export/names.ts';
import { deleteHosts, purgeFindings } from '../../export/state.ts';
import { auditAfter, entryOf } from '../store/audit.ts';
import type { Store } from '../store/store.ts';
import {
  EventRecords,
  daySummaries,
  findingEvents,
  findingRecord,
  findingRow,
  hasPatchRuns,
  hostFindingRecords,
  patchRunRows,
  storedPatchRunRecord,
  keepFinding,
  lastCompleteDay,
  readEventRows,
  readHosts,
  type HostSnapshot,
  type PatchRunRow,
  type RetentionMs,
} from './source.ts';
import { enrichmentVersion } from './enrichment.ts';
import { ensureExportTables, ExportState, type ExportCursor } from './tables.ts';
import { PatchloopError } from '../../core/errors.ts';

export interface StoreExporterOptions {
  names: ExportNames;
  retention: RetentionMs & { eventsDays?: number; summariesDays?: number; auditDays?: number };
  /** Store events / in-place updates taken per step. */
  batch?: number;
  /** Hosts whose findings are all rewritten in one step. */
  hostsPerStep?: number;
  /** Documents per request group when rebuilding (bounds memory, not the request size). */
  rebuildChunk?: number;
  /** Request groups in flight at once when rebuilding. */
  rebuildConcurrency?: number;
  /** Identifies the cluster and prefix; exporting to another target starts with a rebuild. */
  target: string;
  /** How often resolved and stale findings past retention are purged from the state index. */
  purgeEveryMs?: number;
  /** Make writes visible to search before returning (tests). */
  refresh?: BulkOptions['refresh'];
  logger?: ExportLogger;
}

export interface ExportCounts {
  hosts: number;
  findings: number;
  events: number;
  patchRuns: number;
  summaries: number;
  /** Audit log entries. */
  audit: number;
  /** Hosts whose documents were deleted (removed from the fleet). */
  removedHosts: number;
  /** Documents purged from the state index (retention). */
  purged: number;
}

export interface ExportRunReport {
  /** The state indices were rebuilt (false when a rebuild was cut short: the next run redoes it). */
  rebuilt: boolean;
  steps: number;
  /** Every change up to the moment of the last step was exported. */
  caughtUp: boolean;
  /** Why the run stopped early with the cluster unavailable (the next run resumes), or null. */
  unavailable: string | null;
  sent: ExportCounts;
  bulk: Omit<BulkReport, 'rejected' | 'pending' | 'pendingReason'> & { rejected: number };
  cursor: ExportCursor | null;
}

const LEASE_MS = 10 * 60_000;

function emptyCounts(): ExportCounts {
  return { hosts: 0, findings: 0, events: 0, patchRuns: 0, summaries: 0, audit: 0, removedHosts: 0, purged: 0 };
}

export class StoreExporter {
  readonly store: Store;
  readonly client: SearchClient;
  readonly names: ExportNames;
  readonly state: ExportState;
  private readonly options: Required<Omit<StoreExporterOptions, 'refresh' | 'logger' | 'retention'>> &
    Pick<StoreExporterOptions, 'refresh'>;
  private readonly retention: StoreExporterOptions['retention'];
  private readonly log: ExportLogger;
  private readonly owner = `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;

  constructor(store: Store, client: SearchClient, options: StoreExporterOptions) {
    this.store = store;
    this.client = client;
    this.names = options.names;
    this.retention = options.retention;
    this.log = options.logger ?? client.logger;
    this.options = {
      names: options.names,
      batch: options.batch ?? 20_000,
      hostsPerStep: options.hostsPerStep ?? 200,
      rebuildChunk: options.rebuildChunk ?? Math.min(options.batch ?? 5_000, 5_000),
      rebuildConcurrency: options.rebuildConcurrency ?? 2,
      target: options.target,
      purgeEveryMs: options.purgeEveryMs ?? 3_600_000,
      refresh: options.refresh,
    };
    ensureExportTables(store);
    this.state = new ExportState(store);
  }

  /**
   * New KEV, EPSS or CVSS data ranks findings again without changing their rows (enrichment.ts):
   * when the vulnerability DB is another one than the documents were written with, every open
   * finding is queued to be written again.
   */
  private queueReranked(): void {
    const version = enrichmentVersion(this.store);
    if (version === null || this.state.get('enrichment') === version) return;
    this.store.run(
      'INSERT INTO export_changes (host_id, name_id, vuln_id) SELECT host_id, name_id, vuln_id FROM findings WHERE open = 1',
    );
    this.state.set('enrichment', version);
  }

  /**
   * Exports what changed since the last run, step by step, until caught up (or the cluster
   * becomes unavailable). The first run, a changed target, or an interrupted rebuild, rebuild.
   * Then writes yesterday's host summaries once, and purges past retention once in a while.
   */
  async runOnce(options: { maxSteps?: number } = {}): Promise<ExportRunReport> {
    const report = this.emptyReport();
    this.acquireLease();
    try {
      await this.reachCluster();
      this.queueReranked();
      const cursor = this.state.cursor();
      if (!cursor || this.state.get('target') !== this.options.target || this.state.get('needs_rebuild') === '1') {
        this.log.info(
          cursor
            ? `export: rebuilding the indices (${this.state.get('needs_rebuild') === '1' ? 'an earlier rebuild did not finish' : 'the export target changed'})`
            : 'export: first export from this store, building the indices',
        );
        await this.rebuildInto(report, false);
      } else {
        const maxSteps = options.maxSteps ?? Number.POSITIVE_INFINITY;
        while (report.steps < maxSteps) {
          const done = await this.step(report);
          report.steps++;
          this.renewLease();
          if (done) {
            report.caughtUp = true;
            break;
          }
          await yieldToEventLoop();
        }
      }
      if (report.caughtUp) {
        await this.summaries(report);
        await this.purge(report);
      }
      report.cursor = this.state.cursor();
      this.state.set('last_success_at', new Date().toISOString());
      this.state.set('last_error', '');
      return report;
    } catch (error) {
      if (error instanceof ClusterError && error.retryable) {
        report.unavailable = error.message;
        report.cursor = this.state.cursor();
        this.state.set('last_error', error.message);
        this.log.warn(`export: cluster unavailable (${error.message}); the next run resumes from the cursor`);
        return report;
      }
      this.state.set('last_error', (error as Error).message);
      throw error;
    } finally {
      this.state.set('last_run_at', new Date().toISOString());
      this.releaseLease();
    }
  }

  /** Recreates the state indices and resends everything (`dropEvents`: the event stream too). */
  async rebuild(options: { dropEvents?: boolean } = {}): Promise<ExportRunReport> {
    const report = this.emptyReport();
    this.acquireLease();
    try {
      await this.reachCluster();
      await this.rebuildInto(report, options.dropEvents === true);
      await this.summaries(report);
      report.cursor = this.state.cursor();
      this.state.set('last_success_at', new Date().toISOString());
      this.state.set('last_error', '');
      return report;
    } catch (error) {
      this.state.set('last_error', (error as Error).message);
      if (error instanceof ClusterError && error.retryable) {
        report.unavailable = error.message;
        return report;
      }
      throw error;
    } finally {
      this.state.set('last_run_at', new Date().toISOString());
      this.releaseLease();
    }
  }

  private emptyReport(): ExportRunReport {
    const { rejected: _r, pending: _p, pendingReason: _why, ...counts } = emptyReport();
    return {
      rebuilt: false,
      steps: 0,
      caughtUp: false,
      unavailable: null,
      sent: emptyCounts(),
      bulk: { ...counts, rejected: 0 },
      cursor: null,
    };
  }

  // ------------------------------------------------------------------ one incremental step

  /** One batch of changes; true when nothing was left beyond it. */
  private async step(report: ExportRunReport): Promise<boolean> {
    const store = this.store;
    const now = store.clock.now();
    const cursor = this.state.cursor() as ExportCursor;
    const { batch, hostsPerStep } = this.options;

    // Read everything this step needs in one go (no await in between: one consistent view).
    const events = readEventRows(store, cursor.events, batch);
    const changes = store.all<{ seq: number; host_id: number; name_id: number; vuln_id: number }>(
      'SELECT seq, host_id, name_id, vuln_id FROM export_changes WHERE seq > ? ORDER BY seq LIMIT ?',
      cursor.changes,
      batch,
    );
    const runs = hasPatchRuns(store) ? patchRunRows(store, cursor.runs, batch) : [];
    const hosts = readHosts(store, now);
    const byId = new Map(hosts.map((h) => [h.id, h]));
    const exported = new Map(
      store
        .all<{ host_id: number; enrolled_at: number; doc_hash: string; findings_hash: string }>(
          'SELECT host_id, enrolled_at, doc_hash, findings_hash FROM export_hosts',
        )
        .map((r) => [r.host_id, r]),
    );

    // Hosts gone from the store, or removed and their id given to a new host: their
    // documents go first, and a host now holding the id is exported afresh.
    const removed = new Set<number>();
    for (const e of events) {
      // A removal whose id now belongs to a host enrolled after it: that host stays (the
      // enrolment-time check below already replaced the removed one's documents).
      const live = byId.get(e.host_id);
      if (e.type === 'removed' && !(live && live.enrolledAt >= e.at)) removed.add(e.host_id);
    }
    for (const [id, row] of exported) {
      const live = byId.get(id);
      if (!live || live.enrolledAt !== row.enrolled_at) removed.add(id);
    }
    for (const id of removed) exported.delete(id);

    const hostDocs: HostSnapshot[] = [];
    const fullHosts: HostSnapshot[] = [];
    let deferredHosts = 0;
    for (const h of hosts) {
      const before = exported.get(h.id);
      if (!before || before.doc_hash !== h.docHash) hostDocs.push(h);
      if (!before || before.findings_hash !== h.findingsHash) {
        if (fullHosts.length < hostsPerStep) fullHosts.push(h);
        else deferredHosts++;
      }
    }
    const full = new Set(fullHosts.map((h) => h.id));

    const version = this.state.reserveVersion();
    const items: BulkItem[] = [];
    for (const h of hostDocs) items.push(hostStateItem(h.state, this.names, version));
    let findingDocs = 0;
    for (const h of fullHosts) {
      for (const r of hostFindingRecords(store, h, now, this.retention)) {
        items.push(findingItem(r, this.names, version));
        findingDocs++;
      }
    }
    // Single findings that changed, on hosts not rewritten whole in this step.
    const dirty = new Map<string, [number, number, number]>();
    for (const row of events) {
      for (const e of findingEvents(row))
        dirty.set(`${e.hostId}:${e.nameId}:${e.vulnId}`, [e.hostId, e.nameId, e.vulnId]);
    }
    for (const c of changes) dirty.set(`${c.host_id}:${c.name_id}:${c.vuln_id}`, [c.host_id, c.name_id, c.vuln_id]);
    for (const [hostId, nameId, vulnId] of dirty.values()) {
      const host = byId.get(hostId);
      if (!host || full.has(hostId) || removed.has(hostId)) continue;
      const row = findingRow(store, hostId, nameId, vulnId);
      if (!row || !keepFinding(row, host, now, this.retention)) continue;
      items.push(findingItem(findingRecord(store, row, host), this.names, version));
      findingDocs++;
    }
    const builder = new EventRecords(store, byId);
    const eventRecords = builder.build(events);
    for (const e of eventRecords) items.push(vulnerabilityEventItem(e, this.names));
    const runItems = this.patchRunItems(runs, builder);
    items.push(...runItems);

    // Send: deletions first, then documents in order.
    if (removed.size > 0) {
      await deleteHosts(
        this.client,
        this.names,
        [...removed].map(String),
        this.options.refresh === undefined ? undefined : true,
      );
      report.sent.removedHosts += removed.size;
    }
    await this.send(items, report);
    report.sent.hosts += hostDocs.length;
    report.sent.findings += findingDocs;
    report.sent.events += eventRecords.length;
    report.sent.patchRuns += runItems.length;

    // Acknowledged: remember what was exported and move the cursor, atomically.
    const next: ExportCursor = {
      events: events.length > 0 ? events[events.length - 1].id : cursor.events,
      changes: changes.length > 0 ? changes[changes.length - 1].seq : cursor.changes,
      runs: runs.length > 0 ? runs[runs.length - 1].rowid : cursor.runs,
    };
    store.tx(() => {
      for (const id of removed) store.run('DELETE FROM export_hosts WHERE host_id = ?', id);
      const touched = new Map<number, HostSnapshot>();
      for (const h of hostDocs) touched.set(h.id, h);
      for (const h of fullHosts) touched.set(h.id, h);
      for (const h of touched.values()) {
        const before = exported.get(h.id);
        // A host whose findings wait for a later step keeps its old findings hash, so that
        // step still sees it as changed.
        const findingsHash = full.has(h.id) ? h.findingsHash : (before?.findings_hash ?? '');
        store.run(
          `INSERT INTO export_hosts (host_id, enrolled_at, doc_hash, findings_hash) VALUES (?, ?, ?, ?)
           ON CONFLICT (host_id) DO UPDATE SET enrolled_at = excluded.enrolled_at, doc_hash = excluded.doc_hash, findings_hash = excluded.findings_hash`,
          h.id,
          h.enrolledAt,
          h.docHash,
          findingsHash,
        );
      }
      this.saveCursor(next);
    });
    const moreEvents =
      store.get<{ n: number }>('SELECT count(*) AS n FROM (SELECT 1 FROM events WHERE id > ? LIMIT 1)', next.events)!
        .n > 0;
    const auditDone = await this.auditStep(report);
    return !moreEvents && changes.length < batch && runs.length < batch && deferredHosts === 0 && auditDone;
  }

  /**
   * The audit log past its cursor (its own, `cursor_audit`): append-only, so entries go out in
   * order with deterministic ids and the cursor follows what was acknowledged. True when none
   * was left beyond this batch.
   */
  private async auditStep(report: ExportRunReport): Promise<boolean> {
    const after = this.state.number('cursor_audit') ?? 0;
    const rows = auditAfter(this.store, after, this.options.batch);
    if (rows.length === 0) return true;
    await this.send(
      rows.map((r) => auditItem(entryOf(r), this.names)),
      report,
    );
    report.sent.audit += rows.length;
    this.state.set('cursor_audit', String(rows[rows.length - 1].id));
    return rows.length < this.options.batch;
  }

  // ------------------------------------------------------------------ rebuild

  private async rebuildInto(report: ExportRunReport, dropEvents: boolean): Promise<void> {
    const store = this.store;
    this.state.set('needs_rebuild', '1');
    this.state.set('target', this.options.target);
    await this.client.info();
    const accept = [404];
    await this.client.request({ method: 'DELETE', path: `/${encodeURIComponent(this.names.findings)}`, accept });
    await this.client.request({ method: 'DELETE', path: `/${encodeURIComponent(this.names.hosts)}`, accept });
    if (dropEvents)
      await this.client.request({
        method: 'DELETE',
        path: `/_data_stream/${encodeURIComponent(this.names.vulnerabilityEvents)}`,
        accept,
      });
    await installTemplates(this.client, {
      names: this.names,
      retention: {
        ...(this.retention.eventsDays ? { eventsDays: this.retention.eventsDays } : {}),
        ...(this.retention.summariesDays ? { summariesDays: this.retention.summariesDays } : {}),
        ...(this.retention.auditDays ? { auditDays: this.retention.auditDays } : {}),
      },
    });

    // Bulk loading: no refreshes until the end (restored below, and by the next rebuild if this one fails).
    await this.refreshEvery('-1');

    // Where the incremental export will continue from, read with the hosts it starts from.
    const now = store.clock.now();
    const maxEvent = store.get<{ n: number | null }>('SELECT max(id) AS n FROM events')!.n ?? 0;
    const maxChange = store.get<{ n: number | null }>('SELECT max(seq) AS n FROM export_changes')!.n ?? 0;
    const withRuns = hasPatchRuns(store);
    const maxRun = withRuns ? (store.get<{ n: number | null }>('SELECT max(rowid) AS n FROM patch_runs')!.n ?? 0) : 0;
    const hosts = readHosts(store, now);
    const byId = new Map(hosts.map((h) => [h.id, h]));
    const version = this.state.reserveVersion();

    await this.send(
      hosts.map((h) => hostStateItem(h.state, this.names, version)),
      report,
    );
    report.sent.hosts += hosts.length;

    const chunk = this.options.rebuildChunk;
    let items: BulkItem[] = [];
    // Chunks are indexed while the next ones are built, a few at a time: the cluster's write
    // threads and this process work at once. (Order does not matter here: every document of a
    // rebuild is new, with its own id.)
    const inflight = new Set<Promise<void>>();
    let failure: unknown = null;
    const flush = async (): Promise<void> => {
      if (items.length === 0) return;
      const sending = items;
      items = [];
      while (inflight.size >= this.options.rebuildConcurrency) await Promise.race(inflight);
      if (failure) throw failure;
      const p: Promise<void> = this.send(sending, report).then(
        () => void inflight.delete(p),
        (error: unknown) => {
          inflight.delete(p);
          failure ??= error;
        },
      );
      inflight.add(p);
      this.renewLease();
      await yieldToEventLoop();
    };
    const drain = async (): Promise<void> => {
      await flush();
      await Promise.all(inflight);
      if (failure) throw failure;
    };
    for (const h of hosts) {
      for (const r of hostFindingRecords(store, h, now, this.retention)) {
        items.push(findingItem(r, this.names, version));
        report.sent.findings++;
      }
      if (items.length >= chunk) await flush();
    }
    await drain();

    // The whole event history, host by host (each host's events in order give every
    // resolved event its open period without looking back).
    const hostIds = store
      .all<{ host_id: number }>('SELECT DISTINCT host_id FROM events WHERE id <= ? ORDER BY host_id', maxEvent)
      .map((r) => r.host_id);
    for (const hostId of hostIds) {
      const builder = new EventRecords(store, byId);
      let after = 0;
      for (;;) {
        const rows = readEventRows(store, after, chunk, 'AND host_id = ? AND id <= ?', hostId, maxEvent);
        if (rows.length === 0) break;
        after = rows[rows.length - 1].id;
        for (const e of builder.build(rows)) {
          items.push(vulnerabilityEventItem(e, this.names));
          report.sent.events++;
        }
        if (items.length >= chunk) await flush();
      }
    }
    await drain();

    // Patch runs (events too: already present ones are kept).
    const runBuilder = new EventRecords(store, byId);
    for (let after = 0; withRuns;) {
      const rows = patchRunRows(store, after, chunk, maxRun);
      if (rows.length === 0) break;
      after = rows[rows.length - 1].rowid;
      const runItems = this.patchRunItems(rows, runBuilder);
      items.push(...runItems);
      report.sent.patchRuns += runItems.length;
      await flush();
    }
    await drain();
    // The audit log from its start (entries already there are kept: their ids are deterministic).
    this.state.set('cursor_audit', '0');
    while (!(await this.auditStep(report))) this.renewLease();
    await this.refreshEvery(null);

    store.tx(() => {
      store.run('DELETE FROM export_hosts');
      for (const h of hosts) {
        store.run(
          'INSERT INTO export_hosts (host_id, enrolled_at, doc_hash, findings_hash) VALUES (?, ?, ?, ?)',
          h.id,
          h.enrolledAt,
          h.docHash,
          h.findingsHash,
        );
      }
      this.saveCursor({ events: maxEvent, changes: maxChange, runs: maxRun });
      this.state.set('needs_rebuild', '0');
      this.state.set('target', this.options.target);
    });
    report.rebuilt = true;
    report.caughtUp = true;
  }

  // ------------------------------------------------------------------ daily and periodic work

  /** Yesterday's host summaries, once (create: a repeat is a no-op). */
  private async summaries(report: ExportRunReport): Promise<void> {
    const now = this.store.clock.now();
    const day = lastCompleteDay(now);
    const done = this.state.number('summary_day');
    if (done !== null && done >= day) return;
    const hosts = readHosts(this.store, now);
    const records = daySummaries(this.store, day, hosts, now);
    await this.send(
      records.map((r) => hostSummaryItem(r, this.names)),
      report,
    );
    report.sent.summaries += records.length;
    this.state.set('summary_day', String(day));
  }

  private async purge(report: ExportRunReport): Promise<void> {
    const now = this.store.clock.now();
    const last = this.state.number('last_purge') ?? 0;
    if (now - last < this.options.purgeEveryMs && now >= last) return;
    const r = await purgeFindings(this.client, this.names, {
      resolvedBefore: new Date(now - this.retention.resolved).toISOString(),
      staleBefore: new Date(now - this.retention.stale).toISOString(),
      refresh: this.options.refresh !== undefined,
    });
    report.sent.purged += r.deleted;
    this.state.set('last_purge', String(now));
  }

  // ------------------------------------------------------------------ helpers

  /**
   * Asks the cluster at the start of every run, before the run decides anything: a run with
   * nothing to send must not pass for a success while the cluster is down, and a cluster
   * that cannot be reached must not mark the store for a rebuild (a mistyped URL would
   * otherwise make the next run to the right one rebuild everything).
   */
  private async reachCluster(): Promise<void> {
    if (this.client.product) await this.client.request({ method: 'GET', path: '/' });
    else await this.client.info();
  }

  /** Sends items; throws a retryable ClusterError when any could not be delivered (the caller keeps its cursor). */
  private async send(items: readonly BulkItem[], report: ExportRunReport): Promise<void> {
    if (items.length === 0) return;
    const r = await bulk(this.client, items, { refresh: this.options.refresh });
    report.bulk.total += r.total;
    report.bulk.created += r.created;
    report.bulk.updated += r.updated;
    report.bulk.deleted += r.deleted;
    report.bulk.unchanged += r.unchanged;
    report.bulk.requests += r.requests;
    report.bulk.rejected += r.rejected.length;
    if (r.pending.length > 0)
      throw new ClusterError(
        `${r.pending.length} of ${items.length} documents not delivered: ${r.pendingReason ?? 'no reason given'}`,
        null,
        null,
        true,
      );
  }

  /**
   * Refresh interval of the state indices and the event stream: '-1' (none) while a rebuild
   * loads them, null for their usual setting.
   */
  private async refreshEvery(interval: '-1' | null): Promise<void> {
    // Elasticsearch Serverless manages refreshes itself.
    if (this.client.product?.serverless) return;
    for (const [target, usual] of [
      [this.names.findings, '5s'],
      [this.names.hosts, '5s'],
      [this.names.vulnerabilityEvents, null],
    ] as const) {
      await this.client.request({
        method: 'PUT',
        path: `/${encodeURIComponent(target)}/_settings`,
        body: { index: { refresh_interval: interval ?? usual } },
      });
    }
  }

  /** Event items for stored patch runs (dry runs and unreadable ones left out, the latter logged). */
  private patchRunItems(rows: readonly PatchRunRow[], hosts: EventRecords): BulkItem[] {
    const problems: string[] = [];
    const items: BulkItem[] = [];
    for (const row of rows) {
      const record = storedPatchRunRecord(row, hosts.holderOf(row.host_id, row.received_at).host, problems);
      if (record) items.push(patchRunItem(record, this.names));
    }
    for (const p of problems) this.log.warn(`export: ${p}; not exported`);
    return items;
  }

  private saveCursor(cursor: ExportCursor): void {
    this.state.set('cursor_events', String(cursor.events));
    this.state.set('cursor_changes', String(cursor.changes));
    this.state.set('cursor_runs', String(cursor.runs));
    // Consumed in-place updates are not needed any more.
    this.store.run('DELETE FROM export_changes WHERE seq <= ?', cursor.changes);
  }

  private acquireLease(): void {
    const raw = this.state.get('lease');
    if (raw) {
      const lease = JSON.parse(raw) as { owner: string; until: number };
      if (lease.owner !== this.owner && lease.until > Date.now()) {
        throw new PatchloopError(
          'PL_E_EXPORT_BUSY',
          `another exporter (${lease.owner}) is exporting from this store until ${new Date(lease.until).toISOString()}`,
        );
      }
    }
    this.renewLease();
  }

  private renewLease(): void {
    this.state.set('lease', JSON.stringify({ owner: this.owner, until: Date.now() + LEASE_MS }));
  }

  private releaseLease(): void {
    const raw = this.state.get('lease');
    if (raw && (JSON.parse(raw) as { owner: string }).owner === this.owner)
      this.store.run("DELETE FROM export_state WHERE key = 'lease'");
  }
}
