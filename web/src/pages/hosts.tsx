// Hosts: the whole fleet as a sortable, filterable table (group, tag, OS, severity, stale,
// reboot pending, search), every filter in the URL, and the filtered list as CSV.
import { allPages } from '../api/all-pages.ts';
import type { AgentVersions, HostSummary, Page } from '../api/types.ts';
import { useMemo } from 'preact/hooks';
import { useApi } from '../api/use-api.ts';
import { GroupSelect, releaseOptions, TagSelect, useFacets } from '../components/facet-filters.tsx';
import { SelectFilter, TextFilter } from '../components/filters.tsx';
import { DataTable, ExportButton, nextSort, Pager, type Column, type SortState } from '../components/table.tsx';
import { Badge, Card, Count, PageHeader } from '../components/ui.tsx';
import { download, stamped, toCsv, type CsvColumn } from '../lib/csv.ts';
import { int, relative } from '../lib/format.ts';
import { MAIN_SEVERITIES, SEVERITIES, SEVERITY_LABEL, type Severity } from '../lib/severity.ts';
import { intParam, useQuery } from '../lib/url.ts';

const ASC_SORTS = new Set(['hostname', 'group', 'release']);
const defaultOrder = (key: string) => (ASC_SORTS.has(key) ? 'asc' : 'desc');

export function HostsPage() {
  const { query, set } = useQuery();
  const sortKey = query.sort ?? 'hostname';
  const sort: SortState = {
    key: sortKey,
    order: query.order === 'asc' || query.order === 'desc' ? query.order : defaultOrder(sortKey),
  };
  const page = intParam(query.page, 1);
  const perPage = intParam(query.per_page, 50);
  const [distro, release] = (query.os ?? '').split('/');
  const filters = {
    search: query.search,
    group: query.group,
    tag: query.tag,
    distro: distro || undefined,
    release: release || undefined,
    state: query.state,
    reboot_pending: query.reboot_pending,
    min_severity: query.min_severity,
  };
  const hosts = useApi<Page<HostSummary>>('/api/v1/hosts', {
    ...filters,
    sort: sort.key,
    order: sort.order,
    page,
    per_page: perPage,
  });
  // The groups, tags and releases in the fleet, for the selects.
  const facets = useFacets();
  const versions = useApi<AgentVersions>('/api/v1/stats/agent-versions');
  const columns = useMemo(() => hostColumns(versions.data), [versions.data]);

  return (
    <>
      <PageHeader
        title="Hosts"
        subtitle={
          hosts.data ? <span data-hosts-total={hosts.data.total}>{int(hosts.data.total)} hosts match</span> : undefined
        }
        actions={
          <ExportButton
            id="hosts"
            run={async () => {
              const rows = await allPages<HostSummary>('/api/v1/hosts', {
                ...filters,
                sort: sort.key,
                order: sort.order,
              });
              download(stamped('hosts'), toCsv(HOST_CSV, rows));
            }}
          />
        }
      />
      <Card id="hosts">
        <div class="filters">
          <TextFilter
            name="search"
            label="Search"
            wide
            placeholder="hostname, kernel, OS"
            value={query.search}
            onChange={(v) => set({ search: v })}
          />
          <GroupSelect facets={facets.data} value={query.group} onChange={(v) => set({ group: v })} />
          <TagSelect facets={facets.data} value={query.tag} onChange={(v) => set({ tag: v })} />
          <SelectFilter
            name="os"
            label="OS"
            value={query.os}
            options={releaseOptions(facets.data, query.os)}
            onChange={(v) => set({ os: v })}
          />
          <SelectFilter
            name="min_severity"
            label="Has findings"
            anyLabel="Any"
            value={query.min_severity}
            options={MAIN_SEVERITIES.map((s) => [s, `${SEVERITY_LABEL[s]}${s === 'critical' ? '' : ' or worse'}`])}
            onChange={(v) => set({ min_severity: v })}
          />
          <SelectFilter
            name="state"
            label="Reporting"
            value={query.state}
            options={[
              ['reporting', 'Reporting'],
              ['stale', 'Stale'],
              ['never', 'Never reported'],
            ]}
            onChange={(v) => set({ state: v })}
          />
          <SelectFilter
            name="reboot_pending"
            label="Reboot"
            value={query.reboot_pending}
            options={[
              ['true', 'Reboot pending'],
              ['false', 'No reboot pending'],
            ]}
            onChange={(v) => set({ reboot_pending: v })}
          />
        </div>
        <DataTable
          id="hosts"
          columns={columns}
          rows={hosts.data?.items}
          rowKey={(h) => h.id}
          sort={sort}
          onSort={(key) => {
            const s = nextSort(sort, key, defaultOrder);
            set({
              sort: s.key === 'hostname' && s.order === 'asc' ? undefined : s.key,
              order: s.order === defaultOrder(s.key) ? undefined : s.order,
            });
          }}
          loading={hosts.loading}
          error={hosts.error}
          retry={hosts.reload}
          empty={Object.values(filters).some(Boolean) ? 'No host matches these filters.' : <NoHostsYet />}
        />
        {hosts.data && (
          <Pager
            page={page}
            perPage={perPage}
            total={hosts.data.total}
            onPage={(p) => set({ page: p === 1 ? undefined : String(p) })}
          />
        )}
      </Card>
    </>
  );
}

