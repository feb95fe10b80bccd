import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PolicyError } from '../core/policy/schema.ts';
import { parsePolicyText } from './policy-file.ts';

const YAML = `name: web
version: 3
group: web
install:
  updates: security
  blocklist: [libc6, "linux-image-*"]
schedule:
  windows:
    - days: [tue, thu]
      start: "01:30"
      end: "04:00"
      time_zone: Europe/Berlin
rings:
  - name: canary
    tags: [canary]
  - name: rest
    soak_hours: 24
reboot:
  mode: when_required
  max_concurrent: 2
`;

test('a YAML policy file', () => {
  const p = parsePolicyText(YAML, 'web.yaml');
  assert.equal(p.schedule.windows[0].time_zone, 'Europe/Berlin');
  assert.deepEqual(
    p.rings.map((r) => r.soak_hours),
    [0, 24],
  );
  assert.equal(parsePolicyText(JSON.stringify(p), 'web.json').reboot.max_concurrent, 2, 'JSON is YAML too');
});

test('problems name the file and the line of the offending value', () => {
  const bad = YAML.replace('time_zone: Europe/Berlin', 'time_zone: Europe/Berln').replace(
    'max_concurrent: 2',
    'max_concurrent: 0',
  );
  assert.throws(
    () => parsePolicyText(bad, 'web.yaml'),
    (err: unknown) => {
      assert.ok(err instanceof PolicyError);
      assert.deepEqual(
        err.issues.map((i) => i.path),
        ['schedule.windows[0].time_zone (line 12)', 'reboot.max_concurrent (line 20)'],
      );
      assert.match(err.message, /^web\.yaml: invalid policy:/);
      return true;
    },
  );
  assert.throws(
    () => parsePolicyText('name: [unclosed\n', 'x.yaml'),
    (err: unknown) => err instanceof PolicyError && /x\.yaml: invalid policy:\n {2}line \d+: /.test(err.message),
  );
  assert.throws(
    () => parsePolicyText('version: 2\n', 'x.yaml'),
    (err: unknown) => err instanceof PolicyError && err.issues.some((i) => i.path.startsWith('group')),
  );
  assert.throws(
    () => parsePolicyText('group: web\n', '/tmp/web policy.yaml'),
    (err: unknown) =>
      err instanceof PolicyError && /name: not given, and the file name does not make one/.test(err.message),
  );
});

test('name and version may be left out, as PUT /api/v1/policies/NAME allows: the file names it, version 1', () => {
  const p = parsePolicyText('group: web\n', '/etc/patchloop/web-servers.yml');
  assert.deepEqual([p.name, p.version, p.group], ['web-servers', 1, 'web']);
  const named = parsePolicyText('name: db\nversion: 4\ngroup: db\n', 'anything.json');
  assert.deepEqual([named.name, named.version], ['db', 4]);
});
