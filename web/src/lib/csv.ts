// CSV files of the tables on screen, written the way the server's findings export writes them:
// RFC 4180 quoting, CRLF lines, and cells that a spreadsheet would run as a formula defused.

export interface CsvColumn<T> {
  header: string;
  value(row: T): string | number | boolean | null | undefined;
}

export function csvCell(v: string | number | boolean | null | undefined): string {
  const s = v === null || v === undefined ? '' : String(v);
  const safe = /^[=+\-@\t\r]/.test(s) ? `'${s}` : s;
  return /[",\n\r]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

export function toCsv<T>(columns: readonly CsvColumn<T>[], rows: readonly T[]): string {
  let out = `${columns.map((c) => csvCell(c.header)).join(',')}\r\n`;
  for (const r of rows) out += `${columns.map((c) => csvCell(c.value(r))).join(',')}\r\n`;
  return out;
}

/** Saves text as a file through the browser's download. */
export function download(filename: string, text: string, type = 'text/csv;charset=utf-8'): void {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const a = document.createElement('a');
  a.href = url;
  a.download = filename;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

export function stamped(name: string): string {
  return `patchloop-${name}-${new Date().toISOString().slice(0, 10)}.csv`;
}
