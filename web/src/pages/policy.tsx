// One policy: its YAML in the editor (checked at every keystroke with the server's own rules,
// each problem at its line), a preview of what the draft would do to each host of the group in
// the next 24 hours beside what the policy in force does, saving as the next version, and the
// versions with a diff between any two and a rollback (an earlier version made the next one).
import { useEffect, useMemo, useState } from 'preact/hooks';
import { ApiError, apiSend } from '../api/client.ts';
import type { PolicyPreview, StoredPolicy } from '../api/types.ts';
import { useApi } from '../api/use-api.ts';
import { GateBadge } from '../components/patch-runs.tsx';
import { DataTable, type Column } from '../components/table.tsx';
import { Badge, Card, ErrorNote, Loading, PageHeader } from '../components/ui.tsx';
import { dateTime, int, plural } from '../lib/format.ts';
import { lineDiff, withContext } from '../lib/line-diff.ts';
import type { TextIssue } from '../lib/policy-yaml.ts';
import { usePolicyText, type PolicyText } from '../lib/use-policy-text.ts';
import { useCan } from '../lib/session.tsx';
import { PolicyEditor } from './policy-editor.tsx';

/** The text a new policy starts from: its group of the same name, one ring, a nightly window. */
function starter(name: string): string {
  return [
    `group: ${name}`,
    "description: ''",
    'install:',
    '  updates: security',
    'schedule:',
    '  windows:',
    '    - days: [mon, tue, wed, thu, fri]',
    "      start: '02:00'",
    "      end: '04:00'",
    '      time_zone: UTC',
    'rings:',
    '  - name: all',
    'reboot:',
    '  mode: when_required',
    '  max_concurrent: 1',
    '',
  ].join('\n');
}

function message(err: unknown): string {
  return err instanceof ApiError ? err.message : (err as Error).message;
}

export function PolicyPage(props: { params?: { name?: string }; name?: string }) {
  const name = decodeURIComponent(props.params?.name ?? props.name ?? '');
  const versions = useApi<StoredPolicy[]>(`/api/v1/policies/${encodeURIComponent(name)}/versions`);
  const canEdit = useCan('operator');
  const missing = versions.error instanceof ApiError && versions.error.status === 404;
  const latest = versions.data?.[0] ?? null;
  const pt = usePolicyText();

  if (pt.error) return <ErrorNote error={pt.error} />;
  if ((!versions.data && !missing) || !pt.mod) {
    if (versions.error && !missing) return <ErrorNote error={versions.error} retry={versions.reload} />;
    return <Loading />;
  }
  return (
    <>
      <PageHeader
        title={`Policy ${name}`}
        subtitle={
          latest ? (
            <span data-version={latest.version}>
              Version {latest.version} for group{' '}
              <a href={`/hosts?group=${encodeURIComponent(latest.group)}`}>{latest.group}</a>, changed{' '}
              {dateTime(latest.created_at)} UTC by {latest.created_by}
            </span>
          ) : (
            'A new policy: nothing is stored until it is saved.'
          )
        }
        actions={<a href="/policies">All policies</a>}
      />
      <EditorCards
        key={latest?.version ?? 0}
        pt={pt.mod}
        name={name}
        latest={latest}
        canEdit={canEdit}
        onSaved={versions.reload}
      />
      {versions.data && (
        <Versions
          key={latest?.version}
          pt={pt.mod}
          name={name}
          versions={versions.data}
          canEdit={canEdit}
          onRolledBack={versions.reload}
        />
      )}
    </>
  );
}

