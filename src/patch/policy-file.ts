// Reads a policy document (YAML or JSON) from a file and validates it, naming the file and
// line of every problem (the YAML reading of config/load.ts).
import { readFile } from 'node:fs/promises';
import { parseYaml, YamlSyntaxError, type LineOf } from '../config/load.ts';
import { PolicyError, PolicySchema, formatIssuePath, type PatchPolicy } from '../core/policy/schema.ts';

export function parsePolicyText(text: string, file: string): PatchPolicy {
  let doc: { data: unknown; lineOf: LineOf };
  try {
    doc = parseYaml(text, file);
  } catch (err) {
    if (err instanceof YamlSyntaxError)
      throw new PolicyError(file, [{ path: `line ${err.line}`, message: err.reason }]);
    throw err;
  }
  const res = PolicySchema.safeParse(doc.data);
  if (res.success) return res.data;
  throw new PolicyError(
    file,
    res.error.issues.map((issue) => {
      const line = doc.lineOf(issue.path);
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
