import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { dpkgReader, parseDpkgStatus, readDpkgDatabase } from './dpkg.ts';
import { InventoryError } from './reader.ts';
import { dpkgQueryInstalled, haveDpkgQuery, packageLines } from '../../test/support/dpkg-query.ts';
import { pkgdb } from '../../test/support/paths.ts';
import { scratchDir } from '../../test/support/scratch-dir.ts';

const NO_DPKG = haveDpkgQuery() ? false : 'dpkg-query is not installed';

/** A scratch dpkg admin directory whose status file is a copy of `fixture` (for dpkg-query). */
function adminDirWith(t: { after(fn: () => void): void }, fixture: string): string {
  const dir = scratchDir(t);
  copyFileSync(fixture, path.join(dir, 'status'));
  mkdirSync(path.join(dir, 'updates'));
  mkdirSync(path.join(dir, 'info'));
  return dir;
}

const find = <P extends { name: string }>(pkgs: P[], name: string): P[] => pkgs.filter((p) => p.name === name);

test(
  'bookworm-host: the same 729 packages, versions, arches and sources as dpkg-query',
  { skip: NO_DPKG },
  async () => {
    const admin = pkgdb('dpkg/bookworm-host/var/lib/dpkg');
    const r = await readDpkgDatabase(path.join(admin, 'status'));
    assert.deepEqual(r.warnings, []);
    assert.equal(r.packages.length, 729);
    assert.deepEqual(packageLines(r.packages), dpkgQueryInstalled(admin));
  },
);

test('bookworm-host: the source version comes from Source: (binNMU, epoch only on the binary)', async () => {
  const r = await readDpkgDatabase(pkgdb('dpkg/bookworm-host/var/lib/dpkg/status'));
  const line = (name: string) => packageLines(find(r.packages, name));
  // Stanzas as read in the fixture (Package, Architecture, Source, Version).
  assert.deepEqual(line('bash'), ['bash\t5.2.15-2+b8\tamd64\tbash\t5.2.15-2']);
  assert.deepEqual(line('bsdutils'), ['bsdutils\t1:2.38.1-5+deb12u3\tamd64\tutil-linux\t2.38.1-5+deb12u3']);
  assert.deepEqual(line('cpp'), ['cpp\t4:12.2.0-3\tamd64\tgcc-defaults\t1.203']);
  for (const p of r.packages) assert.equal(p.format, 'deb');
});

test("this machine's own status file matches dpkg-query -W", { skip: NO_DPKG }, async (t) => {
  const status = '/var/lib/dpkg/status';
  try {
    statSync(status);
  } catch {
    t.skip('no /var/lib/dpkg/status here');
    return;
  }
  // Other processes may install packages meanwhile: compare only when the file did not change.
  for (let attempt = 0; ; attempt++) {
    const before = statSync(status).mtimeMs;
    const ours = packageLines((await readDpkgDatabase(status)).packages);
    const theirs = dpkgQueryInstalled('/var/lib/dpkg');
    if (statSync(status).mtimeMs !== before && attempt < 3) continue;
    assert.ok(ours.length > 100, `only ${ours.length} packages`);
    assert.deepEqual(ours, theirs);
    break;
  }
});

test(
  'scalibr/valid: seven packages, as dpkg-query reads them, epoch and binNMU source kept',
  { skip: NO_DPKG },
  async (t) => {
    const file = pkgdb('dpkg/scalibr/valid');
    const r = await readDpkgDatabase(file);
    assert.deepEqual(r.warnings, []);
    assert.deepEqual(packageLines(r.packages), dpkgQueryInstalled(adminDirWith(t, file)));
    assert.deepEqual(find(r.packages, 'attr')[0], {
      name: 'attr',
      version: '1:2.5.1-4',
      arch: 'amd64',
      source: 'attr',
      source_version: '1:2.5.1-4',
      format: 'deb',
    });
    assert.deepEqual(find(r.packages, 'util-linux-extra')[0], {
      name: 'util-linux-extra',
      version: '2.38.1-5+b1',
      arch: 'amd64',
      source: 'util-linux',
      source_version: '2.38.1-5',
      format: 'deb',
    });
    assert.deepEqual(find(r.packages, 'libacl1')[0].source, 'acl');
  },
);

test(
  'scalibr/statusfield: every state with files on disk counts; config-files does not; no Status is installed',
  { skip: NO_DPKG },
  async (t) => {
    const file = pkgdb('dpkg/scalibr/statusfield');
    const r = await readDpkgDatabase(file);
    const names = r.packages.map((p) => p.name);
    assert.deepEqual(names, [
      'wantinstall_installed',
      'wantdeinstall_installed',
      'wantinstall_unpacked',
      'wantpurge_installed',
      'wantinstall_halfinstalled',
      'wantnostatus',
    ]);
    // dpkg-query agrees on all but the record without Status, which dpkg would call not-installed.
    const reference = dpkgQueryInstalled(adminDirWith(t, file));
    assert.deepEqual(packageLines(r.packages.filter((p) => p.name !== 'wantnostatus')), reference);
    assert.deepEqual(r.warnings, [`${file}:25: package wantnostatus has no Status field; counted as installed`]);
  },
);

