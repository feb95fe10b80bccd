// Every YAML and JSON example of README.md and docs/*.md is run: policies through
// `patchloop patch --explain --policy`, server and agent configuration through their loaders,
// API answers through the API's zod schemas. An example that says nothing of what it is fails.
// Every `patchloop` command line of the shell examples is parsed by the real command tree.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { Command } from 'commander';
import type { z } from 'zod';
import { resolveAgentConfig } from '../src/agent/config.ts';
import { readConfigFile } from '../src/config/load.ts';
import { createProgram } from '../src/cli/program.ts';
import { resolveConfig } from '../src/server/config.ts';
import * as apiSchemas from '../src/server/api/schemas.ts';
import * as notificationSchemas from '../src/server/api/notification-schemas.ts';
import * as exceptionSchemas from '../src/server/api/exception-schemas.ts';
import { readIgnoreFile } from '../src/scan/ignore-file.ts';
import { runCli } from './support/cli.ts';
import { docExamples, type DocExample } from './support/doc-examples.ts';

const dir = mkdtempSync(join(tmpdir(), 'patchloop-doc-examples-'));

/** The example as a file called `name` (a policy is named by its file), one directory each. */
function fileOf(e: DocExample, name: string): string {
  const file = join(dir, e.where.replace(/[/:.]/g, '-'), name);
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, e.text);
  return file;
}

/** How each kind of example is run; the error names the example's file and line. */
const RUN: Record<string, (e: DocExample) => Promise<void> | void> = {
  policy: async (e) => {
    const r = await runCli(['patch', '--explain', '--policy', fileOf(e, 'web.yaml'), '--host', 'web-1']);
    assert.equal(r.code, 0, `${e.where}: ${r.stderr}`);
    assert.match(r.stdout, /^Policy web v1 for group /);
  },
  'server.yaml': (e) => void resolveConfig(readConfigFile(fileOf(e, 'server.yaml'))),
  'agent.yaml': (e) => void resolveAgentConfig(readConfigFile(fileOf(e, 'agent.yaml'))),
  '.patchloop-ignore.yaml': (e) => void readIgnoreFile(fileOf(e, '.patchloop-ignore.yaml')),
};

function runApiExample(e: DocExample): void {
  const name = e.kind.slice('api:'.length);
  const schema = ({ ...apiSchemas, ...notificationSchemas, ...exceptionSchemas } as Record<string, unknown>)[name] as
    z.ZodType | undefined;
  assert.ok(
    schema,
    `${e.where}: no API schema ${name} in src/server/api/schemas.ts, notification-schemas.ts or exception-schemas.ts`,
  );
  const r = schema.safeParse(JSON.parse(e.text));
  assert.ok(r.success, `${e.where}: not a ${name}: ${r.error?.message}`);
}

const examples = docExamples().filter((e) => e.language === 'yaml' || e.language === 'json');

test('every YAML and JSON example says what it is', () => {
  assert.ok(examples.length >= 7, `only ${examples.length} examples found`);
  for (const e of examples)
    assert.ok(e.kind in RUN || e.kind.startsWith('api:'), `${e.where}: \`\`\`${e.language} ${e.kind}: unknown kind`);
});

for (const e of examples) {
  test(`${e.where}: the ${e.kind} example is valid`, async () => {
    if (e.kind.startsWith('api:')) runApiExample(e);
    else await RUN[e.kind]?.(e);
  });
}

/**
 * The `patchloop` command lines of a shell example, as argument lists: continued lines joined,
 * comments, redirections and `[ ]` around optional arguments taken away.
 */
function commandLines(text: string): string[][] {
  const out: string[][] = [];
  for (const line of text.replace(/\\\n/g, ' ').split('\n')) {
    for (const part of line.replace(/\s#.*$/, '').split(/&&|\|/)) {
      const m =
        /(?:^|\s)(?:\S*\/)?patchloop\s+((?:scan|db|inventory|compare-versions|server|agent|patch|elastic|exceptions)\b.*)$/.exec(
          part,
        );
      if (!m) continue;
      const args = m[1].replace(/\s[<>]\s*\S+/g, '').replace(/[[\]]/g, '');
      out.push(args.trim().split(/\s+/));
    }
  }
  return out;
}

/** The real command tree with every action left out: parsing is what is checked. */
function parsingOnly(command: Command): Command {
  command.action(() => {}).configureOutput({ writeErr: () => {}, writeOut: () => {} });
  for (const sub of command.commands) parsingOnly(sub);
  return command;
}

test('every patchloop command line of the shell examples is one the CLI takes', async () => {
  const lines = docExamples()
    .filter((e) => e.language === 'sh')
    .flatMap((e) => commandLines(e.text).map((args) => ({ where: e.where, args })));
  assert.ok(lines.length >= 25, `only ${lines.length} command lines found`);
  for (const { where, args } of lines) {
    try {
      await parsingOnly(createProgram()).parseAsync(args, { from: 'user' });
    } catch (err) {
      assert.fail(`${where}: patchloop ${args.join(' ')}: ${(err as Error).message}`);
    }
  }
});
