// Overview: where the fleet stands — open findings and what can be fixed now, the 90-day
// exposure trend, SLA compliance and breaches, time to remediate, hosts reporting, reboots,
// releases out of support, and the vulnerability data behind it all.
import type { AgentVersions, Overview, PatchRunSummary, Trends } from '../api/types.ts';
import { useApi } from '../api/use-api.ts';
import { FlowChart, OpenTrendChart } from '../components/chart.tsx';
import { ExceptedKpi } from '../components/excepted-kpi.tsx';
import { GroupSelect, useFacets } from '../components/facet-filters.tsx';
import { OUTCOME_LABEL, OUTCOMES, OutcomeBadge } from '../components/patch-runs.tsx';
import { SeverityBars } from '../components/severity-bars.tsx';
import { DataTable, ExportButton, type Column } from '../components/table.tsx';
import {
  Badge,
  Card,
  Empty,
  NoData,
  ErrorNote,
  Kpi,
  Loading,
  PageHeader,
  SeverityBadge,
  type Tone,
} from '../components/ui.tsx';
import { download, stamped, toCsv, type CsvColumn } from '../lib/csv.ts';
import { date, dateTime, days, int, percent, relative } from '../lib/format.ts';
import { SEVERITIES, type Severity } from '../lib/severity.ts';
import { href, useQuery } from '../lib/url.ts';

type SlaRow = Overview['sla']['by_severity'][string] & { severity: Severity; target: number; mttr: number | null };
type Release = Overview['releases'][number];

export function OverviewPage() {
  const { query, set } = useQuery();
  const group = query.group || undefined;
  const ov = useApi<Overview>('/api/v1/stats/overview', { group });
  const tr = useApi<Trends>('/api/v1/stats/trends', { group, days: 90 });

  return (
    <>
      <PageHeader
        title="Fleet overview"
        subtitle={
          ov.data ? (
            <>
              Data as of {dateTime(ov.data.generated_at)} UTC
              {group ? (
                <>
                  {' '}
                  · group <b>{group}</b>
                </>
              ) : (
                ' · all groups'
              )}
            </>
          ) : undefined
        }
        actions={<GroupFilter value={group} onChange={(g) => set({ group: g })} />}
      />
      {ov.error && <ErrorNote error={ov.error} retry={ov.reload} />}
      {!ov.data && !ov.error && <Loading />}
      {ov.data && <OverviewBody ov={ov.data} trends={tr.data} trendsError={tr.error} group={group} />}
    </>
  );
}

/** The hosts known exploited vulnerabilities are open on (the first of them), each a link to its page. */
function KnownExploitedHosts(props: { kev: Overview['known_exploited'] }) {
  const { kev } = props;
  return (
    <Card
      id="kev-hosts"
      title="Known exploited vulnerabilities open"
      note="In CISA's Known Exploited Vulnerabilities catalogue: fix these first"
      actions={<a href={href('/remediation', { kev: 'true' })}>What to upgrade</a>}
    >
      <p>
        <b>{int(kev.open)}</b> open findings of <b>{int(kev.vulnerabilities)}</b> known exploited vulnerabilities on{' '}
        <b>{int(kev.hosts)}</b> hosts:
      </p>
      <ul class="host-links" data-list="kev-hosts">
        {kev.host_list.map((h) => (
          <li key={h.id}>
            <a href={`/hosts/${h.id}`} data-host={h.id}>
              {h.hostname}
            </a>{' '}
            <a class="muted small" href={href('/remediation', { host: String(h.id) })} data-host-fix={h.id}>
              what to upgrade
            </a>
          </li>
        ))}
        {kev.hosts > kev.host_list.length && <li class="muted">and {int(kev.hosts - kev.host_list.length)} more</li>}
      </ul>
    </Card>
  );
}

function GroupFilter(props: { value: string | undefined; onChange(g: string | undefined): void }) {
  const facets = useFacets();
  return (
    <div class="inline-filter">
      <GroupSelect facets={facets.data} value={props.value} onChange={props.onChange} />
    </div>
  );
}

