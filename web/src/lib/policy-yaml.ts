// The policy editor's text: a stored policy shown as YAML (name and version are the page's, not
// the text's), and a typed text checked in the browser with the code the server and the command
// line use (config/yaml-lines.ts and the policy's zod schema), so every problem shows at its line
// while typing.
import { stringify } from 'yaml';
import { checkPolicyText } from '../../../src/config/policy-text.ts';
import type { TextIssue } from '../../../src/config/yaml-lines.ts';
import type { PatchPolicy } from '../../../src/core/policy/schema.ts';

export type { TextIssue };

/** A stored policy as the editor shows it: every field but name and version, in the schema's order. */
export function policyYaml(policy: Record<string, unknown>): string {
  const { name: _name, version: _version, ...rest } = policy;
  return stringify(rest, { lineWidth: 0 });
}

/**
 * The text checked as policy `name` (name and version may be left out; a name, when given,
 * must be the page's): the document to send, or the problems with their lines.
 */
export function checkPolicyYaml(
  text: string,
  name: string,
): { ok: true; doc: Omit<PatchPolicy, 'version'> } | { ok: false; issues: TextIssue[] } {
  // The version is the server's to give; any valid one stands in for it here.
  const r = checkPolicyText(text, name, 1);
  if (!r.ok) return r;
  const { version: _v, ...doc } = r.data;
  return { ok: true, doc };
}
