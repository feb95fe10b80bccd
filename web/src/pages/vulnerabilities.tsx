// Vulnerabilities across the fleet: what to fix first (by priority, from KEV, EPSS, severity and
// whether a fix exists), the most widespread and the most severe, each with the hosts affected
// and the versions that fix them; search by CVE id, alias or advisory.
import { allPages } from '../api/all-pages.ts';
import type { Page, VulnSummary } from '../api/types.ts';
import { useApi } from '../api/use-api.ts';
import { SelectFilter, TextFilter } from '../components/filters.tsx';
import { DataTable, ExportButton, nextSort, Pager, type Column, type SortState } from '../components/table.tsx';
import { cvssText, epssText, KevBadge, PRIORITY_OPTIONS, PriorityBadge } from '../components/exploitation.tsx';
import { Card, PageHeader, SeverityBadge, Tabs } from '../components/ui.tsx';
import { download, stamped, toCsv, type CsvColumn } from '../lib/csv.ts';
import { int } from '../lib/format.ts';
import { MAIN_SEVERITIES, SEVERITY_LABEL } from '../lib/severity.ts';
import { href, intParam, useQuery } from '../lib/url.ts';

const defaultOrder = (key: string): 'asc' | 'desc' => (key === 'severity' || key === 'priority' ? 'asc' : 'desc');
const VIEW_SORT: Record<string, string> = { priority: 'priority', widespread: 'hosts', severe: 'severity' };

