// Fleet statistics for the dashboard's KPIs, read from the per-host counters and the daily
// aggregates (never from the findings table, so they stay fast with 10,000 hosts).
import type { SQLInputValue } from 'node:sqlite';
import type { z } from 'zod';
import { SEVERITIES } from '../../core/types.ts';
import type { FeedInfo } from '../../vulndb/reader.ts';
import type { OverviewSchema, TrendsSchema } from '../api/schemas.ts';
import { DAY_MS, dayOf, isoDay } from '../clock.ts';
import type { Store } from '../store/store.ts';
import { emptyCounts, iso, severityCounts, type SeverityCounts } from './common.ts';
import { releaseSupport } from './hosts.ts';

const WINDOW_DAYS = 90;

function groupFilter(group: string | undefined, column = 'grp'): { sql: string; params: SQLInputValue[] } {
  return group === undefined ? { sql: '1 = 1', params: [] } : { sql: `${column} = ?`, params: [group] };
}

/** The overview, but for what enrichment adds (queries/priorities.ts exploitOverview). */
export function overview(
  store: Store,
  group: string | undefined,
  feeds: FeedInfo[],
): Omit<z.infer<typeof OverviewSchema>, 'known_exploited' | 'priority'> {
  const now = store.clock.now();
  const staleBefore = now - store.settings.staleAfterMs;
  const g = groupFilter(group);
  const h = store.get<Record<string, number | null>>(
    `SELECT count(*) AS total,
       sum(CASE WHEN last_seen >= ? THEN 1 ELSE 0 END) AS reporting,
       sum(CASE WHEN last_seen < ? THEN 1 ELSE 0 END) AS stale,
       sum(CASE WHEN last_seen IS NULL THEN 1 ELSE 0 END) AS never_reported,
       sum(CASE WHEN reboot_required = 1 OR kernel_newer = 1 THEN 1 ELSE 0 END) AS reboot_pending,
       sum(CASE WHEN match_error IS NOT NULL THEN 1 ELSE 0 END) AS unmatched,
       sum(CASE WHEN open_critical > 0 THEN 1 ELSE 0 END) AS with_critical,
       ${SEVERITIES.map((s) => `sum(open_${s}) AS open_${s}, sum(fix_${s}) AS fix_${s}`).join(', ')}
     FROM hosts WHERE ${g.sql}`,
    staleBefore,
    staleBefore,
    ...g.params,
  )!;
  const open = severityCounts(h, 'open');
  const fixable = severityCounts(h, 'fix');

  const today = dayOf(now);
  const since = today - WINDOW_DAYS + 1;
  const resolvedRows = store.all<{ severity: number; resolved: number; resolved_ms: number; in_sla: number }>(
    `SELECT severity, sum(resolved) AS resolved, sum(resolved_ms) AS resolved_ms, sum(resolved_in_sla) AS in_sla
     FROM daily WHERE day >= ? AND ${g.sql} GROUP BY severity`,
    since,
    ...g.params,
  );
  const bySevResolved = new Map(resolvedRows.map((r) => [r.severity, r]));
  const bySeverity: z.infer<typeof OverviewSchema>['sla']['by_severity'] = {};
  const mttr: Record<string, number | null> = {};
  let within = 0;
  let considered = 0;
  for (let i = 0; i < SEVERITIES.length; i++) {
    const sev = SEVERITIES[i];
    // Overdue: opened on a day before (now - SLA), counted from the opened-day histogram.
    const overdue =
      store.get<{ n: number | null }>(
        `SELECT sum(n) AS n FROM open_age WHERE severity = ? AND day < ? AND ${g.sql}`,
        i,
        dayOf(now - store.slaMs(i)),
        ...g.params,
      )!.n ?? 0;
    const r = bySevResolved.get(i);
    const resolved = r?.resolved ?? 0;
    const inSla = r?.in_sla ?? 0;
    bySeverity[sev] = {
      open: open[sev],
      overdue,
      open_within_sla: open[sev] === 0 ? 1 : round((open[sev] - overdue) / open[sev]),
      resolved_90d: resolved,
      resolved_in_sla_90d: inSla,
      resolved_within_sla: resolved === 0 ? null : round(inSla / resolved),
    };
    mttr[sev] = resolved === 0 ? null : round((r?.resolved_ms ?? 0) / resolved / DAY_MS);
    within += open[sev] - overdue + inSla;
    considered += open[sev] + resolved;
  }

  const releases = store
    .all<{ distro: string; release: string; n: number }>(
      `SELECT distro, release, count(*) AS n FROM hosts WHERE distro IS NOT NULL AND ${g.sql} GROUP BY distro, release ORDER BY distro, release`,
      ...g.params,
    )
    .map((r) => {
      const support = releaseSupport(r.distro, r.release, now);
      return { distro: r.distro, release: r.release, hosts: r.n, support, end_of_life: support.state === 'ended' };
    });
  const last = store.get<{ started_at: number; outcome: string | null }>(
    'SELECT started_at, outcome FROM refreshes ORDER BY id DESC LIMIT 1',
  );
  return {
    generated_at: iso(now),
    group: group ?? null,
    hosts: {
      total: h.total ?? 0,
      reporting: h.reporting ?? 0,
      stale: h.stale ?? 0,
      never_reported: h.never_reported ?? 0,
      reboot_pending: h.reboot_pending ?? 0,
      unmatched: h.unmatched ?? 0,
      with_critical: h.with_critical ?? 0,
    },
    open,
    fixable,
    sla: {
      targets_days: { ...store.settings.slaDays },
      by_severity: bySeverity,
      compliance: considered === 0 ? 1 : round(within / considered),
    },
    mttr_days: mttr,
    releases,
    feeds: feeds.map((f) => ({ feed: f.feed, updated_at: f.updated_at, entry_count: f.entry_count })),
    last_refresh: last ? { at: iso(last.started_at), outcome: last.outcome } : null,
  };
}

