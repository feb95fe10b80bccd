// Where notification events come from. The store's own records are followed, never ingest:
// - the event log (new and reopened exposures), by event id;
// - patch runs that failed or partly failed, by their update time;
// - feed refreshes that failed or partly failed, by refresh id;
// and states looked at on every round, each event keyed by what makes it new (a host stale
// since its last report, an exposure past its SLA since it was opened, a reboot pending since
// a patch run). Every event has a key; notify_pending remembers which were queued for which
// rule and channel, so reading a source again never queues an event twice.
import { SEVERITIES } from '../../core/types.ts';
import type { NotificationEvent, Rule, Trigger } from '../api/notification-schemas.ts';
import { unpackItems } from '../store/history.ts';
import type { Store } from '../store/store.ts';
import type { NotifyState } from './tables.ts';

const iso = (ms: number): string => new Date(ms).toISOString();

/** What is known of a finding beyond the event (KEV, priority): notify/facts.ts. */
export type FindingFacts = (f: {
  vulnId: number;
  /** Index into SEVERITIES. */
  severity: number;
  /** Index into FINDING_STATUSES, when known. */
  status: number | null;
}) => {
  kev: boolean | null;
  priority: NotificationEvent['priority'];
};
export const NO_FACTS: FindingFacts = () => ({ kev: null, priority: null });

/**
 * A source looked at on each round for one rule (state-based: stale hosts, pending reboots,
 * expiring exceptions). Events need a key that stays the same while the state lasts.
 */
export interface StateSource {
  trigger: Trigger;
  collect(store: Store, now: number, rule: Rule): NotificationEvent[];
}

type HostRef = NonNullable<NotificationEvent['host']>;

/** Hosts by id, read once per round. */
export class HostCache {
  private readonly store: Store;
  private readonly hosts = new Map<number, HostRef | null>();
  constructor(store: Store) {
    this.store = store;
  }
  get(id: number): HostRef | null {
    let h = this.hosts.get(id);
    if (h === undefined) {
      const r = this.store.get<{ hostname: string; grp: string; tags: string }>(
        'SELECT hostname, grp, tags FROM hosts WHERE id = ?',
        id,
      );
      h = r ? { id, hostname: r.hostname, group: r.grp, tags: JSON.parse(r.tags) as string[] } : null;
      this.hosts.set(id, h);
    }
    return h;
  }
}

function event(
  e: Partial<NotificationEvent> & Pick<NotificationEvent, 'key' | 'trigger' | 'at' | 'summary'>,
): NotificationEvent {
  return {
    host: null,
    vulnerability: null,
    package: null,
    severity: null,
    kev: null,
    priority: null,
    detail: {},
    ...e,
  };
}

function findingEvent(
  store: Store,
  facts: FindingFacts,
  o: {
    key: string;
    trigger: Trigger;
    at: number;
    host: HostRef | null;
    hostId: number;
    vulnId: number;
    pkgId: number;
    severity: number;
    /** The exposure's status (index into FINDING_STATUSES), when known. */
    status: number | null;
    what: string;
  },
): NotificationEvent {
  const vulnerability = store.interner.vuln(o.vulnId);
  const pkg = store.interner.pkg(o.pkgId).pkg;
  const severity = SEVERITIES[o.severity] ?? 'unknown';
  const known = facts({ vulnId: o.vulnId, severity: o.severity, status: o.status });
  const hostname = o.host?.hostname ?? `host ${o.hostId}`;
  const flags = [known.priority, known.kev ? 'KEV' : null].filter(Boolean).join(', ');
  return event({
    key: o.key,
    trigger: o.trigger,
    at: iso(o.at),
    summary: `${o.what}: ${vulnerability} (${severity}${flags ? `, ${flags}` : ''}) in ${pkg.name} ${pkg.version} on ${hostname}`,
    host: o.host,
    vulnerability,
    package: { name: pkg.name, version: pkg.version, arch: pkg.arch },
    severity,
    kev: known.kev,
    priority: known.priority,
  });
}

export interface Batch {
  events: NotificationEvent[];
  /** Moves the source's cursor past what was read (called in the same transaction as the queueing). */
  advance(): void;
  /** More may be waiting past this batch. */
  more: boolean;
}

