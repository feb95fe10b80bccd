// What to upgrade: per source package and version, the hosts that need it and what it closes —
// "upgrade openssl to 3.0.17-1~deb12u3 on 212 hosts: closes 9 vulnerabilities (2 known
// exploited)". Known exploited first, then the most findings closed; filters in the URL; CSV.
import { allPages } from '../api/all-pages.ts';
import type { HostDetail, HostRemediation, Page, Remediation } from '../api/types.ts';
import { useApi } from '../api/use-api.ts';
import { GroupSelect, useFacets } from '../components/facet-filters.tsx';
import { SelectFilter, TextFilter } from '../components/filters.tsx';
import { DataTable, ExportButton, nextSort, Pager, type Column, type SortState } from '../components/table.tsx';
import { Badge, Card, PageHeader, SeverityBadge } from '../components/ui.tsx';
import { download, stamped, toCsv, type CsvColumn } from '../lib/csv.ts';
import { int } from '../lib/format.ts';
import { href, intParam, useQuery } from '../lib/url.ts';

const defaultOrder = (key: string): 'asc' | 'desc' => (key === 'source' || key === 'severity' ? 'asc' : 'desc');

export function RemediationPage() {
  const { query } = useQuery();
  return query.host ? <HostRemediationView hostId={query.host} /> : <FleetRemediation />;
}

function FleetRemediation() {
  const { query, set } = useQuery();
  const facets = useFacets();
  const sortKey = query.sort ?? 'impact';
  const sort: SortState = {
    key: sortKey,
    order: query.order === 'asc' || query.order === 'desc' ? query.order : defaultOrder(sortKey),
  };
  const page = intParam(query.page, 1);
  const filters = { search: query.search, group: query.group, kev: query.kev };
  const res = useApi<Page<Remediation>>('/api/v1/remediation', {
    ...filters,
    sort: sort.key,
    order: sort.order,
    page,
    per_page: 50,
  });

  return (
    <>
      <PageHeader
        title="Remediation"
        subtitle="What to upgrade: each source package to the version that closes its open findings, and on which hosts"
      />
      <Card id="remediation">
        <div class="filters">
          <TextFilter
            name="search"
            label="Source package"
            placeholder="openssl"
            value={query.search}
            onChange={(v) => set({ search: v })}
          />
          <GroupSelect facets={facets.data} value={query.group} onChange={(v) => set({ group: v })} />
          <SelectFilter
            name="kev"
            label="Exploited"
            value={query.kev}
            options={[['true', 'Closes a known exploited vulnerability']]}
            onChange={(v) => set({ kev: v })}
          />
          <span class="filters-end">
            <ExportButton
              id="remediation"
              run={async () =>
                download(
                  stamped('remediation'),
                  toCsv(
                    REMEDIATION_CSV,
                    await allPages<Remediation>('/api/v1/remediation', {
                      ...filters,
                      sort: sort.key,
                      order: sort.order,
                    }),
                  ),
                )
              }
            />
          </span>
        </div>
        <DataTable
          id="remediation"
          columns={COLUMNS}
          rows={res.data?.items}
          rowKey={(r) => `${r.source} ${r.fixed_version}`}
          sort={sort}
          onSort={(key) => {
            const s = nextSort(sort, key, defaultOrder);
            set({
              sort: s.key === 'impact' ? undefined : s.key,
              order: s.order === defaultOrder(s.key) ? undefined : s.order,
            });
          }}
          loading={res.loading}
          error={res.error}
          retry={res.reload}
          empty={
            query.search
              ? `No upgrade of a package matching “${query.search}”.`
              : 'Nothing to upgrade: no open finding has a fix.'
          }
        />
        {res.data && (
          <Pager
            page={page}
            perPage={50}
            total={res.data.total}
            exact={res.data.total_exact}
            onPage={(p) => set({ page: p === 1 ? undefined : String(p) })}
          />
        )}
      </Card>
    </>
  );
}

const COLUMNS: Column<Remediation>[] = [
  {
    key: 'upgrade',
    label: 'Upgrade',
    sort: 'source',
    render: (r) => (
      <span class="stack">
        <span>
          <a class="mono strong" href={href('/findings', { package: r.source, fixable: 'true' })}>
            {r.source}
          </a>{' '}
          to <span class="mono">{r.fixed_version}</span>
        </span>
        <span class="muted small">{r.releases.join(', ')}</span>
      </span>
    ),
  },
  { key: 'hosts', label: 'Hosts', sort: 'hosts', align: 'right', render: (r) => <b>{int(r.hosts)}</b> },
  {
    key: 'vulnerabilities',
    label: 'Closes',
    align: 'right',
    render: (r) => <span title={r.vulnerability_ids.join(' ')}>{int(r.vulnerabilities)} vulnerabilities</span>,
  },
  {
    key: 'kev',
    label: 'Known exploited',
    sort: 'known_exploited',
    align: 'right',
    render: (r) =>
      r.known_exploited > 0 ? (
        <Badge tone="bad" title="In CISA's Known Exploited Vulnerabilities catalogue">
          {int(r.known_exploited)} KEV
        </Badge>
      ) : (
        <span class="zero">0</span>
      ),
  },
  { key: 'exposures', label: 'Findings closed', sort: 'exposures', align: 'right', render: (r) => int(r.exposures) },
  { key: 'severity', label: 'Worst', sort: 'severity', render: (r) => <SeverityBadge severity={r.severity} /> },
  { key: 'summary', label: 'In words', class: 'wrap', render: (r) => <span class="small">{r.summary}</span> },
];

