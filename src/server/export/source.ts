// Export records from the server's store: host state, finding state, vulnerability events
// and host day summaries, each derived only from what the store holds (and the time), so
// exporting the same store twice gives the same documents, and a rebuild gives what the
// incremental export gave.
import { createHash } from 'node:crypto';
import { SEVERITIES, type OsInfo, type Severity } from '../../core/types.ts';
import { patchRunRecord } from '../../export/agent-ship.ts';
import { PatchRunSchema } from '../../patch/types.ts';
import type {
  FindingLifecycle,
  PatchRunRecord,
  FindingRecord,
  HostDaySummaryRecord,
  HostRecord,
  HostStateRecord,
  SeverityCounts,
  VulnerabilityEventAction,
  VulnerabilityEventRecord,
} from '../../export/records.ts';
import { DAY_MS, dayOf, isoDay } from '../clock.ts';
import { unpackItems } from '../store/history.ts';
import { enrichedFields } from './enrichment.ts';
import type { Store } from '../store/store.ts';

const iso = (ms: number): string => new Date(ms).toISOString();

export interface RetentionMs {
  /** Resolved findings older than this (since their fix) are not exported. */
  resolved: number;
  /** Open findings of a host silent for longer than this are not exported. */
  stale: number;
}

/** One host as read from the store, with what the exporter compares between runs. */
export interface HostSnapshot {
  id: number;
  enrolledAt: number;
  lastSeen: number | null;
  stale: boolean;
  /** The host as finding documents carry it. */
  host: HostRecord;
  state: HostStateRecord;
  /** Changes whenever the host state document changes. */
  docHash: string;
  /** Changes whenever the host fields of its finding documents change (then all are rewritten). */
  findingsHash: string;
}

interface HostRow extends Record<string, unknown> {
  id: number;
  hostname: string;
  grp: string;
  tags: string;
  enrolled_at: number;
  last_seen: number | null;
  os: string | null;
  distro: string | null;
  release: string | null;
  kernel: string | null;
  reboot_required: number;
  kernel_newer: number;
  package_count: number;
  match_error: string | null;
  agent_version: string | null;
}

const HOST_COLUMNS = `id, hostname, grp, tags, enrolled_at, last_seen, os, distro, release, kernel, reboot_required, kernel_newer,
  package_count, match_error, agent_version, ${SEVERITIES.map((s) => `open_${s}, fix_${s}`).join(', ')}`;

const EMPTY_OS: OsInfo = { id: '', version_id: '', codename: '', pretty_name: '' };

function hash(value: unknown): string {
  return createHash('sha1').update(JSON.stringify(value)).digest('hex');
}

function counts(row: Record<string, unknown>, prefix: string): SeverityCounts {
  const out = {} as SeverityCounts;
  for (const s of SEVERITIES) out[s] = Number(row[`${prefix}_${s}`] ?? 0);
  return out;
}

/** A host is stale when it reported once but not within the store's stale threshold. */
export function isStale(store: Store, lastSeen: number | null, now: number): boolean {
  return lastSeen !== null && lastSeen < now - store.settings.staleAfterMs;
}

function snapshotOf(store: Store, r: HostRow, now: number): HostSnapshot {
  let os = EMPTY_OS;
  if (r.os) {
    const parsed = JSON.parse(r.os) as Partial<OsInfo>;
    os = {
      id: parsed.id ?? '',
      version_id: parsed.version_id ?? '',
      codename: parsed.codename ?? '',
      pretty_name: parsed.pretty_name ?? '',
    };
    if (parsed.id_like && parsed.id_like.length > 0) os.id_like = parsed.id_like;
  }
  const stale = isStale(store, r.last_seen, now);
  const host: HostRecord = {
    id: String(r.id),
    name: r.hostname,
    os,
    kernel: r.kernel,
    group: r.grp === '' ? null : r.grp,
    tags: JSON.parse(r.tags) as string[],
  };
  const state: HostStateRecord = {
    host,
    agent: r.agent_version ? { id: String(r.id), version: r.agent_version } : null,
    state: r.last_seen === null ? 'never' : stale ? 'stale' : 'reporting',
    enrolled_at: iso(r.enrolled_at),
    last_seen: r.last_seen === null ? null : iso(r.last_seen),
    distro: r.distro,
    release: r.release,
    reboot_required: r.reboot_required === 1,
    kernel_newer: r.kernel_newer === 1,
    package_count: r.package_count,
    open: counts(r, 'open'),
    fixable: counts(r, 'fix'),
    match_error: r.match_error,
  };
  return {
    id: r.id,
    enrolledAt: r.enrolled_at,
    lastSeen: r.last_seen,
    stale,
    host,
    state,
    docHash: hash(state),
    // The stale host's last report is part of its findings' documents (last_seen, updated_at).
    findingsHash: hash([host, stale, stale ? r.last_seen : null]),
  };
}

