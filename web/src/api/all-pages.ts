// Reads every page of a paged list (for CSV exports of a whole filtered table).
import { apiGet, type QueryValue } from './client.ts';
import type { Page } from './types.ts';

/** `perPage`: the largest page the endpoint accepts (500 for most lists, 200 for patch runs). */
export async function allPages<T>(
  path: string,
  params: Record<string, QueryValue>,
  onProgress?: (done: number, total: number) => void,
  perPage = 500,
): Promise<T[]> {
  const out: T[] = [];
  for (let page = 1; ; page++) {
    const p = await apiGet<Page<T>>(path, { ...params, page, per_page: perPage });
    out.push(...p.items);
    onProgress?.(out.length, p.total);
    if (p.items.length < perPage || (p.total_exact && out.length >= p.total)) return out;
  }
}