function OverviewBody(props: {
  ov: Overview;
  trends: Trends | undefined;
  trendsError: Error | undefined;
  group: string | undefined;
}) {
  const { ov, group } = props;
  const h = ov.hosts;
  const breaches = SEVERITIES.reduce((n, s) => n + (ov.sla.by_severity[s]?.overdue ?? 0), 0);
  const eol = ov.releases.filter((r) => r.end_of_life);
  const eolHosts = eol.reduce((n, r) => n + r.hosts, 0);
  const complianceTone: Tone = ov.sla.compliance >= 0.95 ? 'good' : ov.sla.compliance >= 0.8 ? 'warn' : 'bad';

  return (
    <>
      <div class="kpis">
        <Kpi
          id="open"
          label="Open findings"
          value={int(ov.open.total)}
          sub={
            <>
              <b>{int(ov.fixable.total)}</b> fixable now · {int(ov.open.total - ov.fixable.total)} no fix yet
            </>
          }
          href={href('/findings', { group })}
        />
        <Kpi
          id="kev"
          label="Known exploited, open"
          value={int(ov.known_exploited.open)}
          tone={ov.known_exploited.open > 0 ? 'bad' : 'good'}
          sub={
            <>
              {int(ov.known_exploited.vulnerabilities)} in CISA KEV · on {int(ov.known_exploited.hosts)} hosts
            </>
          }
          href={href('/vulnerabilities', { kev: 'true' })}
        />
        <Kpi
          id="p1"
          label="Priority P1"
          value={int(ov.priority.P1)}
          tone={ov.priority.P1 > 0 ? 'bad' : 'good'}
          sub={<>{int(ov.priority.P2)} P2 · fix these first</>}
          href={href('/vulnerabilities', { priority: 'P1' })}
        />
        <Kpi
          id="critical"
          label="Critical"
          value={int(ov.open.critical)}
          tone={ov.open.critical > 0 ? 'bad' : 'good'}
          sub={
            <>
              on {int(h.with_critical)} hosts · {int(ov.fixable.critical)} fixable
            </>
          }
          href={href('/findings', { severity: 'critical', group })}
        />
        <Kpi
          id="high"
          label="High"
          value={int(ov.open.high)}
          tone={ov.open.high > 0 ? 'warn' : 'good'}
          sub={<>{int(ov.fixable.high)} fixable now</>}
          href={href('/findings', { severity: 'high', group })}
        />
        <Kpi
          id="sla"
          label="SLA compliance"
          value={percent(ov.sla.compliance)}
          tone={complianceTone}
          sub={<>{int(breaches)} open past their SLA</>}
          href={href('/findings', { overdue: 'true', group })}
        />
        <Kpi
          id="reporting"
          label="Hosts reporting"
          value={`${int(h.reporting)} / ${int(h.total)}`}
          tone={h.stale + h.never_reported > 0 ? 'warn' : 'good'}
          sub={
            <>
              {int(h.stale)} stale · {int(h.never_reported)} never reported
            </>
          }
          href={href('/hosts', { state: 'stale', group })}
        />
        <Kpi
          id="reboots"
          label="Reboots pending"
          value={int(h.reboot_pending)}
          tone={h.reboot_pending > 0 ? 'warn' : 'good'}
          sub={<>hosts running old code</>}
          href={href('/hosts', { reboot_pending: 'true', group })}
        />
        <ExceptedKpi group={group} />
      </div>

      <div class="grid grid-2-1">
        <Card
          id="trend"
          title="Exposure trend, last 90 days"
          note={props.trends ? <TrendSummary trends={props.trends} /> : undefined}
          actions={
            props.trends && (
              <ExportButton id="trend" run={() => download(stamped('trend'), toCsv(TREND_CSV, props.trends!.days))} />
            )
          }
        >
          {props.trendsError && <ErrorNote error={props.trendsError} />}
          {!props.trends && !props.trendsError && <Loading />}
          {props.trends && (
            <>
              <h3 class="chart-title">Open findings by severity</h3>
              <OpenTrendChart days={props.trends.days} />
              <h3 class="chart-title">New and resolved per day</h3>
              <FlowChart days={props.trends.days} />
            </>
          )}
        </Card>
        <Card id="by-severity" title="Open findings by severity" note="Fix available now vs no fix published yet">
          <SeverityBars open={ov.open} fixable={ov.fixable} group={group} />
          <HostsBar ov={ov} />
        </Card>
      </div>

      {ov.known_exploited.hosts > 0 && <KnownExploitedHosts kev={ov.known_exploited} />}

      <SlaCard ov={ov} group={group} />

      <div class="grid grid-2-1-1">
        <ReleasesCard releases={ov.releases} eolHosts={eolHosts} />
        <PatchRunsTile group={group} rebootPending={h.reboot_pending} />
        <AgentVersionsTile />
        <Card id="feeds" title="Vulnerability data">
          {ov.feeds.length === 0 ? (
            <Empty title="No vulnerability feeds imported">
              Run `patchloop db update` or configure feeds.sources; until then nothing can be matched.
            </Empty>
          ) : (
            <ul class="feed-list">
              {ov.feeds.map((f) => (
                <li key={f.feed}>
                  <b>{f.feed}</b>
                  <span class="muted">{int(f.entry_count)} entries</span>
                  <span title={f.updated_at}>updated {relative(f.updated_at)}</span>
                </li>
              ))}
            </ul>
          )}
          <p class="muted small">
            {ov.last_refresh ? (
              <>
                Last refresh {dateTime(ov.last_refresh.at)} UTC: {ov.last_refresh.outcome ?? 'running'}
              </>
            ) : (
              'No scheduled refresh has run on this server.'
            )}
            {h.unmatched > 0 && <> · {int(h.unmatched)} hosts could not be matched</>}
          </p>
        </Card>
      </div>
    </>
  );
}

