// Who is logged in, for every component: the account, its role, and what that role may do.
// The server decides every request by the role (http/access.ts); the dashboard hides the
// controls a role cannot use, so nobody is offered a button that can only answer 403.
import { createContext } from 'preact';
import { useContext } from 'preact/hooks';
import type { Role, Session } from '../api/types.ts';

const RANK: Record<Role, number> = { viewer: 1, operator: 2, admin: 3 };

export const ROLE_LABEL: Record<Role, string> = { viewer: 'Viewer', operator: 'Operator', admin: 'Admin' };

/** Whether `role` may do what `needed` may (admin ⊃ operator ⊃ viewer). */
export function atLeast(role: Role, needed: Role): boolean {
  return RANK[role] >= RANK[needed];
}

export const SessionContext = createContext<Session | null>(null);

/** The session of the logged-in person (the pages are shown only with one). */
export function useSession(): Session {
  const s = useContext(SessionContext);
  if (!s) throw new Error('useSession outside a session');
  return s;
}

/** Whether the logged-in person has at least `needed`. */
export function useCan(needed: Role): boolean {
  return atLeast(useSession().role, needed);
}
