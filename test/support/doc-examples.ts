// The fenced examples of README.md and docs/*.md, for the tests that run them. A YAML or JSON
// block says what it is after its language: ```yaml policy, ```yaml server.yaml,
// ```yaml agent.yaml, ```json api:SchemaName.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from './paths.ts';

export interface DocExample {
  /** The file (relative to the repository) and the line of the opening fence. */
  where: string;
  language: string;
  /** What the block is (the info string after the language), '' when not said. */
  kind: string;
  text: string;
}

export const DOC_FILES = [
  'README.md',
  ...readdirSync(join(REPO_ROOT, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .sort()
    .map((f) => `docs/${f}`),
];

export function docExamples(files: string[] = DOC_FILES): DocExample[] {
  const out: DocExample[] = [];
  for (const file of files) {
    const lines = readFileSync(join(REPO_ROOT, file), 'utf8').split('\n');
    for (let i = 0; i < lines.length; i++) {
      const open = /^```(\S*)\s*(.*)$/.exec(lines[i]);
      if (!open) continue;
      const end = lines.findIndex((l, j) => j > i && l.startsWith('```'));
      if (end < 0) throw new Error(`${file}:${i + 1}: fence not closed`);
      out.push({
        where: `${file}:${i + 1}`,
        language: open[1],
        kind: open[2].trim(),
        text: `${lines.slice(i + 1, end).join('\n')}\n`,
      });
      i = end;
    }
  }
  return out;
}

/** The one example of `kind` in `file` (tests that need a particular one). */
export function docExample(file: string, kind: string): DocExample {
  const found = docExamples([file]).filter((e) => e.kind === kind);
  if (found.length !== 1) throw new Error(`${file}: ${found.length} examples of kind "${kind}"`);
  return found[0];
}
