// Exceptions: the rules that take findings out of the open counts (accepted risks, false
// positives, mitigations, planned fixes). The excepted count and what expires this week, the
// rules filtered by state, kind and scope (in the URL), each with its versions; operators make
// new rules, change the terms of one in force (justification, owner, expiry, cover_escalation)
// and revoke them (the findings a revoked rule held reopen at once).
import { useEffect, useState } from 'preact/hooks';
import { ApiError, apiSend } from '../api/client.ts';
import { useApi } from '../api/use-api.ts';
import {
  ExceptionEditForm,
  ExceptionForm,
  KIND_LABEL,
  type ExceptionDetail,
  type ExceptionList,
  type ExceptionRule,
} from '../components/exception-form.tsx';
import { SelectFilter, TextFilter } from '../components/filters.tsx';
import { DataTable, type Column } from '../components/table.tsx';
import { Badge, Card, Kpi, PageHeader, type Tone } from '../components/ui.tsx';
import { date, dateTime, int } from '../lib/format.ts';
import { useCan } from '../lib/session.tsx';
import { useQuery } from '../lib/url.ts';

const STATE_TONE: Record<ExceptionRule['state'], Tone> = { active: 'good', expired: 'neutral', revoked: 'warn' };

function scopeText(scope: ExceptionRule['scope']): string {
  return Object.entries(scope)
    .map(([k, v]) => `${k} ${v}`)
    .join(' · ');
}

/** The rule's versions, read when opened. */
function Versions(props: { id: number }) {
  const d = useApi<ExceptionDetail>(`/api/v1/exceptions/${props.id}`);
  if (!d.data) return <span class="muted small">…</span>;
  return (
    <ol class="exception-versions" data-versions={props.id}>
      {d.data.versions.map((v) => (
        <li key={v.version}>
          v{v.version} {v.change} {dateTime(v.at)} by {v.by}
        </li>
      ))}
    </ol>
  );
}

function Revoke(props: { rule: ExceptionRule; onRevoked(): void }) {
  const [open, setOpen] = useState(false);
  const [reason, setReason] = useState('');
  const [error, setError] = useState<string | null>(null);
  if (!open) {
    return (
      <button type="button" data-revoke={props.rule.id} onClick={() => setOpen(true)}>
        Revoke
      </button>
    );
  }
  return (
    <form
      class="form-row"
      onSubmit={(e) => {
        e.preventDefault();
        apiSend('POST', `/api/v1/exceptions/${props.rule.id}/revoke`, reason ? { reason } : {}).then(
          props.onRevoked,
          (err: unknown) => setError(err instanceof ApiError ? err.message : (err as Error).message),
        );
      }}
    >
      <input
        name="revoke-reason"
        placeholder="Why (optional)"
        value={reason}
        onInput={(e) => setReason(e.currentTarget.value)}
      />
      <button type="submit" class="primary" data-confirm-revoke={props.rule.id}>
        Revoke
      </button>
      <button type="button" class="link" onClick={() => setOpen(false)}>
        Cancel
      </button>
      {error && (
        <p class="form-error" role="alert">
          {error}
        </p>
      )}
    </form>
  );
}

