// The layer rules of eslint.config.js at work: the project's real ESLint configuration lints
// probe modules placed (by name) in the folders of the repository, and a wrong import fails
// `npm run lint` the way it would in CI.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ESLint } from 'eslint';
import { REPO_ROOT } from './support/paths.ts';

const eslint = new ESLint({ cwd: REPO_ROOT });
// The layer table as the configuration declares it (a JavaScript module, loaded by its URL).
const { LAYERS, MAX_DEPTH } = (await import(pathToFileURL(join(REPO_ROOT, 'eslint.config.js')).href)) as {
  LAYERS: Record<string, string[]>;
  MAX_DEPTH: number;
};

/** The messages of the import rules for `code` as the module `file` (relative to the repository). */
async function importProblems(file: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: join(REPO_ROOT, file) });
  return result.messages
    .filter((m) => m.ruleId === 'no-restricted-imports' || m.ruleId === 'no-restricted-syntax')
    .map((m) => m.message);
}

const staticImport = (from: string) => `import { thing } from '${from}';\nexport const probe = thing;\n`;
const dynamicImport = (from: string) => `export const probe = async () => import('${from}');\n`;

/** [module, imported path, what is expected: a piece of the error message, or null for none]. */
const cases: [string, string, string | null][] = [
  // core: no other layer, nothing with side effects, at any depth.
  ['src/core/probe.ts', '../server/server.ts', 'src/core imports no other layer'],
  ['src/core/policy/probe.ts', '../../inventory/index.ts', 'src/core imports no other layer'],
  ['src/core/policy/probe.ts', '../rings.ts', null],
  ['src/core/probe.ts', './policy/rings.ts', null],
  ['src/core/probe.ts', 'node:fs', 'core loads nothing with side effects'],
  ['src/core/probe.ts', 'node:child_process', 'core loads nothing with side effects'],
  ['src/core/probe.ts', 'fs', 'core loads nothing with side effects'],
  ['src/core/probe.ts', 'undici', 'core loads nothing with side effects'],
  ['src/core/probe.ts', 'zod', null],
  ['src/core/probe.ts', 'node:crypto', null],
  ['src/core/probe.ts', '../version.ts', 'src/core imports no other layer'],
  // the layers above core: their own edges only.
  ['src/inventory/probe.ts', '../core/types.ts', null],
  ['src/inventory/probe.ts', '../vulndb/reader.ts', 'src/inventory may import only core'],
  ['src/vulndb/probe.ts', '../feeds/registry.ts', 'src/vulndb may import only core'],
  ['src/feeds/osv/probe.ts', '../../vulndb/writer.ts', null],
  ['src/feeds/osv/probe.ts', '../../agent/agent.ts', 'src/feeds may import only'],
  ['src/feeds/probe.ts', '../net/backoff.ts', null],
  ['src/net/probe.ts', '../feeds/download.ts', 'src/net may import only core'],
  ['src/patch/apt/probe.ts', '../../scan/scan.ts', 'src/patch may import only core, inventory'],
  ['src/export/probe.ts', '../server/server.ts', 'src/export may import only'],
  ['src/scan/format/probe.ts', '../../export/index.ts', null],
  ['src/scan/probe.ts', '../agent/agent.ts', 'src/scan may import only'],
  ['src/agent/probe.ts', '../server/server.ts', 'src/agent may import only'],
  ['src/agent/probe.ts', '../patch/run.ts', null],
  ['src/server/probe.ts', '../agent/agent.ts', 'src/server may import only'],
  ['src/server/routes/probe.ts', '../export/config.ts', null],
  ['src/server/export/probe.ts', '../../export/client.ts', null],
  ['src/server/probe.ts', '../cli/main.ts', 'src/server may import only'],
  ['src/cli/commands/probe.ts', '../../server/server.ts', null],
  // a folder of src/ without a row in LAYERS cannot be imported.
  ['src/cli/probe.ts', '../newlayer/thing.ts', 'src/cli may import only'],
  // product code never imports test or benchmark code.
  ['src/server/probe.ts', '../../test/support/server.ts', 'never imports test/, bench/ or web/'],
  ['src/server/store/probe.ts', '../../../bench/server.ts', 'never imports test/, bench/ or web/'],
  ['src/inventory/probe.ts', './dpkg.test.ts', 'never imports test code'],
  ['src/inventory/rpm/probe.ts', './testing/synth.ts', 'never imports test code'],
  ['src/version.ts', './core/types.ts', 'import no layer'],
  ['web/src/pages/probe.tsx', '../../../test/support/server.ts', 'The dashboard never imports test/ or bench/'],
  // unit tests beside the code: any layer and test/support/, not bench/.
  ['src/core/probe.test.ts', '../inventory/os-release.ts', null],
  ['src/server/probe.test.ts', '../../test/support/server.ts', null],
  ['src/server/probe.test.ts', '../../bench/server.ts', 'Unit tests import the project and test/support/ only'],
  // tests never import benchmarks; benchmarks import test/support/ only.
  ['test/probe.test.ts', '../bench/server.ts', 'Tests never import bench/'],
  ['test/fuzz/targets/probe.ts', '../../../bench/lib/measure.ts', 'Tests never import bench/'],
  ['bench/probe.ts', '../test/support/server.ts', null],
  ['bench/probe.ts', '../test/server-api.test.ts', 'Benchmarks import test/support/ only'],
];

