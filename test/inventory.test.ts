// readInventory across readers, os-release and kernel, on the real package databases in
// shared/data/pkgdb laid out as root filesystems (and scratch roots combining them).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { comparePackages, inventoryReaders, readInventory, InventoryError } from '../src/inventory/index.ts';
import { SHARED_DATA } from './support/paths.ts';

const PKGDB = path.join(SHARED_DATA, 'pkgdb');

function scratchRoot(t: { after(fn: () => void): void }, files: Record<string, string>): string {
  const root = mkdtempSync(path.join(os.tmpdir(), 'patchloop-inventory-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  for (const [rel, from] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
    copyFileSync(from, path.join(root, rel));
  }
  return root;
}

test('the registry has one reader per format', () => {
  assert.deepEqual(inventoryReaders.map((r) => r.format).sort(), ['apk', 'deb', 'rpm']);
});

test('bookworm-host: Debian 12, no kernel for another root unless given, 729 packages in name order', async () => {
  const root = path.join(PKGDB, 'dpkg/bookworm-host');
  const inv = await readInventory(root);
  assert.deepEqual(inv.os, {
    id: 'debian',
    version_id: '12',
    codename: 'bookworm',
    pretty_name: 'Debian GNU/Linux 12 (bookworm)',
    id_like: [],
  });
  assert.equal(inv.kernel, null);
  assert.equal(inv.packages.length, 729);
  assert.deepEqual(inv.warnings, []);
  assert.deepEqual([...inv.packages].sort(comparePackages), inv.packages);
  assert.ok(inv.packages.every((p) => p.format === 'deb'));
  assert.equal((await readInventory(root, { kernel: '6.1.0-18-amd64' })).kernel, '6.1.0-18-amd64');
});

test('distroless and Alpine roots without os-release: packages read, the missing os-release is a warning', async () => {
  const distroless = await readInventory(path.join(PKGDB, 'dpkg/syft-distroless'));
  assert.deepEqual(
    distroless.packages.map((p) => `${p.name} ${p.version} ${p.format}`),
    ['libsqlite3-0 3.34.1-3 deb'],
  );
  assert.equal(distroless.os.id, '');
  assert.match(distroless.warnings?.join('\n') ?? '', /no os-release under/);

  const alpine = await readInventory(path.join(PKGDB, 'apk/syft-multiple-2'));
  assert.equal(alpine.packages.length, 14);
  assert.ok(alpine.packages.every((p) => p.format === 'apk'));
  assert.equal(alpine.packages[0].name, 'alpine-baselayout');
});

test('a root with both dpkg and apk databases: both read, with a warning naming them', async (t) => {
  const root = scratchRoot(t, {
    'var/lib/dpkg/status': path.join(PKGDB, 'dpkg/scalibr/valid'),
    'lib/apk/db/installed': path.join(PKGDB, 'apk/trivy/lib/apk/db/installed'),
    'etc/os-release': path.join(PKGDB, 'dpkg/bookworm-host/etc/os-release'),
  });
  const inv = await readInventory(root);
  assert.deepEqual(
    inv.packages.map((p) => `${p.format}:${p.name}`),
    [
      'deb:accountsservice',
      'deb:acl',
      'deb:adduser',
      'deb:admin-session',
      'deb:attr',
      'deb:libacl1',
      'apk:musl',
      'deb:util-linux-extra',
    ],
  );
  assert.deepEqual(inv.warnings, [
    `several package databases found, all read: deb (${root}/var/lib/dpkg/status), apk (${root}/lib/apk/db/installed)`,
  ]);
});

test('one database unreadable beside a readable one: a warning; all unreadable: the InventoryError', async (t) => {
  const root = scratchRoot(t, {
    'var/lib/dpkg/status': path.join(PKGDB, 'dpkg/scalibr/invalid'),
    'lib/apk/db/installed': path.join(PKGDB, 'apk/trivy/lib/apk/db/installed'),
  });
  const inv = await readInventory(root);
  assert.deepEqual(
    inv.packages.map((p) => p.name),
    ['musl'],
  );
  assert.ok(
    inv.warnings?.some(
      (w) =>
        w.startsWith(`${root}/var/lib/dpkg/status: no valid package record`) &&
        w.endsWith('(skipped; other package databases were read)'),
    ),
  );

  const broken = scratchRoot(t, { 'var/lib/dpkg/status': path.join(PKGDB, 'dpkg/scalibr/invalid') });
  await assert.rejects(
    readInventory(broken),
    (err: unknown) => err instanceof InventoryError && err.file === `${broken}/var/lib/dpkg/status`,
  );
});

test('no package database, or no such root: InventoryError with a clear message', async (t) => {
  const empty = scratchRoot(t, { 'etc/os-release': path.join(PKGDB, 'dpkg/bookworm-host/etc/os-release') });
  await assert.rejects(readInventory(empty), (err: unknown) => {
    assert.ok(err instanceof InventoryError);
    assert.equal(
      err.message,
      `${empty}: no package database found (looked for deb, rpm, apk: e.g. var/lib/dpkg/status, lib/apk/db/installed, var/lib/rpm)`,
    );
    return true;
  });
  await assert.rejects(
    readInventory(path.join(empty, 'missing')),
    new InventoryError(path.join(empty, 'missing'), 'no such directory'),
  );
  await assert.rejects(readInventory(path.join(empty, 'etc/os-release')), /not a directory/);
});

test('this host (root /): the running kernel', async () => {
  const inv = await readInventory('/');
  assert.equal(inv.kernel, os.release());
  assert.ok(inv.packages.length > 0);
});
