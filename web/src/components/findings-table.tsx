// Findings with the reason for each: which feed and advisory said so, and the installed
// version compared with the fixed one. Used on the host, vulnerability and findings pages. A
// row is one vulnerability in one source package of a host (the unit every count counts), its
// binary packages listed; the export has a row per binary package.
import { useState } from 'preact/hooks';
import type { Finding, HostFacets, Page } from '../api/types.ts';
import { useApi } from '../api/use-api.ts';
import { queryString } from '../api/client.ts';
import { date, int } from '../lib/format.ts';
import { useCan } from '../lib/session.tsx';
import { FINDING_STATUS_OPTIONS, SEVERITIES, SEVERITY_LABEL } from '../lib/severity.ts';
import { intParam, useQuery } from '../lib/url.ts';
import { GroupSelect } from './facet-filters.tsx';
import { SelectFilter, TextFilter } from './filters.tsx';
import { DataTable, ExportLink, nextSort, Pager, type Column, type SortState } from './table.tsx';
import { Badge, SeverityBadge, StatusBadge } from './ui.tsx';
import { ExceptionForm } from './exception-form.tsx';

const defaultOrder = (key: string): 'asc' | 'desc' => (key === 'vulnerability' ? 'desc' : 'asc');

/** The findings list; `fixed` filters (host, vulnerability) are not shown as controls. */
export function FindingsTable(props: {
  id: string;
  fixed: { host?: number; vulnerability?: string };
  show: { host?: boolean; vulnerability?: boolean; group?: boolean; package?: boolean };
}) {
  const { query, set } = useQuery();
  const canExcept = useCan('operator');
  // The finding an exception is being made from (the form opens above the table).
  const [excepting, setExcepting] = useState<Finding | null>(null);
  const sortKey = query.sort ?? 'severity';
  const sort: SortState = {
    key: sortKey,
    order: query.order === 'asc' || query.order === 'desc' ? query.order : defaultOrder(sortKey),
  };
  const page = intParam(query.page, 1);
  const perPage = intParam(query.per_page, 50);
  const filters = {
    state: query.state ?? 'open',
    severity: query.severity,
    status: query.status,
    fixable: query.fixable,
    overdue: query.overdue,
    group: props.show.group ? query.group : undefined,
    package: query.package,
    vulnerability: props.fixed.vulnerability ?? query.vulnerability,
    host: props.fixed.host,
  };
  const path = props.fixed.host !== undefined ? `/api/v1/hosts/${props.fixed.host}/findings` : '/api/v1/findings';
  // Facets only feed the group select: not loaded where it is not shown.
  const facets = useApi<HostFacets>(props.show.group ? '/api/v1/hosts/facets' : null);
  const res = useApi<Page<Finding>>(path, {
    ...filters,
    host: undefined,
    sort: sort.key,
    order: sort.order,
    page,
    per_page: perPage,
  });
  const exportHref = `/api/v1/findings/export${queryString({ ...filters, format: 'csv' })}`;

  const columns: Column<Finding>[] = [];
  if (props.show.vulnerability !== false) {
    columns.push({
      key: 'vulnerability',
      label: 'Vulnerability',
      sort: 'vulnerability',
      render: (f) => (
        <span class="stack">
          <a class="mono strong" href={`/vulnerabilities/${encodeURIComponent(f.vulnerability)}`}>
            {f.vulnerability}
          </a>
          {f.aliases.length > 0 && (
            <span class="muted small">
              {f.aliases.slice(0, 3).join(', ')}
              {f.aliases.length > 3 ? ` +${f.aliases.length - 3}` : ''}
            </span>
          )}
        </span>
      ),
    });
  }
  if (props.show.host) {
    columns.push({
      key: 'host',
      label: 'Host',
      sort: 'host',
      render: (f) => (
        <span class="stack">
          <a class="nowrap" href={`/hosts/${f.host.id}`}>
            {f.host.hostname}
          </a>
          {f.host.group && <span class="muted small">{f.host.group}</span>}
        </span>
      ),
    });
  }
  columns.push(
    { key: 'severity', label: 'Severity', sort: 'severity', render: (f) => <SeverityBadge severity={f.severity} /> },
    {
      key: 'package',
      label: 'Package',
      render: (f) => (
        <span class="stack">
          <span>
            <b>{f.package.source || f.package.name}</b>{' '}
            <span class="mono small">{f.package.source_version || f.package.version}</span>
          </span>
          {(f.packages.length > 1 || f.packages[0]?.name !== (f.package.source || f.package.name)) && (
            <span class="muted small" data-binaries>
              {f.packages.map((p) => p.name).join(', ')}
            </span>
          )}
        </span>
      ),
    },
    { key: 'status', label: 'Status', render: (f) => <StatusBadge status={f.status} /> },
    { key: 'why', label: 'Why', render: (f) => <Why f={f} /> },
    {
      key: 'age',
      label: 'Open for',
      sort: 'age',
      align: 'right',
      render: (f) => (
        <span title={`opened ${f.opened_at}; SLA due ${f.sla_due}`}>
          {int(Math.floor(f.age_days))} d{f.overdue && <Badge tone="bad">past SLA</Badge>}
          {f.state === 'resolved' && <span class="muted small"> resolved {date(f.resolved_at)}</span>}
        </span>
      ),
    },
    {
      key: 'exception',
      label: '',
      render: (f) =>
        f.state === 'excepted' ? (
          <a
            href={`/exceptions?vulnerability=${encodeURIComponent(f.vulnerability)}`}
            data-excepted-by={f.exception_id}
          >
            <Badge tone="neutral">excepted #{f.exception_id}</Badge>
          </a>
        ) : f.state === 'open' && canExcept ? (
          <button type="button" class="link" data-except={f.id} onClick={() => setExcepting(f)}>
            Except…
          </button>
        ) : null,
    },
  );

  return (
    <>
      <div class="filters">
        <SelectFilter
          name="state"
          label="State"
          anyLabel="Open"
          value={query.state === 'open' ? undefined : query.state}
          options={[
            ['excepted', 'Excepted'],
            ['resolved', 'Resolved'],
            ['all', 'Open and resolved'],
          ]}
          onChange={(v) => set({ state: v })}
        />
        <SelectFilter
          name="severity"
          label="Severity"
          value={query.severity}
          options={SEVERITIES.map((s) => [s, SEVERITY_LABEL[s]])}
          onChange={(v) => set({ severity: v })}
        />
        <SelectFilter
          name="status"
          label="Status"
          value={query.status}
          options={FINDING_STATUS_OPTIONS}
          onChange={(v) => set({ status: v })}
        />
        <SelectFilter
          name="fixable"
          label="Fix"
          value={query.fixable}
          options={[
            ['true', 'Fix available now'],
            ['false', 'No fix yet'],
          ]}
          onChange={(v) => set({ fixable: v })}
        />
        <SelectFilter
          name="overdue"
          label="SLA"
          value={query.overdue}
          options={[
            ['true', 'Past SLA'],
            ['false', 'Within SLA'],
          ]}
          onChange={(v) => set({ overdue: v })}
        />
        {props.show.group && (
          <GroupSelect facets={facets.data} value={query.group} onChange={(v) => set({ group: v })} />
        )}
        {props.show.package !== false && (
          <TextFilter name="package" label="Package" value={query.package} onChange={(v) => set({ package: v })} />
        )}
        {props.fixed.vulnerability === undefined &&
          props.show.vulnerability !== false &&
          props.fixed.host === undefined && (
            <TextFilter
              name="vulnerability"
              label="CVE or advisory"
              value={query.vulnerability}
              onChange={(v) => set({ vulnerability: v })}
            />
          )}
      </div>
      {excepting && (
        <div class="exception-from-finding" data-excepting={excepting.id}>
          <p class="muted small">
            New exception from {excepting.vulnerability} in {excepting.package.source || excepting.package.name} on{' '}
            {excepting.host.hostname}: clear a field to widen the rule.
          </p>
          <ExceptionForm
            initial={{
              vulnerability: excepting.vulnerability,
              package: excepting.package.source || excepting.package.name,
              host: excepting.host.hostname,
            }}
            onDone={() => {
              setExcepting(null);
              res.reload();
            }}
            onCancel={() => setExcepting(null)}
          />
        </div>
      )}
      <div class="table-toolbar">
        <span class="muted" data-findings-total={res.data?.total}>
          {res.data
            ? `${res.data.total_exact ? '' : 'more than '}${int(res.data.total)} findings (per vulnerability and source package)`
            : ''}
        </span>
        <ExportLink id={props.id} href={exportHref} />
      </div>
      <DataTable
        id={props.id}
        columns={columns}
        rows={res.data?.items}
        rowKey={(f) => f.id}
        sort={sort}
        onSort={(key) => {
          const s = nextSort(sort, key, defaultOrder);
          set({
            sort: s.key === 'severity' ? undefined : s.key,
            order: s.order === defaultOrder(s.key) ? undefined : s.order,
          });
        }}
        loading={res.loading}
        error={res.error}
        retry={res.reload}
        empty="No finding matches these filters."
      />
      {res.data && (
        <Pager
          page={page}
          perPage={perPage}
          total={res.data.total}
          exact={res.data.total_exact}
          onPage={(p) => set({ page: p === 1 ? undefined : String(p) })}
        />
      )}
    </>
  );
}

/** Feed, advisory and the versions compared: enough to check the verdict by hand. */
export function Why(props: { f: Finding }) {
  const f = props.f;
  const src =
    f.package.source && f.package.source !== f.package.name
      ? `${f.package.source} ${f.package.source_version}`
      : f.package.source_version || f.package.version;
  return (
    <span class="why">
      <span class="why-versions mono">
        {src}
        {f.fixed_version ? (
          <>
            {' < '}
            <b>{f.fixed_version}</b>
          </>
        ) : (
          <span class="muted"> · no fixed version</span>
        )}
      </span>
      <span class="why-source muted small">
        {f.feed}
        {f.advisory_ids.length > 0 && <> · {f.advisory_ids.join(', ')}</>} · “{f.raw_status}”
        {f.raw_severity && <>, {f.raw_severity}</>}
      </span>
    </span>
  );
}