test('scalibr: a record without Package or Version is a warning with its line, the rest is read', async () => {
  const noPackage = pkgdb('dpkg/scalibr/nopackage');
  const a = await readDpkgDatabase(noPackage);
  assert.deepEqual(
    a.packages.map((p) => `${p.name} ${p.version}`),
    ['foo 1.0', 'bar 2.0'],
  );
  assert.deepEqual(a.warnings, [`${noPackage}:5: record skipped: no Package field`]);

  const noVersion = pkgdb('dpkg/scalibr/noversion');
  const b = await readDpkgDatabase(noVersion);
  assert.deepEqual(
    b.packages.map((p) => `${p.name} ${p.version}`),
    ['foo 1.0', 'bar 2.0'],
  );
  assert.deepEqual(b.warnings, [`${noVersion}:5: package acl skipped: no Version field`]);
});

test('scalibr: garbage only is an InventoryError naming the file and line; empty is an empty list with a warning', async () => {
  const invalid = pkgdb('dpkg/scalibr/invalid');
  await assert.rejects(readDpkgDatabase(invalid), (err: unknown) => {
    assert.ok(err instanceof InventoryError);
    assert.equal(err.file, invalid);
    assert.match(err.message, /no valid package record, 2 corrupt/);
    assert.ok(err.message.includes(`${invalid}:1:`), err.message);
    return true;
  });
  const empty = pkgdb('dpkg/scalibr/empty');
  const r = await readDpkgDatabase(empty);
  assert.deepEqual(r.packages, []);
  assert.deepEqual(r.warnings, [`${empty}: no installed package recorded`]);
});

test('scalibr: trailing blank lines, transitional packages and a file without final newline', async () => {
  const trailing = await readDpkgDatabase(pkgdb('dpkg/scalibr/trailingnewlines'));
  assert.deepEqual(packageLines(trailing.packages), ['acl\t2.3.1-3\tamd64\tacl\t2.3.1-3']);
  assert.deepEqual(trailing.warnings, []);
  const lines = [];
  for (const f of ['transitional', 'transitional_dummy', 'transitional_empty']) {
    lines.push(...packageLines((await readDpkgDatabase(pkgdb(`dpkg/scalibr/${f}`))).packages));
  }
  assert.deepEqual(lines, [
    'iceweasel\t78.13.0esr-1~deb10u1\tall\tfirefox-esr\t78.13.0esr-1~deb10u1',
    'git-core\t1:2.14.2-1\tall\tgit\t1:2.14.2-1',
    'runit-systemd\t2.1.2-54+usrmerge\tall\trunit\t2.1.2-54+usrmerge',
  ]);
  const osv = await readDpkgDatabase(pkgdb('dpkg/osv-scanner-status'));
  assert.deepEqual(packageLines(osv.packages), ['adduser\t3.118\tall\tadduser\t3.118']);
});

test('status.d: one file per package, .md5sums skipped, config-files excluded', async () => {
  const r = await readDpkgDatabase(pkgdb('dpkg/scalibr/status.d'));
  assert.deepEqual(packageLines(r.packages), ['foo\t1.2.3\tamd64\tfoo\t1.2.3']);
  assert.deepEqual(r.warnings, []);
});

test('distroless status.d (syft): detected under the root, Source without version', async () => {
  const root = pkgdb('dpkg/syft-distroless');
  const db = await dpkgReader.detect(root);
  assert.equal(db, path.join(root, 'var/lib/dpkg/status.d'));
  const r = await dpkgReader.read(root, db as string);
  assert.deepEqual(r.packages, [
    {
      name: 'libsqlite3-0',
      version: '3.34.1-3',
      arch: 'arm64',
      source: 'sqlite3',
      source_version: '3.34.1-3',
      format: 'deb',
    },
  ]);
  assert.deepEqual(r.warnings, []);
});

