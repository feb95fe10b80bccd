// The monthly report in a few lines of plain text: the message the notification channels carry
// with the PDF (e-mail attaches it; chat channels name it).
import { counted } from '../../core/plural.ts';
import type { MonthlyReport } from './schema.ts';

const pct = (x: number | null): string => (x === null ? 'n/a' : `${(Math.round(x * 1000) / 10).toFixed(1)} %`);

export function reportSummary(r: MonthlyReport): string {
  const kev = r.known_exploited;
  return [
    `patchloop report ${r.month} (${r.from} to ${r.to}${r.complete ? '' : ', to date'})`,
    '',
    `Hosts: ${r.fleet.hosts.total} (${r.fleet.hosts.reporting} reporting, ${r.fleet.hosts.stale} stale)`,
    `Open findings: ${r.exposure.open_start.total} → ${r.exposure.open_end.total} (${r.exposure.open_end.critical} critical, ${r.exposure.open_end.high} high); ${r.exposure.new.total} new, ${r.exposure.resolved.total} resolved`,
    `Resolved within SLA: ${pct(r.sla.total.within_sla)} of ${r.sla.total.resolved}; mean time to remediate ${r.sla.total.mttr_days === null ? 'n/a' : `${r.sla.total.mttr_days} days`}`,
    kev.loaded
      ? `Known exploited open: ${kev.open} on ${counted(kev.hosts, 'host')}`
      : 'Known exploited open: KEV data not loaded',
    `Patch runs: ${r.patching.runs}, success rate ${pct(r.patching.success_rate)}; ${counted(r.patching.hosts_failing.length, 'host')} ended the month failing`,
    `Hosts out of support: ${r.support.out_of_support}`,
    r.exceptions.available
      ? `Exceptions: ${r.exceptions.excepted} findings held by ${counted(r.exceptions.active_rules, 'rule')}, ${r.exceptions.rules_expiring} expiring within a week`
      : '',
    '',
    'The full report is attached (PDF).',
  ]
    .filter((l, i, a) => l !== '' || a[i - 1] !== '')
    .join('\n');
}