const SHORT_LABEL: Record<Severity, string> = {
  critical: 'Crit',
  high: 'High',
  medium: 'Med',
  low: 'Low',
  negligible: 'Negl',
  unknown: 'Unkn',
};

/** The first step with an empty fleet: an enrolment token on the server, the agent on each host. */
function NoHostsYet() {
  return (
    <div data-empty="no-hosts">
      <p>
        <strong>No host has enrolled yet.</strong> Make an enrolment token on the server, then enrol each host with it:
      </p>
      <pre class="command">
        {`patchloop server enrollment-token --uses 50 --group web
patchloop agent enroll --server ${location.origin} --token TOKEN`}
      </pre>
      <p class="muted small">The token is shown once; hosts appear here after their first report.</p>
    </div>
  );
}

const HOST_COLUMNS: Column<HostSummary>[] = [
  {
    key: 'hostname',
    label: 'Host',
    sort: 'hostname',
    render: (h) => (
      <span class="host-cell">
        <span>
          <a href={`/hosts/${h.id}`} class="strong">
            {h.hostname}
          </a>
          {h.stale && (
            <Badge tone="warn" title={h.last_seen ? `last report ${h.last_seen}` : 'never reported'}>
              {h.last_seen ? 'stale' : 'never reported'}
            </Badge>
          )}
          {h.match_error && (
            <Badge tone="bad" title={h.match_error}>
              not matched
            </Badge>
          )}
        </span>
        {h.tags.length > 0 && (
          <span class="tags">
            {h.tags.map((t) => (
              <span key={t} class="tag">
                {t}
              </span>
            ))}
          </span>
        )}
      </span>
    ),
  },
  { key: 'group', label: 'Group', sort: 'group', render: (h) => h.group || <span class="muted">—</span> },
  {
    key: 'os',
    label: 'OS',
    sort: 'release',
    render: (h) =>
      h.distro ? (
        <span class="nowrap" title={h.os?.pretty_name}>
          {`${h.distro} ${h.os?.version_id ?? h.release ?? ''}`.trim()}
        </span>
      ) : (
        <span class="muted">—</span>
      ),
  },
  {
    key: 'last_seen',
    label: 'Report',
    sort: 'last_seen',
    render: (h) => (
      <span class="nowrap" title={h.last_seen ?? ''}>
        {relative(h.last_seen)}
      </span>
    ),
  },
  ...SEVERITIES.map((s): Column<HostSummary> => ({
    key: s,
    label: <abbr title={`Open ${SEVERITY_LABEL[s].toLowerCase()} findings`}>{SHORT_LABEL[s]}</abbr>,
    sort: s,
    align: 'right',
    render: (h) => <Count n={h.open[s]} severity={s} />,
  })),
  {
    key: 'open',
    label: <abbr title="Open findings of every severity (the columns before it add up to it)">Open</abbr>,
    sort: 'open',
    align: 'right',
    render: (h) => <b>{int(h.open.total)}</b>,
  },
  {
    key: 'fixable',
    label: <abbr title="Open findings with a fixed version published">Fix</abbr>,
    sort: 'fixable',
    align: 'right',
    render: (h) => int(h.fixable.total),
  },
  {
    key: 'reboot',
    label: 'Reboot',
    sort: 'reboot_pending',
    render: (h) =>
      h.reboot_pending ? (
        <Badge tone="warn" title="A reboot is needed to finish applying updates (or to run the newest kernel)">
          pending
        </Badge>
      ) : (
        <span class="muted">no</span>
      ),
  },
  { key: 'support', label: 'Support', render: (h) => <SupportCell support={h.support} /> },
];

