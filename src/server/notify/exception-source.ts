// Exception rules (store/exceptions.ts) that end within a notification rule's days (default 7):
// one event per exception and expiry, so a rule given a new expiry is told of again. The
// exception's scope stands in for the host in filters: a groups filter passes a rule scoped to
// one of those groups, and so on.
import type { ExceptionScope } from '../../core/exceptions.ts';
import type { NotificationEvent } from '../api/notification-schemas.ts';
import type { StateSource } from './sources.ts';

const iso = (ms: number): string => new Date(ms).toISOString();

export const expiringExceptions: StateSource = {
  trigger: 'exception_expiring',
  collect(store, now, rule) {
    const days = rule.days ?? 7;
    const rows = store.all<{
      id: number;
      kind: string;
      scope: string;
      owner: string | null;
      justification: string;
      expires_at: number;
    }>(
      `SELECT id, kind, scope, owner, justification, expires_at FROM exceptions
        WHERE ended_at IS NULL AND revoked_at IS NULL AND expires_at IS NOT NULL AND expires_at > ? AND expires_at <= ?`,
      now,
      now + days * 86_400_000,
    );
    return rows.map((r): NotificationEvent => {
      const scope = JSON.parse(r.scope) as ExceptionScope;
      const words = Object.entries(scope)
        .filter(([, v]) => v !== undefined)
        .map(([k, v]) => `${k} ${String(v)}`)
        .join(', ');
      return {
        key: `exception:${r.id}:${r.expires_at}`,
        trigger: 'exception_expiring',
        at: iso(now),
        summary: `Exception ${r.id} (${r.kind.replace(/_/g, ' ')}: ${words}) ends ${iso(r.expires_at)}${r.owner ? `, owner ${r.owner}` : ''}`,
        host: null,
        vulnerability: scope.vulnerability ?? null,
        package: null,
        severity: null,
        kev: null,
        priority: null,
        detail: {
          exception_id: r.id,
          kind: r.kind,
          expires_at: iso(r.expires_at),
          owner: r.owner,
          justification: r.justification.slice(0, 500),
          scope_host: scope.host ?? null,
          scope_group: scope.group ?? null,
          scope_tag: scope.tag ?? null,
        },
      };
    });
  },
};
