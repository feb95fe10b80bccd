// Reads every page of a paged list (for CSV exports of a whole filtered table).
import { apiGet, type QueryValue } from './client.ts';
import type { Page } from './types.ts';

export async function allPages<T>(path: string, params: Record<string, QueryValue>, onProgress?: (done: number, total: number) => void): Promise<T[]> {
  const out: T[] = [];
  for (let page = 1; ; page++) {
    const p = await apiGet<Page<T>>(path, { ...params, page, per_page: 500 });
    out.push(...p.items);
    onProgress?.(out.length, p.total);
    if (p.items.length < 500 || (p.total_exact && out.length >= p.total)) return out;
  }
}
