// Findings resolved in one calendar month, by severity: how many, how many within their SLA and
// the mean time to remediate — the overview's 90-day figures, for the month a report covers.
// Read from the daily aggregates, as the overview and the trends are.
import { SEVERITIES } from '../../core/types.ts';
import { DAY_MS, dayOf } from '../clock.ts';
import type { Store } from '../store/store.ts';
import { monthRange, type Resolution } from './schema.ts';

const round = (x: number): number => Math.round(x * 1000) / 1000;

export function monthResolution(store: Store, month: string): Resolution {
  const r = monthRange(month);
  const rows = new Map(
    store
      .all<{ severity: number; resolved: number; resolved_ms: number; in_sla: number }>(
        `SELECT severity, sum(resolved) AS resolved, sum(resolved_ms) AS resolved_ms, sum(resolved_in_sla) AS in_sla
           FROM daily WHERE day >= ? AND day < ? GROUP BY severity`,
        dayOf(r.start),
        dayOf(r.end),
      )
      .map((x) => [x.severity, x]),
  );
  const figures = (resolved: number, inSla: number, ms: number) => ({
    resolved,
    resolved_in_sla: inSla,
    within_sla: resolved === 0 ? null : round(inSla / resolved),
    mttr_days: resolved === 0 ? null : round(ms / resolved / DAY_MS),
  });
  let resolved = 0;
  let inSla = 0;
  let ms = 0;
  const bySeverity = Object.fromEntries(
    SEVERITIES.map((s, i) => {
      const x = rows.get(i);
      resolved += x?.resolved ?? 0;
      inSla += x?.in_sla ?? 0;
      ms += x?.resolved_ms ?? 0;
      return [s, figures(x?.resolved ?? 0, x?.in_sla ?? 0, x?.resolved_ms ?? 0)];
    }),
  ) as Resolution['by_severity'];
  return {
    month,
    from: r.from,
    to: r.to,
    targets_days: { ...store.settings.slaDays },
    by_severity: bySeverity,
    total: figures(resolved, inSla, ms),
  };
}
