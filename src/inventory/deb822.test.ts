import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseDeb822 } from './deb822.ts';

const WANTED = new Set(['package', 'version', 'description']);

test('paragraphs split on blank and whitespace-only lines; unwanted fields and their continuations dropped', () => {
  const text =
    'Package: a\nDepends: x,\n y\nVersion: 1\n \t \nPackage: b\nDescription: short\n long line\n .\n more\n\n\n';
  const paras = parseDeb822(text, WANTED);
  assert.deepEqual(
    paras.map((p) => [p.line, Object.fromEntries(p.fields), p.problems]),
    [
      [1, { package: 'a', version: '1' }, []],
      [6, { package: 'b', description: 'short\nlong line\n.\nmore' }, []],
    ],
  );
});

test('malformed lines are problems of their paragraph, with line numbers', () => {
  const text = ' orphan continuation\nPackage: a\ngarbage\n: no name\nPackage: again\n\nVersion: 2';
  const paras = parseDeb822(text, WANTED);
  assert.equal(paras.length, 2);
  assert.deepEqual(paras[0].problems, [
    'line 1: continuation line without a field before it',
    'line 3: not a "Field: value" line',
    'line 4: empty field name',
    'line 5: field Package repeated',
  ]);
  assert.equal(paras[0].fields.get('package'), 'again');
  assert.deepEqual(Object.fromEntries(paras[1].fields), { version: '2' });
  assert.equal(paras[1].line, 7);
});

test('wanted names must be lower-case', () => {
  assert.throws(() => parseDeb822('', new Set(['Package'])), /bad wanted field name Package/);
});
