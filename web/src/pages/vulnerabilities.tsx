// Vulnerabilities across the fleet: the most widespread and the most severe, each with the
// hosts affected and the versions that fix it; search by CVE id.
import { allPages } from '../api/all-pages.ts';
import type { Page, VulnSummary } from '../api/types.ts';
import { useApi } from '../api/use-api.ts';
import { SelectFilter, TextFilter } from '../components/filters.tsx';
import { DataTable, ExportButton, nextSort, Pager, type Column, type SortState } from '../components/table.tsx';
import { Card, PageHeader, SeverityBadge, Tabs } from '../components/ui.tsx';
import { download, stamped, toCsv, type CsvColumn } from '../lib/csv.ts';
import { int } from '../lib/format.ts';
import { MAIN_SEVERITIES, SEVERITY_LABEL } from '../lib/severity.ts';
import { href, intParam, useQuery } from '../lib/url.ts';

const defaultOrder = (key: string): 'asc' | 'desc' => (key === 'severity' ? 'asc' : 'desc');

export function VulnerabilitiesPage() {
  const { query, set } = useQuery();
  const view = query.view === 'severe' ? 'severe' : 'widespread';
  const sortKey = query.sort ?? (view === 'severe' ? 'severity' : 'hosts');
  const sort: SortState = {
    key: sortKey,
    order: query.order === 'asc' || query.order === 'desc' ? query.order : defaultOrder(sortKey),
  };
  const page = intParam(query.page, 1);
  const filters = { search: query.search, min_severity: query.min_severity, fixable: query.fixable };
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
        subtitle="Open in the fleet now, with the hosts they affect and the versions that fix them"
      />
      <Tabs
        active={view}
        tabs={[
          { id: 'widespread', label: 'Most widespread', href: href('/vulnerabilities', { ...filters }) },
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
  { key: 'severity', label: 'Severity', sort: 'severity', render: (v) => <SeverityBadge severity={v.severity} /> },
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
  { header: 'severity', value: (v) => v.severity },
  { header: 'open_hosts', value: (v) => v.open_hosts },
  { header: 'open_findings', value: (v) => v.open_findings },
  { header: 'fixable_findings', value: (v) => v.fixable_findings },
  { header: 'fixed_versions', value: (v) => v.fixed_versions.join(' ') },
];