test('a wrong import fails the lint rules, a right one passes, statically and with import()', async () => {
  for (const [file, from, expected] of cases) {
    for (const code of [staticImport(from), dynamicImport(from)]) {
      const problems = await importProblems(file, code);
      if (expected === null) assert.deepEqual(problems, [], `${file} importing ${from}`);
      else {
        assert.equal(problems.length, 1, `${file} importing ${from}: ${JSON.stringify(problems)}`);
        assert.ok(problems[0].includes(expected), `${file} importing ${from}: ${problems[0]}`);
      }
    }
  }
});

test('every folder of src/ has its row in the layer table, and every row only existing layers', () => {
  const folders = readdirSync(join(REPO_ROOT, 'src'), { withFileTypes: true })
    .filter(
      (e) =>
        e.isDirectory() &&
        readdirSync(join(REPO_ROOT, 'src', e.name), { recursive: true }).some((f) => String(f).endsWith('.ts')),
    )
    .map((e) => e.name);
  const rows = Object.keys(LAYERS);
  assert.deepEqual(
    folders.filter((f) => !rows.includes(f)),
    [],
    'folders of src/ without a row in LAYERS (eslint.config.js)',
  );
  for (const [layer, allowed] of Object.entries(LAYERS)) {
    for (const a of allowed)
      assert.ok(rows.includes(a) || a === 'version.ts' || a === 'project-root.ts', `${layer} → ${a}`);
  }
});

test('the rules reach the deepest folder of src/', () => {
  const depth = (dir: string): number =>
    Math.max(
      0,
      ...readdirSync(dir, { withFileTypes: true })
        .filter((e) => e.isDirectory())
        .map((e) => 1 + depth(join(dir, e.name))),
    );
  for (const layer of Object.keys(LAYERS)) {
    const dir = join(REPO_ROOT, 'src', layer);
    const deepest = readdirSync(join(REPO_ROOT, 'src')).includes(layer) ? 1 + depth(dir) : 0;
    assert.ok(deepest <= MAX_DEPTH, `src/${layer} nests ${deepest} folders deep; MAX_DEPTH is ${MAX_DEPTH}`);
  }
});

test('npm run lint fails on a core module that imports the server', () => {
  // The CLI as CI runs it, on a module given on stdin under a name in src/core.
  const r = spawnSync(
    join(REPO_ROOT, 'node_modules/.bin/eslint'),
    ['--stdin', '--stdin-filename', 'src/core/probe.ts'],
    {
      cwd: REPO_ROOT,
      input: staticImport('../server/server.ts'),
      encoding: 'utf8',
    },
  );
  assert.equal(r.status, 1, r.stderr);
  assert.match(r.stdout, /src\/core imports no other layer/);
});