/** Every host of the store, as of `now`. */
export function readHosts(store: Store, now: number): HostSnapshot[] {
  return store.all<HostRow>(`SELECT ${HOST_COLUMNS} FROM hosts ORDER BY id`).map((r) => snapshotOf(store, r, now));
}

export interface FindingRow {
  host_id: number;
  name_id: number;
  vuln_id: number;
  src_id: number;
  pkg_id: number;
  detail_id: number;
  severity: number;
  open: number;
  first_seen: number;
  opened_at: number;
  last_seen: number | null;
  resolved_at: number | null;
  reopened: number;
}

const FINDING_COLUMNS =
  'host_id, name_id, vuln_id, src_id, pkg_id, detail_id, severity, open, first_seen, opened_at, last_seen, resolved_at, reopened';

/** What a finding's exposure says of it: its lead binary package (the document counted), the exception holding it. */
interface ExposureOf {
  lead: number;
  exception: number | null;
}

function exposureOf(store: Store, row: FindingRow): ExposureOf | undefined {
  const e = store.get<{ lead_name_id: number; exception_id: number | null }>(
    'SELECT lead_name_id, exception_id FROM exposures WHERE host_id = ? AND vuln_id = ? AND src_id = ?',
    row.host_id,
    row.vuln_id,
    row.src_id,
  );
  return e && { lead: e.lead_name_id, exception: e.exception_id };
}

/** Whether a finding belongs in the state index now (retention of resolved and stale ones). */
export function keepFinding(row: FindingRow, host: HostSnapshot, now: number, retention: RetentionMs): boolean {
  if (row.open === 0) return row.resolved_at !== null && row.resolved_at >= now - retention.resolved;
  if (host.stale && host.lastSeen !== null) return host.lastSeen >= now - retention.stale;
  return true;
}

/**
 * The state record of one stored finding. For an open finding `last_seen` is the start of
 * its open period: how recently its host reported is the host's own document (rewriting
 * every finding on every report would multiply the export by the fleet's finding count).
 * A finding of a host that stopped reporting is `stale`, last seen at the host's last report.
 */
export function findingRecord(
  store: Store,
  row: FindingRow,
  host: HostSnapshot,
  exposure = exposureOf(store, row),
): FindingRecord {
  const pkg = store.interner.pkg(row.pkg_id).pkg;
  const detail = store.interner.detail(row.detail_id);
  const severity = SEVERITIES[row.severity] as Severity;
  const enriched = enrichedFields(store, row.vuln_id, row.severity, detail.status);
  let state: FindingLifecycle;
  let lastSeen: number;
  let updatedAt: number;
  if (row.open === 0) {
    state = 'resolved';
    lastSeen = row.last_seen ?? (row.resolved_at as number);
    updatedAt = row.resolved_at as number;
  } else if (host.stale && host.lastSeen !== null) {
    state = 'stale';
    lastSeen = host.lastSeen;
    updatedAt = Math.max(row.opened_at, host.lastSeen + store.settings.staleAfterMs);
  } else {
    state = (exposure?.exception ?? null) !== null ? 'excepted' : row.reopened > 0 ? 'reopened' : 'open';
    lastSeen = row.opened_at;
    updatedAt = row.opened_at;
  }
  return {
    host: host.host,
    agent: null,
    package: {
      name: pkg.name,
      version: pkg.version,
      arch: pkg.arch,
      source: pkg.source,
      source_version: pkg.source_version,
      format: pkg.format,
    },
    vulnerability: {
      id: store.interner.vuln(row.vuln_id),
      aliases: [...store.interner.aliases.of(row.vuln_id)],
      severity,
      raw_severity: detail.raw_severity || null,
      ...enriched.vulnerability,
    },
    status: detail.status,
    raw_status: detail.raw_status || null,
    fixed_version: detail.fixed_version,
    feed: detail.feed,
    advisory_ids: detail.advisory_ids,
    exposure_lead: exposure?.lead === row.name_id,
    state,
    exception_id: row.open === 1 ? (exposure?.exception ?? null) : null,
    first_seen: iso(row.first_seen),
    opened_at: iso(row.opened_at),
    last_seen: iso(lastSeen),
    fixed_at: row.open === 0 ? iso(row.resolved_at as number) : null,
    sla_due: iso(row.opened_at + store.slaMs(row.severity)),
    updated_at: iso(updatedAt),
    ...enriched.finding,
  };
}

