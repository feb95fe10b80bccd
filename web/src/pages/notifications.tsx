// Notifications: the channels of the server's configuration (operators send a test message),
// the rules (admins make, switch off and delete them), and every message with its delivery —
// dead letters with their last error, which operators may send again.
import { useState } from 'preact/hooks';
import './notifications.css';
import { ApiError, apiSend } from '../api/client.ts';
import { useApi } from '../api/use-api.ts';
import { DataTable, type Column } from '../components/table.tsx';
import { Badge, Card, PageHeader, type Tone } from '../components/ui.tsx';
import { dateTime, int, plural } from '../lib/format.ts';
import { useCan } from '../lib/session.tsx';

// The API's shapes (src/server/api/notification-schemas.ts).
interface Channel {
  name: string;
  type: 'smtp' | 'webhook' | 'slack' | 'teams';
  summary: string;
}

type Trigger =
  | 'new_finding'
  | 'sla_breach'
  | 'patch_run_failed'
  | 'reboot_pending'
  | 'host_stale'
  | 'feed_refresh_failed'
  | 'exception_expiring';

interface RuleFilter {
  severities?: string[];
  kev?: boolean;
  priorities?: string[];
  groups?: string[];
  tags?: string[];
  hosts?: string[];
}

interface Rule {
  id: number;
  name: string;
  trigger: Trigger;
  filter: RuleFilter;
  channels: string[];
  days: number | null;
  throttle_seconds: number;
  digest: boolean;
  enabled: boolean;
  created_by: string;
  updated_at: string;
}

type MessageState = 'queued' | 'sending' | 'sent' | 'dead';

interface Message {
  id: number;
  kind: 'rule' | 'test' | 'report';
  rule: { id: number; name: string } | null;
  channel: string;
  state: MessageState;
  title: string;
  events: number;
  attempts: number;
  next_attempt_at: string | null;
  last_error: string | null;
  created_at: string;
  sent_at: string | null;
}

const TRIGGER_LABEL: Record<Trigger, string> = {
  new_finding: 'New finding',
  sla_breach: 'SLA breach',
  patch_run_failed: 'Patch run failed',
  reboot_pending: 'Reboot pending',
  host_stale: 'Host stale',
  feed_refresh_failed: 'Feed refresh failed',
  exception_expiring: 'Exception expiring',
};
const STATE_TONE: Record<MessageState, Tone> = { queued: 'neutral', sending: 'warn', sent: 'good', dead: 'bad' };
const SEVERITIES = ['critical', 'high', 'medium', 'low', 'negligible', 'unknown'];
const PRIORITIES = ['P1', 'P2', 'P3', 'P4'];
/** The KEV filter's three choices: no filter, on the known-exploited list, not on it. */
type KevChoice = '' | 'true' | 'false';

function errorText(err: unknown): string {
  return err instanceof ApiError ? err.message : (err as Error).message;
}

/** "a, b" → ["a", "b"]; empty → undefined (no filter). */
function words(s: string): string[] | undefined {
  const list = s
    .split(',')
    .map((w) => w.trim())
    .filter(Boolean);
  return list.length ? list : undefined;
}

function filterText(r: Rule): string {
  const f = r.filter;
  const parts = [
    f.severities && `severity ${f.severities.join('/')}`,
    f.kev !== undefined && (f.kev ? 'KEV' : 'not KEV'),
    f.priorities && `priority ${f.priorities.join('/')}`,
    f.groups && `group ${f.groups.join('/')}`,
    f.tags && `tag ${f.tags.join('/')}`,
    f.hosts && `host ${f.hosts.join('/')}`,
    r.days !== null && `${r.days} days`,
  ].filter(Boolean);
  return parts.length ? parts.join(', ') : 'every event';
}

