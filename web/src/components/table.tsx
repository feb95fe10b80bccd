// The table every list uses: sortable headers (the sort is the server's, kept in the URL),
// paging, a loading veil that keeps the old rows visible, and a CSV export of the whole list.
import type { ComponentChildren } from 'preact';
import { useState } from 'preact/hooks';
import { int } from '../lib/format.ts';
import { ErrorNote } from './ui.tsx';

export interface Column<T> {
  key: string;
  label: ComponentChildren;
  /** The API's sort key for this column, when it can be sorted. */
  sort?: string;
  align?: 'left' | 'right';
  render(row: T): ComponentChildren;
  class?: string;
}

export interface SortState {
  key: string;
  order: 'asc' | 'desc';
}

export function DataTable<T>(props: {
  id: string;
  columns: Column<T>[];
  rows: T[] | undefined;
  rowKey(row: T): string | number;
  sort?: SortState;
  onSort?(key: string): void;
  loading?: boolean;
  error?: Error;
  retry?(): void;
  empty?: ComponentChildren;
  rowClass?(row: T): string;
}) {
  if (props.error && !props.rows) return <ErrorNote error={props.error} retry={props.retry} />;
  return (
    <div class={`table-wrap ${props.loading ? 'is-loading' : ''}`}>
      {props.error && <ErrorNote error={props.error} retry={props.retry} />}
      <table class="data" data-table={props.id}>
        <thead>
          <tr>
            {props.columns.map((c) => {
              const active = props.sort && c.sort === props.sort.key;
              const aria = active ? (props.sort!.order === 'asc' ? 'ascending' : 'descending') : undefined;
              return (
                <th
                  key={c.key}
                  class={`${c.align === 'right' ? 'num' : ''} ${c.class ?? ''}`}
                  aria-sort={aria}
                  data-col={c.key}
                >
                  {c.sort && props.onSort ? (
                    <button
                      type="button"
                      class={`sort ${active ? 'active' : ''}`}
                      onClick={() => props.onSort!(c.sort!)}
                    >
                      {c.label}
                      <span class="sort-mark" aria-hidden="true">
                        {active ? (props.sort!.order === 'asc' ? '▲' : '▼') : '↕'}
                      </span>
                    </button>
                  ) : c.label === '' ? (
                    // A column of buttons has no heading to show; screen readers still get one.
                    <span class="visually-hidden">Actions</span>
                  ) : (
                    c.label
                  )}
                </th>
              );
            })}
          </tr>
        </thead>
        <tbody>
          {props.rows?.map((r) => (
            <tr key={props.rowKey(r)} class={props.rowClass?.(r)}>
              {props.columns.map((c) => (
                <td key={c.key} class={`${c.align === 'right' ? 'num' : ''} ${c.class ?? ''}`} data-col={c.key}>
                  {c.render(r)}
                </td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
      {props.rows && props.rows.length === 0 && (
        <div class="table-empty">{props.empty ?? 'Nothing matches these filters.'}</div>
      )}
      {!props.rows && props.loading && <div class="table-empty">Loading…</div>}
    </div>
  );
}

export function Pager(props: {
  page: number;
  perPage: number;
  total: number;
  exact?: boolean;
  onPage(page: number): void;
}) {
  const pages = Math.max(1, Math.ceil(props.total / props.perPage));
  const first = props.total === 0 ? 0 : (props.page - 1) * props.perPage + 1;
  const last = Math.min(props.total, props.page * props.perPage);
  return (
    <div class="pager">
      <span class="pager-info" data-total={props.total}>
        {int(first)}–{int(last)} of {props.exact === false ? 'more than ' : ''}
        {int(props.total)}
      </span>
      <button type="button" disabled={props.page <= 1} onClick={() => props.onPage(props.page - 1)}>
        ‹ Previous
      </button>
      <span class="pager-page">
        Page {int(props.page)} of {props.exact === false ? `${int(pages)}+` : int(pages)}
      </span>
      <button
        type="button"
        disabled={props.page >= pages && props.exact !== false}
        onClick={() => props.onPage(props.page + 1)}
      >
        Next ›
      </button>
    </div>
  );
}

/** A button that runs an export and shows that it is working (and what went wrong). */
export function ExportButton(props: { label?: string; run(): Promise<void> | void; id?: string }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  return (
    <span class="export">
      <button
        type="button"
        class="secondary"
        data-export={props.id}
        disabled={busy}
        onClick={async () => {
          setBusy(true);
          setError(null);
          try {
            await props.run();
          } catch (err) {
            setError((err as Error).message);
          } finally {
            setBusy(false);
          }
        }}
      >
        {busy ? 'Exporting…' : (props.label ?? 'Export CSV')}
      </button>
      {error && <span class="export-error">{error}</span>}
    </span>
  );
}

/** A link that downloads a server-side export (the browser sends the session cookie). */
export function ExportLink(props: { href: string; label?: string; id?: string }) {
  return (
    <a class="button secondary" href={props.href} download data-export={props.id}>
      {props.label ?? 'Export CSV'}
    </a>
  );
}

/** Sort state from the URL, with the API's default direction for a newly chosen column. */
export function nextSort(current: SortState, key: string, defaultOrder: (key: string) => 'asc' | 'desc'): SortState {
  if (current.key === key) return { key, order: current.order === 'asc' ? 'desc' : 'asc' };
  return { key, order: defaultOrder(key) };
}
