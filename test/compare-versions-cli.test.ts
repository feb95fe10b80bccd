// End to end: `./bin/patchloop compare-versions`, single and batch, against the shared vectors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { getScheme, InvalidVersionError } from '../src/core/version/index.ts';
import type { VersionSchemeName } from '../src/core/types.ts';
import { BIN } from './support/paths.ts';

const VECTORS = new URL('../../shared/data/version-vectors/', import.meta.url);

function cli(args: string[], input?: string): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(BIN, ['compare-versions', ...args], { input, encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.error) throw r.error;
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** The vector pairs of one scheme as `A<TAB>B` lines, and what the scheme says for each. */
function vectorPairs(scheme: VersionSchemeName): { input: string; expected: string[] } {
  const lines = readFileSync(new URL(`${scheme}.tsv`, VECTORS), 'utf8')
    .split('\n')
    .filter((l) => l !== '' && !l.startsWith('#'));
  const expected = lines.map((l) => {
    const [a, b] = l.split('\t');
    try {
      return String(getScheme(scheme).compare(a, b));
    } catch (err) {
      if (err instanceof InvalidVersionError) return 'invalid';
      throw err;
    }
  });
  return { input: lines.map((l) => l.split('\t').slice(0, 2).join('\t')).join('\n') + '\n', expected };
}

test('compare-versions: two arguments print -1, 0 or 1', () => {
  assert.deepEqual(cli(['--scheme', 'deb', '1:2.0-1', '2.1-1']), { status: 0, stdout: '1\n', stderr: '' });
  assert.deepEqual(cli(['--scheme', 'deb', '1.0~rc1', '1.0']), { status: 0, stdout: '-1\n', stderr: '' });
  assert.deepEqual(cli(['--scheme', 'rpm', '0:1.0-1.el9', '1.0-1.el9']), { status: 0, stdout: '0\n', stderr: '' });
  assert.deepEqual(cli(['--scheme', 'apk', '1.0_rc1-r0', '1.0-r0']), { status: 0, stdout: '-1\n', stderr: '' });
  assert.deepEqual(
    cli(['--scheme', 'rpm', '--', '-1', '0']),
    { status: 0, stdout: '-1\n', stderr: '' },
    'a version starting with -',
  );
});

test('compare-versions: an invalid version in two-argument mode is exit 2 with the reason on stderr', () => {
  const r = cli(['--scheme', 'deb', '1.0-', '1.0']);
  assert.equal(r.status, 2);
  assert.equal(r.stdout, '');
  assert.match(r.stderr, /invalid deb version "1\.0-": revision number is empty/);
  const apk = cli(['--scheme', 'apk', '1.0', '1.0_foo']);
  assert.equal(apk.status, 2);
  assert.match(apk.stderr, /unknown suffix "_foo"/);
});

test('compare-versions: usage errors exit 2', () => {
  for (const args of [
    ['1', '2'],
    ['--scheme', 'pkg', '1', '2'],
    ['--scheme', 'deb', '1'],
    ['--scheme', 'deb', '1', '2', '3'],
  ]) {
    const r = cli(args);
    assert.equal(r.status, 2, args.join(' '));
    assert.equal(r.stdout, '');
    assert.notEqual(r.stderr, '');
  }
});

test('compare-versions --help documents the scheme, both modes and the invalid result', () => {
  const r = cli(['--help']);
  assert.equal(r.status, 0);
  for (const word of ['--scheme', 'deb', 'rpm', 'apk', 'A<TAB>B', 'invalid', 'stdin'])
    assert.ok(r.stdout.includes(word), word);
});

for (const scheme of ['deb', 'rpm', 'apk'] as const) {
  test(`compare-versions: batch mode over every ${scheme} vector prints one result per line`, () => {
    const { input, expected } = vectorPairs(scheme);
    const r = cli(['--scheme', scheme], input);
    assert.equal(r.stderr, '');
    assert.equal(r.status, 0);
    const got = r.stdout.split('\n');
    assert.equal(got.pop(), '', 'output ends with a newline');
    assert.equal(got.length, expected.length);
    assert.deepEqual(got, expected);
    assert.ok(got.includes('invalid'), 'the data has versions this scheme refuses');
  });
}

test('compare-versions: batch mode keeps going past invalid versions and malformed lines', () => {
  const input = ['1.0\t1.1', '1.0-\t1.0', 'no tab here', '', 'a\tb\tc', '2:1\t1:2\r', '1.0\t1.0'].join('\n');
  const r = cli(['--scheme', 'deb'], input);
  assert.equal(r.stdout, ['-1', 'invalid', 'invalid', 'invalid', 'invalid', '1', '0', ''].join('\n'));
  assert.equal(r.status, 1, 'malformed lines make the run fail once all input is read');
  assert.match(r.stderr, /3 lines not of the form A<TAB>B \(line 3, 4, 5\)/);
});

test('compare-versions: batch mode streams (output arrives before input ends)', { timeout: 60_000 }, async () => {
  const child = spawn(BIN, ['compare-versions', '--scheme', 'rpm'], { stdio: ['pipe', 'pipe', 'inherit'] });
  const first = new Promise<string>((resolve) => child.stdout.once('data', (d: Buffer) => resolve(d.toString())));
  // Enough lines to pass the writer's flush threshold; stdin stays open meanwhile.
  child.stdin.write('1.0-1\t1.0-2\n'.repeat(5000));
  assert.match(await first, /^-1\n/);
  child.stdin.end('2\t1\n');
  const code = await new Promise<number | null>((resolve) => child.once('close', (status) => resolve(status)));
  assert.equal(code, 0);
});