function ChannelsCard() {
  const operator = useCan('operator');
  const channels = useApi<Channel[]>('/api/v1/notifications/channels');
  const [results, setResults] = useState<Record<string, string>>({});
  const test = async (name: string) => {
    setResults((r) => ({ ...r, [name]: 'Sending…' }));
    try {
      const res = await apiSend<{ ok: boolean; error: string | null }>(
        'POST',
        `/api/v1/notifications/channels/${encodeURIComponent(name)}/test`,
      );
      setResults((r) => ({ ...r, [name]: res.ok ? 'Sent' : `Not sent: ${res.error ?? 'unknown error'}` }));
    } catch (err) {
      setResults((r) => ({ ...r, [name]: `Not sent: ${errorText(err)}` }));
    }
  };
  const columns: Column<Channel>[] = [
    { key: 'name', label: 'Channel', render: (c) => <strong data-channel={c.name}>{c.name}</strong> },
    { key: 'type', label: 'Type', render: (c) => c.type },
    { key: 'summary', label: 'Reaches', render: (c) => <span class="muted">{c.summary}</span> },
    {
      key: 'test',
      label: '',
      render: (c) =>
        operator && (
          <div class="row-actions">
            <button type="button" onClick={() => void test(c.name)} data-test-channel={c.name}>
              Send test
            </button>
            {results[c.name] && (
              <span role="status" data-test-result={c.name}>
                {results[c.name]}
              </span>
            )}
          </div>
        ),
    },
  ];
  return (
    <Card
      title="Channels"
      id="channels"
      note="Defined in the server's configuration (notifications.channels); their URLs and passwords are never shown."
    >
      <DataTable
        id="channels"
        columns={columns}
        rows={channels.data}
        rowKey={(c) => c.name}
        loading={channels.loading}
        error={channels.error}
        retry={channels.reload}
        empty="No channels: add them under notifications.channels in server.yaml (see docs/notifications.md)."
      />
    </Card>
  );
}

/** A group of check boxes (named `${name}-${option}`) choosing some of `options`. */
function Checks(props: {
  legend: string;
  name: string;
  options: readonly string[];
  chosen: string[];
  onChange(chosen: string[]): void;
}) {
  const { chosen } = props;
  return (
    <fieldset class="notify-checks">
      <legend>{props.legend}</legend>
      {props.options.map((o) => (
        <label key={o}>
          <input
            type="checkbox"
            name={`${props.name}-${o}`}
            checked={chosen.includes(o)}
            onChange={() => props.onChange(chosen.includes(o) ? chosen.filter((x) => x !== o) : [...chosen, o])}
          />
          {o}
        </label>
      ))}
    </fieldset>
  );
}

/** A text field of comma-separated names (empty: no filter). */
function NameList(props: {
  label: string;
  name: string;
  placeholder: string;
  value: string;
  onChange(v: string): void;
}) {
  return (
    <label>
      <span>{props.label}</span>
      <input
        name={props.name}
        placeholder={props.placeholder}
        value={props.value}
        onInput={(e) => props.onChange(e.currentTarget.value)}
      />
    </label>
  );
}

/**
 * A new rule, or (with `rule`) a change of one. Every filter of the API's rule schema has a control,
 * so what a rule filters on is what the form shows and saves back.
 */
