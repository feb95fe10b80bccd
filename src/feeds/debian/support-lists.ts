// Debian's lists of packages out of (or limited in) security support, from the
// debian-security-support package. Their own headers define the formats:
//
//   security-support-ended.debNN — columns separated by one or more spaces:
//     1. source package name  2. last version with support  3. date support ended or will
//     end (YYYY-mm-dd)  4. descriptive text or URL (optional)
//   security-support-limited — 1. source package name  2. descriptive text or URL (optional)
//
// `#` lines are comments. Column 1 is a Perl regular expression matched against the whole
// source name (check-support-status runs `grep -P -x`), e.g. `node-.*` or `golang.*`.

export interface SupportEnded {
  pattern: string;
  lastVersion: string;
  /** YYYY-mm-dd */
  date: string;
  details: string;
  line: number;
}

export interface SupportLimited {
  pattern: string;
  details: string;
  line: number;
}

type Warn = (message: string) => void;

function* dataLines(text: string): Generator<{ n: number; fields: string[]; rest: (after: number) => string }> {
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].replace(/\r$/, '');
    if (line.trim() === '' || line.trimStart().startsWith('#')) continue;
    const trimmed = line.trim();
    const fields = trimmed.split(/\s+/);
    yield {
      n: i + 1,
      fields,
      // Text after the first `after` columns, its own spacing kept.
      rest: (after) => trimmed.replace(new RegExp(`^(?:\\S+\\s+){${after}}`), '').trim(),
    };
  }
}

export function parseSupportEnded(text: string, file: string, warn: Warn): SupportEnded[] {
  const rows: SupportEnded[] = [];
  for (const { n, fields, rest } of dataLines(text)) {
    if (fields.length < 3) {
      warn(`${file}:${n}: expected "package last-version date [details]", skipped`);
      continue;
    }
    const [pattern, lastVersion, date] = fields;
    if (!isDate(date)) {
      warn(`${file}:${n}: ${pattern}: "${date}" is not a date (YYYY-mm-dd), skipped`);
      continue;
    }
    rows.push({ pattern, lastVersion, date, details: fields.length > 3 ? rest(3) : '', line: n });
  }
  return rows;
}

export function parseSupportLimited(text: string): SupportLimited[] {
  const rows: SupportLimited[] = [];
  for (const { n, fields, rest } of dataLines(text)) {
    rows.push({ pattern: fields[0], details: fields.length > 1 ? rest(1) : '', line: n });
  }
  return rows;
}

function isDate(s: string): boolean {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(s)) return false;
  const d = new Date(`${s}T00:00:00Z`);
  return !Number.isNaN(d.getTime()) && d.toISOString().startsWith(s);
}

/**
 * A plain source name, as opposed to a regular expression over names. `.` and `+` occur in
 * source names (`libsoup2.4`); they are read literally, as nothing in a name could tell apart.
 */
export function isPlainName(pattern: string): boolean {
  return /^[a-z0-9][a-z0-9+.-]*$/.test(pattern);
}

/** Pieces of source-name characters separated by `.*`: every pattern the lists have used. */
const WILDCARD_PATTERN = /^[a-z0-9+.-]*(?:\.\*[a-z0-9+.-]*)+$/;

/**
 * The source names a list's column 1 stands for: itself when it is a plain name, else every
 * known name it matches in full. Debian's own tool reads column 1 as a Perl regular expression,
 * but the lists only ever use names with `.*` wildcards (`node-.*`, `golang.*`); those are
 * matched here without a regular-expression engine, so that a downloaded list cannot make the
 * import take exponential time (`a.*.*.*.*…`) or throw while matching. Any other pattern is
 * skipped with a warning (null).
 */
export function expandPattern(pattern: string, known: Iterable<string>, where: string, warn: Warn): string[] | null {
  if (isPlainName(pattern)) return [pattern];
  if (!WILDCARD_PATTERN.test(pattern)) {
    warn(
      `${where}: ${JSON.stringify(pattern.length > 80 ? `${pattern.slice(0, 77)}...` : pattern)} is not a source name or a name with ".*" wildcards, skipped`,
    );
    return null;
  }
  const pieces = pattern.split('.*');
  const names: string[] = [];
  for (const name of known) if (matchesWildcards(name, pieces)) names.push(name);
  return names.sort();
}

/** Whether `name` is pieces[0], anything, pieces[1], …, anything, the last piece (at least two pieces). */
function matchesWildcards(name: string, pieces: readonly string[]): boolean {
  const first = pieces[0];
  const last = pieces[pieces.length - 1];
  if (name.length < first.length + last.length || !name.startsWith(first) || !name.endsWith(last)) return false;
  // Each middle piece at its leftmost place after the one before: leaves the most room for the rest.
  let at = first.length;
  const end = name.length - last.length;
  for (let i = 1; i < pieces.length - 1; i++) {
    const found = name.indexOf(pieces[i], at);
    if (found === -1 || found + pieces[i].length > end) return false;
    at = found + pieces[i].length;
  }
  return true;
}

/** The note stored for an ended entry. */
export function endedNote(row: SupportEnded, ended: boolean): string {
  const version = row.lastVersion === '0' ? '' : ` (last supported version ${row.lastVersion})`;
  const head = `security support ${ended ? 'ended' : 'ends'} on ${row.date}${version}`;
  return row.details ? `${head}: ${row.details}` : head;
}

export function limitedNote(row: SupportLimited): string {
  return row.details || 'security support is limited';
}
