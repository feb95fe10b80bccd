// Log in with the server's admin credential; the server sets an HttpOnly session cookie and
// returns the CSRF token the dashboard sends with every change.
import { useState } from 'preact/hooks';
import { ApiError, apiSend } from '../api/client.ts';
import type { Session } from '../api/types.ts';

export function LoginPage(props: { expired: boolean; onLogin(s: Session): void }) {
  const [username, setUsername] = useState('admin');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<string | null>(props.expired ? 'Your session ended; please log in again.' : null);
  const [busy, setBusy] = useState(false);

  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      props.onLogin(await apiSend<Session>('POST', '/api/v1/auth/login', { username, password }));
    } catch (err) {
      setError(err instanceof ApiError && err.status === 401 ? 'Wrong username or password.' : (err as Error).message);
      setBusy(false);
    }
  };

  return (
    <div class="login">
      <form class="login-card" onSubmit={submit}>
        <div class="login-brand">
          <img src="/favicon.svg" alt="" width={36} height={36} />
          <div>
            <h1>patchloop</h1>
            <p>Fleet patch management</p>
          </div>
        </div>
        <label>
          Username
          <input name="username" autocomplete="username" required value={username} onInput={(e) => setUsername(e.currentTarget.value)} />
        </label>
        <label>
          Password
          <input name="password" type="password" autocomplete="current-password" required autofocus value={password} onInput={(e) => setPassword(e.currentTarget.value)} />
        </label>
        {error && (
          <p class="login-error" role="alert">
            {error}
          </p>
        )}
        <button type="submit" class="primary" disabled={busy}>
          {busy ? 'Logging in…' : 'Log in'}
        </button>
        <p class="login-hint">Use the server's admin account (its password is shown once when the server first starts).</p>
      </form>
    </div>
  );
}
