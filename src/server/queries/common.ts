// Helpers shared by the read-side queries.
import { SEVERITIES, type Severity } from '../../core/types.ts';
import type { Store } from '../store/store.ts';

export type SeverityCounts = Record<Severity, number> & { total: number };

export function iso(ms: number): string;
export function iso(ms: number | null): string | null;
export function iso(ms: number | null): string | null {
  return ms === null ? null : new Date(ms).toISOString();
}

/** Counts from columns `<prefix>_<severity>` of a row. */
export function severityCounts(row: Record<string, unknown>, prefix: string): SeverityCounts {
  const out = { total: 0 } as SeverityCounts;
  for (const s of SEVERITIES) {
    const n = Number(row[`${prefix}_${s}`] ?? 0);
    out[s] = n;
    out.total += n;
  }
  return out;
}

export function emptyCounts(): SeverityCounts {
  const out = { total: 0 } as SeverityCounts;
  for (const s of SEVERITIES) out[s] = 0;
  return out;
}

/**
 * A number that changes whenever the store's rows do (SQLite's total_changes() of the one
 * connection every write goes through): read models derived from the store keep what they
 * derived while it stays the same.
 */
export function storeVersion(store: Store): number {
  return store.get<{ n: number }>('SELECT total_changes() AS n')!.n;
}

/** Counting stops here: beyond it the total is reported as a lower bound. */
export const COUNT_CAP = 10_000;

export interface Page<T> {
  total: number;
  total_exact: boolean;
  page: number;
  per_page: number;
  items: T[];
}

/** Escapes LIKE wildcards in user text (used with ESCAPE '\\'). */
export function likeText(s: string): string {
  return s.replace(/[\\%_]/g, (c) => `\\${c}`);
}
