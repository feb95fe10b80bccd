import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mapEcosystem } from './ecosystems.ts';

test('a Debian ecosystem names a release only by a known major version, never by a member every JavaScript object has', () => {
  assert.deepEqual(mapEcosystem('Debian:12'), {
    distro: 'debian',
    release: 'bookworm',
    scheme: 'deb',
    key_kind: 'source',
  });
  for (const rest of ['constructor', 'toString', '__proto__', '99']) {
    assert.deepEqual(mapEcosystem(`Debian:${rest}`), { skip: `Debian:${rest} (no Debian release)` });
  }
});