/** The last 7 days of patch runs by outcome (the server's summary), with the hosts whose latest run failed. */
function PatchRunsTile(props: { group: string | undefined; rebootPending: number }) {
  const sum = useApi<PatchRunSummary>('/api/v1/patch-runs/summary', { days: 7, group: props.group });
  const s = sum.data;
  const total = s ? OUTCOMES.reduce((n, o) => n + s.by_outcome[o], 0) : 0;
  return (
    <Card
      id="patch-runs"
      title="Last patch runs"
      note={s ? <>Last 7 days · newest {relative(s.last_at)}</> : undefined}
      actions={<a href={href('/patching', { group: props.group })}>Patching →</a>}
    >
      {sum.error && <ErrorNote error={sum.error} retry={sum.reload} />}
      {!s && !sum.error && <Loading />}
      {s && total === 0 && (
        <Empty title={s.last_at ? 'No patch run in the last 7 days' : 'No patch runs reported yet'}>
          Agents with patching enabled report every run here.{' '}
          <a href={href('/hosts', { reboot_pending: 'true', group: props.group })}>
            {int(props.rebootPending)} hosts are waiting for a reboot
          </a>
          .
        </Empty>
      )}
      {s && total > 0 && (
        <>
          <ul class="outcome-list" data-total={total}>
            {OUTCOMES.filter((o) => s.by_outcome[o] > 0).map((o) => (
              <li key={o} data-outcome-row={o}>
                <a href={href('/patching', { group: props.group, outcome: o, days: '7' })}>
                  <OutcomeBadge outcome={o} title={OUTCOME_LABEL[o]} />
                </a>
                <b data-n>{int(s.by_outcome[o])}</b>
              </li>
            ))}
          </ul>
          <p class="small" data-hosts-failed={s.hosts_failed}>
            {s.hosts_failed > 0 ? (
              <a
                class="bad-text"
                href={href('/patching', { group: props.group, outcome: 'failed,partial', days: '7' })}
              >
                {int(s.hosts_failed)} hosts whose latest run failed
              </a>
            ) : (
              <span class="muted">No host's latest run failed.</span>
            )}
          </p>
        </>
      )}
    </Card>
  );
}

/**
 * Agent versions across the fleet (all groups): how many hosts run the newest version the
 * server's repository publishes, and every version in use. Hosts update the agent from that
 * repository with their other updates (unattended-upgrades, dnf-automatic).
 */