function EditorCards(props: {
  pt: PolicyText;
  name: string;
  latest: StoredPolicy | null;
  canEdit: boolean;
  onSaved(): void;
}) {
  const original = props.latest ? props.pt.policyYaml(props.latest.policy) : starter(props.name);
  const [text, setText] = useState(original);
  const [serverIssues, setServerIssues] = useState<TextIssue[]>([]);
  const [preview, setPreview] = useState<PolicyPreview | null>(null);
  const [busy, setBusy] = useState(false);
  const [note, setNote] = useState<{ tone: 'good' | 'bad'; text: string } | null>(null);
  const checked = useMemo(() => props.pt.checkPolicyYaml(text, props.name), [text, props.name]);
  const issues = checked.ok ? serverIssues : checked.issues;
  const dirty = text !== original;

  // A preview belongs to the text it was made for.
  useEffect(() => {
    setPreview(null);
    setServerIssues([]);
  }, [text]);

  const runPreview = async () => {
    setBusy(true);
    setNote(null);
    try {
      const p = await apiSend<PolicyPreview>('POST', `/api/v1/policies/${encodeURIComponent(props.name)}/preview`, {
        text,
      });
      setPreview(p);
      setServerIssues(p.issues);
    } catch (err) {
      setNote({ tone: 'bad', text: message(err) });
    } finally {
      setBusy(false);
    }
  };
  const save = async () => {
    if (!checked.ok) return;
    setBusy(true);
    setNote(null);
    try {
      const stored = await apiSend<StoredPolicy>('PUT', `/api/v1/policies/${encodeURIComponent(props.name)}`, {
        ...checked.doc,
        // The version this text was written against, plus one: a change saved meanwhile is not overwritten.
        version: (props.latest?.version ?? 0) + 1,
      });
      if (stored.version === props.latest?.version)
        setNote({ tone: 'good', text: 'No change: the policy is as in force.' });
      else props.onSaved();
    } catch (err) {
      setNote({ tone: 'bad', text: message(err) });
    } finally {
      setBusy(false);
    }
  };

  return (
    <div class="policy-layout">
      <Card
        id="policy-editor"
        title={props.canEdit ? 'Edit' : 'Policy'}
        note={
          props.canEdit
            ? 'YAML, checked as you type with the rules the server applies. Name and version are given by the page; see docs/patching.md for every field.'
            : 'Read only: operators and admins change policies.'
        }
      >
        <PolicyEditor text={text} onInput={setText} issues={issues} readOnly={!props.canEdit} />
        {props.canEdit && (
          <div class="policy-actions">
            <button type="button" onClick={runPreview} disabled={busy || !checked.ok} data-action="preview">
              Preview tonight
            </button>
            <button
              type="button"
              class="primary"
              onClick={save}
              disabled={busy || !checked.ok || (!dirty && props.latest !== null)}
              data-action="save"
            >
              Save as version {(props.latest?.version ?? 0) + 1}
            </button>
            {dirty && (
              <button type="button" class="link" onClick={() => setText(original)}>
                Discard changes
              </button>
            )}
            {note && (
              <span
                class={note.tone === 'bad' ? 'form-error' : 'muted'}
                role={note.tone === 'bad' ? 'alert' : 'status'}
              >
                {note.text}
              </span>
            )}
          </div>
        )}
      </Card>
      <Card
        id="policy-preview"
        title="What will happen tonight"
        note="For each host of the group: its ring, the window and the ring gate in the next 24 hours under this text, beside the policy in force."
      >
        {preview ? (
          <PreviewTable preview={preview} />
        ) : (
          <p class="muted">
            {props.canEdit ? 'Press Preview tonight to see the effect of this text.' : 'Operators can preview a draft.'}
          </p>
        )}
      </Card>
    </div>
  );
}

type HostPreview = PolicyPreview['hosts'][number];

function patchText(will: boolean, at: string | null): string {
  return will ? `patches ${at ? `${dateTime(at)} UTC` : 'now'}` : 'no patching';
}

const PREVIEW_COLUMNS: Column<HostPreview>[] = [
  {
    key: 'host',
    label: 'Host',
    render: (h) => (
      <details>
        <summary>
          <a href={`/hosts/${h.host_id}`} data-host={h.hostname}>
            {h.hostname}
          </a>
        </summary>
        <ul class="preview-lines">
          {h.draft.lines.map((l, i) => (
            <li key={i}>{l}</li>
          ))}
        </ul>
      </details>
    ),
  },
  { key: 'ring', label: 'Ring', render: (h) => h.draft.ring?.name ?? <Badge tone="warn">none</Badge> },
  { key: 'gate', label: 'Gate', render: (h) => <GateBadge gate={h.draft.gate} reasons={false} /> },
  {
    key: 'draft',
    label: 'With this text',
    render: (h) => (
      <span data-will-patch={String(h.draft.will_patch)}>{patchText(h.draft.will_patch, h.draft.patch_at)}</span>
    ),
  },
  {
    key: 'in-force',
    label: 'In force now',
    render: (h) =>
      h.in_force ? patchText(h.in_force.will_patch, h.in_force.patch_at) : <span class="muted">no policy</span>,
  },
];

