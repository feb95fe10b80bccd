import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { countLines, readDatabaseText, resolveInRoot } from './rootfs.ts';
import { InventoryError } from './reader.ts';
import { scratchDir } from '../../test/support/scratch-dir.ts';

test('resolveInRoot: absolute and relative links stay inside the root; .. never climbs above it', async (t) => {
  const root = scratchDir(t);
  mkdirSync(path.join(root, 'usr/lib/apk/db'), { recursive: true });
  mkdirSync(path.join(root, 'etc'));
  symlinkSync('/usr/lib', path.join(root, 'lib'));
  symlinkSync('../usr/lib/os-release', path.join(root, 'etc/os-release'));
  symlinkSync('/../../../../etc/passwd', path.join(root, 'etc/escape'));
  assert.equal(await resolveInRoot(root, 'lib/apk/db/installed'), path.join(root, 'usr/lib/apk/db/installed'));
  assert.equal(await resolveInRoot(root, '/etc/os-release'), path.join(root, 'usr/lib/os-release'));
  assert.equal(await resolveInRoot(root, 'etc/escape'), path.join(root, 'etc/passwd'));
  assert.equal(await resolveInRoot(root, 'missing/../../../x'), path.join(root, 'x'));
  assert.equal(await resolveInRoot('/', 'etc/os-release'), '/etc/os-release');
});

test('resolveInRoot: a link loop is an InventoryError', async (t) => {
  const root = scratchDir(t);
  symlinkSync('b', path.join(root, 'a'));
  symlinkSync('a', path.join(root, 'b'));
  await assert.rejects(
    resolveInRoot(root, 'a/file'),
    (err: unknown) => err instanceof InventoryError && /too many levels of symbolic links/.test(err.message),
  );
});

test('readDatabaseText: unreadable and binary files are InventoryErrors naming the file', async (t) => {
  const dir = scratchDir(t);
  await assert.rejects(readDatabaseText(dir), new InventoryError(dir, 'cannot read: is a directory'));
  const bin = path.join(dir, 'bin');
  writeFileSync(bin, 'a\nb\nc\0');
  await assert.rejects(
    readDatabaseText(bin),
    new InventoryError(bin, 'line 3: binary data (NUL byte); not a text package database'),
  );
  assert.equal(countLines('a\nb\nc', 0), 1);
  assert.equal(countLines('a\nb\nc', 4), 3);
});