/** New and reopened exposures from the event log, past the `events` cursor. */
export function findingEvents(
  store: Store,
  state: NotifyState,
  hosts: HostCache,
  facts: FindingFacts,
  limit = 500,
): Batch {
  const after = state.number('events') ?? 0;
  const rows = store.all<{ id: number; at: number; type: string; host_id: number; items: Uint8Array | null }>(
    'SELECT id, at, type, host_id, items FROM events WHERE id > ? ORDER BY id LIMIT ?',
    after,
    limit,
  );
  const events: NotificationEvent[] = [];
  const exposure = store.stmt(
    'SELECT status, exception_id FROM exposures WHERE host_id = ? AND vuln_id = ? AND lead_name_id = ?',
  );
  for (const r of rows) {
    if ((r.type !== 'detected' && r.type !== 'reopened') || !r.items) continue;
    const items = unpackItems(r.items);
    const host = hosts.get(r.host_id);
    for (let i = 0; i * 4 < items.length; i++) {
      const now = exposure.get(r.host_id, items[i * 4 + 1], items[i * 4]) as
        { status: number; exception_id: number | null } | undefined;
      // Held by an exception rule by the time it is read (an accepted risk): nothing to tell.
      if (now?.exception_id != null) continue;
      events.push(
        findingEvent(store, facts, {
          key: `finding:${r.id}.${i}`,
          trigger: 'new_finding',
          at: r.at,
          host,
          hostId: r.host_id,
          vulnId: items[i * 4 + 1],
          pkgId: items[i * 4 + 2],
          severity: items[i * 4 + 3],
          status: now?.status ?? null,
          what: r.type === 'reopened' ? 'Reopened' : 'New finding',
        }),
      );
    }
  }
  const last = rows.at(-1)?.id;
  return { events, advance: () => last !== undefined && state.set('events', last), more: rows.length === limit };
}

/**
 * Patch runs that failed or partly failed, updated past the `patch_runs` cursor: the update
 * time and row of the last run read (a run reported again later, with another outcome, comes
 * again with its new update time).
 */
export function patchRunEvents(store: Store, state: NotifyState, hosts: HostCache, limit = 500): Batch {
  const [since, sinceRow] = (state.get('patch_runs') ?? '0.0').split('.').map(Number);
  const rows = store.all<{
    row: number;
    id: string;
    host_id: number;
    outcome: string;
    policy_name: string;
    backend: string;
    finished_ms: number;
    updated_at: number;
  }>(
    `SELECT rowid AS row, id, host_id, outcome, policy_name, backend, finished_ms, updated_at FROM patch_runs
      WHERE (updated_at, rowid) > (?, ?) ORDER BY updated_at, rowid LIMIT ?`,
    since,
    sinceRow ?? 0,
    limit,
  );
  const events: NotificationEvent[] = [];
  for (const r of rows) {
    if (r.outcome !== 'failed' && r.outcome !== 'partial') continue;
    const host = hosts.get(r.host_id);
    events.push(
      event({
        key: `patch_run:${r.id}:${r.outcome}`,
        trigger: 'patch_run_failed',
        at: iso(r.finished_ms),
        summary: `Patch run ${r.outcome === 'failed' ? 'failed' : 'partly failed'} on ${host?.hostname ?? `host ${r.host_id}`} (policy ${r.policy_name}, ${r.backend})`,
        host,
        detail: { run_id: r.id, outcome: r.outcome, policy: r.policy_name, backend: r.backend },
      }),
    );
  }
  const last = rows.at(-1);
  return {
    events,
    advance: () => last !== undefined && state.set('patch_runs', `${last.updated_at}.${last.row}`),
    more: rows.length === limit,
  };
}

/** Feed refreshes that failed or partly failed, past the `refreshes` cursor (finished ones, in order). */
export function refreshEvents(store: Store, state: NotifyState): Batch {
  const after = state.number('refreshes') ?? 0;
  const rows = store.all<{
    id: number;
    finished_at: number | null;
    outcome: string | null;
    message: string | null;
    feeds: string;
  }>('SELECT id, finished_at, outcome, message, feeds FROM refreshes WHERE id > ? ORDER BY id LIMIT 100', after);
  const events: NotificationEvent[] = [];
  let last: number | undefined;
  for (const r of rows) {
    if (r.finished_at === null) break; // still running: read again next round
    last = r.id;
    if (r.outcome !== 'failed' && r.outcome !== 'partial') continue;
    const message = (r.message ?? '').slice(0, 1000);
    events.push(
      event({
        key: `feed_refresh:${r.id}`,
        trigger: 'feed_refresh_failed',
        at: iso(r.finished_at),
        summary: `Feed refresh ${r.outcome === 'failed' ? 'failed' : 'partly failed'}${message ? `: ${message.split('\n')[0].replace(/[\s,;:]+$/, '')}` : ''}`,
        detail: { refresh_id: r.id, outcome: r.outcome, message, feeds: r.feeds },
      }),
    );
  }
  return { events, advance: () => last !== undefined && state.set('refreshes', last), more: false };
}

/**
 * Exposures whose SLA ran out between the `sla` cursor time and now (each severity's SLA from
 * the server's sla_days). Exposures past their SLA before notifications were set up are not told.
 */
