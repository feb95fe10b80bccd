// A policy document typed as YAML (or JSON) text, checked as a given version of a given policy:
// the text may leave out name and version (the server gives them), every problem has its line.
// The server's preview and the dashboard's editor (in the browser) both check with this.
import { PolicySchema, type PatchPolicy } from '../core/policy/schema.ts';
import { validateYamlText, type LineOf, type TextIssue } from './yaml-lines.ts';

export function checkPolicyText(
  text: string,
  name: string,
  version: number,
): { ok: true; data: PatchPolicy; lineOf: LineOf } | { ok: false; issues: TextIssue[] } {
  let named: unknown;
  const r = validateYamlText(PolicySchema, text, (doc) => {
    named = doc.name;
    return { ...doc, name, version };
  });
  if (!r.ok) return r;
  if (named !== undefined && named !== name)
    return {
      ok: false,
      issues: [{ line: r.lineOf(['name']), path: 'name', message: `must be "${name}" (or left out)` }],
    };
  return r;
}
