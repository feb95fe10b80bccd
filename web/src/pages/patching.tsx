// Patching: patch runs across the fleet (filters in the URL, CSV of the whole filtered list),
// the latest failures with their errors, every policy's rings with their progress and gate,
// reboot leases held and waited for, hosts waiting for a reboot, and the vulnerability data
// refreshes that re-match the fleet.
import { useMemo } from 'preact/hooks';
import { allPages } from '../api/all-pages.ts';
import type { FeedStatus, HostSummary, LeaseView, Page, PatchRun, PatchRunSummary, RingView } from '../api/types.ts';
import { useApi, type ApiState } from '../api/use-api.ts';
import { GroupSelect, useFacets } from '../components/facet-filters.tsx';
import { SelectFilter } from '../components/filters.tsx';
import {
  GateBadge,
  NoRunsYet,
  OUTCOME_LABEL,
  OUTCOMES,
  RUN_CSV,
  runColumns,
  whenText,
} from '../components/patch-runs.tsx';
import { DataTable, ExportButton, Pager, type Column } from '../components/table.tsx';
import { Badge, Card, Count, ErrorNote, Kpi, PageHeader } from '../components/ui.tsx';
import { download, stamped, toCsv, type CsvColumn } from '../lib/csv.ts';
import { dateTime, int, relative } from '../lib/format.ts';
import { href, intParam, useQuery } from '../lib/url.ts';

type Refresh = FeedStatus['recent'][number];

const RUNS_PER_PAGE = 25;
const PERIODS: [string, string][] = [
  ['1', 'Last 24 hours'],
  ['7', 'Last 7 days'],
  ['30', 'Last 30 days'],
  ['90', 'Last 90 days'],
];

export function PatchingPage() {
  const { query, set } = useQuery();
  const group = query.group || undefined;
  const facets = useFacets();
  const summary = useApi<PatchRunSummary>('/api/v1/patch-runs/summary', { days: 7, group });
  const leases = useApi<LeaseView[]>('/api/v1/reboot-leases', { group });
  const held = leases.data?.filter((l) => l.state === 'held').length;
  const s = summary.data;
  const total = s ? Object.values(s.by_outcome).reduce((n, x) => n + x, 0) : undefined;

  return (
    <>
      <PageHeader
        title="Patching"
        subtitle={
          s ? (
            <>
              Patch runs, rings and reboots
              {group ? (
                <>
                  {' '}
                  · group <b>{group}</b>
                </>
              ) : (
                ' · all groups'
              )}{' '}
              · last run {relative(s.last_at)}
            </>
          ) : (
            'Patch runs, rings and reboots across the fleet'
          )
        }
        actions={
          <div class="inline-filter">
            <GroupSelect facets={facets.data} value={group} onChange={(g) => set({ group: g })} />
          </div>
        }
      />
      <div class="kpis">
        <Kpi id="runs" label="Patch runs, 7 days" value={int(total)} sub={<>last {relative(s?.last_at)}</>} />
        <Kpi
          id="runs-ok"
          label="Succeeded"
          value={int(s ? s.by_outcome.success + s.by_outcome.nothing_to_do : undefined)}
          tone="good"
          sub={<>{int(s?.by_outcome.nothing_to_do)} had nothing to do</>}
        />
        <Kpi
          id="runs-failed"
          label="Failed"
          value={int(s ? s.by_outcome.failed + s.by_outcome.partial : undefined)}
          tone={s && s.by_outcome.failed + s.by_outcome.partial > 0 ? 'bad' : 'good'}
          sub={<>{int(s?.by_outcome.partial)} partly</>}
          href={href('/patching', { group, outcome: 'failed,partial', days: '7' })}
        />
        <Kpi
          id="hosts-failed"
          label="Hosts failing"
          value={int(s?.hosts_failed)}
          tone={s && s.hosts_failed > 0 ? 'bad' : 'good'}
          sub={<>latest run failed</>}
        />
        <Kpi
          id="skipped"
          label="Skipped"
          value={int(s ? s.by_outcome.skipped + s.by_outcome.dry_run : undefined)}
          sub={<>{int(s?.by_outcome.dry_run)} dry runs</>}
        />
        <Kpi
          id="leases"
          label="Reboot leases held"
          value={int(held)}
          tone={held ? 'warn' : 'neutral'}
          sub={<>{int(leases.data ? leases.data.length - (held ?? 0) : undefined)} hosts waiting</>}
        />
      </div>
      <RingsCard group={group} />
      <div class="grid grid-2">
        <FailuresCard group={group} />
        <LeasesCard leases={leases} />
      </div>
      <RunsCard />
      <RebootsCard group={group} />
      <RefreshesCard />
    </>
  );
}