/** Whether the host's release still gets security updates, in words (the badge's colour only repeats it). */
function SupportCell(props: { support: HostSummary['support'] }) {
  const s = props.support;
  if (s.state === 'supported')
    return (
      <span class="nowrap" title={s.ends ? `security support until ${s.ends}` : undefined}>
        supported
      </span>
    );
  if (s.state === 'extended')
    return (
      <span class="nowrap" title={`${s.name ?? 'extended support'} until ${s.ends ?? '?'}`}>
        <Badge tone="warn">extended</Badge>
        {s.ends && <span class="sub muted"> to {s.ends}</span>}
      </span>
    );
  if (s.state === 'ended')
    return (
      <span class="nowrap" title="the release gets no more security updates">
        <Badge tone="bad">ended</Badge>
        {s.ended && <span class="sub muted"> {s.ended}</span>}
      </span>
    );
  return <span class="muted">unknown</span>;
}

/** The agent's version, and whether the server's repository publishes a newer one. */
function AgentCell(props: { version: string | null; versions: AgentVersions | undefined }) {
  const { version, versions } = props;
  if (!version) return <span class="muted">never reported</span>;
  const latest = versions?.latest ?? null;
  const rank = (v: string | null) => versions?.versions.findIndex((x) => x.version === v) ?? -1;
  // The list is newest first: a version after the latest one is older than it.
  const older = latest !== null && version !== latest && rank(version) > rank(latest);
  return (
    <span class="nowrap" data-agent={version}>
      {version}
      {older && ' '}
      {older && (
        <Badge tone="warn" title={`the repository publishes ${latest}`}>
          older
        </Badge>
      )}
    </span>
  );
}

/** The hosts table's columns; the Agent column compares with the newest agent the repository publishes. */
export function hostColumns(versions: AgentVersions | undefined): Column<HostSummary>[] {
  return [
    ...HOST_COLUMNS,
    { key: 'agent', label: 'Agent', render: (h) => <AgentCell version={h.agent_version} versions={versions} /> },
  ];
}

const HOST_CSV: CsvColumn<HostSummary>[] = [
  { header: 'id', value: (h) => h.id },
  { header: 'hostname', value: (h) => h.hostname },
  { header: 'group', value: (h) => h.group },
  { header: 'tags', value: (h) => h.tags.join(' ') },
  { header: 'distro', value: (h) => h.distro },
  { header: 'release', value: (h) => h.release },
  { header: 'os', value: (h) => h.os?.pretty_name },
  { header: 'kernel', value: (h) => h.kernel },
  { header: 'last_seen', value: (h) => h.last_seen },
  { header: 'stale', value: (h) => h.stale },
  { header: 'reboot_pending', value: (h) => h.reboot_pending },
  { header: 'package_count', value: (h) => h.package_count },
  ...SEVERITIES.map((s) => ({ header: `open_${s}`, value: (h: HostSummary) => h.open[s] })),
  { header: 'open_total', value: (h) => h.open.total },
  { header: 'fixable_total', value: (h) => h.fixable.total },
  { header: 'agent_version', value: (h) => h.agent_version },
  { header: 'support', value: (h) => h.support.state },
  { header: 'support_ends', value: (h) => h.support.ends ?? h.support.ended },
];