function RuleForm(props: { channels: Channel[]; rule?: Rule; onSaved(): void; onCancel?(): void }) {
  const r = props.rule;
  const [name, setName] = useState(r?.name ?? '');
  const [trigger, setTrigger] = useState<Trigger>(r?.trigger ?? 'new_finding');
  const [chosen, setChosen] = useState<string[]>(r?.channels ?? []);
  const [severities, setSeverities] = useState<string[]>(r?.filter.severities ?? []);
  const [priorities, setPriorities] = useState<string[]>(r?.filter.priorities ?? []);
  const [kev, setKev] = useState<KevChoice>(r?.filter.kev === undefined ? '' : r.filter.kev ? 'true' : 'false');
  const [groups, setGroups] = useState((r?.filter.groups ?? []).join(', '));
  const [tags, setTags] = useState((r?.filter.tags ?? []).join(', '));
  const [hosts, setHosts] = useState((r?.filter.hosts ?? []).join(', '));
  const [days, setDays] = useState(r?.days ? String(r.days) : '');
  const [throttle, setThrottle] = useState(String(Math.round((r?.throttle_seconds ?? 0) / 60)));
  const [digest, setDigest] = useState(r?.digest ?? false);
  const [error, setError] = useState<string | null>(null);
  const finding = trigger === 'new_finding' || trigger === 'sla_breach';
  const submit = async (e: Event) => {
    e.preventDefault();
    setError(null);
    // Severity, KEV and priority belong to findings: other triggers' events carry none.
    const filter: RuleFilter = {
      ...(finding && severities.length ? { severities } : {}),
      ...(finding && kev ? { kev: kev === 'true' } : {}),
      ...(finding && priorities.length ? { priorities } : {}),
      ...(words(groups) ? { groups: words(groups) } : {}),
      ...(words(tags) ? { tags: words(tags) } : {}),
      ...(words(hosts) ? { hosts: words(hosts) } : {}),
    };
    try {
      const body = {
        name,
        trigger,
        filter,
        channels: chosen,
        ...(days ? { days: Number(days) } : {}),
        throttle_seconds: Math.round(Number(throttle) * 60),
        digest,
        enabled: r?.enabled ?? true,
      };
      if (r) await apiSend('PUT', `/api/v1/notifications/rules/${r.id}`, body);
      else await apiSend('POST', '/api/v1/notifications/rules', body);
      if (!r) setName('');
      props.onSaved();
    } catch (err) {
      setError(errorText(err));
    }
  };
  return (
    <form class="form-row" onSubmit={submit} data-form={r ? 'edit-rule' : 'new-rule'}>
      <label>
        <span>Name</span>
        <input name="rule-name" required value={name} onInput={(e) => setName(e.currentTarget.value)} />
      </label>
      <label>
        <span>When</span>
        <select name="rule-trigger" value={trigger} onChange={(e) => setTrigger(e.currentTarget.value as Trigger)}>
          {Object.entries(TRIGGER_LABEL).map(([t, label]) => (
            <option key={t} value={t}>
              {label}
            </option>
          ))}
        </select>
      </label>
      {finding && (
        <>
          <Checks
            legend="Severity (none: any)"
            name="rule-severity"
            options={SEVERITIES}
            chosen={severities}
            onChange={setSeverities}
          />
          <Checks
            legend="Priority (none: any)"
            name="rule-priority"
            options={PRIORITIES}
            chosen={priorities}
            onChange={setPriorities}
          />
          <label>
            <span>Known exploited</span>
            <select name="rule-kev" value={kev} onChange={(e) => setKev(e.currentTarget.value as KevChoice)}>
              <option value="">either</option>
              <option value="true">on the KEV list</option>
              <option value="false">not on the KEV list</option>
            </select>
          </label>
        </>
      )}
      <NameList label="Groups" name="rule-groups" placeholder="prod, web" value={groups} onChange={setGroups} />
      <NameList label="Tags" name="rule-tags" placeholder="dmz" value={tags} onChange={setTags} />
      <NameList label="Hosts" name="rule-hosts" placeholder="web-1, db-1" value={hosts} onChange={setHosts} />
      {(trigger === 'reboot_pending' || trigger === 'exception_expiring') && (
        <label>
          <span>Days</span>
          <input
            name="rule-days"
            type="number"
            class="notify-number"
            min={1}
            max={365}
            placeholder={trigger === 'reboot_pending' ? '3' : '7'}
            value={days}
            onInput={(e) => setDays(e.currentTarget.value)}
          />
        </label>
      )}
      <Checks
        legend="Channels"
        name="rule-channel"
        options={props.channels.map((c) => c.name)}
        chosen={chosen}
        onChange={setChosen}
      />
      <label>
        <span>At most one message per (minutes)</span>
        <input
          name="rule-throttle"
          type="number"
          class="notify-number"
          min={0}
          value={throttle}
          onInput={(e) => setThrottle(e.currentTarget.value)}
        />
      </label>
      <label class="notify-check">
        <input type="checkbox" name="rule-digest" checked={digest} onChange={() => setDigest(!digest)} />
        Daily digest
      </label>
      <button type="submit" class="primary" disabled={chosen.length === 0}>
        {r ? 'Save rule' : 'Create rule'}
      </button>
      {props.onCancel && (
        <button type="button" class="link" onClick={props.onCancel}>
          Cancel
        </button>
      )}
      {error && (
        <p class="form-error" role="alert">
          {error}
        </p>
      )}
    </form>
  );
}