function PreviewTable(props: { preview: PolicyPreview }) {
  const p = props.preview;
  if (!p.policy) return <p class="form-error">The text has problems: see the editor.</p>;
  const patching = p.hosts.filter((h) => h.draft.will_patch).length;
  const changed = p.hosts.filter((h) => h.draft.will_patch !== (h.in_force?.will_patch ?? false)).length;
  return (
    <>
      <p data-preview-summary>
        {plural(p.hosts_total, 'host')} in group <strong>{String(p.policy.group)}</strong>: {int(patching)} would patch
        in the next 24 hours, {int(changed)} {changed === 1 ? 'differs' : 'differ'} from the policy in force.
        {p.hosts_total > p.hosts.length && ` The first ${int(p.hosts.length)} are listed.`}
      </p>
      <DataTable
        id="policy-preview"
        columns={PREVIEW_COLUMNS}
        rows={p.hosts}
        rowKey={(h) => h.host_id}
        empty="No host is in this group yet."
      />
    </>
  );
}

function Versions(props: {
  pt: PolicyText;
  name: string;
  versions: StoredPolicy[];
  canEdit: boolean;
  onRolledBack(): void;
}) {
  const list = props.versions;
  const [to, setTo] = useState(list[0].version);
  const [from, setFrom] = useState(list[1]?.version ?? list[0].version);
  const [error, setError] = useState<string | null>(null);
  const text = (v: number) => props.pt.policyYaml(list.find((x) => x.version === v)?.policy ?? {});
  const diff = withContext(lineDiff(text(from), text(to)));
  const rollback = async (version: number) => {
    setError(null);
    try {
      await apiSend('POST', `/api/v1/policies/${encodeURIComponent(props.name)}/rollback`, { version });
      props.onRolledBack();
    } catch (err) {
      setError(message(err));
    }
  };
  const columns: Column<StoredPolicy>[] = [
    { key: 'version', label: 'Version', render: (v) => `v${v.version}` },
    { key: 'when', label: 'Saved', render: (v) => `${dateTime(v.created_at)} UTC` },
    { key: 'by', label: 'By', render: (v) => v.created_by },
    {
      key: 'actions',
      label: '',
      render: (v) => (
        <div class="row-actions">
          <button
            type="button"
            class="link"
            onClick={() => {
              setFrom(list.find((x) => x.version < v.version)?.version ?? v.version);
              setTo(v.version);
            }}
          >
            Changes
          </button>
          {props.canEdit && v.version !== list[0].version && (
            <button type="button" data-rollback={v.version} onClick={() => rollback(v.version)}>
              Roll back to v{v.version}
            </button>
          )}
        </div>
      ),
    },
  ];
  const select = (value: number, set: (v: number) => void, label: string) => (
    <select aria-label={label} name={label} value={value} onChange={(e) => set(Number(e.currentTarget.value))}>
      {list.map((v) => (
        <option key={v.version} value={v.version}>
          v{v.version}
        </option>
      ))}
    </select>
  );
  return (
    <div class="policy-layout">
      <Card
        id="policy-versions"
        title="Versions"
        note="Nothing is deleted: a rollback saves an earlier version as the next one."
      >
        {error && (
          <p class="form-error" role="alert">
            {error}
          </p>
        )}
        <DataTable id="policy-versions" columns={columns} rows={list} rowKey={(v) => v.version} />
      </Card>
      <Card
        id="policy-diff"
        title="Changes"
        actions={
          <span class="form-row">
            {select(from, setFrom, 'from')} → {select(to, setTo, 'to')}
          </span>
        }
      >
        {from === to ? (
          <p class="muted">Pick two different versions.</p>
        ) : (
          <pre class="diff" data-diff={`${from}-${to}`}>
            {diff.map((d, i) =>
              d.kind === 'gap' ? (
                <div key={i} class="gap" data-kind="gap">
                  <span class="diff-num">⋯</span>
                  {plural(d.lines, 'unchanged line')}
                </div>
              ) : (
                <div key={i} class={d.kind} data-kind={d.kind}>
                  <span class="diff-num">
                    {d.kind === 'added' ? `+${d.new}` : d.kind === 'removed' ? `-${d.old}` : d.new}
                  </span>
                  {d.text}
                </div>
              ),
            )}
          </pre>
        )}
      </Card>
    </div>
  );
}
