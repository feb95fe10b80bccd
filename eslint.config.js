import js from '@eslint/js';
import tseslint from 'typescript-eslint';

// The layers of src/ and what each may import besides itself (../shared/DESIGN.md,
// docs/architecture.md). Imports go down, never up or sideways, except for the edges listed
// with their reason. A folder of src/ missing here cannot be imported by any layer: add its
// row (test/lint-layers.test.ts checks that every folder has one). `version.ts` and
// `project-root.ts` are the two files at the top of src/: the version (from package.json)
// and the installation directory.
export const LAYERS = {
  // Domain types, version schemes, distro table, matching rules, protocol, policy: no I/O,
  // nothing of the project beyond itself (see CORE_PACKAGES for what it may load).
  core: [],
  // The one HTTP client with its backoff, and the one YAML+zod config loader.
  net: ['core'],
  config: ['core'],
  inventory: ['core'],
  vulndb: ['core'],
  // Importers write their entries through the vulndb writer; downloads go through net (and
  // name the version in their User-Agent); the update thread finds its worker's entry from
  // the project root.
  feeds: ['core', 'vulndb', 'net', 'config', 'version.ts', 'project-root.ts'],
  // Backends read the root's package databases and os-release to report what changed; policy
  // files are read with the config loader's YAML reading.
  patch: ['core', 'inventory', 'config'],
  // The ECS mapping of patch runs (agent-ship.ts) reads the patch run type.
  export: ['core', 'net', 'config', 'patch'],
  // The scan reads the inventory and the local vulnerability DB; its ECS format is the
  // exporter's own mapping, and its reports name the version; ignore files are read with the
  // configuration's YAML reading (problems at their line).
  scan: ['core', 'inventory', 'vulndb', 'export', 'config', 'version.ts'],
  // The agent collects the inventory, keeps its vulnerability DB in step, runs the patch
  // phase and the scan after it, and installs its systemd units from the project root.
  agent: ['core', 'inventory', 'vulndb', 'patch', 'scan', 'net', 'config', 'project-root.ts'],
  // The server matches against the vulnerability DB, refreshes feeds (feeds/update.ts),
  // stores patch runs (their schema is patch's) and runs the exporter; never the agent.
  server: ['core', 'vulndb', 'feeds', 'patch', 'export', 'net', 'config', 'version.ts', 'project-root.ts'],
  // The commands: each a thin caller of the layer that does the work.
  cli: [
    'core',
    'net',
    'config',
    'inventory',
    'vulndb',
    'feeds',
    'patch',
    'export',
    'scan',
    'agent',
    'server',
    'version.ts',
    'project-root.ts',
  ],
};

/** What core may load from outside the project: schemas, and hashing (no side effects). */
const CORE_PACKAGES = ['zod', 'node:crypto'];

/** Deepest folder nesting below src/<layer>/ that the rules cover (test/lint-layers.test.ts checks it). */
export const MAX_DEPTH = 6;

const escape = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
/** A regular expression matching a relative import that climbs `n` folders (and maybe more). */
const up = (n) => `^(?:\\.\\./){${n}}`;
const targets = (names) => names.map((n) => (n.endsWith('.ts') ? `${escape(n)}$` : `${escape(n)}/`)).join('|');

/**
 * An import rule in both forms: `no-restricted-imports` for static imports and re-exports, a
 * `no-restricted-syntax` selector for `import()` (which no-restricted-imports does not see).
 */
function restrictions(rules) {
  return {
    'no-restricted-imports': ['error', { patterns: rules.map(({ regex, message }) => ({ regex, message })) }],
    'no-restricted-syntax': [
      'error',
      // esquery's regular expressions cannot contain "/": it is written as \x2F there.
      ...rules.map(({ regex, message }) => ({
        selector: `ImportExpression[source.value=/${regex.replaceAll('/', '\\x2F')}/]`,
        message,
      })),
    ],
  };
}

