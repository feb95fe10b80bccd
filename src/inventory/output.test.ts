import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Inventory } from '../core/types.ts';
import { alignColumns, inventoryJson, inventoryTable } from './output.ts';

const INVENTORY: Inventory = {
  os: { id: 'almalinux', version_id: '9.3', codename: '', pretty_name: 'AlmaLinux 9.3 (Shamrock Pampas Cat)' },
  kernel: '5.14.0-362.8.1.el9_3.x86_64',
  packages: [
    {
      name: 'nodejs',
      version: '1:18.18.2-1.module_el9.3.0+45+a1b2c3d4',
      arch: 'x86_64',
      source: 'nodejs',
      source_version: '1:18.18.2-1.module_el9.3.0+45+a1b2c3d4',
      format: 'rpm',
      epoch: 1,
      modularity_label: 'nodejs:18:9030020231027:a1b2c3d4',
      vendor: 'AlmaLinux',
    },
    {
      name: 'bash',
      version: '5.1.8-6.el9_1',
      arch: 'x86_64',
      source: 'bash',
      source_version: '5.1.8-6.el9_1',
      format: 'rpm',
    },
    {
      name: 'gpg-pubkey',
      version: 'b86b3716-61e69f29',
      arch: '',
      source: 'gpg-pubkey',
      source_version: 'b86b3716-61e69f29',
      format: 'rpm',
    },
  ],
};

test('JSON: contract keys in contract order, rpm extras after them only when set, sorted, warnings always present', () => {
  const doc = inventoryJson(INVENTORY);
  assert.deepEqual(Object.keys(doc), ['os', 'kernel', 'packages', 'warnings']);
  assert.deepEqual(doc.os.id_like, []);
  assert.deepEqual(doc.warnings, []);
  assert.deepEqual(
    doc.packages.map((p) => p.name),
    ['bash', 'gpg-pubkey', 'nodejs'],
  );
  assert.deepEqual(Object.keys(doc.packages[0]), ['name', 'version', 'arch', 'source', 'source_version', 'format']);
  assert.deepEqual(Object.keys(doc.packages[2]), [
    'name',
    'version',
    'arch',
    'source',
    'source_version',
    'format',
    'vendor',
    'modularity_label',
    'epoch',
  ]);
});

test('table: unknown values are marked, columns aligned, last column unpadded', () => {
  const text = inventoryTable({
    ...INVENTORY,
    os: { id: '', version_id: '', codename: '', pretty_name: '' },
    kernel: null,
  });
  const lines = text.split('\n');
  assert.equal(lines[0], 'OS:       (unknown) [id ?, version ?, codename ?]');
  assert.equal(lines[1], 'Kernel:   unknown');
  assert.equal(lines[2], 'Packages: 3');
  assert.match(lines[6], /^gpg-pubkey +b86b3716-61e69f29 +- +gpg-pubkey +b86b3716-61e69f29 +rpm$/);
  assert.ok(text.endsWith('rpm\n'));
  assert.deepEqual(
    alignColumns([
      ['a', 'bb', 'c'],
      ['ccc', 'd', 'e'],
    ]),
    ['a    bb  c', 'ccc  d   e'],
  );
});