/** One host's upgrades (`?host=ID`): per source package, the version, what it closes, what stays. */
function HostRemediationView(props: { hostId: string }) {
  const host = useApi<HostDetail>(`/api/v1/hosts/${encodeURIComponent(props.hostId)}`);
  const res = useApi<{ items: HostRemediation[] }>(`/api/v1/hosts/${encodeURIComponent(props.hostId)}/remediation`);
  const name = host.data?.hostname ?? `host ${props.hostId}`;
  return (
    <>
      <PageHeader
        title={`Remediation on ${name}`}
        subtitle={
          <>
            What to upgrade on this host, known exploited first · <a href={`/hosts/${props.hostId}`}>the host</a> ·{' '}
            <a href="/remediation">the whole fleet</a>
          </>
        }
      />
      <Card id="host-remediation">
        <div class="filters">
          <span class="filters-end">
            <ExportButton
              id="host-remediation"
              run={async () => download(stamped(`remediation-${name}`), toCsv(HOST_CSV, res.data?.items ?? []))}
            />
          </span>
        </div>
        <DataTable
          id="host-remediation"
          columns={HOST_COLUMNS}
          rows={res.data?.items}
          rowKey={(r) => r.source}
          loading={res.loading}
          error={res.error}
          retry={res.reload}
          empty="Nothing to upgrade: no open finding of this host has a fix."
        />
      </Card>
    </>
  );
}

const HOST_COLUMNS: Column<HostRemediation>[] = [
  {
    key: 'upgrade',
    label: 'Upgrade',
    render: (r) => (
      <span class="stack">
        <span>
          <span class="mono strong">{r.source}</span> to <span class="mono">{r.fixed_version}</span>
        </span>
        <span class="muted small">installed {r.installed_versions.join(', ')}</span>
      </span>
    ),
  },
  {
    key: 'vulnerabilities',
    label: 'Closes',
    align: 'right',
    render: (r) => <span title={r.vulnerability_ids.join(' ')}>{int(r.vulnerabilities)} vulnerabilities</span>,
  },
  {
    key: 'kev',
    label: 'Known exploited',
    align: 'right',
    render: (r) =>
      r.known_exploited > 0 ? (
        <Badge tone="bad" title="In CISA's Known Exploited Vulnerabilities catalogue">
          {int(r.known_exploited)} KEV
        </Badge>
      ) : (
        <span class="zero">0</span>
      ),
  },
  { key: 'severity', label: 'Worst', render: (r) => <SeverityBadge severity={r.severity} /> },
  {
    key: 'stays',
    label: 'Stays open (no fix yet)',
    align: 'right',
    render: (r) => int(r.still_open_without_fix),
  },
  { key: 'summary', label: 'In words', class: 'wrap', render: (r) => <span class="small">{r.summary}</span> },
];

const HOST_CSV: CsvColumn<HostRemediation>[] = [
  { header: 'source', value: (r) => r.source },
  { header: 'fixed_version', value: (r) => r.fixed_version },
  { header: 'installed_versions', value: (r) => r.installed_versions.join(' ') },
  { header: 'vulnerabilities', value: (r) => r.vulnerabilities },
  { header: 'known_exploited', value: (r) => r.known_exploited },
  { header: 'severity', value: (r) => r.severity },
  { header: 'still_open_without_fix', value: (r) => r.still_open_without_fix },
  { header: 'vulnerability_ids', value: (r) => r.vulnerability_ids.join(' ') },
  { header: 'summary', value: (r) => r.summary },
];

const REMEDIATION_CSV: CsvColumn<Remediation>[] = [
  { header: 'source', value: (r) => r.source },
  { header: 'fixed_version', value: (r) => r.fixed_version },
  { header: 'releases', value: (r) => r.releases.join(' ') },
  { header: 'hosts', value: (r) => r.hosts },
  { header: 'findings_closed', value: (r) => r.exposures },
  { header: 'vulnerabilities', value: (r) => r.vulnerabilities },
  { header: 'known_exploited', value: (r) => r.known_exploited },
  { header: 'severity', value: (r) => r.severity },
  { header: 'vulnerability_ids', value: (r) => r.vulnerability_ids.join(' ') },
  { header: 'summary', value: (r) => r.summary },
];
