// One host: its state and support, findings with their reasons, installed packages, history
// (scans and events), and patching (policy, next window and runs, once the server has them).
import { allPages } from '../api/all-pages.ts';
import type {
  HostDetail,
  HostEvent,
  HostHistory,
  HostPolicyView,
  Package,
  Page,
  PatchRun,
  Scan,
} from '../api/types.ts';
import { useApi } from '../api/use-api.ts';
import { FindingsTable } from '../components/findings-table.tsx';
import { TextFilter } from '../components/filters.tsx';
import { GateBadge, NoRunsYet, RUN_CSV, runColumns, whenText } from '../components/patch-runs.tsx';
import { DataTable, ExportButton, Pager, type Column } from '../components/table.tsx';
import {
  Badge,
  Card,
  Count,
  Empty,
  ErrorNote,
  Facts,
  Loading,
  PageHeader,
  SeverityBadge,
  Tabs,
} from '../components/ui.tsx';
import { download, stamped, toCsv, type CsvColumn } from '../lib/csv.ts';
import { date, dateTime, int, plural, relative } from '../lib/format.ts';
import { SEVERITIES, SEVERITY_LABEL } from '../lib/severity.ts';
import { href, intParam, useQuery } from '../lib/url.ts';

export function HostPage(props: { params?: { id?: string }; id?: string }) {
  const id = Number(props.params?.id ?? props.id);
  const { query } = useQuery();
  const host = useApi<HostDetail>(Number.isInteger(id) && id > 0 ? `/api/v1/hosts/${id}` : null);
  const tab = query.tab ?? 'findings';
  if (!Number.isInteger(id) || id <= 0) return <Empty title="No such host." />;
  if (host.error) {
    return (
      <>
        <PageHeader title="Host" />
        <ErrorNote error={host.error} retry={host.reload} />
      </>
    );
  }
  if (!host.data) return <Loading />;
  const h = host.data;
  const tabHref = (t: string) => href(`/hosts/${id}`, { tab: t === 'findings' ? undefined : t });
  return (
    <>
      <PageHeader
        title={h.hostname}
        subtitle={
          <>
            {h.os?.pretty_name ?? 'OS not reported'}
            {h.kernel && <> · kernel {h.kernel}</>}
            {h.group && (
              <>
                {' '}
                · group <a href={href('/hosts', { group: h.group })}>{h.group}</a>
              </>
            )}
            {h.tags.map((t) => (
              <a key={t} class="tag" href={href('/hosts', { tag: t })}>
                {t}
              </a>
            ))}
          </>
        }
        actions={
          <>
            <a data-host-remediation href={href('/remediation', { host: String(id) })}>
              What to upgrade
            </a>{' '}
            · <a href="/hosts">← All hosts</a>
          </>
        }
      />
      <div class="grid grid-1-2">
        <Card id="host-facts" title="State">
          <div class="badges">
            {h.stale ? (
              <Badge tone="warn">{h.last_seen ? 'Stale' : 'Never reported'}</Badge>
            ) : (
              <Badge tone="good">Reporting</Badge>
            )}
            {h.reboot_pending && (
              <Badge tone="warn">
                {h.kernel_newer_installed ? 'Reboot pending: newer kernel installed' : 'Reboot pending'}
              </Badge>
            )}
            {h.support.state === 'ended' && (
              <Badge tone="bad">Release out of security support since {h.support.ended}</Badge>
            )}
            {h.support.state === 'extended' && (
              <Badge tone="warn">
                {h.support.name} until {h.support.ends}
              </Badge>
            )}
            {h.credential_revoked && <Badge tone="bad">Agent credential revoked</Badge>}
            {h.match_error && <Badge tone="bad">Not matched: {h.match_error}</Badge>}
            {h.inventory_shrunk && (
              <Badge tone="bad" title="The host's report listed fewer than a fifth of the packages it had before">
                Inventory shrank: {int(h.inventory_shrunk.before)} → {int(h.inventory_shrunk.after)} packages
              </Badge>
            )}
          </div>
          {h.inventory_shrunk && (
            <p id="inventory-shrunk" class="small">
              Its report of {dateTime(h.inventory_shrunk.at)} UTC listed {int(h.inventory_shrunk.after)} packages where
              it had {int(h.inventory_shrunk.before)}; the findings on the missing packages were resolved by that
              report. Check the host's package database (or the agent's root) before trusting it: see the{' '}
              <a href={href(`/hosts/${id}`, { tab: 'history' })}>history</a>.
            </p>
          )}
          <Facts
            items={[
              [
                'Last report',
                <span title={h.last_seen ?? ''}>
                  {h.last_seen ? `${relative(h.last_seen)} (${dateTime(h.last_seen)} UTC)` : 'never'}
                </span>,
              ],
              ['Enrolled', date(h.enrolled_at)],
              ['Packages', int(h.package_count)],
              ['Agent', h.agent_version ?? <span class="muted">never reported</span>],
              ['Support', h.support.state === 'supported' ? `until ${h.support.ends}` : h.support.state],
              ['Machine id', <span class="mono small">{h.machine_id ?? 'not reported'}</span>],
            ]}
          />
          {h.kernel_not_running_findings > 0 && (
            <p class="muted small">
              {int(h.kernel_not_running_findings)} findings only in installed kernels that are not running are not
              counted as exposure.
            </p>
          )}
          {[...h.warnings, ...h.match_warnings].length > 0 && (
            <details class="warnings">
              <summary>{plural(h.warnings.length + h.match_warnings.length, 'warning')}</summary>
              <ul>
                {[...h.warnings, ...h.match_warnings].map((w, i) => (
                  <li key={i}>{w}</li>
                ))}
              </ul>
            </details>
          )}
        </Card>
        <Card id="host-counts" title="Open findings">
          <div class="sevcounts">
            {SEVERITIES.map((s) => (
              <a key={s} class="sevcount" data-severity={s} href={href(`/hosts/${id}`, { severity: s })}>
                <span class={`dot dot-${s}`} />
                <span class="sevcount-label">{SEVERITY_LABEL[s]}</span>
                <span class="sevcount-n" data-open>
                  {int(h.open[s])}
                </span>
                <span class="muted small">{int(h.fixable[s])} fixable</span>
              </a>
            ))}
          </div>
          {h.unsupported_packages.length > 0 && (
            <p class="muted small">
              {int(h.unsupported_packages.length)} packages have limited or no security support:{' '}
              {h.unsupported_packages
                .slice(0, 8)
                .map((p) => p.source)
                .join(', ')}
              {h.unsupported_packages.length > 8 ? '…' : ''}
            </p>
          )}
        </Card>
      </div>
      <Tabs
        active={tab}
        tabs={[
          {
            id: 'findings',
            label: (
              <>
                Findings <span class="tab-n">{int(h.open.total)}</span>
              </>
            ),
            href: tabHref('findings'),
          },
          {
            id: 'packages',
            label: (
              <>
                Packages <span class="tab-n">{int(h.package_count)}</span>
              </>
            ),
            href: tabHref('packages'),
          },
          { id: 'history', label: 'History', href: tabHref('history') },
          { id: 'patching', label: 'Patching', href: tabHref('patching') },
        ]}
      />
      {tab === 'findings' && (
        <Card id="host-findings">
          <FindingsTable id="host-findings" fixed={{ host: id }} show={{ vulnerability: true, package: true }} />
        </Card>
      )}
      {tab === 'packages' && <PackagesTab id={id} hostname={h.hostname} />}
      {tab === 'history' && <HistoryTab id={id} hostname={h.hostname} />}
      {tab === 'patching' && <PatchingTab host={h} />}
    </>
  );
}

