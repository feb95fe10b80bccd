// The monthly management report as a page, built from the dashboard's own components (tiles,
// cards, tables, severity badges, the trend charts): fleet exposure and its trend, SLA
// compliance and time to remediate by severity, known exploited vulnerabilities open, patching,
// the top remediation actions, exceptions and their expiry, hosts out of support. Every figure
// carries data-figure with its name, as the report's JSON has it.
import type { ComponentChildren } from 'preact';
import type { MonthlyReport } from '../../../src/server/report/schema.ts';
import { FlowChart, OpenTrendChart } from '../components/chart.tsx';
import { OUTCOME_LABEL, OUTCOMES } from '../components/patch-runs.tsx';
import { DataTable, type Column } from '../components/table.tsx';
import { Badge, Card, Kpi, SeverityBadge, type Tone } from '../components/ui.tsx';
import { date, days, int, percent } from '../lib/format.ts';
import { SEVERITIES, type Severity } from '../lib/severity.ts';
import { monthName } from './month-name.ts';

/** A figure with its name, so tests and readers of the HTML find it. */
function F(props: { name: string; children: ComponentChildren }) {
  return <span data-figure={props.name}>{props.children}</span>;
}

export function ReportPage(props: { report: MonthlyReport }) {
  const r = props.report;
  const kev = r.known_exploited;
  const rate = r.patching.success_rate;
  return (
    <div class="report">
      <header class="report-head">
        <div>
          <span class="report-brand">patchloop</span>
        </div>
        <h1 data-figure="title">Patch and vulnerability report — {monthName(r.month)}</h1>
        <p class="subtitle">
          {r.from} to {r.to}
          {r.complete ? '' : ` (to date: the month is not over)`} · generated {date(r.generated_at)}{' '}
          {r.generated_at.slice(11, 16)} UTC from {r.source}
        </p>
      </header>

      <section class="kpis kpis-4 report-kpis">
        <Kpi
          id="hosts"
          label="Hosts"
          value={int(r.fleet.hosts.total)}
          sub={`${int(r.fleet.hosts.reporting)} reporting · ${int(r.fleet.hosts.stale)} stale`}
        />
        <Kpi
          id="open-end"
          label={r.complete ? 'Open at month end' : 'Open now'}
          value={int(r.exposure.open_end.total)}
          tone={r.exposure.open_end.critical > 0 ? 'bad' : 'neutral'}
          sub={`${int(r.exposure.open_end.critical)} critical · ${int(r.exposure.open_end.high)} high`}
        />
        <Kpi
          id="flow"
          label="New / resolved in the month"
          value={`${int(r.exposure.new.total)} / ${int(r.exposure.resolved.total)}`}
          sub={`open ${int(r.exposure.open_start.total)} → ${int(r.exposure.open_end.total)}`}
        />
        <Kpi
          id="sla"
          label="Resolved within SLA"
          value={percent(r.sla.total.within_sla)}
          tone={toneOf(r.sla.total.within_sla, 0.9, 0.7)}
          sub={`${int(r.sla.total.resolved_in_sla)} of ${int(r.sla.total.resolved)} resolved`}
        />
        <Kpi
          id="mttr"
          label="Mean time to remediate"
          value={days(r.sla.total.mttr_days)}
          sub="detection to resolution, all severities"
        />
        <Kpi
          id="kev"
          label="Known exploited open"
          value={kev.loaded ? int(kev.open) : 'n/a'}
          tone={kev.loaded ? (kev.open > 0 ? 'bad' : 'good') : 'warn'}
          sub={
            kev.loaded
              ? `${int(kev.vulnerabilities)} vulnerabilities on ${int(kev.hosts)} hosts`
              : 'KEV data not loaded'
          }
        />
        <Kpi
          id="patch-success"
          label="Patch success rate"
          value={percent(rate)}
          tone={toneOf(rate, 0.95, 0.8)}
          sub={`${int(r.patching.runs)} runs · ${int(r.patching.hosts_patched)} hosts patched`}
        />
        <Kpi
          id="out-of-support"
          label="Hosts out of support"
          value={int(r.support.out_of_support)}
          tone={r.support.out_of_support > 0 ? 'bad' : 'good'}
          sub="on releases without security updates"
        />
      </section>

      <Card
        id="exposure"
        title="Fleet exposure"
        note="Open findings per day by severity, and what was found and resolved each day of the month"
      >
        <div class="report-charts">
          <OpenTrendChart days={r.exposure.days} />
          <FlowChart days={r.exposure.days} />
        </div>
        <ExposureTable r={r} />
      </Card>

      <Card
        id="sla"
        title="SLA compliance by severity"
        note="Findings resolved in the month within their severity's target, the mean time they stayed open, and the findings open now past their target"
      >
        <SlaTable r={r} />
      </Card>

      <Card
        id="known-exploited"
        title="Known exploited vulnerabilities open"
        note="In the CISA Known Exploited Vulnerabilities catalogue, open on the fleet now"
      >
        {kev.loaded ? (
          <>
            <p>
              <F name="kev.open">{int(kev.open)}</F> open findings of{' '}
              <F name="kev.vulnerabilities">{int(kev.vulnerabilities)}</F> known exploited vulnerabilities on{' '}
              <F name="kev.hosts">{int(kev.hosts)}</F> hosts.
            </p>
            {kev.host_list.length > 0 && (
              <p class="muted small">First hosts: {kev.host_list.map((h) => h.hostname).join(', ')}</p>
            )}
          </>
        ) : (
          <p class="report-missing" data-figure="kev.missing">
            {kev.reason}.
          </p>
        )}
      </Card>

      <Card id="patching" title="Patching" note="Patch runs the hosts reported in the month">
        <PatchingTable r={r} />
      </Card>

      <Card
        id="remediation"
        title="Top remediation actions"
        note="The upgrades that close the most, across the fleet now"
      >
        {r.remediation.available ? (
          <DataTable
            id="remediation"
            columns={REMEDIATION_COLUMNS}
            rows={r.remediation.top}
            rowKey={(x) => `${x.source}/${x.fixed_version}`}
            empty="Nothing to upgrade: no open finding has a fix."
          />
        ) : (
          <p class="report-missing">Not available: {r.remediation.reason}.</p>
        )}
      </Card>

      <Card
        id="exceptions"
        title="Exceptions"
        note="Accepted risks, false positives and mitigations: held findings are out of the open and SLA figures"
      >
        {r.exceptions.available ? (
          <>
            <p>
              <F name="exceptions.excepted">{int(r.exceptions.excepted)}</F> findings held by{' '}
              <F name="exceptions.active_rules">{int(r.exceptions.active_rules)}</F> active rules;{' '}
              <F name="exceptions.rules_expiring">{int(r.exceptions.rules_expiring)}</F> rules (
              <F name="exceptions.expiring">{int(r.exceptions.expiring)}</F> findings) expire within a week.
            </p>
            {r.exceptions.rules.length > 0 && (
              <DataTable id="exceptions" columns={EXCEPTION_COLUMNS} rows={r.exceptions.rules} rowKey={(x) => x.id} />
            )}
          </>
        ) : (
          <p class="report-missing">Not available: {r.exceptions.reason}.</p>
        )}
      </Card>

      <Card id="support" title="Hosts out of support" note="Releases of the fleet and their security support">
        <DataTable
          id="support"
          columns={SUPPORT_COLUMNS}
          rows={r.support.releases}
          rowKey={(x) => `${x.distro}/${x.release}`}
          empty="No host has reported yet."
        />
      </Card>
    </div>
  );
}