function round(x: number): number {
  return Math.round(x * 1000) / 1000;
}

/**
 * Open, new and resolved findings per day. Open counts come from the daily snapshots where
 * one exists and are otherwise worked back from the next day (open yesterday = open today -
 * new today + resolved today); today's is live.
 */
export function trends(store: Store, group: string | undefined, days: number): z.infer<typeof TrendsSchema> {
  const now = store.clock.now();
  const today = dayOf(now);
  const first = today - days + 1;
  const g = groupFilter(group);
  const flow = new Map<number, { new: SeverityCounts; resolved: SeverityCounts }>();
  for (const r of store.all<{ day: number; severity: number; detected: number; reopened: number; resolved: number }>(
    `SELECT day, severity, sum(detected) AS detected, sum(reopened) AS reopened, sum(resolved) AS resolved
     FROM daily WHERE day >= ? AND ${g.sql} GROUP BY day, severity`,
    first,
    ...g.params,
  )) {
    let f = flow.get(r.day);
    if (!f) {
      f = { new: emptyCounts(), resolved: emptyCounts() };
      flow.set(r.day, f);
    }
    const sev = SEVERITIES[r.severity];
    f.new[sev] += r.detected + r.reopened;
    f.new.total += r.detected + r.reopened;
    f.resolved[sev] += r.resolved;
    f.resolved.total += r.resolved;
  }
  const snapshots = new Map<number, SeverityCounts>();
  for (const r of store.all<{ day: number; severity: number; open: number }>(
    `SELECT day, severity, sum(open) AS open FROM open_daily WHERE day >= ? AND day < ? AND ${g.sql} GROUP BY day, severity`,
    first,
    today,
    ...g.params,
  )) {
    let s = snapshots.get(r.day);
    if (!s) {
      s = emptyCounts();
      snapshots.set(r.day, s);
    }
    s[SEVERITIES[r.severity]] += r.open;
    s.total += r.open;
  }
  const live = store.get<Record<string, number | null>>(
    `SELECT ${SEVERITIES.map((s) => `sum(open_${s}) AS open_${s}`).join(', ')} FROM hosts WHERE ${g.sql}`,
    ...g.params,
  )!;
  // Before anything was ever detected (in the flows, the snapshots, or by a host enrolled now)
  // nothing was open: counting back from today stops there, so what the flows do not account for
  // (severities re-rated by a feed) is not carried into days before the fleet existed.
  const began = store.get<{ day: number | null }>(
    `SELECT min(day) AS day FROM (SELECT min(day) AS day FROM daily WHERE ${g.sql}
       UNION ALL SELECT min(day) FROM open_daily WHERE ${g.sql}
       UNION ALL SELECT min(enrolled_at) / ${DAY_MS} FROM hosts WHERE ${g.sql})`,
    ...g.params,
    ...g.params,
    ...g.params,
  )!.day;
  const fleetStart = began === null ? today + 1 : Math.floor(began);
  const out: z.infer<typeof TrendsSchema>['days'] = [];
  let open = severityCounts(live, 'open');
  for (let day = today; day >= first; day--) {
    if (day !== today && snapshots.has(day)) open = snapshots.get(day)!;
    else if (day < fleetStart) open = emptyCounts();
    const f = flow.get(day) ?? { new: emptyCounts(), resolved: emptyCounts() };
    out.push({ date: isoDay(day), open: { ...open }, new: f.new, resolved: f.resolved });
    const before = emptyCounts();
    for (const s of SEVERITIES) {
      before[s] = Math.max(0, open[s] - f.new[s] + f.resolved[s]);
      before.total += before[s];
    }
    open = before;
  }
  return { group: group ?? null, days: out.reverse() };
}

/** Records today's open counts per group and severity (run periodically and after re-matches). */
export function writeOpenSnapshot(store: Store): void {
  const day = dayOf(store.clock.now());
  const rows = store.all<Record<string, number | string>>(
    `SELECT grp, ${SEVERITIES.map((s) => `sum(open_${s}) AS open_${s}, sum(fix_${s}) AS fix_${s}`).join(', ')} FROM hosts GROUP BY grp`,
  );
  store.tx(() => {
    store.run('DELETE FROM open_daily WHERE day = ?', day);
    for (const r of rows) {
      for (const s of SEVERITIES) {
        store.run(
          'INSERT INTO open_daily (day, grp, severity, open, fixable) VALUES (?, ?, ?, ?, ?)',
          day,
          r.grp,
          SEVERITIES.indexOf(s),
          Number(r[`open_${s}`] ?? 0),
          Number(r[`fix_${s}`] ?? 0),
        );
      }
    }
  });
}