const testCode = {
  regex: '\\.test\\.ts$|(?:^|/)testing/|test-support',
  message: 'Product code never imports test code (tests, test/support/, testing folders).',
};

/** The config blocks of one layer: one per folder depth, as relative paths depend on it. */
function layerBlocks(layer, allowed) {
  const blocks = [];
  for (let depth = 1; depth <= MAX_DEPTH; depth++) {
    const files = [`src/${layer}/${'*/'.repeat(depth - 1)}*.ts`];
    const toRepo = up(depth + 1);
    const outside = {
      regex: `${toRepo}(?:test|bench|web)/`,
      message: `Product code never imports test/, bench/ or web/.`,
    };
    const rules = [
      {
        regex: `${up(depth)}${allowed.length ? `(?!${targets(allowed)})` : ''}(?!\\.\\./(?:test|bench|web)/)`,
        message: allowed.length
          ? `src/${layer} may import only ${allowed.join(', ')} of the other layers (LAYERS in eslint.config.js).`
          : `src/${layer} imports no other layer (LAYERS in eslint.config.js).`,
      },
      outside,
      testCode,
    ];
    if (layer === 'core') {
      rules.push({
        regex: `^(?!\\.|${CORE_PACKAGES.map((p) => `${escape(p)}$`).join('|')})`,
        message: `core loads nothing with side effects: of outside modules only ${CORE_PACKAGES.join(', ')}.`,
      });
    }
    blocks.push({ files, ignores: ['**/*.test.ts'], rules: restrictions(rules) });
    // Unit tests beside the code may use any layer and test/support/, never bench/.
    blocks.push({
      files: files.map((f) => f.replace(/\*\.ts$/, '*.test.ts')),
      rules: restrictions([
        {
          regex: `${toRepo}(?!test/support/)`,
          message: 'Unit tests import the project and test/support/ only (not bench/).',
        },
      ]),
    });
  }
  return blocks;
}

/** Test, benchmark and dashboard code: one block per depth below the repository root. */
function folderBlocks(folder, rule) {
  return Array.from({ length: MAX_DEPTH }, (_, i) => ({
    files: [`${folder}/${'*/'.repeat(i)}*.{ts,tsx}`],
    rules: restrictions([rule(up(i + folder.split('/').length))]),
  }));
}

export default tseslint.config(
  { ignores: ['node_modules/', 'dist/', '.cache/', 'web/dist/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-console': 'off',
      // Prettier (npm run format) keeps code within 120 columns; what it cannot break (comments) is held here.
      // Long strings, templates and addresses stay whole: a message is easier to find when it is one line.
      'max-len': [
        'error',
        { code: 120, ignoreStrings: true, ignoreTemplateLiterals: true, ignoreRegExpLiterals: true, ignoreUrls: true },
      ],
    },
  },
  // The two files at the top of src/ sit below every layer: they import none.
  {
    files: ['src/*.ts'],
    rules: restrictions([
      { regex: '^\\./[^/]+/', message: 'The files at the top of src/ import no layer.' },
      { regex: '^\\.\\./(?!package\\.json$)', message: 'Of the files outside src/, only package.json (the version).' },
    ]),
  },
  ...Object.entries(LAYERS).flatMap(([layer, allowed]) => layerBlocks(layer, allowed)),
  // Tests never depend on benchmarks: what both need lives in test/support/.
  ...folderBlocks('test', (toRepo) => ({
    regex: `${toRepo}bench/`,
    message: 'Tests never import bench/: shared generators live in test/support/.',
  })),
  // Benchmarks use the project and test/support/ (generators, servers), not the tests themselves.
  ...folderBlocks('bench', (toRepo) => ({
    regex: `${toRepo}test/(?!support/)`,
    message: 'Benchmarks import test/support/ only, never tests.',
  })),
  // The dashboard is product code.
  ...folderBlocks('web/src', (toRepo) => ({
    regex: `${toRepo}(?:test|bench)/`,
    message: 'The dashboard never imports test/ or bench/.',
  })),
);