/** Every finding of a host the state index should hold. */
export function hostFindingRecords(
  store: Store,
  host: HostSnapshot,
  now: number,
  retention: RetentionMs,
): FindingRecord[] {
  const rows = store.all<FindingRow>(`SELECT ${FINDING_COLUMNS} FROM findings WHERE host_id = ?`, host.id);
  const leads = new Map<string, ExposureOf>();
  for (const e of store.all<{ vuln_id: number; src_id: number; lead_name_id: number; exception_id: number | null }>(
    'SELECT vuln_id, src_id, lead_name_id, exception_id FROM exposures WHERE host_id = ?',
    host.id,
  )) {
    leads.set(`${e.vuln_id}:${e.src_id}`, { lead: e.lead_name_id, exception: e.exception_id });
  }
  return rows
    .filter((r) => keepFinding(r, host, now, retention))
    .map((r) => findingRecord(store, r, host, leads.get(`${r.vuln_id}:${r.src_id}`)));
}

/** The stored finding of one identity, if it still exists. */
export function findingRow(store: Store, hostId: number, nameId: number, vulnId: number): FindingRow | undefined {
  return store.get<FindingRow>(
    `SELECT ${FINDING_COLUMNS} FROM findings WHERE host_id = ? AND name_id = ? AND vuln_id = ?`,
    hostId,
    nameId,
    vulnId,
  );
}

export interface EventRow {
  id: number;
  at: number;
  type: string;
  host_id: number;
  cause: string | null;
  count: number;
  /** Finding events: `count` uint32 quadruples (name_id, vuln_id, pkg_id, severity). */
  items: Uint8Array | null;
}

export const EVENT_COLUMNS = 'id, at, type, host_id, cause, count, items';
export const FINDING_EVENTS: readonly string[] = ['detected', 'reopened', 'resolved'];

/** One finding's event, unpacked from a grouped event row. */
export interface FindingEvent {
  at: number;
  type: VulnerabilityEventAction;
  hostId: number;
  nameId: number;
  vulnId: number;
  pkgId: number;
  severity: number;
}

/** The finding events a stored event row holds (none for host events). */
export function findingEvents(row: EventRow): FindingEvent[] {
  if (!FINDING_EVENTS.includes(row.type) || !row.items || row.count === 0) return [];
  const items = unpackItems(row.items);
  const out: FindingEvent[] = [];
  for (let i = 0; i + 3 < items.length; i += 4) {
    out.push({
      at: row.at,
      type: row.type as VulnerabilityEventAction,
      hostId: row.host_id,
      nameId: items[i],
      vulnId: items[i + 1],
      pkgId: items[i + 2],
      severity: items[i + 3],
    });
  }
  return out;
}

/**
 * Event rows past `afterId`, whole rows only, until they hold about `budget` finding events
 * (a first report's detections are one row of hundreds).
 */
export function readEventRows(
  store: Store,
  afterId: number,
  budget: number,
  extra = '',
  ...params: (number | string)[]
): EventRow[] {
  const out: EventRow[] = [];
  let items = 0;
  let after = afterId;
  for (;;) {
    const rows = store.all<EventRow>(
      `SELECT ${EVENT_COLUMNS} FROM events WHERE id > ? ${extra} ORDER BY id LIMIT 64`,
      after,
      ...params,
    );
    for (const r of rows) {
      out.push(r);
      items += Math.max(1, r.count);
      if (items >= budget) return out;
    }
    if (rows.length < 64) return out;
    after = rows[rows.length - 1].id;
  }
}