function toneOf(x: number | null, good: number, warn: number): Tone {
  if (x === null) return 'neutral';
  return x >= good ? 'good' : x >= warn ? 'warn' : 'bad';
}

function ExposureTable(props: { r: MonthlyReport }) {
  const e = props.r.exposure;
  const rows: [string, string, MonthlyReport['exposure']['open_start']][] = [
    ['open_start', `Open on ${e.days[0].date}`, e.open_start],
    ['new', 'New in the month', e.new],
    ['resolved', 'Resolved in the month', e.resolved],
    ['open_end', `Open on ${e.days.at(-1)!.date}`, e.open_end],
  ];
  return (
    <table class="data" data-table="exposure">
      <thead>
        <tr>
          <th />
          {SEVERITIES.map((s) => (
            <th key={s} class="num">
              <SeverityBadge severity={s} />
            </th>
          ))}
          <th class="num">Total</th>
        </tr>
      </thead>
      <tbody>
        {rows.map(([key, label, c]) => (
          <tr key={key} data-row={key}>
            <th>{label}</th>
            {[...SEVERITIES, 'total' as const].map((s) => (
              <td key={s} class="num" data-figure={`exposure.${key}.${s}`}>
                {int(c[s])}
              </td>
            ))}
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function SlaTable(props: { r: MonthlyReport }) {
  const s = props.r.sla;
  const row = (sev: Severity | 'total') => {
    const x = sev === 'total' ? s.total : s.by_severity[sev];
    const now = sev === 'total' ? null : s.open_now[sev];
    return (
      <tr key={sev} data-severity={sev}>
        <th>{sev === 'total' ? 'All' : <SeverityBadge severity={sev} />}</th>
        <td class="num">{sev === 'total' ? '' : `${int(s.targets_days[sev])} d`}</td>
        <td class="num" data-figure={`sla.${sev}.resolved`}>
          {int(x.resolved)}
        </td>
        <td class="num" data-figure={`sla.${sev}.resolved_in_sla`}>
          {int(x.resolved_in_sla)}
        </td>
        <td class="num strong" data-figure={`sla.${sev}.within_sla`}>
          {percent(x.within_sla)}
        </td>
        <td class="num" data-figure={`sla.${sev}.mttr_days`}>
          {days(x.mttr_days)}
        </td>
        <td class="num" data-figure={`sla.${sev}.open`}>
          {now ? int(now.open) : ''}
        </td>
        <td class={`num ${now && now.overdue > 0 ? 'bad-text' : ''}`} data-figure={`sla.${sev}.overdue`}>
          {now ? int(now.overdue) : ''}
        </td>
      </tr>
    );
  };
  return (
    <table class="data" data-table="sla">
      <thead>
        <tr>
          <th>Severity</th>
          <th class="num">Target</th>
          <th class="num">Resolved</th>
          <th class="num">Within SLA</th>
          <th class="num">Share</th>
          <th class="num">MTTR</th>
          <th class="num">Open now</th>
          <th class="num">Past SLA now</th>
        </tr>
      </thead>
      <tbody>
        {SEVERITIES.map(row)}
        {row('total')}
      </tbody>
    </table>
  );
}

function PatchingTable(props: { r: MonthlyReport }) {
  const p = props.r.patching;
  return (
    <div class="report-split">
      <table class="data" data-table="patch-outcomes">
        <thead>
          <tr>
            <th>Outcome</th>
            <th class="num">Runs</th>
          </tr>
        </thead>
        <tbody>
          {OUTCOMES.map((o) => (
            <tr key={o}>
              <th>{OUTCOME_LABEL[o]}</th>
              <td class="num" data-figure={`patching.${o}`}>
                {int(p.by_outcome[o] ?? 0)}
              </td>
            </tr>
          ))}
          <tr>
            <th>All runs</th>
            <td class="num strong" data-figure="patching.runs">
              {int(p.runs)}
            </td>
          </tr>
        </tbody>
      </table>
      <div>
        <p>
          Success rate <F name="patching.success_rate">{percent(p.success_rate)}</F> of the runs that tried to install
          (success, nothing to do, partly failed, failed); <F name="patching.hosts_patched">{int(p.hosts_patched)}</F>{' '}
          hosts patched successfully at least once.
        </p>
        {p.hosts_failing.length > 0 ? (
          <p>
            <Badge tone="bad">
              <F name="patching.hosts_failing">{int(p.hosts_failing.length)}</F> hosts
            </Badge>{' '}
            ended the month with a failed run: {p.hosts_failing.map((h) => h.hostname).join(', ')}
          </p>
        ) : (
          <p class="muted">No host ended the month with a failed run.</p>
        )}
      </div>
    </div>
  );
}

type Remediation = Extract<MonthlyReport['remediation'], { available: true }>['top'][number];
const REMEDIATION_COLUMNS: Column<Remediation>[] = [
  { key: 'source', label: 'Upgrade', render: (x) => <span class="mono">{x.source}</span> },
  { key: 'version', label: 'To version', render: (x) => <span class="mono small">{x.fixed_version}</span> },
  { key: 'hosts', label: 'Hosts', align: 'right', render: (x) => int(x.hosts) },
  { key: 'vulns', label: 'Closes', align: 'right', render: (x) => int(x.vulnerabilities) },
  { key: 'kev', label: 'Known exploited', align: 'right', render: (x) => int(x.known_exploited) },
  { key: 'severity', label: 'Worst', render: (x) => <SeverityBadge severity={x.severity} /> },
];

type Rule = Extract<MonthlyReport['exceptions'], { available: true }>['rules'][number];
const EXCEPTION_COLUMNS: Column<Rule>[] = [
  { key: 'id', label: 'Rule', render: (x) => `#${x.id}` },
  { key: 'kind', label: 'Kind', render: (x) => x.kind.replaceAll('_', ' ') },
  { key: 'scope', label: 'Scope', render: (x) => x.scope },
  { key: 'owner', label: 'Owner', render: (x) => x.owner ?? '–' },
  { key: 'held', label: 'Findings', align: 'right', render: (x) => int(x.held) },
  { key: 'expires', label: 'Expires', render: (x) => (x.expires_at ? date(x.expires_at) : 'never') },
];

type Release = MonthlyReport['support']['releases'][number];
const SUPPORT_TONE: Record<string, Tone> = { supported: 'good', extended: 'warn', ended: 'bad', unknown: 'neutral' };
const SUPPORT_COLUMNS: Column<Release>[] = [
  { key: 'release', label: 'Release', render: (x) => `${x.distro} ${x.release}` },
  {
    key: 'hosts',
    label: 'Hosts',
    align: 'right',
    render: (x) => <F name={`support.${x.distro}.${x.release}`}>{int(x.hosts)}</F>,
  },
  {
    key: 'support',
    label: 'Security support',
    render: (x) => (
      <Badge tone={SUPPORT_TONE[x.support.state] ?? 'neutral'}>
        {x.support.state === 'ended'
          ? `ended${x.support.ended ? ` ${x.support.ended}` : ''}`
          : x.support.state === 'unknown'
            ? 'unknown'
            : `${x.support.state}${x.support.ends ? ` until ${x.support.ends}` : ''}`}
      </Badge>
    ),
  },
];