function RunsCard() {
  const { query, set } = useQuery();
  const page = intParam(query.page, 1);
  const days = query.days;
  // The period is turned into a time once per choice, so the request stays the same across renders.
  const since = useMemo(
    () => (days && Number(days) > 0 ? new Date(Date.now() - Number(days) * 86_400_000).toISOString() : undefined),
    [days],
  );
  const filters = { host: query.host, group: query.group || undefined, outcome: query.outcome, since };
  const runs = useApi<Page<PatchRun>>('/api/v1/patch-runs', { ...filters, page, per_page: RUNS_PER_PAGE });
  const hostName =
    query.host && runs.data?.items[0]?.host.id === Number(query.host)
      ? runs.data.items[0].host.hostname
      : query.host && `host ${query.host}`;
  return (
    <Card
      id="runs"
      title={
        <>
          Patch runs{' '}
          {runs.data && (
            <span class="title-n" data-runs-total={runs.data.total}>
              {int(runs.data.total)}
            </span>
          )}
        </>
      }
      note="Newest first. CVEs closed are confirmed by the host's next inventory report."
      actions={
        <ExportButton
          id="runs"
          run={async () =>
            download(
              stamped('patch-runs'),
              toCsv(RUN_CSV, await allPages<PatchRun>('/api/v1/patch-runs', filters, undefined, 200)),
            )
          }
        />
      }
    >
      <div class="filters">
        <SelectFilter
          name="outcome"
          label="Outcome"
          value={query.outcome}
          options={[
            ['failed,partial', 'Failed or partly'],
            ...OUTCOMES.map((o): [string, string] => [o, OUTCOME_LABEL[o]]),
          ]}
          onChange={(v) => set({ outcome: v })}
        />
        <SelectFilter
          name="days"
          label="Period"
          anyLabel="All time"
          value={days}
          options={PERIODS}
          onChange={(v) => set({ days: v })}
        />
        {query.host && (
          <span class="chip">
            {hostName}
            <button type="button" class="link" aria-label="All hosts" onClick={() => set({ host: undefined })}>
              ×
            </button>
          </span>
        )}
      </div>
      <DataTable
        id="runs"
        columns={runColumns({ host: true })}
        rows={runs.data?.items}
        rowKey={(r) => r.id}
        rowClass={(r) => (r.outcome === 'failed' ? 'row-bad' : '')}
        loading={runs.loading}
        error={runs.error}
        retry={runs.reload}
        empty={
          query.host || query.group || query.outcome || days ? 'No patch run matches these filters.' : <NoRunsYet />
        }
      />
      {runs.data && runs.data.total > RUNS_PER_PAGE && (
        <Pager
          page={page}
          perPage={RUNS_PER_PAGE}
          total={runs.data.total}
          onPage={(p) => set({ page: p === 1 ? undefined : String(p) })}
        />
      )}
    </Card>
  );
}

