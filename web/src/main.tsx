// The dashboard's entry point: checks the session, shows the login form or the app (with the
// session, its account and role, for every page), and routes between the pages. Everything is client-side; the server
// serves index.html for
// every path that is not an API route, so deep links and reloads work.
import 'uplot/dist/uPlot.min.css';
import './styles.css';
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { LocationProvider, Route, Router } from 'preact-iso';
import { apiGet, onUnauthorized, setCsrfToken } from './api/client.ts';
import type { Session } from './api/types.ts';
import { Shell } from './components/shell.tsx';
import { Loading } from './components/ui.tsx';
import { SessionContext } from './lib/session.tsx';
import { AccountPage } from './pages/account.tsx';
import { AuditPage } from './pages/audit.tsx';
import { ExceptionsPage } from './pages/exceptions.tsx';
import { FindingsPage } from './pages/findings.tsx';
import { HostPage } from './pages/host.tsx';
import { HostsPage } from './pages/hosts.tsx';
import { LoginPage } from './pages/login.tsx';
import { NotFound } from './pages/not-found.tsx';
import { NotificationsPage } from './pages/notifications.tsx';
import { OverviewPage } from './pages/overview.tsx';
import { PatchingPage } from './pages/patching.tsx';
import { PoliciesPage } from './pages/policies.tsx';
import { PolicyPage } from './pages/policy.tsx';
import { ReportsPage } from './report/reports-page.tsx';
import { RemediationPage } from './pages/remediation.tsx';
import { UsersPage } from './pages/users.tsx';
import { VulnerabilitiesPage } from './pages/vulnerabilities.tsx';
import { VulnerabilityPage } from './pages/vulnerability.tsx';

function App() {
  // undefined: still asking the server whether the browser has a session.
  const [session, setSession] = useState<Session | null | undefined>(undefined);
  const [expired, setExpired] = useState(false);

  useEffect(() => {
    apiGet<Session>('/api/v1/auth/session').then(
      (s) => {
        setCsrfToken(s.csrf_token);
        setSession(s);
      },
      () => setSession(null),
    );
    return onUnauthorized(() => {
      setExpired(true);
      setSession(null);
    });
  }, []);

  if (session === undefined) return <Loading label="Connecting…" />;
  if (session === null) {
    return (
      <LoginPage
        expired={expired}
        onLogin={(s) => {
          setCsrfToken(s.csrf_token);
          setExpired(false);
          setSession(s);
        }}
      />
    );
  }
  const loggedOut = () => setSession(null);
  return (
    <SessionContext.Provider value={session}>
      <Shell onLogout={loggedOut}>
        <Router>
          <Route path="/" component={OverviewPage} />
          <Route path="/hosts" component={HostsPage} />
          <Route path="/hosts/:id" component={HostPage} />
          <Route path="/vulnerabilities" component={VulnerabilitiesPage} />
          <Route path="/vulnerabilities/:id" component={VulnerabilityPage} />
          <Route path="/findings" component={FindingsPage} />
          <Route path="/remediation" component={RemediationPage} />
          <Route path="/patching" component={PatchingPage} />
          <Route path="/policies" component={PoliciesPage} />
          <Route path="/policies/:name" component={PolicyPage} />
          <Route path="/reports" component={ReportsPage} />
          <Route path="/exceptions" component={ExceptionsPage} />
          <Route path="/notifications" component={NotificationsPage} />
          <Route path="/audit" component={AuditPage} />
          <Route path="/users" component={UsersPage} />
          <Route path="/account" component={() => <AccountPage onPasswordChanged={loggedOut} />} />
          <Route default component={NotFound} />
        </Router>
      </Shell>
    </SessionContext.Provider>
  );
}

render(
  <LocationProvider>
    <App />
  </LocationProvider>,
  document.getElementById('app')!,
);
