// YAML text with positions, and zod validation of it with the line of every problem. Pure (no
// I/O): the configuration loader reads files with it, the server checks a policy typed in the
// dashboard with it, and the dashboard's policy editor runs the very same code in the browser.
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Scalar } from 'yaml';
import type { z } from 'zod';
import { formatIssuePath } from '../core/policy/schema.ts';

/**
 * The line (1-based) of the value at `path`, or of the deepest part of the path the document
 * holds (a missing key: its mapping's); null when the value is not from the text.
 */
export type LineOf = (path: readonly PropertyKey[]) => number | null;

/** A YAML text read: its data and the line of each value, or the first syntax problem. */
export type YamlRead =
  { ok: true; data: unknown; lineOf: LineOf } | { ok: false; line: number | null; col: number | null; reason: string };

export function readYaml(text: string): YamlRead {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, uniqueKeys: true });
  const problem = doc.errors[0];
  if (problem) {
    const pos = problem.linePos?.[0];
    return {
      ok: false,
      line: pos?.line ?? null,
      col: pos?.col ?? null,
      reason: problem.message.split('\n')[0].replace(/ at line \d+, column \d+:?$/, ''),
    };
  }
  const lineOf: LineOf = (path) => {
    let node: unknown = doc.contents;
    let at = (node as { range?: [number] } | null)?.range?.[0];
    for (const key of path) {
      if (isMap(node)) {
        const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === String(key));
        if (!pair) break;
        at = (pair.key as Scalar).range?.[0];
        node = pair.value;
      } else if (isSeq(node) && typeof key === 'number' && node.items[key]) {
        node = node.items[key];
        at = (node as { range?: [number] }).range?.[0] ?? at;
      } else {
        break;
      }
    }
    return at === undefined ? null : lines.linePos(at).line;
  };
  let data: unknown;
  try {
    // Aliases are expanded here; the library refuses a document whose aliases would expand to an
    // excessive size (a "billion laughs" text), which is the text's problem, not the reader's.
    data = doc.toJS({ maxAliasCount: 100 }) ?? {};
  } catch (err) {
    return { ok: false, line: null, col: null, reason: `the text cannot be read: ${(err as Error).message}` };
  }
  return { ok: true, data, lineOf };
}

/** The line of a zod issue: an unknown key's own line, not its mapping's. */
export function issueLine(lineOf: LineOf, issue: z.core.$ZodIssue): number | null {
  return lineOf(issue.code === 'unrecognized_keys' && issue.keys.length ? [...issue.path, issue.keys[0]] : issue.path);
}

/** One problem of a text: where (line null: not on a line of the text), which key, what. */
export interface TextIssue {
  line: number | null;
  path: string;
  message: string;
}

/**
 * A YAML text validated with `schema`: the data, or every problem at its line. `prepare` may
 * complete the document before validation (values the text need not hold, such as a name
 * given elsewhere); a top-level value that is not a mapping is one problem on line 1.
 */
export function validateYamlText<S extends z.ZodType>(
  schema: S,
  text: string,
  prepare: (doc: Record<string, unknown>) => unknown = (doc) => doc,
): { ok: true; data: z.output<S>; lineOf: LineOf } | { ok: false; issues: TextIssue[] } {
  const read = readYaml(text);
  if (!read.ok) return { ok: false, issues: [{ line: read.line, path: '', message: read.reason }] };
  if (typeof read.data !== 'object' || read.data === null || Array.isArray(read.data))
    return { ok: false, issues: [{ line: 1, path: '', message: 'expected a mapping at the top level' }] };
  const r = schema.safeParse(prepare(read.data as Record<string, unknown>));
  if (r.success) return { ok: true, data: r.data, lineOf: read.lineOf };
  return {
    ok: false,
    issues: r.error.issues.map((i) => ({
      line: issueLine(read.lineOf, i),
      path: formatIssuePath(i.path),
      message: i.message,
    })),
  };
}
