// The SQLite rpm database reader: no side effects on the scanned tree, write-ahead logs seen
// whether or not a writer is running, and damaged files reported, never crashed on.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { InventoryError } from '../src/inventory/reader.ts';
import { scratchDir } from './support/scratch-dir.ts';
import { readRpmDatabase } from '../src/inventory/rpm/index.ts';
import { fixture, marinerHeaders, writeSqliteRpmdb } from './support/rpm-databases.ts';

const MARINER = fixture('sqlite-cbl-mariner-2.0/rpmdb.sqlite');
const headers = marinerHeaders();

async function rejectsWith(file: string, pattern: RegExp): Promise<void> {
  await assert.rejects(readRpmDatabase(file), (err: unknown) => {
    assert.ok(err instanceof InventoryError, String(err));
    assert.equal(err.file, file);
    assert.match(err.message, pattern);
    return true;
  });
}

test('reading a WAL-mode rpmdb.sqlite creates no -wal or -shm files beside it', async (t) => {
  const sharedBefore = readdirSync(path.dirname(MARINER));
  assert.equal((await readRpmDatabase(MARINER)).packages.length, 129);
  assert.deepEqual(readdirSync(path.dirname(MARINER)), sharedBefore);

  const dir = scratchDir(t);
  const file = path.join(dir, 'rpmdb.sqlite');
  copyFileSync(MARINER, file);
  assert.equal(readFileSync(file)[18], 2, 'the fixture is in WAL mode');
  const result = await readRpmDatabase(file);
  assert.equal(result.packages.length, 129);
  assert.deepEqual(readdirSync(dir), ['rpmdb.sqlite']);
});

test('changes still in the write-ahead log are read, with a writer running and from a copied image', async (t) => {
  const dir = scratchDir(t);
  const file = path.join(dir, 'rpmdb.sqlite');
  writeSqliteRpmdb(file, headers.slice(0, 5));
  // A writer that committed one more package and has not checkpointed it into the file.
  const writer = new DatabaseSync(file);
  t.after(() => writer.close());
  writer.exec('PRAGMA wal_autocheckpoint = 0');
  writer.prepare('INSERT INTO Packages (hnum, blob) VALUES (?, ?)').run(6, headers[5].blob);
  assert.ok(readdirSync(dir).includes('rpmdb.sqlite-shm'));

  const live = await readRpmDatabase(file);
  assert.deepEqual(live.warnings, []);
  assert.equal(live.packages.length, 6);
  assert.equal(live.packages[5].name, (await readRpmDatabase(MARINER)).packages[5].name);

  // The same files as an image would hold them: database and log, no shared-memory index.
  const image = scratchDir(t);
  copyFileSync(file, path.join(image, 'rpmdb.sqlite'));
  copyFileSync(`${file}-wal`, path.join(image, 'rpmdb.sqlite-wal'));
  const fromImage = await readRpmDatabase(path.join(image, 'rpmdb.sqlite'));
  assert.deepEqual(fromImage.packages, live.packages);
  assert.deepEqual(readdirSync(image).sort(), ['rpmdb.sqlite', 'rpmdb.sqlite-wal']);
});

test('an empty rpmdb.sqlite file is zero packages with a warning naming it', async () => {
  const file = fixture('sqlite-empty/rpmdb.sqlite');
  const result = await readRpmDatabase(file);
  assert.equal(result.kind, 'sqlite');
  assert.deepEqual(result.packages, []);
  assert.equal(result.warnings.length, 1);
  assert.ok(result.warnings[0].startsWith(`${file}: empty file (0 bytes)`));
});

test('a valid rpm SQLite database without rows is zero packages and no warnings', async (t) => {
  const file = path.join(scratchDir(t), 'rpmdb.sqlite');
  writeSqliteRpmdb(file, []);
  assert.deepEqual(await readRpmDatabase(file), { kind: 'sqlite', packages: [], warnings: [] });
});

test('an SQLite file without a Packages table is not an rpm database', async (t) => {
  const file = path.join(scratchDir(t), 'rpmdb.sqlite');
  const db = new DatabaseSync(file);
  db.exec('CREATE TABLE notes (body TEXT)');
  db.close();
  await rejectsWith(file, /no Packages table \(tables: notes\); not an rpm database/);
});

test('text that is not a database, under the SQLite file name, is an InventoryError', async (t) => {
  const file = path.join(scratchDir(t), 'rpmdb.sqlite');
  writeFileSync(file, 'asdf\n');
  await rejectsWith(file, /not an rpm database/);
});

test('a truncated rpmdb.sqlite is an InventoryError naming the file', async (t) => {
  const data = readFileSync(MARINER);
  const dir = scratchDir(t);
  for (const cut of [50, 4096, 4096 * 3, Math.floor(data.length / 2), data.length - 4096]) {
    const file = path.join(dir, `cut-${cut}`, 'rpmdb.sqlite');
    mkdirSync(path.dirname(file));
    writeFileSync(file, data.subarray(0, cut));
    await rejectsWith(
      file,
      cut < 100
        ? /not an SQLite database/
        : /truncated: \d+ bytes, but the SQLite header describes 880 pages of 4096 bytes/,
    );
  }
});

test('damaged rows become warnings naming the record; all rows damaged is an InventoryError', async (t) => {
  const dir = scratchDir(t);
  const file = path.join(dir, 'rpmdb.sqlite');
  const garbage = Uint8Array.from(headers[1].blob);
  new DataView(garbage.buffer).setUint32(0, 0xffffff); // index count far beyond the blob
  writeSqliteRpmdb(file, [headers[0], { id: 2, blob: garbage }, headers[2]]);
  const db = new DatabaseSync(file);
  db.prepare('INSERT INTO Packages (hnum, blob) VALUES (?, ?)').run(4, 'text, not a blob');
  db.close();
  const result = await readRpmDatabase(file);
  assert.equal(result.packages.length, 2);
  assert.deepEqual(result.warnings, [
    `${file}: record 2: corrupt header: header claims 16777215 index entries (allowed 1..65535); record skipped`,
    `${file}: record 4: blob column holds string, not a BLOB; record skipped`,
  ]);

  const allBad = path.join(dir, 'all-bad.sqlite');
  writeSqliteRpmdb(allBad, [{ id: 1, blob: garbage }]);
  await rejectsWith(allBad, /none of its 1 package records could be read \(first: .*record 1: corrupt header/);
});

test("an rpmdb.sqlite with an overwritten page is an InventoryError carrying SQLite's diagnosis", async (t) => {
  const file = path.join(scratchDir(t), 'rpmdb.sqlite');
  const data = Uint8Array.from(readFileSync(MARINER));
  // Page 2 onwards: the first table b-tree pages, replaced by noise.
  for (let i = 4096; i < 4096 * 4; i++) data[i] = (i * 7919) & 0xff;
  writeFileSync(file, data);
  await rejectsWith(file, /SQLite: /);
});