const PACKAGE_COLUMNS: Column<Package>[] = [
  { key: 'name', label: 'Package', render: (p) => <b>{p.name}</b> },
  { key: 'version', label: 'Version', render: (p) => <span class="mono">{p.version}</span> },
  { key: 'arch', label: 'Arch', render: (p) => p.arch },
  { key: 'source', label: 'Source', render: (p) => (p.source === p.name ? <span class="muted">same</span> : p.source) },
  { key: 'source_version', label: 'Source version', render: (p) => <span class="mono">{p.source_version}</span> },
  { key: 'format', label: 'Format', render: (p) => p.format },
  // Per binary package: each of its own open findings (a vulnerability on it).
  {
    key: 'open_findings',
    label: 'Open findings',
    align: 'right',
    render: (p) => (p.open_findings ? <b>{int(p.open_findings)}</b> : <span class="zero">0</span>),
  },
];
const PACKAGE_CSV: CsvColumn<Package>[] = [
  'name',
  'version',
  'arch',
  'source',
  'source_version',
  'format',
  'open_findings',
].map((k) => ({ header: k, value: (p: Package) => p[k as keyof Package] }));

function PackagesTab(props: { id: number; hostname: string }) {
  const { query, set } = useQuery();
  const page = intParam(query.page, 1);
  const res = useApi<Page<Package>>(`/api/v1/hosts/${props.id}/packages`, {
    search: query.search,
    page,
    per_page: 100,
  });
  return (
    <Card
      id="host-packages"
      actions={
        <ExportButton
          id="host-packages"
          run={async () =>
            download(
              stamped(`${props.hostname}-packages`),
              toCsv(
                PACKAGE_CSV,
                await allPages<Package>(`/api/v1/hosts/${props.id}/packages`, { search: query.search }),
              ),
            )
          }
        />
      }
    >
      <div class="filters">
        <TextFilter
          name="search"
          label="Search"
          wide
          placeholder="package or source name"
          value={query.search}
          onChange={(v) => set({ search: v })}
        />
      </div>
      <DataTable
        id="host-packages"
        columns={PACKAGE_COLUMNS}
        rows={res.data?.items}
        rowKey={(p) => `${p.name}:${p.arch}`}
        loading={res.loading}
        error={res.error}
        retry={res.reload}
      />
      {res.data && (
        <Pager
          page={page}
          perPage={100}
          total={res.data.total}
          onPage={(p) => set({ page: p === 1 ? undefined : String(p) })}
        />
      )}
    </Card>
  );
}