function RulesCard() {
  const admin = useCan('admin');
  const rules = useApi<Rule[]>('/api/v1/notifications/rules');
  const channels = useApi<Channel[]>('/api/v1/notifications/channels');
  const [error, setError] = useState<string | null>(null);
  const [editing, setEditing] = useState<number | null>(null);
  const edited = rules.data?.find((r) => r.id === editing);
  const act = async (fn: () => Promise<unknown>) => {
    setError(null);
    try {
      await fn();
      rules.reload();
    } catch (err) {
      setError(errorText(err));
    }
  };
  const columns: Column<Rule>[] = [
    { key: 'name', label: 'Rule', render: (r) => <strong data-rule={r.name}>{r.name}</strong> },
    { key: 'trigger', label: 'When', render: (r) => TRIGGER_LABEL[r.trigger] },
    { key: 'filter', label: 'Which', render: (r) => <span class="muted">{filterText(r)}</span> },
    { key: 'channels', label: 'To', render: (r) => r.channels.join(', ') },
    {
      key: 'pace',
      label: 'How often',
      render: (r) =>
        r.digest
          ? 'daily digest'
          : r.throttle_seconds
            ? `at most every ${Math.round(r.throttle_seconds / 60)} min`
            : 'at once',
    },
    {
      key: 'enabled',
      label: 'State',
      render: (r) => (r.enabled ? <Badge tone="good">On</Badge> : <Badge>Off</Badge>),
    },
    {
      key: 'actions',
      label: '',
      render: (r) =>
        admin && (
          <div class="row-actions">
            <button type="button" onClick={() => setEditing(r.id)}>
              Edit
            </button>
            <button
              type="button"
              onClick={() =>
                void act(() =>
                  apiSend('PUT', `/api/v1/notifications/rules/${r.id}`, {
                    name: r.name,
                    trigger: r.trigger,
                    filter: r.filter,
                    channels: r.channels,
                    ...(r.days !== null ? { days: r.days } : {}),
                    throttle_seconds: r.throttle_seconds,
                    digest: r.digest,
                    enabled: !r.enabled,
                  }),
                )
              }
            >
              {r.enabled ? 'Switch off' : 'Switch on'}
            </button>
            <button
              type="button"
              class="link"
              onClick={() => void act(() => apiSend('DELETE', `/api/v1/notifications/rules/${r.id}`))}
            >
              Delete
            </button>
          </div>
        ),
    },
  ];
  return (
    <Card
      title="Rules"
      id="rules"
      note="Each event is told once per rule and channel; events of one round go together in one message."
    >
      {admin && channels.data && !edited && <RuleForm channels={channels.data} onSaved={rules.reload} />}
      {admin && channels.data && edited && (
        <RuleForm
          key={edited.id}
          channels={channels.data}
          rule={edited}
          onSaved={() => {
            setEditing(null);
            rules.reload();
          }}
          onCancel={() => setEditing(null)}
        />
      )}
      {error && (
        <p class="form-error" role="alert">
          {error}
        </p>
      )}
      <DataTable
        id="rules"
        columns={columns}
        rows={rules.data}
        rowKey={(r) => r.id}
        loading={rules.loading}
        error={rules.error}
        retry={rules.reload}
        rowClass={(r) => (r.enabled ? '' : 'is-disabled')}
        empty="No rules yet."
      />
    </Card>
  );
}