function FailuresCard(props: { group: string | undefined }) {
  const failed = useApi<Page<PatchRun>>('/api/v1/patch-runs', {
    outcome: 'failed,partial',
    group: props.group,
    per_page: 8,
  });
  const items = failed.data?.items;
  return (
    <Card
      id="failures"
      title={<>Failures {failed.data && <span class="title-n">{int(failed.data.total)}</span>}</>}
      note="The newest runs that failed or partly failed, with what went wrong"
      actions={<a href={href('/patching', { group: props.group, outcome: 'failed,partial' })}>All failures →</a>}
    >
      {failed.error && <ErrorNote error={failed.error} retry={failed.reload} />}
      {items && items.length === 0 && <div class="table-empty">No patch run has failed.</div>}
      {items && items.length > 0 && (
        <ul class="failures" data-list="failures">
          {items.map((r) => (
            <li key={r.id} data-run={r.id}>
              <div class="failure-head">
                <a class="strong" href={`/hosts/${r.host.id}?tab=patching`}>
                  {r.host.hostname}
                </a>
                <Badge tone={r.outcome === 'failed' ? 'bad' : 'warn'}>{OUTCOME_LABEL[r.outcome]}</Badge>
                <span class="muted small">
                  {dateTime(r.finished_at)} UTC · {r.policy.name} v{r.policy.version}
                </span>
              </div>
              <ul class="reasons">
                {r.errors.length === 0 && (
                  <li>{r.failed_changes} package changes failed; no error was parsed from the logs.</li>
                )}
                {r.errors.map((e, i) => (
                  <li key={i}>
                    <b>{e.kind}</b>
                    {e.package && <> · {e.package}</>}: {e.message}
                    {e.where && <span class="mono small muted"> ({e.where})</span>}
                  </li>
                ))}
              </ul>
            </li>
          ))}
        </ul>
      )}
    </Card>
  );
}

const LEASE_COLUMNS: Column<LeaseView>[] = [
  {
    key: 'host',
    label: 'Host',
    render: (l) => (
      <a class="strong" href={`/hosts/${l.host.id}?tab=patching`}>
        {l.host.hostname}
      </a>
    ),
  },
  { key: 'group', label: 'Group', render: (l) => l.host.group || <span class="muted">—</span> },
  {
    key: 'state',
    label: 'State',
    render: (l) => (
      <Badge tone={l.state === 'held' ? 'warn' : 'neutral'}>
        {l.state === 'held' ? 'rebooting (held)' : 'waiting'}
      </Badge>
    ),
  },
  { key: 'requested', label: 'Asked', render: (l) => <span title={l.requested_at}>{relative(l.requested_at)}</span> },
  {
    key: 'expires',
    label: 'Expires',
    render: (l) =>
      l.expires_at ? <span title={`${l.expires_at}`}>{relative(l.expires_at)}</span> : <span class="muted">–</span>,
  },
];

const LEASE_CSV: CsvColumn<LeaseView>[] = [
  { header: 'id', value: (l) => l.id },
  { header: 'hostname', value: (l) => l.host.hostname },
  { header: 'group', value: (l) => l.host.group },
  { header: 'state', value: (l) => l.state },
  { header: 'requested_at', value: (l) => l.requested_at },
  { header: 'granted_at', value: (l) => l.granted_at },
  { header: 'expires_at', value: (l) => l.expires_at },
];

function LeasesCard(props: { leases: ApiState<LeaseView[]> }) {
  const l = props.leases;
  return (
    <Card
      id="leases"
      title="Reboot leases"
      note="At most reboot.max_concurrent hosts of a group reboot at once; a lease not renewed expires"
      actions={
        l.data && <ExportButton id="leases" run={() => download(stamped('reboot-leases'), toCsv(LEASE_CSV, l.data!))} />
      }
    >
      <DataTable
        id="leases"
        columns={LEASE_COLUMNS}
        rows={l.data}
        rowKey={(x) => x.id}
        loading={l.loading}
        error={l.error}
        retry={l.reload}
        empty="No host holds or waits for a reboot lease."
      />
    </Card>
  );
}

const RING_CSV: CsvColumn<RingView>[] = [
  { header: 'policy', value: (r) => r.policy },
  { header: 'policy_version', value: (r) => r.policy_version },
  { header: 'group', value: (r) => r.group },
  { header: 'ring', value: (r) => r.ring },
  { header: 'index', value: (r) => r.index },
  { header: 'hosts', value: (r) => r.hosts },
  { header: 'patched', value: (r) => r.patched },
  { header: 'failed', value: (r) => r.failed },
  { header: 'gate', value: (r) => r.gate.state },
  { header: 'gate_until', value: (r) => (r.gate.state === 'waiting' ? r.gate.until : '') },
  { header: 'gate_reasons', value: (r) => r.gate.reasons.join(' | ') },
];