/** Who held a host id at some point of the history: the live host, or one removed since. */
export interface Holder {
  host: HostRecord;
  live: boolean;
}

/**
 * Turns store events into vulnerability event records. An event is an exposure's (one
 * vulnerability in one source package of the host), naming its lead package; events written
 * before store schema 4 are binary findings', in the same form. A resolved event's open period
 * starts at the exposure's last detected/reopened event (what the server's time-to-remediate
 * counts from): known from the events already seen (rows are given in id order), else from
 * the exposure itself when this resolution is its latest, else looked up in the host's history.
 *
 * Host ids are reused: a host enrolled after the removal of the host with the highest id
 * takes that id. An event is the host's that held the id when it was written: the live host
 * from its enrolment on, before that the host named by the first removal of the id after it.
 */
export class EventRecords {
  private readonly store: Store;
  private readonly hosts: Map<number, HostSnapshot>;
  /** Removal events per host id (id order), read when an event may predate the live host. */
  private readonly removals = new Map<number, { id: number; at: number; host: HostRecord }[]>();
  private readonly openedAt = new Map<string, number>();

  constructor(store: Store, hosts: Map<number, HostSnapshot>) {
    this.store = store;
    this.hosts = hosts;
  }

  /** Records for the finding events of `rows` (sorted by id); host events are skipped. */
  build(rows: readonly EventRow[]): VulnerabilityEventRecord[] {
    const out: VulnerabilityEventRecord[] = [];
    for (const row of rows) {
      for (const e of findingEvents(row)) {
        const source = this.sourceOf(e);
        const key = `${e.hostId}:${source}:${e.vulnId}`;
        const holder = this.holderOf(e.hostId, e.at, row.id);
        const current = holder.live ? findingRow(this.store, e.hostId, e.nameId, e.vulnId) : undefined;
        const exposure = holder.live ? this.exposureOf(e.hostId, e.vulnId, source) : undefined;
        let opened: number | null;
        if (e.type === 'resolved') {
          opened = this.openedAt.get(key) ?? null;
          const latest = exposure ?? current;
          if (opened === null && latest && latest.open === 0 && latest.resolved_at === e.at) opened = latest.opened_at;
          opened ??= this.lookupOpenedAt(row.id, e, source);
        } else {
          opened = e.at;
          this.openedAt.set(key, e.at);
        }
        out.push(this.record(e, opened ?? e.at, current, exposure, holder.host));
      }
    }
    return out;
  }

  /** The source package an event's package is built from: its exposure with the vulnerability. */
  private sourceOf(e: FindingEvent): string {
    const p = this.store.interner.pkg(e.pkgId).pkg;
    return p.source || p.name;
  }

  private exposureOf(
    hostId: number,
    vulnId: number,
    source: string,
  ): { open: number; opened_at: number; resolved_at: number | null; first_seen: number } | undefined {
    const srcId = this.store.interner.knownSrc(source);
    if (srcId === undefined) return undefined;
    return this.store.get(
      'SELECT open, opened_at, resolved_at, first_seen FROM exposures WHERE host_id = ? AND vuln_id = ? AND src_id = ?',
      hostId,
      vulnId,
      srcId,
    );
  }

  private lookupOpenedAt(beforeId: number, e: FindingEvent, source: string): number | null {
    let before = beforeId;
    for (;;) {
      const rows = this.store.all<EventRow>(
        `SELECT ${EVENT_COLUMNS} FROM events WHERE host_id = ? AND id < ? ORDER BY id DESC LIMIT 64`,
        e.hostId,
        before,
      );
      for (const row of rows) {
        if (row.type !== 'detected' && row.type !== 'reopened') continue;
        if (findingEvents(row).some((x) => x.vulnId === e.vulnId && this.sourceOf(x) === source)) return row.at;
      }
      if (rows.length < 64) return null;
      before = rows[rows.length - 1].id;
    }
  }

  /**
   * The host that held `hostId` at `at`: for a store event, `eventId` settles a tie with the
   * live host's enrolment time (a removal and the next enrolment in the same millisecond);
   * for anything else (a patch run), a tie goes to the live host.
   */
  holderOf(hostId: number, at: number, eventId?: number): Holder {
    const live = this.hosts.get(hostId);
    if (live && at > live.enrolledAt) return { host: live.host, live: true };
    if (live && at === live.enrolledAt && eventId === undefined) return { host: live.host, live: true };
    const next = this.removalsOf(hostId).find((r) => (eventId === undefined ? r.at >= at : r.id > eventId));
    if (next) return { host: next.host, live: false };
    if (live) return { host: live.host, live: true };
    return { host: removedHost(hostId, `host ${hostId} (removed)`), live: false };
  }

