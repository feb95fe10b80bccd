import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { DatabaseSync } from 'node:sqlite';
import { ERROR_CODES, errorCode, isStorageFull, PatchloopError } from './errors.ts';
import { UnsupportedDistroError } from './distros.ts';
import { InvalidVersionError } from './version/scheme.ts';

test('an error keeps its code, class name and cause; any other error is internal', () => {
  const cause = new Error('os-release unreadable');
  const err = new UnsupportedDistroError('plan9 is not supported');
  assert.equal(err.code, 'PL_E_UNSUPPORTED_DISTRO');
  assert.equal(err.name, 'UnsupportedDistroError');
  assert.ok(err instanceof PatchloopError && err instanceof Error);
  assert.equal(new PatchloopError('PL_E_FAILED', 'x', { cause }).cause, cause);
  assert.equal(errorCode(new InvalidVersionError('deb', '1:', 'empty upstream version')), 'PL_E_INVALID_VERSION');
  assert.equal(errorCode(new TypeError('x is undefined')), 'PL_E_INTERNAL');
  assert.equal(errorCode('a string'), 'PL_E_INTERNAL');
});

test('a full disk is recognised from SQLite (also as a cause) and from the file system', () => {
  const db = new DatabaseSync(':memory:');
  db.exec('PRAGMA max_page_count = 2; CREATE TABLE t (x BLOB)');
  let full: unknown = null;
  try {
    for (let i = 0; i < 100; i++) db.prepare('INSERT INTO t VALUES (?)').run(Buffer.alloc(4096));
  } catch (err) {
    full = err;
  }
  db.close();
  assert.ok(full instanceof Error && /full/.test(full.message), String(full));
  assert.equal(isStorageFull(full), true);
  assert.equal(errorCode(full), 'PL_E_STORAGE_FULL');
  assert.equal(
    isStorageFull(new Error('write failed', { cause: Object.assign(new Error('no space'), { code: 'ENOSPC' }) })),
    true,
  );
  assert.equal(isStorageFull(Object.assign(new Error('denied'), { code: 'EACCES' })), false);
});

test('docs/errors.md lists every code', () => {
  const doc = readFileSync(new URL('../../docs/errors.md', import.meta.url), 'utf8');
  const listed = new Set([...doc.matchAll(/^\| `(PL_E_[A-Z_]+)` \|/gm)].map((m) => m[1]));
  assert.deepEqual([...listed].sort(), [...ERROR_CODES].sort());
});