const RING_COLUMNS: Column<RingView>[] = [
  {
    key: 'policy',
    label: 'Policy',
    render: (r) => (
      <span class="nowrap" title={`group ${r.group}`}>
        {r.policy} v{r.policy_version}
      </span>
    ),
  },
  { key: 'group', label: 'Group', render: (r) => <a href={href('/hosts', { group: r.group })}>{r.group}</a> },
  { key: 'ring', label: 'Ring', render: (r) => <b class="nowrap">{`${r.index + 1}. ${r.ring}`}</b> },
  { key: 'hosts', label: 'Hosts', align: 'right', render: (r) => int(r.hosts) },
  { key: 'patched', label: 'Patched', align: 'right', render: (r) => <Count n={r.patched} /> },
  {
    key: 'failed',
    label: 'Failed',
    align: 'right',
    render: (r) => <Count n={r.failed} severity={r.failed > 0 ? 'critical' : undefined} />,
  },
  {
    key: 'progress',
    label: 'Progress',
    render: (r) => <Progress done={r.patched} failed={r.failed} total={r.hosts} />,
  },
  { key: 'gate', label: 'Gate now', class: 'cell-note', render: (r) => <GateBadge gate={r.gate} /> },
];

function Progress(props: { done: number; failed: number; total: number }) {
  const t = Math.max(1, props.total);
  return (
    <span
      class="stackbar progress"
      title={`${props.done} patched, ${props.failed} failed, ${props.total - props.done - props.failed} not yet`}
    >
      {props.done > 0 && <span class="seg seg-ok" style={{ width: `${(props.done / t) * 100}%` }} />}
      {props.failed > 0 && <span class="seg seg-bad" style={{ width: `${(props.failed / t) * 100}%` }} />}
    </span>
  );
}

function RingsCard(props: { group: string | undefined }) {
  const rings = useApi<RingView[]>('/api/v1/rings');
  const rows = rings.data?.filter((r) => !props.group || r.group === props.group);
  return (
    <Card
      id="rings"
      title="Rings"
      note="Each policy's rings in order: a ring patches when the rings before it are healthy and have soaked; the gate says why or why not"
      actions={rows && <ExportButton id="rings" run={() => download(stamped('rings'), toCsv(RING_CSV, rows))} />}
    >
      <DataTable
        id="rings"
        columns={RING_COLUMNS}
        rows={rows}
        rowKey={(r) => `${r.policy}/${r.index}`}
        loading={rings.loading}
        error={rings.error}
        retry={rings.reload}
        empty={
          <>
            No policy{props.group ? ` governs group ${props.group}` : ' yet'}. An operator creates one on the{' '}
            <a href="/policies">Policies</a> page; a policy named after a group governs its hosts.
          </>
        }
      />
    </Card>
  );
}

function RebootsCard(props: { group: string | undefined }) {
  const { query, set } = useQuery();
  const page = intParam(query.rpage, 1);
  const params = { reboot_pending: 'true', sort: 'critical', group: props.group };
  const reboots = useApi<Page<HostSummary>>('/api/v1/hosts', { ...params, page, per_page: 25 });
  return (
    <Card
      id="reboots"
      title={<>Hosts waiting for a reboot {reboots.data && <span class="title-n">{int(reboots.data.total)}</span>}</>}
      note="The host asked for a reboot (reboot-required) or runs an older kernel than the newest installed one"
      actions={
        <ExportButton
          id="reboots"
          run={async () =>
            download(
              stamped('reboots-pending'),
              toCsv(REBOOT_CSV, await allPages<HostSummary>('/api/v1/hosts', params)),
            )
          }
        />
      }
    >
      <DataTable
        id="reboots"
        columns={REBOOT_COLUMNS}
        rows={reboots.data?.items}
        rowKey={(h) => h.id}
        loading={reboots.loading}
        error={reboots.error}
        retry={reboots.reload}
        empty="No host is waiting for a reboot."
      />
      {reboots.data && reboots.data.total > 25 && (
        <Pager
          page={page}
          perPage={25}
          total={reboots.data.total}
          onPage={(p) => set({ rpage: p === 1 ? undefined : String(p), page: query.page })}
        />
      )}
    </Card>
  );
}