export function ExceptionsPage() {
  const operator = useCan('operator');
  const { query, set } = useQuery();
  const [creating, setCreating] = useState(false);
  const [editing, setEditing] = useState<number | null>(null);
  const list = useApi<ExceptionList>('/api/v1/exceptions', {
    state: query.state,
    kind: query.kind,
    vulnerability: query.vulnerability,
    host: query.host,
    group: query.group,
    owner: query.owner,
  });
  const s = list.data?.summary;
  const edited = list.data?.items.find((r) => r.id === editing && r.state === 'active');
  // The form opens above the list: bring it into view from a row far down.
  useEffect(() => {
    if (edited) document.getElementById('edit-exception')?.scrollIntoView({ block: 'nearest' });
  }, [edited?.id]);

  const columns: Column<ExceptionRule>[] = [
    { key: 'id', label: 'Rule', render: (r) => <span class="mono">#{r.id}</span> },
    {
      key: 'state',
      label: 'State',
      render: (r) => (
        <span data-state={r.state}>
          <Badge tone={STATE_TONE[r.state]}>{r.state}</Badge>
        </span>
      ),
    },
    { key: 'kind', label: 'Kind', render: (r) => KIND_LABEL[r.kind] },
    { key: 'scope', label: 'Scope', render: (r) => <span class="mono small">{scopeText(r.scope)}</span> },
    {
      key: 'why',
      label: 'Justification',
      render: (r) => (
        <details>
          <summary>{r.justification}</summary>
          <p class="muted small">
            By {r.created_by} on {dateTime(r.created_at)}
            {r.owner && <>, owner {r.owner}</>}
            {r.cover_escalation && <>, keeps holding findings whose severity rises</>}
            {r.revoke_reason && <>. Revoked: {r.revoke_reason}</>}
          </p>
          {/* Keyed by version: read again once the rule changes. */}
          <Versions key={`${r.id}-${r.version}`} id={r.id} />
        </details>
      ),
    },
    {
      key: 'held',
      label: 'Findings held',
      align: 'right',
      render: (r) =>
        r.held > 0 ? (
          <a href={`/findings?state=excepted&vulnerability=${encodeURIComponent(r.scope.vulnerability ?? '')}`}>
            {int(r.held)}
          </a>
        ) : (
          '0'
        ),
    },
    {
      key: 'expires',
      label: 'Expires',
      render: (r) => (r.expires_at ? date(r.expires_at) : <span class="muted">never</span>),
    },
  ];
  if (operator) {
    columns.push({
      key: 'actions',
      label: '',
      render: (r) =>
        r.state === 'active' ? (
          <div class="row-actions">
            <button type="button" data-edit={r.id} onClick={() => setEditing(r.id)}>
              Edit
            </button>
            <Revoke rule={r} onRevoked={list.reload} />
          </div>
        ) : null,
    });
  }

  return (
    <>
      <PageHeader
        title="Exceptions"
        subtitle="Accepted risks, false positives, mitigations and planned fixes: findings they hold are out of the open and SLA counts until the rule expires or is revoked"
        actions={
          operator && !creating ? (
            <button type="button" class="primary" data-new-exception onClick={() => setCreating(true)}>
              New exception
            </button>
          ) : null
        }
      />
      <div class="kpis">
        <Kpi id="excepted" label="Excepted findings" value={s ? int(s.excepted) : '…'} />
        <Kpi
          id="expiring"
          label="Expiring within a week"
          value={s ? int(s.expiring) : '…'}
          tone={s && s.expiring > 0 ? 'warn' : undefined}
        />
        <Kpi id="active-rules" label="Rules in force" value={s ? int(s.active_rules) : '…'} />
      </div>
      {creating && (
        <Card title="New exception">
          <ExceptionForm
            initial={{}}
            onDone={() => {
              setCreating(false);
              list.reload();
            }}
            onCancel={() => setCreating(false)}
          />
        </Card>
      )}
      {edited && (
        <Card title={`Change exception #${edited.id}`} id="edit-exception">
          <ExceptionEditForm
            key={edited.id}
            rule={edited}
            onDone={() => {
              setEditing(null);
              list.reload();
            }}
            onCancel={() => setEditing(null)}
          />
        </Card>
      )}
      <Card id="exceptions">
        <div class="filters">
          <SelectFilter
            name="state"
            label="State"
            value={query.state}
            options={[
              ['active', 'Active'],
              ['expired', 'Expired'],
              ['revoked', 'Revoked'],
            ]}
            onChange={(v) => set({ state: v })}
          />
          <SelectFilter
            name="kind"
            label="Kind"
            value={query.kind}
            options={Object.entries(KIND_LABEL)}
            onChange={(v) => set({ kind: v })}
          />
          <TextFilter
            name="vulnerability"
            label="Vulnerability"
            value={query.vulnerability}
            onChange={(v) => set({ vulnerability: v })}
          />
          <TextFilter name="host" label="Host" value={query.host} onChange={(v) => set({ host: v })} />
          <TextFilter name="group" label="Group" value={query.group} onChange={(v) => set({ group: v })} />
          <TextFilter name="owner" label="Owner" value={query.owner} onChange={(v) => set({ owner: v })} />
        </div>
        <DataTable
          id="exceptions"
          columns={columns}
          rows={list.data?.items}
          rowKey={(r) => String(r.id)}
          loading={list.loading}
          error={list.error}
          retry={list.reload}
          empty="No exception matches these filters."
        />
      </Card>
    </>
  );
}
