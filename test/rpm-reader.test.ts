// The rpm inventory reader on root filesystems: where it looks, which database it prefers,
// that links resolve inside the root, and what it reports.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { InventoryError } from '../src/inventory/reader.ts';
import { rpmReader } from '../src/inventory/rpm/index.ts';
import { parseHeaderFields } from '../src/inventory/rpm/header.ts';
import { buildNdb, fixture, marinerHeaders } from './support/rpm-databases.ts';
import { scratchDir } from './support/scratch-dir.ts';

function place(root: string, rel: string, source: string): string {
  const dest = path.join(root, rel);
  mkdirSync(path.dirname(dest), { recursive: true });
  copyFileSync(source, dest);
  return dest;
}

const SQLITE = fixture('sqlite-cbl-mariner-2.0/rpmdb.sqlite');
const NDB = fixture('ndb-sle15-bci/Packages.db');
const BDB = fixture('bdb-libuuid/Packages');

test('a Fedora-style root: the database in usr/lib/sysimage/rpm, var/lib/rpm an absolute link to it', async (t) => {
  const root = scratchDir(t);
  const db = place(root, 'usr/lib/sysimage/rpm/rpmdb.sqlite', SQLITE);
  mkdirSync(path.join(root, 'var/lib'), { recursive: true });
  symlinkSync('/usr/lib/sysimage/rpm', path.join(root, 'var/lib/rpm'));
  assert.equal(await rpmReader.detect(root), db);
  const result = await rpmReader.read(root, db);
  assert.equal(result.packages.length, 129);
  assert.deepEqual(result.warnings, [], 'one database reached by two paths is not two databases');
  const glibc = result.packages.find((p) => p.name === 'glibc');
  assert.deepEqual(glibc, {
    name: 'glibc',
    version: '2.34-2.cm2',
    arch: 'x86_64',
    source: 'glibc',
    source_version: '2.34-2.cm2',
    format: 'rpm',
    vendor: 'Microsoft Corporation',
  });
});

test('a RHEL 7/8-style root: var/lib/rpm/Packages, read as Berkeley DB', async (t) => {
  const root = scratchDir(t);
  const db = place(root, 'var/lib/rpm/Packages', BDB);
  assert.equal(await rpmReader.detect(root), db);
  const result = await rpmReader.read(root, db);
  assert.deepEqual(result, {
    packages: [
      {
        name: 'libuuid',
        version: '2.32.1-42.el8_8',
        arch: 'x86_64',
        source: 'util-linux',
        source_version: '2.32.1-42.el8_8',
        format: 'rpm',
        vendor: 'Red Hat, Inc.',
      },
    ],
    warnings: [],
  });
});

test('SQLite is preferred over a Berkeley DB left beside it, and the leftover is named in a warning', async (t) => {
  const root = scratchDir(t);
  const bdb = place(root, 'var/lib/rpm/Packages', BDB);
  const sqlite = place(root, 'var/lib/rpm/rpmdb.sqlite', SQLITE);
  assert.equal(await rpmReader.detect(root), sqlite);
  const result = await rpmReader.read(root, sqlite);
  assert.equal(result.packages.length, 129);
  assert.deepEqual(result.warnings, [`${sqlite}: read this sqlite database; also present and ignored: ${bdb} (bdb)`]);
});

test('NDB is preferred over Berkeley DB, whichever directory each is in', async (t) => {
  const root = scratchDir(t);
  const bdb = place(root, 'usr/lib/sysimage/rpm/Packages', BDB);
  const ndb = place(root, 'var/lib/rpm/Packages.db', NDB);
  assert.equal(await rpmReader.detect(root), ndb);
  const result = await rpmReader.read(root, ndb);
  assert.equal(result.packages.length, 35);
  assert.deepEqual(result.warnings, [`${ndb}: read this ndb database; also present and ignored: ${bdb} (bdb)`]);
});

test('no rpm database under the root: detect finds nothing', async (t) => {
  const root = scratchDir(t);
  assert.equal(await rpmReader.detect(root), null);
  mkdirSync(path.join(root, 'var/lib/rpm'), { recursive: true });
  writeFileSync(path.join(root, 'var/lib/rpm/.rpm.lock'), '');
  mkdirSync(path.join(root, 'var/lib/rpm/Packages')); // a directory, not a database
  assert.equal(await rpmReader.detect(root), null);
});

test('an absolute link is followed inside the root, never to the scanning host', async (t) => {
  const outside = scratchDir(t);
  place(outside, 'rpm/Packages', BDB); // exists on the host at this absolute path
  const root = scratchDir(t);
  mkdirSync(path.join(root, 'var/lib'), { recursive: true });
  symlinkSync(path.join(outside, 'rpm'), path.join(root, 'var/lib/rpm'));
  assert.equal(await rpmReader.detect(root), null);
});

test('reading an invalid database is an InventoryError naming the file', async () => {
  const file = fixture('invalid/Packages');
  await assert.rejects(rpmReader.read(path.dirname(file), file), (err: unknown) => {
    assert.ok(err instanceof InventoryError);
    assert.equal(err.file, file);
    assert.equal(err.message, `${file}: not an rpm database (neither SQLite, NDB nor Berkeley DB hash)`);
    return true;
  });
});

test('a missing database file is an InventoryError naming it', async (t) => {
  const file = path.join(scratchDir(t), 'var/lib/rpm/Packages');
  await assert.rejects(
    rpmReader.read(path.dirname(file), file),
    (err: unknown) => err instanceof InventoryError && err.file === file && /cannot read/.test(err.message),
  );
});

test('a damaged NDB blob is skipped with a warning that names the record and the checksum finding', async (t) => {
  const root = scratchDir(t);
  const headers = marinerHeaders().slice(0, 3);
  const image = buildNdb(headers);
  const view = new DataView(image.buffer);
  const second = view.getUint32(32 + 16 + 8, true) * 16; // the blob of package 2
  view.setUint32(second + 16, 0x00ffffff); // its header's index count
  const db = path.join(root, 'usr/lib/sysimage/rpm/Packages.db');
  mkdirSync(path.dirname(db), { recursive: true });
  writeFileSync(db, image);
  const result = await rpmReader.read(root, db);
  assert.deepEqual(
    result.packages.map((p) => p.name),
    headers.filter((h) => h.id !== 2).map((h) => parseHeaderFields(h.blob).name),
  );
  assert.equal(result.warnings.length, 1);
  assert.match(
    result.warnings[0],
    new RegExp(
      `^${db.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: record 2: corrupt header: header claims 16777215 index entries \\(allowed 1\\.\\.65535\\); ` +
        'its Adler-32 0x[0-9a-f]{8} differs from the stored 0x[0-9a-f]{8}: the blob is damaged on disk; record skipped$',
    ),
  );
});
