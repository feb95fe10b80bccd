// Page state lives in the URL (filters, sort, page, tab), so every view can be shared as a
// link and the back button works.
import { useLocation } from 'preact-iso';

export type Query = Record<string, string | undefined>;

/** `path?query` without empty values, keys in a stable order. */
export function href(path: string, query: Query = {}): string {
  const q = new URLSearchParams();
  for (const k of Object.keys(query).sort()) {
    const v = query[k];
    if (v !== undefined && v !== '') q.set(k, v);
  }
  const s = q.toString();
  return s ? `${path}?${s}` : path;
}

export function useQuery(): { path: string; query: Query; set(patch: Query, options?: { push?: boolean }): void } {
  const loc = useLocation();
  return {
    path: loc.path,
    query: loc.query,
    set(patch, options = {}) {
      // Any filter change goes back to the first page, unless the page itself is what changes.
      const next: Query = { ...loc.query, ...('page' in patch ? {} : { page: undefined }), ...patch };
      loc.route(href(loc.path, next), !options.push);
    },
  };
}

/** A positive integer from the query (page numbers), else the default. */
export function intParam(v: string | undefined, dflt: number): number {
  const n = Number(v);
  return Number.isInteger(n) && n >= 1 ? n : dflt;
}
