// deb822 paragraphs ("Field: value" lines, continuation lines starting with a space or tab,
// paragraphs separated by blank lines), as in dpkg's status file. Only the fields asked for
// are kept, so a 700-package status file with long descriptions parses in a few ms.

export interface Paragraph {
  /** 1-based line number of the paragraph's first line. */
  line: number;
  /** Wanted fields by lower-case name; a folded value's continuation lines joined with '\n'. */
  fields: Map<string, string>;
  /** Malformed lines inside this paragraph, each as `line N: what`. */
  problems: string[];
}

const SPACE = 0x20;
const TAB = 0x09;
/** Longest field name `wanted` may hold. */
const MAX_WANTED_NAME = 24;

/**
 * Splits `text` into paragraphs, keeping the fields named in `wanted` (lower-case names;
 * field names are case-insensitive in deb822). Never throws: malformed lines are recorded
 * as problems of the paragraph they occur in.
 */
export function parseDeb822(text: string, wanted: ReadonlySet<string>): Paragraph[] {
  // Most lines belong to fields nobody asked for: their first letter rules them out cheaply.
  const firstLetters = new Uint8Array(128);
  for (const name of wanted) {
    if (name.length === 0 || name.length > MAX_WANTED_NAME || name !== name.toLowerCase())
      throw new Error(`parseDeb822: bad wanted field name ${name}`);
    firstLetters[name.charCodeAt(0) & 0x7f] = 1;
    firstLetters[name.toUpperCase().charCodeAt(0) & 0x7f] = 1;
  }
  const paragraphs: Paragraph[] = [];
  let current: Paragraph | null = null;
  // The wanted field the previous line belonged to (null: unwanted, or none yet).
  let lastField: string | null = null;
  let sawField = false;
  // Scans with indexOf rather than splitting: only the lines of wanted fields become strings.
  const length = text.length;
  let lineNo = 0;
  for (let pos = 0; pos < length;) {
    lineNo++;
    let next = text.indexOf('\n', pos);
    if (next === -1) next = length;
    const end = next > pos && text.charCodeAt(next - 1) === 0x0d ? next - 1 : next;
    const start = pos;
    pos = next + 1;
    const first = text.charCodeAt(start);
    if (end === start || ((first === SPACE || first === TAB) && isBlank(text, start, end))) {
      current = null;
      continue;
    }
    if (current === null) {
      current = { line: lineNo, fields: new Map(), problems: [] };
      paragraphs.push(current);
      lastField = null;
      sawField = false;
    }
    if (first === SPACE || first === TAB) {
      if (!sawField) current.problems.push(`line ${lineNo}: continuation line without a field before it`);
      else if (lastField !== null)
        current.fields.set(lastField, `${current.fields.get(lastField)}\n${text.slice(start, end).trim()}`);
      continue;
    }
    const colon = text.indexOf(':', start);
    if (colon === -1 || colon >= end || colon === start) {
      current.problems.push(`line ${lineNo}: ${colon === start ? 'empty field name' : 'not a "Field: value" line'}`);
      lastField = null;
      continue;
    }
    sawField = true;
    if (first > 0x7f || firstLetters[first] === 0 || colon - start > MAX_WANTED_NAME) {
      lastField = null;
      continue;
    }
    const name = text.slice(start, colon);
    const key = name.toLowerCase();
    if (!wanted.has(key)) {
      lastField = null;
      continue;
    }
    if (current.fields.has(key)) current.problems.push(`line ${lineNo}: field ${name} repeated`);
    current.fields.set(key, text.slice(colon + 1, end).trim());
    lastField = key;
  }
  return paragraphs;
}

/** True when text[start, end) holds only spaces and tabs (stops at the first other character). */
export function isBlank(text: string, start: number, end: number): boolean {
  for (let i = start; i < end; i++) {
    const c = text.charCodeAt(i);
    if (c !== SPACE && c !== TAB) return false;
  }
  return true;
}