  private removalsOf(hostId: number): { id: number; at: number; host: HostRecord }[] {
    let list = this.removals.get(hostId);
    if (!list) {
      // A removed host's name survives in its removal event.
      list = this.store
        .all<{ id: number; at: number; cause: string | null }>(
          "SELECT id, at, cause FROM events WHERE host_id = ? AND type = 'removed' ORDER BY id",
          hostId,
        )
        .map((r) => ({
          id: r.id,
          at: r.at,
          host: removedHost(
            hostId,
            r.cause?.startsWith('hostname ') ? r.cause.slice('hostname '.length) : `host ${hostId} (removed)`,
          ),
        }));
      this.removals.set(hostId, list);
    }
    return list;
  }

  private record(
    e: FindingEvent,
    openedAt: number,
    current: FindingRow | undefined,
    exposure: { first_seen: number } | undefined,
    host: HostRecord,
  ): VulnerabilityEventRecord {
    const pkg = this.store.interner.pkg(e.pkgId).pkg;
    const severity = SEVERITIES[e.severity] as Severity;
    const detail = current ? this.store.interner.detail(current.detail_id) : null;
    const finding: FindingRecord = {
      host,
      agent: null,
      package: {
        name: pkg.name,
        version: pkg.version,
        arch: pkg.arch,
        source: pkg.source,
        source_version: pkg.source_version,
        format: pkg.format,
      },
      vulnerability: {
        id: this.store.interner.vuln(e.vulnId),
        aliases: [...this.store.interner.aliases.of(e.vulnId)],
        severity,
        raw_severity: detail?.raw_severity || null,
      },
      status: detail?.status ?? 'affected',
      raw_status: detail?.raw_status || null,
      fixed_version: detail?.fixed_version ?? null,
      feed: detail?.feed || 'unknown',
      advisory_ids: detail?.advisory_ids ?? [],
      // Every event is its exposure's, named by its lead package.
      exposure_lead: true,
      state: e.type === 'resolved' ? 'resolved' : e.type === 'reopened' ? 'reopened' : 'open',
      first_seen: iso(Math.min((exposure ?? current)?.first_seen ?? openedAt, openedAt)),
      opened_at: iso(openedAt),
      last_seen: iso(e.at),
      fixed_at: e.type === 'resolved' ? iso(e.at) : null,
      sla_due: iso(openedAt + this.store.slaMs(e.severity)),
      updated_at: iso(e.at),
    };
    return { action: e.type, at: iso(e.at), finding, detail_unknown: detail === null ? true : undefined };
  }
}

function removedHost(hostId: number, name: string): HostRecord {
  return { id: String(hostId), name, os: EMPTY_OS, kernel: null, group: null, tags: [] };
}

/** The first event id whose time is at or after `t` (events are written in time order). */
export function firstEventAtOrAfter(store: Store, t: number): number | null {
  const bounds = store.get<{ lo: number | null; hi: number | null }>(
    'SELECT min(id) AS lo, max(id) AS hi FROM events',
  )!;
  if (bounds.lo === null || bounds.hi === null) return null;
  let lo = bounds.lo;
  let hi = bounds.hi + 1;
  while (lo < hi) {
    const mid = Math.floor((lo + hi) / 2);
    const r = store.get<{ id: number; at: number }>('SELECT id, at FROM events WHERE id >= ? ORDER BY id LIMIT 1', mid);
    if (!r || r.at >= t) hi = mid;
    else lo = r.id + 1;
  }
  return lo > bounds.hi ? null : lo;
}

/**
 * One summary per host for the UTC day `day` (a day number), computed when that day is
 * over: open and fixable counts as they stand, the day's detected and resolved findings
 * from the events, and open findings past their SLA due date by the end of the day.
 */
