import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { InventoryError } from '../reader.ts';
import { looksLikeBdb, readBdbRecords } from './bdb.ts';
import { parseHeaderFields } from './header.ts';
import { collectRecords } from '../../../test/support/rpm-records.ts';
import { fixture } from '../../../test/support/rpm-databases.ts';

// bdb-libuuid: 4 KiB pages; buckets 0 and 1 on pages 1 and 2; the one header (about 80 KiB)
// in an overflow chain over pages 3..22. Cross-checks against rpm itself are in test/.
const LIBUUID = fixture('bdb-libuuid/Packages');
const PAGE = 4096;

function read(data: Uint8Array, file = '/db/Packages'): ReturnType<typeof collectRecords> {
  return collectRecords((p) => readBdbRecords(file, data, p));
}

function inventoryError(fn: () => unknown, pattern: RegExp): void {
  assert.throws(fn, (err: unknown) => err instanceof InventoryError && pattern.test(err.message));
}

function setU32(data: Uint8Array, pos: number, value: number): void {
  new DataView(data.buffer, data.byteOffset, data.byteLength).setUint32(pos, value, true);
}

test('each Berkeley DB fixture yields its one header, assembled from its overflow pages', () => {
  for (const [dir, name] of [
    ['bdb-libuuid', 'libuuid'],
    ['bdb-epoch', 'hello'],
    ['bdb-syft', 'dive'],
  ]) {
    const data = readFileSync(fixture(`${dir}/Packages`));
    assert.ok(looksLikeBdb(data));
    const { records, problems } = read(data);
    assert.deepEqual(problems, [], dir);
    assert.equal(records.length, 1, dir);
    assert.equal(parseHeaderFields(records[0].blob).name, name);
  }
});

test('the counter under key 0 is not taken for a package', () => {
  // bdb-epoch stores key 0 (rpm's header number counter) beside header 4 (as db5.3_dump shows).
  const { records } = read(readFileSync(fixture('bdb-epoch/Packages')));
  assert.deepEqual(
    records.map((r) => r.id),
    [4],
  );
});

test('a truncated Packages file is an InventoryError naming the file, wherever it is cut', () => {
  const data = readFileSync(LIBUUID);
  for (const cut of [0, 12, 511, PAGE, PAGE * 2 + 100, PAGE * 10, data.length - PAGE, data.length - 1]) {
    inventoryError(() => read(data.subarray(0, cut), '/db/Packages'), /^\/db\/Packages: /);
  }
  inventoryError(
    () => read(data.subarray(0, data.length - 1)),
    /truncated: 94207 bytes, but the metadata describes 23 pages of 4096 bytes/,
  );
});

test('metadata that is not a usable hash database is an InventoryError saying why', () => {
  const data = readFileSync(LIBUUID);
  const btree = Uint8Array.from(data);
  setU32(btree, 12, 0x053162);
  inventoryError(() => read(btree), /a Berkeley DB btree \(an rpm index\)/);
  const other = Uint8Array.from(data);
  setU32(other, 12, 0x12345678);
  inventoryError(() => read(other), /not a Berkeley DB hash database/);
  const version = Uint8Array.from(data);
  setU32(version, 16, 5);
  inventoryError(() => read(version), /unsupported Berkeley DB hash version 5/);
  const pageSize = Uint8Array.from(data);
  setU32(pageSize, 20, 3000);
  inventoryError(() => read(pageSize), /invalid Berkeley DB page size 3000/);
  const encrypted = Uint8Array.from(data);
  encrypted[24] = 1;
  inventoryError(() => read(encrypted), /encrypted/);
});

test('a damaged bucket chain is an InventoryError: wrong page, loop, or not a hash page', () => {
  const data = readFileSync(LIBUUID);
  const selfNumber = Uint8Array.from(data);
  setU32(selfNumber, PAGE * 2 + 8, 7);
  inventoryError(() => read(selfNumber), /page 2 records itself as page 7/);
  const loop = Uint8Array.from(data);
  setU32(loop, PAGE * 1 + 16, 2); // bucket 0's page now chains into bucket 1's page
  inventoryError(() => read(loop), /leads back to page 2/);
  const beyond = Uint8Array.from(data);
  setU32(beyond, PAGE * 1 + 16, 900);
  inventoryError(() => read(beyond), /page 1's next-page link points to page 900, outside pages 1\.\.22/);
  const notHash = Uint8Array.from(data);
  notHash[PAGE * 2 + 25] = 7;
  inventoryError(() => read(notHash), /page 2 \(hash bucket 1\) is of type 7, not a hash page/);
  const items = Uint8Array.from(data);
  new DataView(items.buffer).setUint16(PAGE * 2 + 26, 10, true);
  inventoryError(() => read(items), /page 2, item pair 0: item offsets 10\/\d+ are out of order or outside the page/);
});

test('a broken overflow chain loses its record with a warning naming it', () => {
  const data = readFileSync(LIBUUID);
  const broken = Uint8Array.from(data);
  broken[PAGE * 10 + 25] = 0; // page 10 of the chain is now a free page
  const { records, problems } = read(broken);
  assert.deepEqual(records, []);
  assert.equal(problems.length, 1);
  assert.match(problems[0], /^1: overflow page 10 is not a valid continuation \(28490 of 80880 bytes read\); skipped$/);
  const cut = Uint8Array.from(data);
  setU32(cut, PAGE * 5 + 16, 0); // the chain ends early
  assert.match(read(cut).problems[0], /^1: overflow chain breaks at page 0 after 12210 of 80880 bytes; skipped$/);
});
