import { test } from 'node:test';
import assert from 'node:assert/strict';
import { openVexSchema, parseDebPurl, VexOverlay } from './vex.ts';

test('deb purls: parts decoded; malformed percent-encoding is no purl (found by the fuzz suite)', () => {
  assert.deepEqual(parseDebPurl('pkg:deb/ubuntu/curl@7.81.0-1ubuntu1.24?arch=source&distro=jammy'), {
    name: 'curl',
    version: '7.81.0-1ubuntu1.24',
    arch: 'source',
    distro: 'jammy',
  });
  assert.deepEqual(parseDebPurl('pkg:deb/ubuntu/libstdc%2B%2B6@12.3.0?arch=source&distro=jammy')?.name, 'libstdc++6');
  assert.equal(parseDebPurl('pkg:deb/ubuntu/%ZZ@1.0?arch=source&distro=jammy'), null);
  assert.equal(parseDebPurl('pkg:deb/ubuntu/curl@7.81%E0?arch=source&distro=jammy'), null);
});

test('a VEX statement keeps its well-formed products and skips one with a malformed purl', () => {
  const doc = openVexSchema.parse({
    '@context': 'https://openvex.dev/ns/v0.2.0',
    statements: [
      {
        vulnerability: { name: 'CVE-2024-0001' },
        status: 'affected',
        action_statement: 'Pending',
        products: [
          { '@id': 'pkg:deb/ubuntu/%ZZ?arch=source&distro=jammy' },
          { '@id': 'pkg:deb/ubuntu/curl?arch=source&distro=jammy' },
        ],
      },
    ],
  });
  const overlay = new VexOverlay();
  assert.equal(overlay.add(doc), 1);
  assert.ok(overlay.get('CVE-2024-0001', 'jammy', 'curl'));
});