const SCAN_COLUMNS: Column<Scan>[] = [
  { key: 'at', label: 'Received', render: (s) => dateTime(s.at) },
  { key: 'kind', label: 'Report', render: (s) => s.kind },
  { key: 'package_count', label: 'Packages', align: 'right', render: (s) => int(s.package_count) },
  {
    key: 'changes',
    label: 'Changed',
    align: 'right',
    render: (s) => (s.added + s.removed === 0 ? <span class="zero">0</span> : `+${int(s.added)} −${int(s.removed)}`),
  },
  { key: 'detected', label: 'Detected', align: 'right', render: (s) => <Count n={s.detected} /> },
  { key: 'resolved', label: 'Resolved', align: 'right', render: (s) => <Count n={s.resolved} /> },
  { key: 'reopened', label: 'Reopened', align: 'right', render: (s) => <Count n={s.reopened} /> },
  { key: 'open', label: 'Open after', align: 'right', render: (s) => int(s.open) },
];
const SCAN_CSV: CsvColumn<Scan>[] = (
  [
    'id',
    'at',
    'kind',
    'collected_at',
    'package_count',
    'added',
    'removed',
    'detected',
    'resolved',
    'reopened',
    'open',
    'skipped_reports',
  ] as const
).map((k) => ({
  header: k,
  value: (s: Scan) => s[k],
}));

const EVENT_COLUMNS: Column<HostEvent>[] = [
  { key: 'at', label: 'When', render: (e) => dateTime(e.at) },
  { key: 'type', label: 'Event', render: (e) => <span class={`event event-${e.type}`}>{e.type}</span> },
  {
    key: 'vulnerability',
    label: 'Vulnerability',
    render: (e) =>
      e.vulnerability ? <a href={`/vulnerabilities/${encodeURIComponent(e.vulnerability)}`}>{e.vulnerability}</a> : '',
  },
  { key: 'severity', label: 'Severity', render: (e) => (e.severity ? <SeverityBadge severity={e.severity} /> : '') },
  { key: 'package', label: 'Package', render: (e) => (e.package ? `${e.package.name} ${e.package.version}` : '') },
  {
    key: 'cause',
    label: 'Cause',
    render: (e) => (e.cause ? e.cause : e.refresh_id ? 'feed update' : e.scan_id ? 'report' : ''),
  },
];
const EVENT_CSV: CsvColumn<HostEvent>[] = [
  { header: 'id', value: (e) => e.id },
  { header: 'at', value: (e) => e.at },
  { header: 'type', value: (e) => e.type },
  { header: 'vulnerability', value: (e) => e.vulnerability },
  { header: 'severity', value: (e) => e.severity },
  { header: 'package', value: (e) => e.package?.name },
  { header: 'version', value: (e) => e.package?.version },
  { header: 'arch', value: (e) => e.package?.arch },
  { header: 'scan_id', value: (e) => e.scan_id },
  { header: 'refresh_id', value: (e) => e.refresh_id },
  { header: 'cause', value: (e) => e.cause },
];

function HistoryTab(props: { id: number; hostname: string }) {
  const res = useApi<HostHistory>(`/api/v1/hosts/${props.id}/history`, { limit: 500 });
  if (res.error) return <ErrorNote error={res.error} retry={res.reload} />;
  if (!res.data) return <Loading />;
  return (
    <div class="grid">
      <Card
        id="host-scans"
        title="Reports"
        note="The newest 100 inventory reports and what each changed"
        actions={
          <ExportButton
            id="host-scans"
            run={() => download(stamped(`${props.hostname}-reports`), toCsv(SCAN_CSV, res.data!.scans))}
          />
        }
      >
        <DataTable
          id="host-scans"
          columns={SCAN_COLUMNS}
          rows={res.data.scans}
          rowKey={(s) => s.id}
          empty="No report received yet."
        />
      </Card>
      <Card
        id="host-events"
        title="Events"
        note="The newest 500 findings detected, resolved and reopened, and enrolment changes"
        actions={
          <ExportButton
            id="host-events"
            run={() => download(stamped(`${props.hostname}-events`), toCsv(EVENT_CSV, res.data!.events))}
          />
        }
      >
        <DataTable
          id="host-events"
          columns={EVENT_COLUMNS}
          rows={res.data.events}
          rowKey={(e) => e.id}
          empty="No events yet."
        />
      </Card>
    </div>
  );
}