export function slaEvents(store: Store, state: NotifyState, hosts: HostCache, facts: FindingFacts, now: number): Batch {
  const since = state.number('sla') ?? now;
  const events: NotificationEvent[] = [];
  for (let sev = 0; sev < SEVERITIES.length; sev++) {
    const sla = store.slaMs(sev);
    const rows = store.all<{
      host_id: number;
      vuln_id: number;
      src_id: number;
      lead_pkg_id: number;
      status: number;
      opened_at: number;
    }>(
      `SELECT host_id, vuln_id, src_id, lead_pkg_id, status, opened_at FROM exposures
        WHERE open = 1 AND severity = ? AND fixable IN (0, 1) AND opened_at > ? AND opened_at <= ?`,
      sev,
      since - sla,
      now - sla,
    );
    for (const r of rows) {
      const e = findingEvent(store, facts, {
        key: `sla:${r.host_id}:${r.vuln_id}:${r.src_id}:${r.opened_at}`,
        trigger: 'sla_breach',
        at: r.opened_at + sla,
        host: hosts.get(r.host_id),
        hostId: r.host_id,
        vulnId: r.vuln_id,
        pkgId: r.lead_pkg_id,
        severity: sev,
        status: r.status,
        what: `SLA of ${Math.round(sla / 86_400_000)} days passed`,
      });
      events.push({ ...e, detail: { opened_at: iso(r.opened_at), sla_days: Math.round(sla / 86_400_000) } });
    }
  }
  return { events, advance: () => state.set('sla', now), more: false };
}

/** Hosts not heard from for the server's stale_after: one event per host and last report. */
export const staleHosts: StateSource = {
  trigger: 'host_stale',
  collect(store, now) {
    const before = now - store.settings.staleAfterMs;
    return store
      .all<{ id: number; hostname: string; grp: string; tags: string; last_seen: number }>(
        'SELECT id, hostname, grp, tags, last_seen FROM hosts WHERE last_seen IS NOT NULL AND last_seen < ?',
        before,
      )
      .map((h) =>
        event({
          key: `host_stale:${h.id}:${h.last_seen}`,
          trigger: 'host_stale',
          at: iso(h.last_seen + store.settings.staleAfterMs),
          summary: `${h.hostname} has not reported since ${iso(h.last_seen)}`,
          host: { id: h.id, hostname: h.hostname, group: h.grp, tags: JSON.parse(h.tags) as string[] },
          detail: { last_seen: iso(h.last_seen) },
        }),
      );
  },
};

/**
 * Hosts whose newest patch run asked for a reboot that has not happened for longer than the
 * rule's days (default 3): one event per host and run.
 */
export const pendingReboots: StateSource = {
  trigger: 'reboot_pending',
  collect(store, now, rule) {
    const days = rule.days ?? 3;
    return store
      .all<{
        id: number;
        hostname: string;
        grp: string;
        tags: string;
        run_id: string;
        finished_ms: number;
        reboot_status: string;
      }>(
        `SELECT h.id, h.hostname, h.grp, h.tags, r.id AS run_id, r.finished_ms, r.reboot_status
           FROM hosts h JOIN patch_runs r ON r.host_id = h.id
          WHERE h.reboot_required = 1 AND r.reboot_required = 1 AND r.mode != 'dry_run'
            AND r.reboot_status NOT IN ('rebooted', 'not_required') AND r.finished_ms <= ?
            AND r.finished_ms = (SELECT max(finished_ms) FROM patch_runs r2 WHERE r2.host_id = h.id AND r2.mode != 'dry_run')`,
        now - days * 86_400_000,
      )
      .map((h) =>
        event({
          key: `reboot:${h.id}:${h.run_id}`,
          trigger: 'reboot_pending',
          at: iso(h.finished_ms + days * 86_400_000),
          summary: `${h.hostname} has waited for a reboot since ${iso(h.finished_ms)} (${h.reboot_status})`,
          host: { id: h.id, hostname: h.hostname, group: h.grp, tags: JSON.parse(h.tags) as string[] },
          detail: { run_id: h.run_id, reboot_status: h.reboot_status, since: iso(h.finished_ms), days },
        }),
      );
  },
};

/** State sources by trigger (expiring exceptions: exception-source.ts, added by the service). */
const STATE_SOURCES = new Map<Trigger, StateSource>([
  ['host_stale', staleHosts],
  ['reboot_pending', pendingReboots],
]);

export function addStateSource(source: StateSource): void {
  STATE_SOURCES.set(source.trigger, source);
}

export function stateSource(trigger: Trigger): StateSource | undefined {
  return STATE_SOURCES.get(trigger);
}
