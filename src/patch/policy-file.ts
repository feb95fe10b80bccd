// Reads a policy document (YAML or JSON) from a file and validates it, naming the file and
// line of every problem.
import { readFile } from 'node:fs/promises';
import { LineCounter, isNode, parseDocument } from 'yaml';
import { PolicyError, PolicySchema, formatIssuePath, type PatchPolicy } from '../core/policy/schema.ts';

export function parsePolicyText(text: string, file: string): PatchPolicy {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false });
  if (doc.errors.length > 0) {
    const e = doc.errors[0];
    const pos = lineCounter.linePos(e.pos[0]);
    throw new PolicyError(file, [{ path: `line ${pos.line}`, message: e.message.split('\n')[0] }]);
  }
  const res = PolicySchema.safeParse(doc.toJS());
  if (res.success) return res.data;
  throw new PolicyError(
    file,
    res.error.issues.map((issue) => {
      // the deepest node of the path that exists in the document gives the line
      let line: number | null = null;
      for (let n = issue.path.length; n >= 0 && line === null; n--) {
        const node = n === 0 ? doc.contents : doc.getIn(issue.path.slice(0, n) as (string | number)[], true);
        if (isNode(node) && node.range) line = lineCounter.linePos(node.range[0]).line;
      }
      const p = formatIssuePath(issue.path);
      return { path: line === null ? p : `${p || '(document)'} (line ${line})`, message: issue.message };
    }),
  );
}

export async function readPolicyFile(file: string): Promise<PatchPolicy> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new Error(`${file}: ${(err as Error).message}`, { cause: err });
  }
  return parsePolicyText(text, file);
}
