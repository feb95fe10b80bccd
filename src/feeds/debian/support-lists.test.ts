import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import {
  endedNote,
  expandPattern,
  isPlainName,
  limitedNote,
  parseSupportEnded,
  parseSupportLimited,
} from './support-lists.ts';

const DIR = new URL('../../../../shared/data/feeds/debian/security-support-lists/', import.meta.url);
const read = (name: string) => readFileSync(new URL(name, DIR), 'utf8');

test('security-support-ended.deb12: every data line, tab- or space-separated, with its details', () => {
  const warnings: string[] = [];
  const rows = parseSupportEnded(read('security-support-ended.deb12'), 'deb12', (m) => warnings.push(m));
  assert.deepEqual(warnings, []);
  assert.equal(rows.length, 16);
  assert.deepEqual(rows[0], {
    pattern: 'wpewebkit',
    lastVersion: '2.38.6-1',
    date: '2023-05-09',
    details: 'https://bugs.debian.org/1035794',
    line: 13,
  });
  // Tabs and spaces mixed, trailing spaces after the date.
  assert.deepEqual(rows[1], {
    pattern: 'intel-mediasdk',
    lastVersion: '22.5.4-1',
    date: '2024-11-21',
    details: 'abandoned upstream, upstream does not publish enough information to fix issues.',
    line: 14,
  });
  assert.equal(rows[3].pattern, 'php-horde.*');
  assert.equal(rows[3].lastVersion, '0');
  assert.deepEqual(
    rows.find((r) => r.pattern === 'suricata'),
    {
      pattern: 'suricata',
      lastVersion: '1:6.0.10-1',
      date: '2026-04-30',
      details:
        'Upstream security support ended in Aug 2024 and backporting fixes is now unfeasible. See: https://bugs.debian.org/1134367',
      line: 21,
    },
  );
});

test('the deb9, deb10 and deb11 lists; deb11 holds only comments', () => {
  const none = (m: string) => assert.fail(m);
  const deb9 = parseSupportEnded(read('security-support-ended.deb9'), 'deb9', none);
  assert.equal(deb9.length, 21);
  assert.deepEqual(
    deb9.find((r) => r.pattern === 'node-.*'),
    {
      pattern: 'node-.*',
      lastVersion: '0',
      date: '2020-02-20',
      details: 'https://www.debian.org/releases/stretch/amd64/release-notes/ch-information.html#libv8',
      line: 20,
    },
  );
  // A long version pushes the date out of its column; columns are split on any spacing.
  assert.equal(deb9.find((r) => r.pattern === 'xen')?.date, '2020-01-13');
  assert.equal(parseSupportEnded(read('security-support-ended.deb10'), 'deb10', none).length, 8);
  assert.deepEqual(parseSupportEnded(read('security-support-ended.deb11'), 'deb11', none), []);
});

test('security-support-limited: name and free text; the text is optional', () => {
  const rows = parseSupportLimited(read('security-support-limited'));
  assert.equal(rows.length, 32);
  assert.deepEqual(rows[0], {
    pattern: 'adns',
    details: 'Stub resolver that should only be used with trusted recursors',
    line: 9,
  });
  assert.deepEqual(
    rows.find((r) => r.pattern === 'golang.*'),
    {
      pattern: 'golang.*',
      details:
        'See https://www.debian.org/releases/bookworm/amd64/release-notes/ch-information.en.html#golang-static-linking',
      line: 15,
    },
  );
  assert.equal(
    rows.find((r) => r.pattern === 'hdf5')?.details,
    'limited  Not covered by security support, only suitable for trusted content, see #1117722',
  );
  assert.deepEqual(parseSupportLimited('# c\n\nfoo\n'), [{ pattern: 'foo', details: '', line: 3 }]);
});

test('bad lines in an ended list are warnings naming file and line', () => {
  const warnings: string[] = [];
  const rows = parseSupportEnded('a 1.0\nb 1.0 2024-13-01 x\nc 1.0 yesterday\nd 1.0 2024-02-29 ok\n', 'list', (m) =>
    warnings.push(m),
  );
  assert.deepEqual(
    rows.map((r) => r.pattern),
    ['d'],
  );
  assert.deepEqual(warnings, [
    'list:1: expected "package last-version date [details]", skipped',
    'list:2: b: "2024-13-01" is not a date (YYYY-mm-dd), skipped',
    'list:3: c: "yesterday" is not a date (YYYY-mm-dd), skipped',
  ]);
});

test('patterns expand over known source names, matched in full; plain names stand for themselves', () => {
  const known = [
    'node-lodash',
    'nodejs',
    'node-',
    'golang-1.19',
    'golang',
    'rustc',
    'librust-foo',
    'php-horde-imp',
    'php-horde',
  ];
  const warn = (m: string) => assert.fail(m);
  assert.deepEqual(expandPattern('node-.*', known, 'x', warn), ['node-', 'node-lodash']);
  assert.deepEqual(expandPattern('golang.*', known, 'x', warn), ['golang', 'golang-1.19']);
  assert.deepEqual(expandPattern('rust.*', known, 'x', warn), ['rustc']);
  assert.deepEqual(expandPattern('php-horde.*', known, 'x', warn), ['php-horde', 'php-horde-imp']);
  assert.deepEqual(expandPattern('libsoup2.4', known, 'x', warn), ['libsoup2.4']);
  assert.ok(isPlainName('libstdc++6') && !isPlainName('node-.*'));
  assert.deepEqual(expandPattern('.*-1.*', known, 'x', warn), ['golang-1.19']);
  assert.deepEqual(expandPattern('php.*h.*e', known, 'x', warn), ['php-horde']);
  assert.deepEqual(expandPattern('node-.*lodash', known, 'x', warn), ['node-lodash']);
  const warnings: string[] = [];
  assert.equal(
    expandPattern('bad(', known, 'list:3', (m) => warnings.push(m)),
    null,
  );
  assert.deepEqual(warnings, ['list:3: "bad(" is not a source name or a name with ".*" wildcards, skipped']);
});

test('patterns are matched without a regular-expression engine: many wildcards, or a pattern too large to compile', () => {
  // As regular expressions these backtrack exponentially, or are too large to compile (found by the fuzz suite).
  const known = ['node-red-contrib-something-long-enough', 'node-lodash'];
  const warn = (m: string) => assert.fail(m);
  assert.deepEqual(expandPattern(`node-${'.*'.repeat(40)}x`, known, 'x', warn), []);
  assert.deepEqual(expandPattern(`${'a'.repeat(100_000)}.*`, known, 'x', warn), []);
  assert.deepEqual(expandPattern(`node-${'.*'.repeat(40)}h`, known, 'x', warn), [
    'node-lodash',
    'node-red-contrib-something-long-enough',
  ]);
});

test('notes carry date, last supported version and details', () => {
  const row = {
    pattern: 'xen',
    lastVersion: '4.11.4+107-gef32c7afa2-1',
    date: '2021-08-28',
    details: 'https://xenbits.xen.org/x',
    line: 1,
  };
  assert.equal(
    endedNote(row, true),
    'security support ended on 2021-08-28 (last supported version 4.11.4+107-gef32c7afa2-1): https://xenbits.xen.org/x',
  );
  assert.equal(endedNote({ ...row, lastVersion: '0', details: '' }, false), 'security support ends on 2021-08-28');
  assert.equal(limitedNote({ pattern: 'x', details: '', line: 1 }), 'security support is limited');
});
