// Policies: every policy in force (its newest version) with the group it governs, and for
// operators a new policy by name (it opens in the editor with a starting text).
import { useState } from 'preact/hooks';
import { useLocation } from 'preact-iso';
import type { PolicyListItem } from '../api/types.ts';
import { useApi } from '../api/use-api.ts';
import { DataTable, type Column } from '../components/table.tsx';
import { Card, PageHeader } from '../components/ui.tsx';
import { dateTime, int } from '../lib/format.ts';
import { useCan } from '../lib/session.tsx';

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

const COLUMNS: Column<PolicyListItem>[] = [
  {
    key: 'name',
    label: 'Policy',
    render: (p) => (
      <a href={`/policies/${encodeURIComponent(p.name)}`} data-policy={p.name}>
        {p.name}
      </a>
    ),
  },
  {
    key: 'group',
    label: 'Group',
    render: (p) => <a href={`/hosts?group=${encodeURIComponent(p.group)}`}>{p.group}</a>,
  },
  { key: 'version', label: 'Version', align: 'right', render: (p) => `v${p.version}` },
  { key: 'versions', label: 'Versions', align: 'right', render: (p) => int(p.versions) },
  { key: 'changed', label: 'Last change', render: (p) => `${dateTime(p.created_at)} UTC by ${p.created_by}` },
];

export function PoliciesPage() {
  const list = useApi<PolicyListItem[]>('/api/v1/policies');
  const canEdit = useCan('operator');
  const loc = useLocation();
  const [name, setName] = useState('');
  const taken = list.data?.some((p) => p.name === name) ?? false;
  return (
    <>
      <PageHeader
        title="Policies"
        subtitle="What each group installs, when, in which ring and how it reboots. One policy per group; every change is a new version."
      />
      {canEdit && (
        <Card title="New policy">
          <form
            class="form-row"
            data-form="new-policy"
            onSubmit={(e) => {
              e.preventDefault();
              loc.route(`/policies/${encodeURIComponent(name)}`);
            }}
          >
            <label>
              <span>Name</span>
              <input
                name="new-policy-name"
                required
                pattern={NAME.source}
                value={name}
                onInput={(e) => setName(e.currentTarget.value)}
              />
            </label>
            <button type="submit" class="primary" disabled={!NAME.test(name)}>
              {taken ? 'Open' : 'Write it'}
            </button>
          </form>
        </Card>
      )}
      <Card title="Policies in force">
        <DataTable
          id="policies"
          columns={COLUMNS}
          rows={list.data}
          rowKey={(p) => p.name}
          loading={list.loading}
          error={list.error}
          retry={list.reload}
          empty="No policy yet: hosts of a group without a policy are not patched by patchloop."
        />
      </Card>
    </>
  );
}