function AgentVersionsTile() {
  const av = useApi<AgentVersions>('/api/v1/stats/agent-versions');
  const v = av.data;
  return (
    <Card
      id="agent-versions"
      title="Agent versions"
      note={
        v ? (
          v.latest ? (
            <>
              Latest published: <b data-latest>{v.latest}</b>
            </>
          ) : (
            'The server publishes no packages'
          )
        ) : undefined
      }
    >
      {av.error && <ErrorNote error={av.error} retry={av.reload} />}
      {!v && !av.error && <Loading />}
      {v && v.hosts === 0 && (
        <Empty title="No hosts enrolled">Hosts install the agent with the server's install.sh.</Empty>
      )}
      {v && v.hosts > 0 && (
        <>
          {v.latest && (
            <p data-on-latest={v.on_latest}>
              <b>{int(v.on_latest)}</b> of {int(v.hosts)} hosts on the latest version
              {v.outdated > 0 && (
                <>
                  {' '}
                  · <span class="warn-text">{int(v.outdated)} older</span>
                </>
              )}
            </p>
          )}
          <ul class="outcome-list">
            {v.versions.map((x) => (
              <li key={x.version ?? ''} data-agent-version={x.version ?? ''}>
                {x.version === null ? (
                  <span class="muted">never reported</span>
                ) : (
                  <Badge tone={x.latest ? 'good' : v.latest ? 'warn' : 'neutral'}>{x.version}</Badge>
                )}
                <b data-n>{int(x.hosts)}</b>
              </li>
            ))}
          </ul>
        </>
      )}
    </Card>
  );
}

const TREND_CSV: CsvColumn<Trends['days'][number]>[] = [
  { header: 'date', value: (d) => d.date },
  ...SEVERITIES.map((s) => ({ header: `open_${s}`, value: (d: Trends['days'][number]) => d.open[s] })),
  { header: 'open_total', value: (d) => d.open.total },
  { header: 'new_total', value: (d) => d.new.total },
  { header: 'resolved_total', value: (d) => d.resolved.total },
];

function TrendSummary(props: { trends: Trends }) {
  const d = props.trends.days;
  const added = d.reduce((n, x) => n + x.new.total, 0);
  const resolved = d.reduce((n, x) => n + x.resolved.total, 0);
  const first = d[0]?.open.total ?? 0;
  const last = d[d.length - 1]?.open.total ?? 0;
  return (
    <span data-trend-summary>
      {int(added)} new · {int(resolved)} resolved · open {int(first)} → {int(last)}
    </span>
  );
}

function HostsBar(props: { ov: Overview }) {
  const h = props.ov.hosts;
  const total = Math.max(1, h.total);
  const parts: [string, number, string][] = [
    ['Reporting', h.reporting, 'ok'],
    ['Stale', h.stale, 'warn'],
    ['Never reported', h.never_reported, 'idle'],
  ];
  return (
    <div class="hostsbar" data-chart="hosts-reporting">
      <h3 class="chart-title">Hosts reporting vs stale</h3>
      <div class="stackbar">
        {parts.map(
          ([label, n, cls]) =>
            n > 0 && (
              <span
                key={label}
                class={`seg seg-${cls}`}
                style={{ width: `${(n / total) * 100}%` }}
                title={`${label}: ${n}`}
              />
            ),
        )}
      </div>
      <ul class="stackbar-legend">
        {parts.map(([label, n, cls]) => (
          <li key={label}>
            <span class={`key seg-${cls}`} />
            {label} <b>{int(n)}</b>
          </li>
        ))}
      </ul>
    </div>
  );
}

