// How numbers, dates and durations are written on every page. Counts are exact integers
// with thousands separators, so a number on screen is the API's number.

const intFormat = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });

export function int(n: number | null | undefined): string {
  return n === null || n === undefined ? '–' : intFormat.format(n);
}

/** A share 0..1 as a percentage with one decimal. */
export function percent(x: number | null | undefined): string {
  return x === null || x === undefined ? '–' : `${(Math.round(x * 1000) / 10).toFixed(1)}\u00a0%`;
}

export function days(x: number | null | undefined): string {
  if (x === null || x === undefined) return '–';
  return x < 10 ? `${x.toFixed(1)}\u00a0d` : `${Math.round(x)}\u00a0d`;
}

/** 2026-11-27 14:03 (UTC, as the server keeps time). */
export function dateTime(iso: string | null | undefined): string {
  if (!iso) return '–';
  return `${iso.slice(0, 10)} ${iso.slice(11, 16)}`;
}

export function date(iso: string | null | undefined): string {
  return iso ? iso.slice(0, 10) : '–';
}

/** "3 h ago", "5 d ago", "in 2 d". */
export function relative(iso: string | null | undefined, now = Date.now()): string {
  if (!iso) return 'never';
  const ms = now - Date.parse(iso);
  const abs = Math.abs(ms);
  const unit =
    abs < 60_000
      ? 'just now'
      : abs < 3_600_000
        ? `${Math.round(abs / 60_000)} min`
        : abs < 172_800_000
          ? `${Math.round(abs / 3_600_000)} h`
          : `${Math.round(abs / 86_400_000)} d`;
  if (unit === 'just now') return unit;
  return ms >= 0 ? `${unit} ago` : `in ${unit}`;
}

export function plural(n: number, one: string, many = `${one}s`): string {
  return `${int(n)} ${n === 1 ? one : many}`;
}
