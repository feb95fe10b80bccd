import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, readFileSync, symlinkSync } from 'node:fs';
import path from 'node:path';
import { apkReader, parseApkInstalled, readApkDatabase } from './apk.ts';
import { InventoryError } from './reader.ts';
import { pkgdb } from '../../test/support/paths.ts';
import { scratchDir } from '../../test/support/scratch-dir.ts';

/** `name version` of every record, read from the fixture's P: and V: lines directly. */
function recordedNameVersions(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const names = [...text.matchAll(/^P:(.*)$/gm)].map((m) => m[1]);
  const versions = [...text.matchAll(/^V:(.*)$/gm)].map((m) => m[1]);
  assert.equal(names.length, versions.length);
  return names.map((n, i) => `${n} ${versions[i]}`);
}

const VALID = [
  'osv-scanner-installed',
  'scalibr/different-arch',
  'scalibr/installed',
  'scalibr/no-origin',
  'scalibr/single',
  'syft-multiple-1/lib/apk/db/installed',
  'syft-multiple-2/lib/apk/db/installed',
  'trivy/lib/apk/db/installed',
];

test('every valid fixture: one package per record, in file order, without warnings', async () => {
  for (const rel of VALID) {
    const file = pkgdb(`apk/${rel}`);
    const r = await readApkDatabase(file);
    assert.deepEqual(r.warnings, [], rel);
    assert.deepEqual(
      r.packages.map((p) => `${p.name} ${p.version}`),
      recordedNameVersions(file),
      rel,
    );
    for (const p of r.packages) {
      assert.equal(p.format, 'apk');
      assert.equal(p.source_version, p.version);
    }
  }
});

test('scalibr/installed: 15 packages; origin is the source (libc-utils from libc-dev, ssl_client from busybox)', async () => {
  const r = await readApkDatabase(pkgdb('apk/scalibr/installed'));
  assert.equal(r.packages.length, 15);
  const by = new Map(r.packages.map((p) => [p.name, p]));
  assert.deepEqual(by.get('libc-utils'), {
    name: 'libc-utils',
    version: '0.7.2-r5',
    arch: 'x86_64',
    source: 'libc-dev',
    source_version: '0.7.2-r5',
    format: 'apk',
  });
  assert.equal(by.get('ssl_client')?.source, 'busybox');
  assert.equal(by.get('libssl3')?.source, 'openssl');
});

test('no origin: the package is its own source; noarch is kept as the arch', async () => {
  const a = await readApkDatabase(pkgdb('apk/scalibr/no-origin'));
  assert.deepEqual(a.packages, [
    { name: 'pkgname', version: '1.2.3', arch: 'x86_64', source: 'pkgname', source_version: '1.2.3', format: 'apk' },
  ]);
  const b = await readApkDatabase(pkgdb('apk/scalibr/different-arch'));
  assert.deepEqual(
    b.packages.map((p) => [p.arch, p.source]),
    [['noarch', 'alpine-baselayout']],
  );
});

test('syft-corrupt: the garbage record warns with file and line, the real one is read', async () => {
  const root = pkgdb('apk/syft-corrupt');
  const file = path.join(root, 'lib/apk/db/installed');
  assert.equal(await apkReader.detect(root), file);
  const r = await apkReader.read(root, file);
  assert.deepEqual(
    r.packages.map((p) => `${p.name} ${p.version} ${p.source}`),
    ['alpine-baselayout-data 3.2.0-r22 alpine-baselayout'],
  );
  assert.deepEqual(r.warnings, [`${file}:1: record skipped: no P: (package name) line (line 1: not a "X:value" line)`]);
});

test('garbage only is an InventoryError; an empty database is empty with a warning', async () => {
  const invalid = pkgdb('apk/scalibr/invalid');
  await assert.rejects(readApkDatabase(invalid), (err: unknown) => {
    assert.ok(err instanceof InventoryError);
    assert.equal(err.file, invalid);
    assert.ok(err.message.includes(`${invalid}:1: record skipped`), err.message);
    return true;
  });
  const empty = pkgdb('apk/scalibr/empty');
  assert.deepEqual(await readApkDatabase(empty), {
    packages: [],
    warnings: [`${empty}: no installed package recorded`],
  });
});

test('usr-merged root: found through an absolute lib -> /usr/lib link, resolved inside the root', async (t) => {
  const root = scratchDir(t);
  mkdirSync(path.join(root, 'usr/lib/apk/db'), { recursive: true });
  copyFileSync(pkgdb('apk/trivy/lib/apk/db/installed'), path.join(root, 'usr/lib/apk/db/installed'));
  symlinkSync('/usr/lib', path.join(root, 'lib'));
  const db = await apkReader.detect(root);
  assert.equal(db, path.join(root, 'usr/lib/apk/db/installed'));
  assert.deepEqual(
    (await apkReader.read(root, db as string)).packages.map((p) => p.name),
    ['musl'],
  );
  assert.equal(await apkReader.detect(scratchDir(t)), null);
});

test('parseApkInstalled: missing version, repeated field and CRLF', () => {
  const r = parseApkInstalled('P:a\r\nV:1-r0\r\nA:x86_64\r\n\r\nP:b\nP:c\nV:2-r0\n\nP:d\nA:aarch64\n', 'F');
  assert.deepEqual(
    r.packages.map((p) => `${p.name} ${p.version} ${p.arch}`),
    ['a 1-r0 x86_64', 'c 2-r0 '],
  );
  assert.deepEqual(r.warnings, [
    'F:5: package c: malformed lines ignored (line 6: P: repeated)',
    'F:9: package d skipped: no V: (version) line',
  ]);
  assert.equal(r.corrupt, 1);
});
