// Audit log (operators and admins): who changed what and when, newest first, with the target's
// state before and after. Filters live in the URL; older entries page by the last id shown.
import type { AuditEntry, AuditPage as AuditPageData } from '../api/types.ts';
import { useApi } from '../api/use-api.ts';
import { SelectFilter, TextFilter } from '../components/filters.tsx';
import { DataTable, type Column } from '../components/table.tsx';
import { Badge, Card, Empty, PageHeader, type Tone } from '../components/ui.tsx';
import { dateTime } from '../lib/format.ts';
import { ROLE_LABEL, useCan, useSession } from '../lib/session.tsx';
import { useQuery } from '../lib/url.ts';

const OUTCOME_TONE: Record<AuditEntry['outcome'], Tone> = { success: 'good', failure: 'warn', denied: 'bad' };
const ACTIONS: [string, string][] = [
  ['auth.*', 'Logins and logouts'],
  ['user.*', 'Accounts'],
  ['api_token.*', 'API tokens'],
  ['enrollment_token.*', 'Enrolment tokens'],
  ['host.*', 'Hosts'],
  ['policy.*', 'Policies'],
  ['feeds.*', 'Feed refreshes'],
];
const ACTOR_KIND: Record<string, string> = {
  user: 'session',
  token: 'API token',
  cli: 'command line',
  anonymous: 'not logged in',
};

function show(v: unknown): string {
  return v === undefined ? '–' : JSON.stringify(v);
}

/** The members that differ between before and after: "role: viewer → operator". */
export function changedMembers(before: unknown, after: unknown): [string, string, string][] {
  const b = (before && typeof before === 'object' ? before : {}) as Record<string, unknown>;
  const a = (after && typeof after === 'object' ? after : {}) as Record<string, unknown>;
  const out: [string, string, string][] = [];
  for (const key of new Set([...Object.keys(b), ...Object.keys(a)])) {
    if (JSON.stringify(b[key]) !== JSON.stringify(a[key])) out.push([key, show(b[key]), show(a[key])]);
  }
  return out;
}

function Change(props: { entry: AuditEntry }) {
  const { before, after } = props.entry;
  if (before === null && after === null) return <span class="muted">–</span>;
  const changes = before !== null && after !== null ? changedMembers(before, after) : null;
  return (
    <details class="audit-change">
      <summary>
        {changes
          ? changes.length === 0
            ? 'no change'
            : changes
                .slice(0, 3)
                .map(([k, b, a]) => `${k}: ${b} → ${a}`)
                .join('; ')
          : before === null
            ? 'created'
            : 'removed'}
      </summary>
      <div class="audit-states">
        <div>
          <h3>Before</h3>
          <pre>{before === null ? '–' : JSON.stringify(before, null, 2)}</pre>
        </div>
        <div>
          <h3>After</h3>
          <pre>{after === null ? '–' : JSON.stringify(after, null, 2)}</pre>
        </div>
      </div>
    </details>
  );
}

const columns: Column<AuditEntry>[] = [
  { key: 'at', label: 'When (UTC)', render: (e) => <span class="nowrap">{dateTime(e.at)}</span> },
  {
    key: 'actor',
    label: 'Who',
    render: (e) => (
      <span data-actor={e.actor.name}>
        <strong>{e.actor.name || '(unknown)'}</strong>
        <span class="muted small">
          {' '}
          {[
            e.actor.role,
            e.actor.token_id ? `API token ${e.actor.token_id}` : (ACTOR_KIND[e.actor.kind] ?? e.actor.kind),
          ]
            .filter(Boolean)
            .join(' · ')}
        </span>
      </span>
    ),
  },
  { key: 'action', label: 'Action', render: (e) => <code data-action={e.action}>{e.action}</code> },
  {
    key: 'target',
    label: 'Target',
    render: (e) =>
      e.target ? (
        <span class="mono">
          {e.target.type} {e.target.id}
        </span>
      ) : (
        <span class="muted">–</span>
      ),
  },
  {
    key: 'outcome',
    label: 'Outcome',
    render: (e) => (
      <span title={e.reason ?? undefined}>
        <Badge tone={OUTCOME_TONE[e.outcome]}>{e.outcome}</Badge>
        {e.reason && e.outcome !== 'success' && <span class="muted small"> {e.reason}</span>}
      </span>
    ),
  },
  { key: 'change', label: 'Change', render: (e) => <Change entry={e} /> },
  { key: 'address', label: 'From', render: (e) => <span class="mono small">{e.address ?? '–'}</span> },
];

export function AuditPage() {
  const session = useSession();
  const allowed = useCan('operator');
  const { query, set } = useQuery();
  const params = {
    actor: query.actor,
    action: query.action,
    target_type: query.target_type,
    target_id: query.target_id,
    outcome: query.outcome,
    since: query.since ? `${query.since}T00:00:00Z` : undefined,
    until: query.until ? `${query.until}T00:00:00Z` : undefined,
    before_id: query.before,
    limit: 50,
  };
  const page = useApi<AuditPageData>(allowed ? '/api/v1/audit' : null, params);
  if (!allowed) {
    return (
      <>
        <PageHeader title="Audit log" />
        <Empty title="The audit log is for operators and administrators.">
          Your role is {ROLE_LABEL[session.role]}.
        </Empty>
      </>
    );
  }
  const next = page.data?.next_before_id;
  return (
    <>
      <PageHeader
        title="Audit log"
        subtitle="Every change people made, with who, when, and the state before and after (times in UTC)"
      />
      <Card>
        <div class="filters">
          <TextFilter
            name="actor"
            label="Who"
            value={query.actor}
            onChange={(v) => set({ actor: v, before: undefined })}
          />
          <SelectFilter
            name="action"
            label="What"
            value={query.action}
            options={ACTIONS}
            onChange={(v) => set({ action: v, before: undefined })}
          />
          <TextFilter
            name="target_type"
            label="Target type"
            value={query.target_type}
            placeholder="host, user…"
            onChange={(v) => set({ target_type: v, before: undefined })}
          />
          <TextFilter
            name="target_id"
            label="Target"
            value={query.target_id}
            onChange={(v) => set({ target_id: v, before: undefined })}
          />
          <SelectFilter
            name="outcome"
            label="Outcome"
            value={query.outcome}
            options={[
              ['success', 'Success'],
              ['failure', 'Failure'],
              ['denied', 'Denied'],
            ]}
            onChange={(v) => set({ outcome: v, before: undefined })}
          />
          <label class="filter">
            <span>From</span>
            <input
              type="date"
              name="since"
              value={query.since ?? ''}
              onChange={(e) => set({ since: e.currentTarget.value || undefined, before: undefined })}
            />
          </label>
          <label class="filter">
            <span>Before</span>
            <input
              type="date"
              name="until"
              value={query.until ?? ''}
              onChange={(e) => set({ until: e.currentTarget.value || undefined, before: undefined })}
            />
          </label>
        </div>
        <DataTable
          id="audit"
          columns={columns}
          rows={page.data?.items}
          rowKey={(e) => e.id}
          loading={page.loading}
          error={page.error}
          retry={page.reload}
          empty="No entries match these filters."
        />
        <div class="pager">
          {query.before && (
            <button type="button" onClick={() => set({ before: undefined })}>
              « Newest
            </button>
          )}
          <button type="button" disabled={!next} onClick={() => set({ before: String(next) }, { push: true })}>
            Older entries ›
          </button>
        </div>
      </Card>
    </>
  );
}