function MessagesCard() {
  const operator = useCan('operator');
  const [state, setState] = useState<MessageState | ''>('');
  const [before, setBefore] = useState<number | undefined>(undefined);
  const messages = useApi<{ items: Message[]; counts: Record<MessageState, number> }>(
    '/api/v1/notifications/messages',
    { state: state || undefined, before, limit: 50 },
  );
  const [error, setError] = useState<string | null>(null);
  const retry = async (id: number) => {
    setError(null);
    try {
      await apiSend('POST', `/api/v1/notifications/messages/${id}/retry`);
      messages.reload();
    } catch (err) {
      setError(errorText(err));
    }
  };
  const counts = messages.data?.counts;
  const columns: Column<Message>[] = [
    { key: 'created', label: 'Made', render: (m) => <span class="nowrap">{dateTime(m.created_at)}</span> },
    {
      key: 'what',
      label: 'Message',
      render: (m) => (
        <span data-message={m.id}>
          {m.title}
          <span class="muted">
            {' '}
            · {m.rule ? `rule ${m.rule.name}` : m.kind}
            {m.events > 0 && `, ${plural(m.events, 'event')}`}
          </span>
        </span>
      ),
    },
    { key: 'channel', label: 'Channel', render: (m) => m.channel },
    {
      key: 'state',
      label: 'Delivery',
      render: (m) => (
        <span data-state={m.state}>
          <Badge tone={STATE_TONE[m.state]}>{m.state === 'dead' ? 'dead letter' : m.state}</Badge>
          <span class="muted">
            {' '}
            {m.state === 'sent' && dateTime(m.sent_at)}
            {m.state === 'queued' && m.next_attempt_at && `next try ${dateTime(m.next_attempt_at)}`}
            {m.attempts > 1 && ` · ${m.attempts} attempts`}
          </span>
          {m.last_error && <div class="form-error">{m.last_error}</div>}
        </span>
      ),
    },
    {
      key: 'actions',
      label: '',
      render: (m) =>
        operator &&
        m.state === 'dead' && (
          <button type="button" onClick={() => void retry(m.id)} data-retry={m.id}>
            Retry
          </button>
        ),
    },
  ];
  const items = messages.data?.items;
  return (
    <Card
      title="Messages"
      id="messages"
      note="Retried with backoff; after the last attempt a message is a dead letter until someone retries it."
      actions={
        <select
          name="message-state"
          aria-label="Delivery state"
          value={state}
          onChange={(e) => {
            setBefore(undefined);
            setState(e.currentTarget.value as MessageState | '');
          }}
        >
          <option value="">All{counts && ` (${int(Object.values(counts).reduce((a, b) => a + b, 0))})`}</option>
          {(['queued', 'sending', 'sent', 'dead'] as const).map((s) => (
            <option key={s} value={s}>
              {s === 'dead' ? 'Dead letters' : s[0].toUpperCase() + s.slice(1)}
              {counts && ` (${int(counts[s])})`}
            </option>
          ))}
        </select>
      }
    >
      {error && (
        <p class="form-error" role="alert">
          {error}
        </p>
      )}
      <DataTable
        id="messages"
        columns={columns}
        rows={items}
        rowKey={(m) => m.id}
        loading={messages.loading}
        error={messages.error}
        retry={messages.reload}
        empty="No messages."
      />
      <div class="row-actions">
        {before !== undefined && (
          <button type="button" onClick={() => setBefore(undefined)}>
            Newest
          </button>
        )}
        {items && items.length === 50 && (
          <button type="button" onClick={() => setBefore(items[items.length - 1].id)}>
            Older
          </button>
        )}
      </div>
    </Card>
  );
}

export function NotificationsPage() {
  return (
    <>
      <PageHeader
        title="Notifications"
        subtitle="Who hears of what: channels, rules, and every message with its delivery"
      />
      <MessagesCard />
      <RulesCard />
      <ChannelsCard />
    </>
  );
}