export function daySummaries(
  store: Store,
  day: number,
  hosts: readonly HostSnapshot[],
  now: number,
): HostDaySummaryRecord[] {
  const start = day * DAY_MS;
  const end = start + DAY_MS;
  const flow = new Map<number, { detected: number; resolved: number }>();
  const first = firstEventAtOrAfter(store, start);
  if (first !== null) {
    // Events followed by a removal of their host id were a removed host's, even when a host
    // enrolled since holds the id now (see EventRecords).
    const rows = store.all<{ host_id: number; type: string; n: number }>(
      `SELECT host_id, type, sum(count) AS n FROM events e WHERE id >= ? AND at >= ? AND at < ? AND type IN ('detected', 'reopened', 'resolved')
         AND NOT EXISTS (SELECT 1 FROM events r WHERE r.host_id = e.host_id AND r.id > e.id AND r.type = 'removed')
       GROUP BY host_id, type`,
      first,
      start,
      end,
    );
    for (const r of rows) {
      const f = flow.get(r.host_id) ?? { detected: 0, resolved: 0 };
      if (r.type === 'resolved') f.resolved += r.n;
      else f.detected += r.n;
      flow.set(r.host_id, f);
    }
  }
  const breached = new Map<number, number>();
  for (let sev = 0; sev < SEVERITIES.length; sev++) {
    for (const r of store.all<{ host_id: number; n: number }>(
      'SELECT host_id, count(*) AS n FROM exposures WHERE open = 1 AND severity = ? AND opened_at < ? GROUP BY host_id',
      sev,
      end - store.slaMs(sev),
    )) {
      breached.set(r.host_id, (breached.get(r.host_id) ?? 0) + r.n);
    }
  }
  return hosts
    .filter((h) => h.enrolledAt < end)
    .map((h) => ({
      host: h.host,
      agent: h.state.agent ?? null,
      date: isoDay(day),
      at: iso(now),
      open: h.state.open,
      fixable: Object.values(h.state.fixable).reduce((a, b) => a + b, 0),
      sla_breached: breached.get(h.id) ?? 0,
      detected: flow.get(h.id)?.detected ?? 0,
      resolved: flow.get(h.id)?.resolved ?? 0,
      reboot_required: h.state.reboot_required || h.state.kernel_newer,
      last_scan_at: h.state.last_seen,
    }));
}

/** The last complete UTC day before `now`. */
export function lastCompleteDay(now: number): number {
  return dayOf(now) - 1;
}

/** A patch run as the server keeps it (patching tables, when the server has them). */
export interface PatchRunRow {
  rowid: number;
  id: string;
  host_id: number;
  /** When the server first stored it (which host held `host_id` then). */
  received_at: number;
  doc: string;
}

/** Whether this store keeps patch runs (the patching tables exist). */
export function hasPatchRuns(store: Store): boolean {
  return (
    store.get<{ n: number }>("SELECT count(*) AS n FROM sqlite_master WHERE type = 'table' AND name = 'patch_runs'")!
      .n > 0
  );
}

/** Patch runs first stored after `afterRowid`, in the order they arrived. */
export function patchRunRows(
  store: Store,
  afterRowid: number,
  limit: number,
  upTo = Number.MAX_SAFE_INTEGER,
): PatchRunRow[] {
  return store.all<PatchRunRow>(
    'SELECT rowid, id, host_id, received_at, doc FROM patch_runs WHERE rowid > ? AND rowid <= ? ORDER BY rowid LIMIT ?',
    afterRowid,
    upTo,
    limit,
  );
}

/**
 * The export record of a stored patch run; null for a dry run (nothing was meant to change)
 * or a document that does not read as a patch run (reported through `problems`).
 */
export function storedPatchRunRecord(row: PatchRunRow, host: HostRecord, problems: string[]): PatchRunRecord | null {
  let value: unknown;
  try {
    value = JSON.parse(row.doc);
  } catch {
    problems.push(`patch run ${row.id}: stored document is not JSON`);
    return null;
  }
  const parsed = PatchRunSchema.safeParse(value);
  if (!parsed.success) {
    problems.push(
      `patch run ${row.id}: ${parsed.error.issues
        .slice(0, 2)
        .map((i) => `${i.path.join('.')}: ${i.message}`)
        .join('; ')}`,
    );
    return null;
  }
  if (parsed.data.mode === 'dry_run' || parsed.data.outcome === 'dry_run') return null;
  return patchRunRecord(parsed.data, host);
}
