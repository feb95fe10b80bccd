// Read side for events: the history feed of detected / resolved / reopened findings and host
// lifecycle events. Stored events group the findings of one scan (see schema.ts); here they
// are expanded to one item per finding. Items are ordered by (row, index), and a cursor
// "row.index" names a position, so exporters can tail the feed (`after` = last cursor seen).
import type { SQLInputValue } from 'node:sqlite';
import type { z } from 'zod';
import { SEVERITIES } from '../../core/types.ts';
import type { EventSchema, EventsQuerySchema } from '../api/schemas.ts';
import { unpackItems } from '../store/history.ts';
import type { Store } from '../store/store.ts';
import { iso } from './common.ts';

type EventItem = z.infer<typeof EventSchema>;

interface EventRow {
  id: number;
  at: number;
  type: string;
  host_id: number;
  hostname: string | null;
  scan_id: number | null;
  refresh_id: number | null;
  cause: string | null;
  count: number;
  items: Uint8Array | null;
}

export interface Cursor {
  row: number;
  index: number;
}

export function parseCursor(s: string | undefined): Cursor | null {
  if (!s) return null;
  const [row, index] = s.split('.').map(Number);
  return { row, index: index ?? 0 };
}

const cursorOf = (c: Cursor): string => `${c.row}.${c.index}`;

export interface EventsRead {
  items: EventItem[];
  /** Cursor of the last item returned (pass it on to continue), or the one given when none. */
  cursor: string | null;
}

/**
 * Events in order (ascending, or descending for "newest first"), strictly past the cursor,
 * up to `limit` items.
 */
export function readEvents(
  store: Store,
  filter: { hostId?: number; type?: string },
  cursor: Cursor | null,
  order: 'ASC' | 'DESC',
  limit: number,
): EventsRead {
  const where: string[] = [];
  const params: SQLInputValue[] = [];
  if (cursor) {
    where.push(order === 'ASC' ? 'e.id >= ?' : 'e.id <= ?');
    params.push(cursor.row);
  }
  if (filter.hostId !== undefined) {
    where.push('e.host_id = ?');
    params.push(filter.hostId);
  }
  if (filter.type) {
    where.push('e.type = ?');
    params.push(filter.type);
  }
  const sql = `SELECT e.id, e.at, e.type, e.host_id, h.hostname, e.scan_id, e.refresh_id, e.cause, e.count, e.items
     FROM events e LEFT JOIN hosts h ON h.id = e.host_id ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY e.id ${order} LIMIT ?`;
  const out: EventItem[] = [];
  let last: Cursor | null = cursor;
  let offset = 0;
  // Rows are read in small batches: one row may hold hundreds of items.
  for (;;) {
    const rows = store.all<EventRow>(`${sql} OFFSET ?`, ...params, 64, offset);
    offset += rows.length;
    for (const r of rows) {
      const n = Math.max(1, r.count);
      const indexes = [...Array(n).keys()];
      if (order === 'DESC') indexes.reverse();
      const items = r.items ? unpackItems(r.items) : null;
      for (const i of indexes) {
        if (cursor && r.id === cursor.row && (order === 'ASC' ? i <= cursor.index : i >= cursor.index)) continue;
        out.push(toItem(store, r, items, i));
        last = { row: r.id, index: i };
        if (out.length >= limit) return { items: out, cursor: cursorOf(last) };
      }
    }
    if (rows.length < 64) return { items: out, cursor: last ? cursorOf(last) : null };
  }
}

function toItem(store: Store, r: EventRow, items: Uint32Array | null, i: number): EventItem {
  const base = {
    id: `${r.id}.${i}`,
    at: iso(r.at),
    type: r.type,
    host: { id: r.host_id, hostname: r.hostname ?? '(removed)' },
    scan_id: r.scan_id,
    refresh_id: r.refresh_id,
    cause: r.cause,
  };
  if (!items || r.count === 0) return { ...base, vulnerability: null, package: null, severity: null };
  const pkg = store.interner.pkg(items[i * 4 + 2]).pkg;
  return {
    ...base,
    vulnerability: store.interner.vuln(items[i * 4 + 1]),
    package: { name: pkg.name, version: pkg.version, arch: pkg.arch },
    severity: SEVERITIES[items[i * 4 + 3]],
  };
}

export function listEvents(
  store: Store,
  q: z.infer<typeof EventsQuerySchema>,
): { items: EventItem[]; next_after: string | null } {
  const r = readEvents(store, { hostId: q.host, type: q.type }, parseCursor(q.after), 'ASC', q.limit);
  return { items: r.items, next_after: r.cursor };
}
