// Users (admins): every account — the built-in administrator, local accounts and those made by
// single sign-on — with its role and state; create local accounts, change a role, disable or
// enable, set a password. Every change lands in the audit log.
import { useState } from 'preact/hooks';
import { ApiError, apiSend } from '../api/client.ts';
import type { Role, User } from '../api/types.ts';
import { useApi } from '../api/use-api.ts';
import { DataTable, type Column } from '../components/table.tsx';
import { Badge, Card, Empty, PageHeader } from '../components/ui.tsx';
import { dateTime } from '../lib/format.ts';
import { ROLE_LABEL, useCan, useSession } from '../lib/session.tsx';

const ROLES: Role[] = ['viewer', 'operator', 'admin'];
const KIND_LABEL: Record<User['kind'], string> = { builtin: 'Built-in', local: 'Local', sso: 'Single sign-on' };

export function RoleSelect(props: {
  value: Role;
  onChange(r: Role): void;
  disabled?: boolean;
  name: string;
  max?: Role;
  label?: string;
}) {
  const allowed = props.max ? ROLES.slice(0, ROLES.indexOf(props.max) + 1) : ROLES;
  return (
    <select
      name={props.name}
      aria-label={props.label ?? 'Role'}
      value={props.value}
      disabled={props.disabled}
      onChange={(e) => props.onChange(e.currentTarget.value as Role)}
    >
      {allowed.map((r) => (
        <option key={r} value={r}>
          {ROLE_LABEL[r]}
        </option>
      ))}
    </select>
  );
}

function errorText(err: unknown): string {
  return err instanceof ApiError ? err.message : (err as Error).message;
}

function NewUser(props: { onCreated(): void }) {
  const [username, setUsername] = useState('');
  const [role, setRole] = useState<Role>('viewer');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await apiSend('POST', '/api/v1/users', { username, role, password });
      setUsername('');
      setPassword('');
      props.onCreated();
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <form class="form-row" onSubmit={submit} data-form="new-user">
      <label>
        <span>Username</span>
        <input name="new-username" required value={username} onInput={(e) => setUsername(e.currentTarget.value)} />
      </label>
      <label>
        <span>Role</span>
        <RoleSelect name="new-role" value={role} onChange={setRole} />
      </label>
      <label>
        <span>First password</span>
        <input
          name="new-password"
          type="password"
          autocomplete="new-password"
          minLength={12}
          required
          value={password}
          onInput={(e) => setPassword(e.currentTarget.value)}
        />
      </label>
      <button type="submit" class="primary" disabled={busy}>
        Create account
      </button>
      {error && (
        <p class="form-error" role="alert">
          {error}
        </p>
      )}
    </form>
  );
}

function UserActions(props: { user: User; self: boolean; onChanged(): void; onError(message: string): void }) {
  const u = props.user;
  const [resetting, setResetting] = useState(false);
  const [password, setPassword] = useState('');
  const act = async (fn: () => Promise<unknown>) => {
    try {
      await fn();
      props.onChanged();
    } catch (err) {
      props.onError(`${u.username}: ${errorText(err)}`);
    }
  };
  // The built-in administrator and one's own account stay enabled admins (the server refuses too).
  const fixed = u.kind === 'builtin' || props.self;
  return (
    <div class="row-actions">
      {!fixed && (
        <button
          type="button"
          onClick={() => act(() => apiSend('PATCH', `/api/v1/users/${u.id}`, { disabled: !u.disabled }))}
        >
          {u.disabled ? 'Enable' : 'Disable'}
        </button>
      )}
      {u.kind !== 'sso' &&
        (resetting ? (
          <form
            class="inline-form"
            onSubmit={(e) => {
              e.preventDefault();
              void act(async () => {
                await apiSend('POST', `/api/v1/users/${u.id}/password`, { password });
                setResetting(false);
                setPassword('');
              });
            }}
          >
            <input
              type="password"
              name="reset-password"
              aria-label={`New password for ${u.username}`}
              autocomplete="new-password"
              minLength={12}
              required
              value={password}
              onInput={(e) => setPassword(e.currentTarget.value)}
            />
            <button type="submit">Set</button>
            <button type="button" class="link" onClick={() => setResetting(false)}>
              Cancel
            </button>
          </form>
        ) : (
          <button type="button" onClick={() => setResetting(true)}>
            Set password
          </button>
        ))}
    </div>
  );
}

export function UsersPage() {
  const session = useSession();
  const admin = useCan('admin');
  const users = useApi<User[]>(admin ? '/api/v1/users' : null);
  const [error, setError] = useState<string | null>(null);
  if (!admin) {
    return (
      <>
        <PageHeader title="Users" />
        <Empty title="Only administrators manage accounts.">Your role is {ROLE_LABEL[session.role]}.</Empty>
      </>
    );
  }
  const changed = () => {
    setError(null);
    users.reload();
  };
  const columns: Column<User>[] = [
    {
      key: 'username',
      label: 'Account',
      render: (u) => (
        <span data-username={u.username}>
          <strong>{u.username}</strong>
          {u.display_name && <span class="muted"> · {u.display_name}</span>}
        </span>
      ),
    },
    {
      key: 'role',
      label: 'Role',
      render: (u) =>
        u.kind === 'builtin' || u.id === session.user_id ? (
          <span class={`role role-${u.role}`}>{ROLE_LABEL[u.role]}</span>
        ) : (
          <RoleSelect
            name={`role-${u.username}`}
            label={`Role of ${u.username}`}
            value={u.role}
            onChange={(role) =>
              apiSend('PATCH', `/api/v1/users/${u.id}`, { role }).then(changed, (err: unknown) =>
                setError(`${u.username}: ${errorText(err)}`),
              )
            }
          />
        ),
    },
    { key: 'kind', label: 'Kind', render: (u) => <span title={u.sso_issuer ?? undefined}>{KIND_LABEL[u.kind]}</span> },
    {
      key: 'state',
      label: 'State',
      render: (u) => (u.disabled ? <Badge tone="bad">Disabled</Badge> : <Badge tone="good">Enabled</Badge>),
    },
    { key: 'last', label: 'Last login', render: (u) => <span class="nowrap">{dateTime(u.last_login_at)}</span> },
    {
      key: 'created',
      label: 'Created',
      render: (u) => (
        <span class="nowrap muted">
          {dateTime(u.created_at)} by {u.created_by}
        </span>
      ),
    },
    {
      key: 'actions',
      label: '',
      render: (u) => <UserActions user={u} self={u.id === session.user_id} onChanged={changed} onError={setError} />,
    },
  ];
  return (
    <>
      <PageHeader
        title="Users"
        subtitle="Accounts and their roles: viewers read, operators also change the fleet's settings, admins everything"
      />
      <Card
        title="New local account"
        note="Accounts of single sign-on are made at their first login, with the role the provider's claim maps to."
      >
        <NewUser onCreated={changed} />
      </Card>
      <Card title="Accounts">
        {error && (
          <p class="form-error" role="alert">
            {error}
          </p>
        )}
        <DataTable
          id="users"
          columns={columns}
          rows={users.data}
          rowKey={(u) => u.id}
          loading={users.loading}
          error={users.error}
          retry={users.reload}
          rowClass={(u) => (u.disabled ? 'is-disabled' : '')}
        />
      </Card>
    </>
  );
}
