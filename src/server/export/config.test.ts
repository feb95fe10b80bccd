// The export: section of the server configuration, the environment on top of it, and the
// secrets read from files without ever appearing in messages.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readConfigFile, sourceOf } from '../../config/load.ts';
import { exportClientOptions, resolveExportConfig } from './config.ts';

/** A server configuration whose export: section is `section`. */
const withSection = (section: unknown) => sourceOf(section === undefined ? {} : { export: section });

test('defaults, durations, and nothing at all when no section and no URL in the environment', () => {
  assert.equal(resolveExportConfig(withSection(undefined), {}), null);
  const c = resolveExportConfig(
    withSection({ url: 'https://search.example:9200', interval: '2m', retention: { resolved: '14d' } }),
    {},
  )!;
  assert.equal(c.prefix, 'patchloop');
  assert.equal(c.interval, 120_000);
  assert.equal(c.retention.resolved, 14 * 86_400_000);
  assert.equal(c.retention.stale, 30 * 86_400_000);
  assert.equal(c.retention.events_days, 400);
  assert.equal(c.enabled, true);
});

test('the environment overrides the file, and alone is enough', () => {
  const env = { PATCHLOOP_EXPORT_URL: 'http://127.0.0.1:9250', PATCHLOOP_EXPORT_PREFIX: 'fleet2' };
  assert.deepEqual(
    [
      resolveExportConfig(withSection(undefined), env)?.url,
      resolveExportConfig(withSection({ url: 'https://x:9200', prefix: 'a' }), env)?.prefix,
    ],
    ['http://127.0.0.1:9250', 'fleet2'],
  );
  assert.equal(
    resolveExportConfig(withSection(undefined), env, { prefix: 'fleet3' })?.prefix,
    'fleet3',
    'the command line on top of the environment',
  );
});

test('bad settings name the key', () => {
  assert.throws(
    () => resolveExportConfig(withSection({ url: 'https://x', prefix: 'Bad Prefix' }), {}),
    /export\.prefix: index prefix "Bad Prefix"/,
  );
  assert.throws(
    () => resolveExportConfig(withSection({ url: 'https://x', password_file: '/p' }), {}),
    /export\.password_file: needs username/,
  );
  assert.throws(
    () => resolveExportConfig(withSection({ url: 'https://x', username: 'u', api_key_file: '/k' }), {}),
    /either username\/password_file or api_key_file/,
  );
  assert.throws(
    () => resolveExportConfig(withSection({ url: 'https://x', pasword_file: '/p' }), {}),
    /Unrecognized key/,
  );
  assert.throws(
    () => resolveExportConfig(withSection({ url: 'https://x', interval: 'soon' }), {}),
    /export\.interval: invalid duration/,
  );
  assert.throws(() => resolveExportConfig(withSection(['x']), {}), /export: expected a mapping/);
});

test('in a file, each problem names the file and line; a value from the environment has no line', () => {
  const dir = mkdtempSync(join(tmpdir(), 'patchloop-export-config-'));
  try {
    const file = join(dir, 'server.yaml');
    writeFileSync(file, 'listen: { port: 8080 }\nexport:\n  url: ftp://x\n  interval: soon\n');
    const message = (env: NodeJS.ProcessEnv) => {
      try {
        resolveExportConfig(readConfigFile(file), env);
      } catch (err) {
        return (err as Error).message;
      }
      return assert.fail('the section is invalid');
    };
    assert.match(
      message({}),
      new RegExp(
        `^the export section of ${file} is invalid:\n {2}${file}:3: export\\.url: .*\n {2}${file}:4: export\\.interval: invalid duration "soon"`,
      ),
    );
    assert.match(message({ PATCHLOOP_EXPORT_URL: 'gopher://y' }), /\n {2}export\.url: /);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('secrets come from their files (or the environment), and a missing or empty file is an error naming it', () => {
  const dir = mkdtempSync(join(tmpdir(), 'patchloop-export-config-'));
  try {
    writeFileSync(join(dir, 'password'), 'correct horse\n');
    writeFileSync(join(dir, 'key'), 'aWQ6a2V5\n');
    writeFileSync(join(dir, 'empty'), '');
    const basic = exportClientOptions(
      resolveExportConfig(
        withSection({ url: 'https://x:9200', username: 'patchloop', password_file: join(dir, 'password') }),
        {},
      )!,
      '/var/lib/patchloop',
      {},
    );
    assert.deepEqual(basic.auth, { username: 'patchloop', password: 'correct horse' });
    assert.equal(basic.deadLetterFile, '/var/lib/patchloop/export/dead-letters.ndjson');
    const key = exportClientOptions(
      resolveExportConfig(withSection({ url: 'https://x:9200', api_key_file: join(dir, 'key') }), {})!,
      '/d',
      {},
    );
    assert.deepEqual(key.auth, { apiKey: 'aWQ6a2V5' });
    const fromEnv = exportClientOptions(
      resolveExportConfig(withSection({ url: 'https://x:9200', username: 'u' }), {})!,
      '/d',
      { PATCHLOOP_EXPORT_PASSWORD: 'from env' },
    );
    assert.deepEqual(fromEnv.auth, { username: 'u', password: 'from env' });
    assert.throws(
      () =>
        exportClientOptions(
          resolveExportConfig(withSection({ url: 'https://x', username: 'u', password_file: join(dir, 'nope') }), {})!,
          '/d',
          {},
        ),
      /cannot read the password file .*nope: ENOENT/,
    );
    assert.throws(
      () =>
        exportClientOptions(
          resolveExportConfig(withSection({ url: 'https://x', api_key_file: join(dir, 'empty') }), {})!,
          '/d',
          {},
        ),
      /API key file .*empty is empty/,
    );
    assert.throws(
      () => exportClientOptions(resolveExportConfig(withSection({ url: 'https://x', username: 'u' }), {})!, '/d', {}),
      /needs export\.password_file/,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
