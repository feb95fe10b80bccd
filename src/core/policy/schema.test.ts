import { test } from 'node:test';
import assert from 'node:assert/strict';
import { defaultPolicy, parsePolicy, PolicyError } from './schema.ts';

test('a minimal policy gets safe defaults', () => {
  const p = parsePolicy({ name: 'web', version: 3, group: 'web' });
  assert.equal(p.install.updates, 'security');
  assert.equal(p.install.config_files, 'keep_local');
  assert.deepEqual(p.schedule.windows, []);
  assert.equal(p.schedule.runner, 'patchloop');
  assert.deepEqual(
    p.rings.map((r) => r.name),
    ['all'],
  );
  assert.equal(p.reboot.max_concurrent, 1);
  assert.equal(defaultPolicy().reboot.mode, 'never');
  // defaults are fresh objects, not one shared instance
  const q = parsePolicy({ name: 'web', version: 3, group: 'web' });
  q.install.blocklist.push('x');
  assert.deepEqual(p.install.blocklist, []);
});

test('invalid policies are rejected with the path of every problem', () => {
  const bad = {
    name: 'web',
    version: 0,
    group: 'web',
    install: { blocklist: ['libc6', 'bad name'] },
    schedule: { windows: [{ start: '02:00', end: '02:00', time_zone: 'Europe/Berln' }] },
    reboot: { mode: 'sometimes' },
    surprise: true,
  };
  try {
    parsePolicy(bad, 'policies/web.yaml');
    assert.fail('expected a PolicyError');
  } catch (err) {
    assert.ok(err instanceof PolicyError);
    const paths = err.issues.map((i) => i.path);
    for (const p of [
      'version',
      'install.blocklist[1]',
      'schedule.windows[0].time_zone',
      'reboot.mode',
      'schedule.windows[0].end',
    ]) {
      assert.ok(paths.includes(p), `missing issue for ${p}: ${JSON.stringify(err.issues)}`);
    }
    assert.ok(paths.includes('') || err.message.includes('surprise'), 'unknown keys are reported');
    assert.match(err.message, /^policies\/web\.yaml: invalid policy/);
    assert.match(err.message, /unknown time zone "Europe\/Berln"/);
  }
  // Rules across fields are checked once every field is valid on its own.
  assert.throws(
    () =>
      parsePolicy({
        name: 'web',
        version: 1,
        group: 'web',
        install: { blocklist: ['libc6'], allowlist: ['libc6'] },
        rings: [{ name: 'canary', soak_hours: 4 }, { name: 'canary' }],
      }),
    (err: unknown) => {
      assert.ok(err instanceof PolicyError);
      assert.deepEqual(err.issues.map((i) => i.path).sort(), [
        'install.allowlist[0]',
        'rings[0].soak_hours',
        'rings[1].name',
      ]);
      return true;
    },
  );
});
