// Read side for events: the history feed of detected / resolved / reopened findings and host
// lifecycle events, in id order so exporters can tail it (`after` = last id seen).
import type { SQLInputValue } from 'node:sqlite';
import type { z } from 'zod';
import { SEVERITIES } from '../../core/types.ts';
import type { EventSchema, EventsQuerySchema } from '../api/schemas.ts';
import type { Store } from '../store/store.ts';
import { iso } from './common.ts';

type EventItem = z.infer<typeof EventSchema>;

interface EventRow {
  id: number;
  at: number;
  type: string;
  host_id: number;
  hostname: string | null;
  name_id: number | null;
  vuln_id: number | null;
  pkg_id: number | null;
  severity: number | null;
  scan_id: number | null;
  refresh_id: number | null;
  cause: string | null;
}

export function eventsWhere(store: Store, where: string, params: SQLInputValue[], order: 'ASC' | 'DESC', limit: number): EventItem[] {
  const rows = store.all<EventRow>(
    `SELECT e.id, e.at, e.type, e.host_id, h.hostname, e.name_id, e.vuln_id, e.pkg_id, e.severity, e.scan_id, e.refresh_id, e.cause
     FROM events e LEFT JOIN hosts h ON h.id = e.host_id WHERE ${where} ORDER BY e.id ${order} LIMIT ?`,
    ...params, limit,
  );
  return rows.map((r) => {
    const pkg = r.pkg_id !== null ? store.interner.pkg(r.pkg_id).pkg : null;
    return {
      id: r.id,
      at: iso(r.at),
      type: r.type,
      host: { id: r.host_id, hostname: r.hostname ?? '(removed)' },
      vulnerability: r.vuln_id !== null ? store.interner.vuln(r.vuln_id) : null,
      package: pkg ? { name: pkg.name, version: pkg.version, arch: pkg.arch } : null,
      severity: r.severity !== null ? SEVERITIES[r.severity] : null,
      scan_id: r.scan_id,
      refresh_id: r.refresh_id,
      cause: r.cause,
    };
  });
}

export function listEvents(store: Store, q: z.infer<typeof EventsQuerySchema>): { items: EventItem[]; next_after: number } {
  const where = ['e.id > ?'];
  const params: SQLInputValue[] = [q.after];
  if (q.type) {
    where.push('e.type = ?');
    params.push(q.type);
  }
  if (q.host !== undefined) {
    where.push('e.host_id = ?');
    params.push(q.host);
  }
  const items = eventsWhere(store, where.join(' AND '), params, 'ASC', q.limit);
  return { items, next_after: items.length ? items[items.length - 1].id : q.after };
}