test('syft status.d: corrupt and empty entries warn with file and line; every real package is read', async () => {
  const dir = pkgdb('dpkg/syft-status.d/var/lib/dpkg/status.d');
  const r = await readDpkgDatabase(dir);
  // Files and their packages, read from the fixture: coreutils-relationships (9), deinstall
  // (1 installed, 1 config-files), doc-examples (5 with a Version), installed-size-4KB and
  // single (the same apt 1.8.2), libpam-runtime (1), multiple (2).
  assert.equal(r.packages.length, 9 + 1 + 5 + 1 + 1 + 2);
  assert.deepEqual(find(r.packages, 'apt').length, 1);
  assert.deepEqual(find(r.packages, 'linux-image-6.8.0-1029-aws'), []);
  assert.deepEqual(find(r.packages, 'linux-image-6.14.0-1012-aws')[0].source, 'linux-signed-aws-6.14');
  assert.deepEqual(find(r.packages, 'libselinux1')[0], {
    name: 'libselinux1',
    version: '3.4-1+b6',
    arch: 'arm64',
    source: 'libselinux',
    source_version: '3.4-1',
    format: 'deb',
  });
  assert.deepEqual(find(r.packages, 'tzdata')[0].source, 'tzdata-dev');
  const w = r.warnings;
  assert.ok(
    w.includes(`${dir}/corrupt:1: record skipped: no Package field (line 5: not a "Field: value" line)`),
    w.join('\n'),
  );
  assert.ok(w.includes(`${dir}/empty:1: record skipped: empty Package field`));
  assert.ok(w.includes(`${dir}/multiple:3: package no-version skipped: no Version field`));
  assert.ok(w.includes(`${dir}/doc-examples:28: package foo skipped: no Version field`));
  for (const line of w) assert.match(line, /^\/.+:\d+: /);
});

test('syft image: an empty Package stanza warns and the rest is read', async () => {
  const root = pkgdb('dpkg/syft-image-dpkg');
  const file = path.join(root, 'var/lib/dpkg/status');
  assert.equal(await dpkgReader.detect(root), file);
  const r = await dpkgReader.read(root, file);
  assert.deepEqual(packageLines(r.packages), ['libpam-runtime\t1.1.8-3.6\tall\tpam\t1.1.8-3.6']);
  assert.deepEqual(r.warnings, [`${file}:1: record skipped: empty Package field`]);
});

test(
  'the updates/ journal dpkg has not folded in yet replaces records, as dpkg-query applies it',
  { skip: NO_DPKG },
  async (t) => {
    const admin = adminDirWith(t, pkgdb('dpkg/scalibr/valid'));
    // adduser upgraded, acl removed (config files kept), a new package installed.
    writeFileSync(
      path.join(admin, 'updates', '0000'),
      'Package: adduser\nStatus: install ok installed\nArchitecture: all\nVersion: 3.134\n',
    );
    writeFileSync(
      path.join(admin, 'updates', '0001'),
      'Package: acl\nStatus: deinstall ok config-files\nArchitecture: amd64\nVersion: 2.3.1-3\n\nPackage: newpkg\nStatus: install ok unpacked\nArchitecture: amd64\nSource: newsrc (1.0-1)\nVersion: 1.0-1+b2\n',
    );
    const r = await readDpkgDatabase(path.join(admin, 'status'));
    assert.deepEqual(packageLines(r.packages), dpkgQueryInstalled(admin));
    assert.equal(find(r.packages, 'adduser')[0].version, '3.134');
    assert.deepEqual(find(r.packages, 'acl'), []);
    assert.equal(find(r.packages, 'newpkg')[0].source_version, '1.0-1');
  },
);

test('a status file with binary data is an InventoryError naming the line; a missing one too', async (t) => {
  const dir = scratchDir(t);
  const file = path.join(dir, 'status');
  writeFileSync(file, 'Package: a\nVersion: 1\n\nPackage: b\0\0\0\n');
  await assert.rejects(
    readDpkgDatabase(file),
    new InventoryError(file, 'line 4: binary data (NUL byte); not a text package database'),
  );
  await assert.rejects(readDpkgDatabase(path.join(dir, 'nothing')), /nothing: no such file or directory/);
});

test('parseDpkgStatus: folded fields, case-insensitive names, CRLF, malformed Status and Source', () => {
  const text = [
    'package: lower',
    'VERSION: 1.0-1',
    'Depends: a,',
    ' b',
    'Architecture: amd64',
    'Source: src (oops',
    '',
    'Package: weird',
    'Status: install ok',
    'Version: 2',
    '',
    'Package: crlf\r',
    'Version: 3\r',
    'Status: install ok installed\r',
    '',
  ].join('\n');
  const r = parseDpkgStatus(text, 'F', 'status');
  assert.deepEqual(
    r.records.map((x) => [x.pkg.name, x.pkg.version, x.pkg.source, x.onDisk]),
    [
      ['lower', '1.0-1', 'lower', true],
      ['weird', '2', 'weird', true],
      ['crlf', '3', 'crlf', true],
    ],
  );
  assert.deepEqual(r.warnings, [
    'F:1: package lower has no Status field; counted as installed',
    'F:1: package lower: malformed Source "src (oops"; using the binary\'s own name and version',
    'F:8: package weird has an unrecognised Status "install ok"; counted as installed',
  ]);
});