function RefreshesCard() {
  const feeds = useApi<FeedStatus>('/api/v1/feeds');
  return (
    <Card
      id="refreshes"
      title="Vulnerability data refreshes"
      note={
        feeds.data
          ? feeds.data.refresh_interval_seconds > 0
            ? `Every ${int(feeds.data.refresh_interval_seconds / 3600)} h${feeds.data.next_refresh ? `; next ${whenText(feeds.data.next_refresh)}` : ''}`
            : 'No schedule: refreshed on request only'
          : undefined
      }
      actions={
        feeds.data && (
          <ExportButton
            id="refreshes"
            run={() => download(stamped('refreshes'), toCsv(REFRESH_CSV, feeds.data!.recent))}
          />
        )
      }
    >
      <DataTable
        id="refreshes"
        columns={REFRESH_COLUMNS}
        rows={feeds.data?.recent}
        rowKey={(r) => r.id}
        loading={feeds.loading}
        error={feeds.error}
        retry={feeds.reload}
        empty="No refresh has run on this server yet."
      />
    </Card>
  );
}

const REBOOT_COLUMNS: Column<HostSummary>[] = [
  {
    key: 'hostname',
    label: 'Host',
    render: (h) => (
      <a class="strong" href={`/hosts/${h.id}`}>
        {h.hostname}
      </a>
    ),
  },
  { key: 'group', label: 'Group', render: (h) => h.group || <span class="muted">—</span> },
  { key: 'kernel', label: 'Running kernel', render: (h) => <span class="mono small">{h.kernel ?? '–'}</span> },
  { key: 'last_seen', label: 'Last report', render: (h) => relative(h.last_seen) },
  { key: 'critical', label: 'Crit', align: 'right', render: (h) => <Count n={h.open.critical} severity="critical" /> },
  { key: 'high', label: 'High', align: 'right', render: (h) => <Count n={h.open.high} severity="high" /> },
  { key: 'open', label: 'Open', align: 'right', render: (h) => int(h.open.total) },
];

const REBOOT_CSV: CsvColumn<HostSummary>[] = [
  { header: 'id', value: (h) => h.id },
  { header: 'hostname', value: (h) => h.hostname },
  { header: 'group', value: (h) => h.group },
  { header: 'kernel', value: (h) => h.kernel },
  { header: 'last_seen', value: (h) => h.last_seen },
  { header: 'open_critical', value: (h) => h.open.critical },
  { header: 'open_high', value: (h) => h.open.high },
  { header: 'open_total', value: (h) => h.open.total },
];

const REFRESH_COLUMNS: Column<Refresh>[] = [
  { key: 'started', label: 'Started', render: (r) => dateTime(r.started_at) },
  {
    key: 'outcome',
    label: 'Outcome',
    render: (r) => (
      <Badge
        tone={r.outcome === 'updated' || r.outcome === 'unchanged' ? 'good' : r.outcome === null ? 'neutral' : 'bad'}
        title={r.message ?? undefined}
      >
        {r.outcome ?? 'running'}
      </Badge>
    ),
  },
  { key: 'hosts', label: 'Hosts re-matched', align: 'right', render: (r) => int(r.hosts) },
  { key: 'detected', label: 'Detected', align: 'right', render: (r) => int(r.detected) },
  { key: 'resolved', label: 'Resolved', align: 'right', render: (r) => int(r.resolved) },
  {
    key: 'duration',
    label: 'Took',
    align: 'right',
    render: (r) => (r.duration_ms === null ? '–' : `${(r.duration_ms / 1000).toFixed(1)} s`),
  },
];

const REFRESH_CSV: CsvColumn<Refresh>[] = (
  ['id', 'started_at', 'finished_at', 'outcome', 'message', 'hosts', 'detected', 'resolved', 'duration_ms'] as const
).map((k) => ({
  header: k,
  value: (r: Refresh) => r[k],
}));