function PatchingTab(props: { host: HostDetail }) {
  const h = props.host;
  const { query, set } = useQuery();
  const page = intParam(query.page, 1);
  const view = useApi<HostPolicyView>(`/api/v1/hosts/${h.id}/policy`);
  const runs = useApi<Page<PatchRun>>('/api/v1/patch-runs', { host: h.id, page, per_page: 20 });
  const v = view.data;
  return (
    <div class="grid">
      <Card id="host-policy" title="Policy and next window">
        {view.error && <ErrorNote error={view.error} retry={view.reload} />}
        {!v && !view.error && <Loading />}
        {v && !v.policy && (
          <>
            <p class="muted">
              Policy: <span data-fact="policy">none</span>
            </p>
            <ul class="lines" data-lines>
              {v.lines.map((l, i) => (
                <li key={i}>{l}</li>
              ))}
            </ul>
          </>
        )}
        {v?.policy && (
          <div class="policy-view">
            <Facts
              items={[
                [
                  'Policy',
                  <span data-fact="policy">{v.policy ? `${v.policy.name} v${v.policy.version}` : 'none'}</span>,
                ],
                [
                  'Ring',
                  <span data-fact="ring">{v.ring ? `${v.ring.name} (${v.ring.index + 1})` : 'in no ring'}</span>,
                ],
                ['Ring gate', v.gate ? <GateBadge gate={v.gate} reasons={false} /> : 'none (no ring)'],
                [
                  'Next window',
                  <span data-fact="next-window">
                    {v.next_window
                      ? `${dateTime(v.next_window.start)} – ${dateTime(v.next_window.end)} UTC`
                      : v.policy && v.windows.length === 0
                        ? 'any time'
                        : 'none ahead'}
                  </span>,
                ],
                [
                  'Will patch',
                  <span data-fact="will-patch">
                    {v.outlook
                      ? v.outlook.will_patch
                        ? `yes, ${whenText(v.outlook.patch_at)}`
                        : 'no'
                      : 'not known yet'}
                  </span>,
                ],
                ['Installs', v.outlook?.would_install ?? 'not known yet'],
                ['Reboot', v.outlook?.reboot ?? 'not known yet'],
                [
                  'Windows',
                  v.windows.length
                    ? v.windows.map((w) => `${w.days.join(',')} ${w.start}–${w.end} ${w.time_zone}`).join('; ')
                    : 'any time',
                ],
              ]}
            />
            <div>
              <h3 class="chart-title">What will happen tonight, and why</h3>
              <ul class="lines" data-lines>
                {v.lines.map((l, i) => (
                  <li key={i} class={l.startsWith('  ') ? 'sub' : undefined}>
                    {l.trim().replace(/^- /, '')}
                  </li>
                ))}
              </ul>
            </div>
          </div>
        )}
      </Card>
      <Card
        id="host-runs"
        title={<>Patch runs {runs.data && <span class="title-n">{int(runs.data.total)}</span>}</>}
        note={
          <>
            Today {int(h.fixable.total)} findings have a fix available
            {h.reboot_pending ? '; the host is waiting for a reboot' : ''}.
          </>
        }
        actions={
          <ExportButton
            id="host-runs"
            run={async () =>
              download(
                stamped(`${h.hostname}-patch-runs`),
                toCsv(RUN_CSV, await allPages<PatchRun>('/api/v1/patch-runs', { host: h.id }, undefined, 200)),
              )
            }
          />
        }
      >
        <DataTable
          id="host-runs"
          columns={runColumns({ host: false })}
          rows={runs.data?.items}
          rowKey={(r) => r.id}
          loading={runs.loading}
          error={runs.error}
          retry={runs.reload}
          empty={<NoRunsYet host />}
        />
        {runs.data && runs.data.total > 20 && (
          <Pager
            page={page}
            perPage={20}
            total={runs.data.total}
            onPage={(p) => set({ page: p === 1 ? undefined : String(p) })}
          />
        )}
      </Card>
    </div>
  );
}
