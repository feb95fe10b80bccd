// Loading API data in components: the latest request wins, the previous data stays on screen
// while a new filter loads (no flicker), and errors are shown instead of an empty table.
import { useEffect, useRef, useState } from 'preact/hooks';
import { apiGet, type QueryValue } from './client.ts';

export interface ApiState<T> {
  data: T | undefined;
  error: Error | undefined;
  loading: boolean;
  reload(): void;
}

/** GET `path` with `params` (null path: nothing to load yet). */
export function useApi<T>(path: string | null, params: Record<string, QueryValue> = {}): ApiState<T> {
  const key = path === null ? null : `${path}${JSON.stringify(params)}`;
  const [state, setState] = useState<{ data?: T; error?: Error; loading: boolean; key: string | null }>({
    loading: path !== null,
    key: null,
  });
  const [generation, setGeneration] = useState(0);
  const paramsRef = useRef(params);
  paramsRef.current = params;

  useEffect(() => {
    if (path === null) return;
    const abort = new AbortController();
    setState((s) => ({ ...s, loading: true }));
    apiGet<T>(path, paramsRef.current, abort.signal).then(
      (data) => !abort.signal.aborted && setState({ data, loading: false, key }),
      (error: Error) => !abort.signal.aborted && setState((s) => ({ data: s.data, error, loading: false, key })),
    );
    return () => abort.abort();
  }, [key, generation]);

  return { data: state.data, error: state.error, loading: state.loading, reload: () => setGeneration((g) => g + 1) };
}
