// The dashboard's pure helpers: CSV files (quoting, formula defusing, round trip), the
// number formats the browser tests compare with, and shareable links.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { csvCell, toCsv } from '../web/src/lib/csv.ts';
import { parseCsv } from './support/csv.ts';
import { days, int, percent, relative } from '../web/src/lib/format.ts';
import { href, intParam } from '../web/src/lib/url.ts';

test('CSV cells are quoted when needed and formulas are defused', () => {
  assert.equal(csvCell('plain'), 'plain');
  assert.equal(csvCell('a,b'), '"a,b"');
  assert.equal(csvCell('say "hi"'), '"say ""hi"""');
  assert.equal(csvCell('two\nlines'), '"two\nlines"');
  assert.equal(csvCell('=HYPERLINK("x")'), '"\'=HYPERLINK(""x"")"');
  assert.equal(csvCell('-1'), "'-1");
  assert.equal(csvCell('@SUM(A1)'), "'@SUM(A1)");
  assert.equal(csvCell(null), '');
  assert.equal(csvCell(undefined), '');
  assert.equal(csvCell(false), 'false');
  assert.equal(csvCell(1234), '1234');
});

test('a CSV reads back as the cells written (after formula defusing)', () => {
  fc.assert(
    fc.property(fc.array(fc.tuple(fc.string(), fc.string({ unit: 'binary' }))), (rows) => {
      const text = toCsv(
        [
          { header: 'a', value: (r: [string, string]) => r[0] },
          { header: 'b', value: (r: [string, string]) => r[1] },
        ],
        rows,
      );
      const back = parseCsv(text);
      assert.deepEqual(back[0], ['a', 'b']);
      const defuse = (s: string) => (/^[=+\-@\t\r]/.test(s) ? `'${s}` : s);
      assert.deepEqual(
        back.slice(1),
        rows.map(([a, b]) => [defuse(a), defuse(b)]),
      );
    }),
  );
});

test('numbers on screen: exact integers with separators, shares with one decimal', () => {
  assert.equal(int(10000), '10,000');
  assert.equal(int(0), '0');
  assert.equal(int(null), '–');
  assert.equal(percent(0.943), '94.3\u00a0%');
  assert.equal(percent(1), '100.0\u00a0%');
  assert.equal(percent(0.9995), '100.0\u00a0%');
  assert.equal(days(3.25), '3.3\u00a0d');
  assert.equal(days(42.4), '42\u00a0d');
  const now = Date.parse('2026-11-27T12:00:00Z');
  assert.equal(relative('2026-11-27T11:00:00Z', now), '1 h ago');
  assert.equal(relative('2026-11-24T12:00:00Z', now), '3 d ago');
  assert.equal(relative(null, now), 'never');
});

test('links keep filters in a stable order and drop empty ones', () => {
  assert.equal(
    href('/hosts', { sort: 'high', group: 'web', tag: undefined, search: '' }),
    '/hosts?group=web&sort=high',
  );
  assert.equal(href('/findings', { vulnerability: 'CVE-2024-1 x&y' }), '/findings?vulnerability=CVE-2024-1+x%26y');
  assert.equal(href('/', {}), '/');
  assert.equal(intParam('3', 1), 3);
  assert.equal(intParam('0', 1), 1);
  assert.equal(intParam('2.5', 1), 1);
  assert.equal(intParam(undefined, 50), 50);
});
