// The configuration loader on real files: lines of values, flags and environment on top,
// sections, and the messages a person reads.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { duration } from '../core/duration.ts';
import {
  ConfigError,
  readConfig,
  readConfigFile,
  sectionOf,
  sourceOf,
  validate,
  withOverrides,
  YamlSyntaxError,
} from './load.ts';

function file(t: TestContext, name: string, text: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'patchloop-config-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, name), text);
  return join(dir, name);
}

const Schema = z
  .object({
    listen: z.object({ host: z.string(), port: z.number().max(65535) }).strict(),
    feeds: z
      .array(z.object({ name: z.enum(['debian', 'ubuntu']), timeout: duration.default(60_000) }).strict())
      .default([]),
    log_level: z.enum(['info', 'debug']).default('info'),
  })
  .strict();

const YAML = [
  '# server',
  'listen:',
  '  host: 127.0.0.1',
  '  port: 99999',
  'feeds:',
  '  - name: debian',
  '    timeout: 90s',
  '  - name: debain',
  '    timeuot: 1h',
  'bogus: 1',
  '',
].join('\n');

test('every problem is FILE:LINE: key: message, unknown keys on their own line', (t) => {
  const f = file(t, 'server.yaml', YAML);
  assert.throws(
    () => validate(Schema, readConfigFile(f)),
    (err: unknown) => {
      assert.ok(err instanceof ConfigError);
      assert.equal(err.code, 'PL_E_CONFIG');
      assert.deepEqual(err.message.split('\n'), [
        `${f} is invalid:`,
        `  ${f}:4: listen.port: Too big: expected number to be <=65535`,
        `  ${f}:8: feeds.1.name: Invalid option: expected one of "debian"|"ubuntu"`,
        `  ${f}:9: feeds.1: Unrecognized key: "timeuot"`,
        `  ${f}:10: (top level): Unrecognized key: "bogus"`,
      ]);
      return true;
    },
  );
});

test('a missing key is reported on its mapping; durations are read; a value from a flag has no line', (t) => {
  const f = file(t, 'server.yaml', 'listen:\n  port: 8080\nfeeds:\n  - name: ubuntu\n    timeout: 30m\n');
  const source = readConfigFile(f);
  assert.throws(() => validate(Schema, source), new RegExp(`\\n {2}${f}:1: listen\\.host: `));
  const fixed = withOverrides(source, { listen: { host: '::1', port: 70000 }, log_level: undefined });
  assert.throws(() => validate(Schema, fixed), /is invalid:\n {2}listen\.port: Too big/);
  const ok = validate(Schema, withOverrides(source, { listen: { host: '::1', port: 8080 } }));
  assert.deepEqual(ok, {
    listen: { host: '::1', port: 8080 },
    feeds: [{ name: 'ubuntu', timeout: 1_800_000 }],
    log_level: 'info',
  });
});

test("a section keeps the file's lines and is named in front of its keys", (t) => {
  const f = file(t, 'server.yaml', 'listen: { host: a, port: 1 }\nexport:\n  url: 42\n');
  const section = sectionOf(readConfigFile(f), 'export');
  assert.throws(
    () => validate(z.object({ url: z.string() }), section, { what: 'the export section', prefix: 'export' }),
    new RegExp(`: the export section is invalid:\\n {2}${f}:3: export\\.url: `),
  );
  assert.deepEqual(sectionOf(sourceOf({}), 'export').data, {});
  assert.throws(() => sectionOf(sourceOf({ export: [1] }), 'export'), /the configuration: export: expected a mapping/);
});

test('YAML errors, files that are not a mapping, and a missing file are configuration errors naming the file', (t) => {
  const broken = file(t, 'agent.yaml', 'server: https://x.example\nspool:\n  max_reports: [\n');
  assert.throws(
    () => readConfigFile(broken),
    (err: unknown) =>
      err instanceof YamlSyntaxError && err.line !== null && err.message.startsWith(`${broken}:${err.line}:`),
  );
  const twice = file(t, 'dup.yaml', 'listen: { host: a }\nlisten: { port: 1 }\n');
  assert.throws(() => readConfigFile(twice), new RegExp(`: ${twice}:2:1: Map keys must be unique$`));
  assert.throws(() => readConfigFile(file(t, 'list.yaml', '- a\n- b\n')), /expected a mapping at the top level/);
  assert.deepEqual(readConfigFile(file(t, 'empty.yaml', '')).data, {});
  assert.throws(() => readConfigFile('/nonexistent/server.yaml'), /cannot read \/nonexistent\/server\.yaml: ENOENT/);
  const none = readConfig(undefined, '/nonexistent/default.yaml');
  assert.deepEqual([none.data, none.file], [{}, null], 'a default file that does not exist is no file');
  assert.throws(
    () => readConfig('/nonexistent/given.yaml', '/nonexistent/default.yaml'),
    /cannot read \/nonexistent\/given\.yaml/,
  );
});
