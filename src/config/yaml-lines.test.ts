// YAML with the line of every value, and zod validation reported at those lines: a syntax error
// at the parser's line, a wrong value at its own, an unknown key at the key, a missing key at its
// mapping; the policy text as the editor and the server check it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkPolicyText } from './policy-text.ts';
import { readYaml } from './yaml-lines.ts';

const TEXT = [
  'group: web', // 1
  'schedule:', // 2
  '  windows:', // 3
  '    - days: [mon]', // 4
  "      start: '25:00'", // 5
  "      end: '04:00'", // 6
  '      time_zone: UTC', // 7
  'rings:', // 8
  '  - name: canary', // 9
  '    soak_hours: 2', // 10
  'reboot:', // 11
  '  colour: red', // 12
  '',
].join('\n');

test('each problem of a policy text is at its line', () => {
  const r = checkPolicyText(TEXT, 'web', 3);
  assert.equal(r.ok, false);
  const lines = r.ok ? [] : r.issues.map((i) => [i.line, i.path]);
  assert.deepEqual(
    lines.sort((a, b) => Number(a[0]) - Number(b[0])),
    [
      [5, 'schedule.windows[0].start'],
      [10, 'rings[0].soak_hours'],
      [12, 'reboot'],
    ],
  );
});

test('a rule of the whole document is at the field it names; a valid text gets the name and version given', () => {
  const soak = checkPolicyText('group: web\nrings:\n  - name: canary\n    soak_hours: 2\n', 'web', 3);
  assert.deepEqual(soak.ok ? [] : soak.issues.map((i) => [i.line, i.path]), [[4, 'rings[0].soak_hours']]);
  const ok = checkPolicyText('group: web\nrings: [{ name: all }]\n', 'web', 3);
  assert.ok(ok.ok);
  assert.equal(ok.data.name, 'web');
  assert.equal(ok.data.version, 3);
  assert.equal(ok.lineOf(['rings', 0, 'name']), 2);
});

test('a text naming another policy, a syntax error and a list at the top are refused at their line', () => {
  const named = checkPolicyText('name: db\ngroup: web\n', 'web', 1);
  assert.deepEqual(named.ok ? [] : named.issues, [{ line: 1, path: 'name', message: 'must be "web" (or left out)' }]);
  const broken = checkPolicyText('group: web\nrings:\n  - name: a\n    tags: [x, y\n', 'web', 1);
  assert.equal(broken.ok, false);
  assert.ok(!broken.ok && broken.issues.length === 1 && broken.issues[0].line !== null && broken.issues[0].line >= 4);
  const list = checkPolicyText('- a\n- b\n', 'web', 1);
  assert.deepEqual(list.ok ? [] : list.issues, [{ line: 1, path: '', message: 'expected a mapping at the top level' }]);
  const dup = readYaml('a: 1\nb: 2\na: 3\n');
  assert.ok(!dup.ok && dup.line === 3, 'a repeated key at its second place');
});

test('aliases that expand to an excessive size are a problem of the text, not a failure of the reader', () => {
  const lines = ['a0: &a0 [x, x, x, x, x, x, x, x, x, x]'];
  for (let i = 1; i < 10; i++)
    lines.push(
      `a${i}: &a${i} [${Array(10)
        .fill(`*a${i - 1}`)
        .join(', ')}]`,
    );
  const bomb = readYaml(`${lines.join('\n')}\ngroup: *a9\n`);
  assert.equal(bomb.ok, false);
  assert.match(!bomb.ok ? bomb.reason : '', /cannot be read: Excessive alias count/);
  const policy = checkPolicyText(`${lines.join('\n')}\ngroup: *a9\n`, 'web', 1);
  assert.equal(policy.ok, false);
  // A few aliases, as configuration files use them, still read.
  const fine = readYaml('base: &b { x: 1 }\none: *b\ntwo: *b\n');
  assert.deepEqual(fine.ok && fine.data, { base: { x: 1 }, one: { x: 1 }, two: { x: 1 } });
});
