// Reads a policy document (YAML or JSON) from a file and validates it, naming the file and
// line of every problem (the YAML reading of config/load.ts). The document is the one
// `PUT /api/v1/policies/NAME` takes: `name` and `version` may be left out, as there.
import { readFile } from 'node:fs/promises';
import { basename, extname } from 'node:path';
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
  const res = PolicySchema.safeParse(withFileDefaults(doc.data, file));
  const named = (doc.data as { name?: unknown } | null)?.name !== undefined;
  if (res.success) return res.data;
  throw new PolicyError(
    file,
    res.error.issues.map((issue) => {
      const line = doc.lineOf(issue.path);
      const p = formatIssuePath(issue.path);
      if (p === 'name' && !named)
        return { path: p, message: `not given, and the file name does not make one: ${issue.message}` };
      return { path: line === null ? p : `${p || '(document)'} (line ${line})`, message: issue.message };
    }),
  );
}

/**
 * The name and version a file leaves out, as the server fills them in: the server takes the
 * name from the URL and numbers a new policy's first version 1; a file is named by its file
 * name (web.yaml → web) and, having no earlier versions, is version 1.
 */
function withFileDefaults(data: unknown, file: string): unknown {
  if (typeof data !== 'object' || data === null || Array.isArray(data)) return data;
  const doc = data as Record<string, unknown>;
  return {
    ...doc,
    name: doc.name ?? basename(file, extname(file)),
    version: doc.version ?? 1,
  };
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
