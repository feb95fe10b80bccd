// Patching: hosts waiting for a reboot, the vulnerability data refreshes that re-match the
// fleet, and — once the server records them — patch runs, failures, rings and reboot leases.
import { allPages } from '../api/all-pages.ts';
import type { FeedStatus, HostSummary, Page } from '../api/types.ts';
import { useApi } from '../api/use-api.ts';
import { DataTable, ExportButton, Pager, type Column } from '../components/table.tsx';
import { Badge, Card, Count, Empty, PageHeader } from '../components/ui.tsx';
import { download, stamped, toCsv, type CsvColumn } from '../lib/csv.ts';
import { dateTime, int, relative } from '../lib/format.ts';
import { intParam, useQuery } from '../lib/url.ts';

type Refresh = FeedStatus['recent'][number];

export function PatchingPage() {
  const { query, set } = useQuery();
  const page = intParam(query.page, 1);
  const reboots = useApi<Page<HostSummary>>('/api/v1/hosts', { reboot_pending: 'true', sort: 'critical', page, per_page: 25 });
  const feeds = useApi<FeedStatus>('/api/v1/feeds');

  return (
    <>
      <PageHeader title="Patching" subtitle="Patch runs, rings and reboots across the fleet" />
      <div class="grid grid-3">
        <Card id="runs" title="Patch runs">
          <Empty title="No patch runs recorded yet">
            This server does not receive patch-run reports yet. When agents send them, this lists each run with its outcome, the packages it changed and the findings it closed.
          </Empty>
        </Card>
        <Card id="rings" title="Rings">
          <Empty title="No rollout rings configured on this server">Rings let a canary group patch first and the rest follow after a healthy soak; their progress appears here.</Empty>
        </Card>
        <Card id="leases" title="Reboot leases">
          <Empty title="No reboot leases issued">Leases limit how many hosts of a group reboot at once; hosts holding or waiting for one appear here.</Empty>
        </Card>
      </div>
      <Card
        id="reboots"
        title={<>Hosts waiting for a reboot {reboots.data && <span class="title-n">{int(reboots.data.total)}</span>}</>}
        note="The host asked for a reboot (reboot-required) or runs an older kernel than the newest installed one"
        actions={
          <ExportButton
            id="reboots"
            run={async () => download(stamped('reboots-pending'), toCsv(REBOOT_CSV, await allPages<HostSummary>('/api/v1/hosts', { reboot_pending: 'true', sort: 'critical' })))}
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
        {reboots.data && reboots.data.total > 25 && <Pager page={page} perPage={25} total={reboots.data.total} onPage={(p) => set({ page: p === 1 ? undefined : String(p) })} />}
      </Card>
      <Card
        id="refreshes"
        title="Vulnerability data refreshes"
        note={
          feeds.data
            ? feeds.data.refresh_interval_seconds > 0
              ? `Every ${int(feeds.data.refresh_interval_seconds / 3600)} h${feeds.data.next_refresh ? `; next ${relative(feeds.data.next_refresh)}` : ''}`
              : 'No schedule: refreshed on request only'
            : undefined
        }
        actions={feeds.data && <ExportButton id="refreshes" run={() => download(stamped('refreshes'), toCsv(REFRESH_CSV, feeds.data!.recent))} />}
      >
        <DataTable id="refreshes" columns={REFRESH_COLUMNS} rows={feeds.data?.recent} rowKey={(r) => r.id} loading={feeds.loading} error={feeds.error} retry={feeds.reload} empty="No refresh has run on this server yet." />
      </Card>
    </>
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
      <Badge tone={r.outcome === 'updated' || r.outcome === 'unchanged' ? 'good' : r.outcome === null ? 'neutral' : 'bad'} title={r.message ?? undefined}>
        {r.outcome ?? 'running'}
      </Badge>
    ),
  },
  { key: 'hosts', label: 'Hosts re-matched', align: 'right', render: (r) => int(r.hosts) },
  { key: 'detected', label: 'Detected', align: 'right', render: (r) => int(r.detected) },
  { key: 'resolved', label: 'Resolved', align: 'right', render: (r) => int(r.resolved) },
  { key: 'duration', label: 'Took', align: 'right', render: (r) => (r.duration_ms === null ? '–' : `${(r.duration_ms / 1000).toFixed(1)} s`) },
];

const REFRESH_CSV: CsvColumn<Refresh>[] = (['id', 'started_at', 'finished_at', 'outcome', 'message', 'hosts', 'detected', 'resolved', 'duration_ms'] as const).map((k) => ({
  header: k,
  value: (r: Refresh) => r[k],
}));
