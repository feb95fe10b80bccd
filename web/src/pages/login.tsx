// Log in: with single sign-on when the server has a provider (the button leaves for it and the
// provider sends the browser back with a session), or with a password. The server sets an
// HttpOnly session cookie and returns the CSRF token the dashboard sends with every change.
import { useEffect, useState } from 'preact/hooks';
import { ApiError, apiGet, apiSend } from '../api/client.ts';
import type { AuthMethods, Session } from '../api/types.ts';

/** What a failed single sign-on (?sso_error=… from the server) means for the person. */
const SSO_ERRORS: Record<string, string> = {
  no_role: 'Your account at the identity provider has no role in patchloop. Ask an administrator to give you one.',
  username_taken: 'An account with your name exists here and is not linked to single sign-on. Ask an administrator.',
  account_disabled: 'Your account is disabled.',
  unknown_state: 'That login took too long or was used already. Please try again.',
  wrong_browser: 'That login was started in another browser. Please try again here.',
  provider_unreachable: 'The identity provider cannot be reached right now.',
};

function ssoError(): string | null {
  const code = new URLSearchParams(location.search).get('sso_error');
  if (!code) return null;
  return SSO_ERRORS[code] ?? `Single sign-on did not work (${code}).`;
}

export function LoginPage(props: { expired: boolean; onLogin(s: Session): void }) {
  const [methods, setMethods] = useState<AuthMethods | null>(null);
  const [username, setUsername] = useState('admin');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<string | null>(
    ssoError() ?? (props.expired ? 'Your session ended; please log in again.' : null),
  );
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    apiGet<AuthMethods>('/api/v1/auth/methods').then(setMethods, () =>
      setMethods({ local_login: true, sso: { enabled: false, label: '' } }),
    );
  }, []);

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
  // Back to the page asked for after the provider's round trip (not to a login error).
  const here = location.pathname + location.search.replace(/[?&]sso_error=[^&]*/, '').replace(/^&/, '?');
  const sso = methods?.sso.enabled ? `/api/v1/auth/oidc/login?return_to=${encodeURIComponent(here)}` : null;

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
        {sso && (
          <>
            {/* target _top: a real navigation to the server
                (the client-side router takes same-origin links otherwise). */}
            <a class="button primary sso" href={sso} target="_top" data-sso>
              {methods!.sso.label}
            </a>
            <p class="login-or">{methods!.local_login ? 'or with a password' : 'administrator (break-glass) login'}</p>
          </>
        )}
        <label>
          Username
          <input
            name="username"
            autocomplete="username"
            required
            value={username}
            onInput={(e) => setUsername(e.currentTarget.value)}
          />
        </label>
        <label>
          Password
          <input
            name="password"
            type="password"
            autocomplete="current-password"
            required
            autofocus={!sso}
            value={password}
            onInput={(e) => setPassword(e.currentTarget.value)}
          />
        </label>
        {error && (
          <p class="login-error" role="alert">
            {error}
          </p>
        )}
        <button type="submit" class={sso ? '' : 'primary'} disabled={busy}>
          {busy ? 'Logging in…' : 'Log in'}
        </button>
        <p class="login-hint">
          {methods && !methods.local_login
            ? 'Accounts log in through single sign-on; the password form is for the built-in administrator.'
            : "Use your account, or the server's built-in admin account (its password is shown once when the server first starts)."}
        </p>
      </form>
    </div>
  );
}