function SlaCard(props: { ov: Overview; group: string | undefined }) {
  const { ov, group } = props;
  const rows: SlaRow[] = SEVERITIES.filter((s) => ov.sla.by_severity[s]).map((s) => ({
    ...ov.sla.by_severity[s],
    severity: s,
    target: ov.sla.targets_days[s],
    mttr: ov.mttr_days[s] ?? null,
  }));
  const columns: Column<SlaRow>[] = [
    { key: 'severity', label: 'Severity', render: (r) => <SeverityBadge severity={r.severity} /> },
    { key: 'target', label: 'Target', align: 'right', render: (r) => `${int(r.target)} d` },
    {
      key: 'open',
      label: 'Open',
      align: 'right',
      render: (r) => <a href={href('/findings', { severity: r.severity, group })}>{int(r.open)}</a>,
    },
    {
      key: 'overdue',
      label: 'Breaches',
      align: 'right',
      render: (r) =>
        r.overdue > 0 ? (
          <a class="breach" href={href('/findings', { severity: r.severity, overdue: 'true', group })}>
            {int(r.overdue)}
          </a>
        ) : (
          <span class="zero">0</span>
        ),
    },
    { key: 'within', label: 'Open within SLA', align: 'right', render: (r) => <Meter value={r.open_within_sla} /> },
    {
      key: 'resolved',
      label: 'Resolved (90 d)',
      align: 'right',
      render: (r) => `${int(r.resolved_in_sla_90d)} / ${int(r.resolved_90d)} in SLA`,
    },
    {
      key: 'mttr',
      label: 'Mean time to remediate (90 d)',
      align: 'right',
      render: (r) =>
        r.mttr === null ? <NoData why="nothing of this severity was resolved in the last 90 days" /> : days(r.mttr),
    },
  ];
  const csv: CsvColumn<SlaRow>[] = [
    { header: 'severity', value: (r) => r.severity },
    { header: 'target_days', value: (r) => r.target },
    { header: 'open', value: (r) => r.open },
    { header: 'overdue', value: (r) => r.overdue },
    { header: 'open_within_sla', value: (r) => r.open_within_sla },
    { header: 'resolved_90d', value: (r) => r.resolved_90d },
    { header: 'resolved_in_sla_90d', value: (r) => r.resolved_in_sla_90d },
    { header: 'resolved_within_sla', value: (r) => r.resolved_within_sla },
    { header: 'mttr_days', value: (r) => r.mttr },
  ];
  return (
    <Card
      id="sla"
      title="SLA compliance and time to remediate"
      note={
        <>
          Overall <b data-sla-compliance>{percent(ov.sla.compliance)}</b> of findings open now or resolved in the last
          90 days were within their target. Targets come from the server's <code>sla_days</code> setting.
        </>
      }
      actions={<ExportButton id="sla" run={() => download(stamped('sla'), toCsv(csv, rows))} />}
    >
      <DataTable id="sla" columns={columns} rows={rows} rowKey={(r) => r.severity} />
    </Card>
  );
}

function Meter(props: { value: number }) {
  const tone = props.value >= 0.95 ? 'good' : props.value >= 0.8 ? 'warn' : 'bad';
  return (
    <span class="meter">
      <span class="meter-track">
        <span class={`meter-fill tone-${tone}`} style={{ width: `${props.value * 100}%` }} />
      </span>
      {percent(props.value)}
    </span>
  );
}

function ReleasesCard(props: { releases: Release[]; eolHosts: number }) {
  const columns: Column<Release>[] = [
    { key: 'distro', label: 'Distribution', render: (r) => r.distro },
    {
      key: 'release',
      label: 'Release',
      render: (r) => <a href={href('/hosts', { distro: r.distro, release: r.release })}>{r.release}</a>,
    },
    { key: 'hosts', label: 'Hosts', align: 'right', render: (r) => int(r.hosts) },
    {
      key: 'support',
      label: 'Security support',
      render: (r) =>
        r.end_of_life ? (
          <Badge tone="bad">Ended {date(r.support.ended ?? null)}</Badge>
        ) : r.support.state === 'extended' ? (
          <Badge tone="warn">
            {r.support.name ?? 'Extended'} until {date(r.support.ends ?? null)}
          </Badge>
        ) : r.support.state === 'supported' ? (
          <Badge tone="good">Until {date(r.support.ends ?? null)}</Badge>
        ) : (
          <Badge>Unknown</Badge>
        ),
    },
  ];
  const csv: CsvColumn<Release>[] = [
    { header: 'distro', value: (r) => r.distro },
    { header: 'release', value: (r) => r.release },
    { header: 'hosts', value: (r) => r.hosts },
    { header: 'support', value: (r) => r.support.state },
    { header: 'support_ends', value: (r) => r.support.ends ?? r.support.ended ?? '' },
    { header: 'end_of_life', value: (r) => r.end_of_life },
  ];
  return (
    <Card
      id="releases"
      title="Releases in the fleet"
      note={
        props.eolHosts > 0 ? (
          <span class="bad-text">{int(props.eolHosts)} hosts run a release whose security support has ended</span>
        ) : (
          'Every release in the fleet has security support'
        )
      }
      actions={<ExportButton id="releases" run={() => download(stamped('releases'), toCsv(csv, props.releases))} />}
    >
      <DataTable
        id="releases"
        columns={columns}
        rows={props.releases}
        rowKey={(r) => `${r.distro}/${r.release}`}
        rowClass={(r) => (r.end_of_life ? 'row-bad' : '')}
        empty="No host has reported yet."
      />
    </Card>
  );
}
