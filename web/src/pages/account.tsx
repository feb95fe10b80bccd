// Your account: who you are logged in as and with which role, your password (local accounts),
// and API tokens for scripts (operators and admins: a token's role is at most yours; its secret
// is shown once).
import { useState } from 'preact/hooks';
import { ApiError, apiSend } from '../api/client.ts';
import type { ApiToken, Role } from '../api/types.ts';
import { useApi } from '../api/use-api.ts';
import { DataTable, type Column } from '../components/table.tsx';
import { Badge, Card, Facts, PageHeader } from '../components/ui.tsx';
import { dateTime } from '../lib/format.ts';
import { ROLE_LABEL, useCan, useSession } from '../lib/session.tsx';
import { RoleSelect } from './users.tsx';

const VIA_LABEL: Record<string, string> = { password: 'password', sso: 'single sign-on', token: 'API token' };

function errorText(err: unknown): string {
  return err instanceof ApiError ? err.message : (err as Error).message;
}

function PasswordChange(props: { onChanged(): void }) {
  const [current, setCurrent] = useState('');
  const [next, setNext] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await apiSend('POST', '/api/v1/auth/password', { current_password: current, new_password: next });
      props.onChanged();
    } catch (err) {
      setError(errorText(err));
      setBusy(false);
    }
  };
  return (
    <form class="form-row" onSubmit={submit} data-form="password">
      <label>
        <span>Current password</span>
        <input
          type="password"
          name="current-password"
          autocomplete="current-password"
          required
          value={current}
          onInput={(e) => setCurrent(e.currentTarget.value)}
        />
      </label>
      <label>
        <span>New password (12 characters or more)</span>
        <input
          type="password"
          name="new-password"
          autocomplete="new-password"
          minLength={12}
          required
          value={next}
          onInput={(e) => setNext(e.currentTarget.value)}
        />
      </label>
      <button type="submit" class="primary" disabled={busy}>
        Change password
      </button>
      {error && (
        <p class="form-error" role="alert">
          {error}
        </p>
      )}
    </form>
  );
}

function ApiTokens() {
  const session = useSession();
  const tokens = useApi<ApiToken[]>('/api/v1/api-tokens');
  const [name, setName] = useState('');
  const [role, setRole] = useState<Role>(session.role);
  const [made, setMade] = useState<{ name: string; token: string } | null>(null);
  const [error, setError] = useState<string | null>(null);
  const create = async (e: Event) => {
    e.preventDefault();
    setError(null);
    try {
      const t = await apiSend<{ token: string }>('POST', '/api/v1/api-tokens', { name, role });
      setMade({ name, token: t.token });
      setName('');
      tokens.reload();
    } catch (err) {
      setError(errorText(err));
    }
  };
  const revoke = (t: ApiToken) =>
    apiSend('DELETE', `/api/v1/api-tokens/${t.id}`).then(
      () => tokens.reload(),
      (err: unknown) => setError(errorText(err)),
    );
  const columns: Column<ApiToken>[] = [
    { key: 'name', label: 'Name', render: (t) => <strong data-token-name={t.name}>{t.name}</strong> },
    { key: 'role', label: 'Role', render: (t) => <span class={`role role-${t.role}`}>{ROLE_LABEL[t.role]}</span> },
    ...(session.role === 'admin' ? [{ key: 'owner', label: 'Owner', render: (t: ApiToken) => t.owner }] : []),
    { key: 'created', label: 'Created', render: (t) => <span class="nowrap">{dateTime(t.created_at)}</span> },
    {
      key: 'state',
      label: 'State',
      render: (t) => (t.revoked ? <Badge tone="neutral">Revoked</Badge> : <Badge tone="good">Active</Badge>),
    },
    {
      key: 'actions',
      label: '',
      render: (t) =>
        !t.revoked && (
          <button type="button" onClick={() => revoke(t)} aria-label={`Revoke ${t.name}`}>
            Revoke
          </button>
        ),
    },
  ];
  return (
    <Card
      title="API tokens"
      note={`For scripts: send as "Authorization: Bearer …". A token acts as its owner with at most its own role.${session.role === 'admin' ? " As an admin you see everyone's." : ''}`}
    >
      <form class="form-row" onSubmit={create} data-form="new-token">
        <label>
          <span>Name</span>
          <input
            name="token-name"
            required
            maxLength={100}
            value={name}
            onInput={(e) => setName(e.currentTarget.value)}
          />
        </label>
        <label>
          <span>Role</span>
          <RoleSelect name="token-role" label="Token role" value={role} max={session.role} onChange={setRole} />
        </label>
        <button type="submit" class="primary">
          Create token
        </button>
      </form>
      {made && (
        <div class="token-once" role="status">
          <p>
            Token <strong>{made.name}</strong> — copy it now, it is not shown again:
          </p>
          <input readOnly class="mono" name="new-token" value={made.token} onFocus={(e) => e.currentTarget.select()} />
        </div>
      )}
      {error && (
        <p class="form-error" role="alert">
          {error}
        </p>
      )}
      <DataTable
        id="api-tokens"
        columns={columns}
        rows={tokens.data}
        rowKey={(t) => t.id}
        loading={tokens.loading}
        error={tokens.error}
        retry={tokens.reload}
        empty="No API tokens yet."
      />
    </Card>
  );
}

export function AccountPage(props: { onPasswordChanged(): void }) {
  const session = useSession();
  const operator = useCan('operator');
  return (
    <>
      <PageHeader title="Your account" />
      <Card>
        <Facts
          items={[
            ['Account', session.username],
            ['Role', <span class={`role role-${session.role}`}>{ROLE_LABEL[session.role]}</span>],
            [
              'Kind',
              session.kind === 'sso'
                ? 'single sign-on'
                : session.kind === 'builtin'
                  ? 'built-in administrator'
                  : 'local',
            ],
            ['Logged in with', VIA_LABEL[session.via] ?? session.via],
          ]}
        />
      </Card>
      {session.kind !== 'sso' && session.via !== 'token' && (
        <Card title="Password" note="Changing it ends your sessions: you log in again with the new one.">
          <PasswordChange onChanged={props.onPasswordChanged} />
        </Card>
      )}
      {operator && <ApiTokens />}
    </>
  );
}