export function VulnerabilitiesPage() {
  const { query, set } = useQuery();
  const view = query.view === 'severe' || query.view === 'widespread' ? query.view : 'priority';
  const sortKey = query.sort ?? VIEW_SORT[view];
  const sort: SortState = {
    key: sortKey,
    order: query.order === 'asc' || query.order === 'desc' ? query.order : defaultOrder(sortKey),
  };
  const page = intParam(query.page, 1);
  const filters = {
    search: query.search,
    min_severity: query.min_severity,
    fixable: query.fixable,
    kev: query.kev,
    priority: query.priority,
    min_epss: query.min_epss,
  };
  const res = useApi<Page<VulnSummary>>('/api/v1/vulnerabilities', {
    ...filters,
    sort: sort.key,
    order: sort.order,
    page,
    per_page: 50,
  });

  return (
    <>
      <PageHeader
        title="Vulnerabilities"
        subtitle="Open in the fleet now, what to fix first, the hosts they affect and the versions that fix them"
      />
      <Tabs
        active={view}
        tabs={[
          { id: 'priority', label: 'Fix first', href: href('/vulnerabilities', { ...filters }) },
          {
            id: 'widespread',
            label: 'Most widespread',
            href: href('/vulnerabilities', { ...filters, view: 'widespread' }),
          },
          { id: 'severe', label: 'Most severe', href: href('/vulnerabilities', { ...filters, view: 'severe' }) },
        ]}
      />
      <Card id="vulns">
        <div class="filters">
          <TextFilter
            name="search"
            label="CVE, alias or advisory id"
            wide
            placeholder="CVE-2024- or ALSA-2024:"
            value={query.search}
            onChange={(v) => set({ search: v })}
          />
          <SelectFilter
            name="min_severity"
            label="Severity"
            value={query.min_severity}
            options={MAIN_SEVERITIES.map((s) => [s, `${SEVERITY_LABEL[s]}${s === 'critical' ? '' : ' or worse'}`])}
            onChange={(v) => set({ min_severity: v })}
          />
          <SelectFilter
            name="fixable"
            label="Fix"
            value={query.fixable}
            options={[
              ['true', 'Fix available'],
              ['false', 'No fix yet'],
            ]}
            onChange={(v) => set({ fixable: v })}
          />
          <SelectFilter
            name="kev"
            label="Exploited"
            value={query.kev}
            options={[
              ['true', 'Known exploited (KEV)'],
              ['false', 'Not in KEV'],
            ]}
            onChange={(v) => set({ kev: v })}
          />
          <SelectFilter
            name="priority"
            label="Priority"
            value={query.priority}
            options={PRIORITY_OPTIONS}
            onChange={(v) => set({ priority: v })}
          />
          <SelectFilter
            name="min_epss"
            label="EPSS"
            value={query.min_epss}
            options={[
              ['0.5', '50 % or more'],
              ['0.1', '10 % or more'],
              ['0.01', '1 % or more'],
            ]}
            onChange={(v) => set({ min_epss: v })}
          />
          <span class="filters-end">
            <ExportButton
              id="vulns"
              run={async () =>
                download(
                  stamped('vulnerabilities'),
                  toCsv(
                    VULN_CSV,
                    await allPages<VulnSummary>('/api/v1/vulnerabilities', {
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
          id="vulns"
          columns={VULN_COLUMNS}
          rows={res.data?.items}
          rowKey={(v) => v.id}
          sort={sort}
          onSort={(key) => {
            const s = nextSort(sort, key, defaultOrder);
            set({ sort: s.key, order: s.order === defaultOrder(s.key) ? undefined : s.order });
          }}
          loading={res.loading}
          error={res.error}
          retry={res.reload}
          empty={query.search ? `No open vulnerability matches “${query.search}”.` : 'No open vulnerabilities.'}
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

const VULN_COLUMNS: Column<VulnSummary>[] = [
  {
    key: 'priority',
    label: 'Priority',
    sort: 'priority',
    render: (v) => <PriorityBadge priority={v.priority} />,
  },
  {
    key: 'id',
    label: 'Vulnerability',
    sort: 'id',
    render: (v) => (
      <span class="stack">
        <a class="mono strong" href={`/vulnerabilities/${encodeURIComponent(v.id)}`}>
          {v.id}
        </a>
        {v.aliases.length > 0 && (
          <span class="muted small">
            {v.aliases.slice(0, 3).join(', ')}
            {v.aliases.length > 3 ? ` +${v.aliases.length - 3}` : ''}
          </span>
        )}
      </span>
    ),
  },
  {
    key: 'title',
    label: 'Title',
    class: 'wrap title-cell',
    render: (v) => (
      <span class="small clamp-2" title={v.title}>
        {v.title}
      </span>
    ),
  },
  { key: 'severity', label: 'Severity', sort: 'severity', render: (v) => <SeverityBadge severity={v.severity} /> },
  { key: 'cvss', label: 'CVSS', sort: 'cvss', align: 'right', render: (v) => cvssText(v.cvss_score) },
  { key: 'epss', label: 'EPSS', sort: 'epss', align: 'right', render: (v) => epssText(v.epss) },
  { key: 'kev', label: 'KEV', render: (v) => <KevBadge kev={v.kev} /> },
  { key: 'hosts', label: 'Hosts', sort: 'hosts', align: 'right', render: (v) => <b>{int(v.open_hosts)}</b> },
  { key: 'findings', label: 'Findings', sort: 'findings', align: 'right', render: (v) => int(v.open_findings) },
  { key: 'fixable', label: 'Fixable', align: 'right', render: (v) => int(v.fixable_findings) },
  {
    key: 'fixed',
    label: 'Fixed in',
    render: (v) =>
      v.fixed_versions.length ? (
        <span class="mono small">
          {v.fixed_versions.slice(0, 3).join(', ')}
          {v.fixed_versions.length > 3 && <span class="muted"> +{v.fixed_versions.length - 3}</span>}
        </span>
      ) : (
        <span class="muted">no fix yet</span>
      ),
  },
];

const VULN_CSV: CsvColumn<VulnSummary>[] = [
  { header: 'id', value: (v) => v.id },
  { header: 'aliases', value: (v) => v.aliases.join(' ') },
  { header: 'title', value: (v) => v.title },
  { header: 'priority', value: (v) => v.priority.level },
  { header: 'priority_reason', value: (v) => v.priority.reason },
  { header: 'severity', value: (v) => v.severity },
  { header: 'cvss', value: (v) => v.cvss_score },
  { header: 'epss', value: (v) => v.epss?.score },
  { header: 'epss_percentile', value: (v) => v.epss?.percentile },
  { header: 'kev_date_added', value: (v) => v.kev?.date_added },
  { header: 'kev_due_date', value: (v) => v.kev?.due_date },
  { header: 'open_hosts', value: (v) => v.open_hosts },
  { header: 'open_findings', value: (v) => v.open_findings },
  { header: 'fixable_findings', value: (v) => v.fixable_findings },
  { header: 'fixed_versions', value: (v) => v.fixed_versions.join(' ') },
];
