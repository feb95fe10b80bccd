// The frame around every page: the navigation (the pages the role may use), who is logged in
// with which role, and log-out.
import type { ComponentChildren } from 'preact';
import { useLocation } from 'preact-iso';
import { apiSend } from '../api/client.ts';
import type { Role } from '../api/types.ts';
import { atLeast, ROLE_LABEL, useSession } from '../lib/session.tsx';

const NAV: { href: string; label: string; icon: string; role?: Role }[] = [
  { href: '/', label: 'Overview', icon: 'M3 13h8V3H3zm0 8h8v-6H3zm10 0h8V11h-8zm0-18v6h8V3z' },
  { href: '/hosts', label: 'Hosts', icon: 'M4 4h16v6H4zm0 10h16v6H4zm3-8h2v2H7zm0 10h2v2H7z' },
  {
    href: '/vulnerabilities',
    label: 'Vulnerabilities',
    icon: 'M12 2 3 6v6c0 5 3.8 9.7 9 11 5.2-1.3 9-6 9-11V6zm-1 5h2v6h-2zm0 8h2v2h-2z',
  },
  { href: '/findings', label: 'Findings', icon: 'M4 5h16v2H4zm0 6h16v2H4zm0 6h10v2H4z' },
  { href: '/remediation', label: 'Remediation', icon: 'M12 3 4 11h5v8h6v-8h5zM4 21h16v-1H4z' },
  { href: '/patching', label: 'Patching', icon: 'M12 4V1L8 5l4 4V6a6 6 0 1 1-6 6H4a8 8 0 1 0 8-8z' },
  { href: '/policies', label: 'Policies', icon: 'M5 3h10l4 4v14H5zm9 1v4h4M8 11h8v2H8zm0 4h8v2H8zm0-8h4v2H8z' },
  { href: '/reports', label: 'Reports', icon: 'M4 20h16v2H4zM6 10h3v8H6zm5-6h3v14h-3zm5 9h3v5h-3z' },
  { href: '/exceptions', label: 'Exceptions', icon: 'M12 2 4 5v6c0 5 3.4 9.3 8 11 4.6-1.7 8-6 8-11V5zm-4 9h8v2H8z' },
  {
    href: '/notifications',
    label: 'Notifications',
    icon: 'M12 22a2 2 0 0 0 2-2h-4a2 2 0 0 0 2 2zm6-6V11c0-3.1-1.6-5.6-4.5-6.3V4a1.5 1.5 0 0 0-3 0v.7C7.6 5.4 6 7.9 6 11v5l-2 2v1h16v-1z',
  },
  { href: '/audit', label: 'Audit log', icon: 'M6 2h9l5 5v15H6zm8 1v5h5M9 12h8v2H9zm0 4h8v2H9z', role: 'operator' },
  {
    href: '/users',
    label: 'Users',
    icon: 'M9 11a4 4 0 1 0 0-8 4 4 0 0 0 0 8zm-7 9c0-4 3-6 7-6s7 2 7 6zm15-9a3 3 0 1 0 0-6v6zm1 3c2 .5 4 2 4 6h-3c0-2.5-.5-4.5-1-6z',
    role: 'admin',
  },
];

export function Shell(props: { onLogout(): void; children: ComponentChildren }) {
  const { path } = useLocation();
  const session = useSession();
  const active = (href: string) => (href === '/' ? path === '/' : path === href || path.startsWith(`${href}/`));
  return (
    <div class="shell">
      <aside class="sidebar">
        <a class="brand" href="/">
          <img src="/favicon.svg" alt="" width={26} height={26} />
          <span>patchloop</span>
        </a>
        <nav aria-label="Main">
          {NAV.filter((n) => !n.role || atLeast(session.role, n.role)).map((n) => (
            <a
              key={n.href}
              href={n.href}
              class={active(n.href) ? 'nav active' : 'nav'}
              aria-current={active(n.href) ? 'page' : undefined}
            >
              <svg viewBox="0 0 24 24" width={18} height={18} aria-hidden="true">
                <path d={n.icon} fill="currentColor" />
              </svg>
              {n.label}
            </a>
          ))}
        </nav>
        {/* A page of the server, not of the dashboard: target _top has the browser load it. */}
        <a class="api-link" href="/api/docs" target="_top">
          API reference
        </a>
        <div class="sidebar-foot">
          <a class="user" href="/account" title="Your account: password, API tokens" data-user={session.username}>
            {session.username}
            <span class={`role role-${session.role}`} data-role={session.role}>
              {ROLE_LABEL[session.role]}
            </span>
          </a>
          <button
            type="button"
            class="link logout"
            onClick={async () => {
              try {
                await apiSend('POST', '/api/v1/auth/logout');
              } finally {
                props.onLogout();
              }
            }}
          >
            Log out
          </button>
        </div>
      </aside>
      <main class="content">{props.children}</main>
    </div>
  );
}
