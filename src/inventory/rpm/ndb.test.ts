import { test } from 'node:test';
import assert from 'node:assert/strict';
import { closeSync, openSync, readFileSync, truncateSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { InventoryError } from '../reader.ts';
import { scratchDir } from '../../../test/support/scratch-dir.ts';
import { FileSource, materialize, memorySource } from './bytes.ts';
import { parseHeaderFields } from './header.ts';
import { adler32, looksLikeNdb, readNdbRecords } from './ndb.ts';
import type { HeaderRecord } from './records.ts';
import { collectRecords } from '../../../test/support/rpm-records.ts';
import { buildNdb, fixture, marinerHeaders, repeatHeaders } from '../../../test/support/rpm-databases.ts';

const SLE = fixture('ndb-sle15-bci/Packages.db');

function collect(data: Uint8Array, file = 'Packages.db'): { records: HeaderRecord[]; warnings: string[] } {
  const { records, problems } = collectRecords((p) => readNdbRecords(file, memorySource(data), p));
  return { records, warnings: problems };
}

function inventoryError(fn: () => unknown, pattern: RegExp): void {
  assert.throws(fn, (err: unknown) => err instanceof InventoryError && pattern.test(err.message));
}

test('the SLE 15 BCI Packages.db holds exactly the packages go-rpmdb asserts for it', () => {
  const data = readFileSync(SLE);
  assert.ok(looksLikeNdb(data));
  const expected = readFileSync(fixture('ndb-sle15-bci/expected.tsv'), 'utf8')
    .split('\n')
    .filter((line) => line !== '' && !line.startsWith('#'))
    .map((line) => {
      const [name, epoch, version, release, arch, sourcerpm] = line.split('\t');
      return { name, epoch: epoch === '' ? null : Number(epoch), version, release, arch, sourceRpm: sourcerpm };
    });
  const { records, warnings } = collect(data, SLE);
  assert.deepEqual(warnings, []);
  const got = records.map(({ blob }) => {
    const f = parseHeaderFields(blob);
    return {
      name: f.name,
      epoch: f.epoch,
      version: f.version,
      release: f.release,
      arch: f.arch,
      sourceRpm: f.sourceRpm,
    };
  });
  const key = (p: { name: string; arch: string | null }): string => `${p.name}.${p.arch}`;
  assert.deepEqual(
    got.sort((a, b) => key(a).localeCompare(key(b))),
    expected.sort((a, b) => key(a).localeCompare(key(b))),
  );
  // Package indexes are unique and come out in order.
  assert.deepEqual(
    records.map((r) => r.id),
    [...new Set(records.map((r) => r.id))].sort((a, b) => a - b),
  );
});

test('an NDB file spanning several slot pages yields every blob unchanged', () => {
  const headers = repeatHeaders(marinerHeaders(), 1548);
  const image = buildNdb(headers);
  assert.ok(new DataView(image.buffer).getUint32(12, true) > 1, 'several slot pages');
  const { records, warnings } = collect(image);
  assert.deepEqual(warnings, []);
  assert.equal(records.length, 1548);
  for (let i = 0; i < records.length; i++) {
    assert.equal(records[i].id, headers[i].id);
    assert.deepEqual(materialize(records[i].blob), headers[i].blob);
  }
});

test('a truncated Packages.db is an InventoryError naming the file, wherever it is cut', () => {
  const data = readFileSync(SLE);
  for (const cut of [0, 20, 31, 4000, 4096, 8192, data.length / 2, data.length - 16, data.length - 1]) {
    const part = data.subarray(0, Math.floor(cut));
    inventoryError(() => collect(part, '/x/Packages.db'), /^\/x\/Packages\.db: /);
  }
});

test('a bad file header or slot table is an InventoryError saying what is wrong', () => {
  const data = readFileSync(SLE);
  const badMagic = Uint8Array.from(data);
  badMagic[0] = 0x58;
  inventoryError(() => collect(badMagic), /not an NDB package database/);
  const badVersion = Uint8Array.from(data);
  badVersion[4] = 3;
  inventoryError(() => collect(badVersion), /unsupported NDB format version 3/);
  const badSlot = Uint8Array.from(data);
  badSlot[32 + 16 * 5] = 0;
  inventoryError(() => collect(badSlot), /slot 7: no "Slot" magic/);
  const slotBeforeBlobs = Uint8Array.from(data);
  new DataView(slotBeforeBlobs.buffer).setUint32(32 + 8, 3, true);
  inventoryError(() => collect(slotBeforeBlobs), /slot 2: invalid entry/);
});

test('a damaged blob loses its own record only, with a warning naming it', () => {
  const headers = marinerHeaders().slice(0, 5);
  const image = buildNdb(headers);
  const view = new DataView(image.buffer);
  const blobStart = (slot: number): number => view.getUint32(32 + slot * 16 + 8, true) * 16;
  image[blobStart(1)] = 0; // head magic of the second package
  view.setUint32(blobStart(3) + 12, 99, true); // length no longer matches the slot
  const { records, warnings } = collect(image);
  assert.deepEqual(
    records.map((r) => r.id),
    [1, 3, 5],
  );
  assert.equal(warnings.length, 2);
  assert.match(warnings[0], /^2: blob at byte \d+: no "BlbS" magic; skipped$/);
  assert.match(warnings[1], /^4: blob at byte \d+: length 99 needs \d+ blocks, the slot has \d+; skipped$/);
});

test('the checksum explains a blob damaged inside its header data, and clears an intact one', () => {
  const headers = marinerHeaders().slice(0, 2);
  const image = buildNdb(headers);
  const start = new DataView(image.buffer).getUint32(32 + 8, true) * 16;
  image[start + 16 + 2] = 0x7f; // the header's index count, inside the checksummed bytes
  const { records, warnings } = collect(image);
  assert.deepEqual(warnings, [], 'head and tail are intact: the blob is still yielded');
  assert.equal(records.length, 2);
  assert.match(
    records[0].explainDamage?.() ?? '',
    /^its Adler-32 0x[0-9a-f]{8} differs from the stored 0x[0-9a-f]{8}: the blob is damaged on disk$/,
  );
  assert.equal(records[1].explainDamage?.(), null);
});

test('an NDB file with only free slots is a valid empty database', () => {
  const { records, warnings } = collect(buildNdb([]));
  assert.deepEqual(records, []);
  assert.deepEqual(warnings, []);
});

test('adler32 matches RFC 1950 values', () => {
  const text = new TextEncoder().encode('Wikipedia');
  assert.equal(adler32(text, 0, text.length), 0x11e60398);
  assert.equal(adler32(new Uint8Array(0), 0, 0), 1);
  // Long runs of 0xff exercise the deferred modulo.
  const ff = new Uint8Array(100000).fill(0xff);
  let a = 1;
  let b = 0;
  for (const byte of ff) {
    a = (a + byte) % 65521;
    b = (b + a) % 65521;
  }
  assert.equal(adler32(ff, 0, ff.length), ((b << 16) | a) >>> 0);
});

test('reading through the file in small windows gives what reading it from memory gives', (t) => {
  const big = path.join(scratchDir(t), 'Packages.db');
  writeFileSync(big, buildNdb(repeatHeaders(marinerHeaders(), 600)));
  for (const file of [SLE, big]) {
    const fromMemory = collect(readFileSync(file), file).records.map((r) => parseHeaderFields(r.blob));
    for (const windowBytes of [64, 8192]) {
      const fd = openSync(file, 'r');
      try {
        const { records, problems } = collectRecords((p) =>
          readNdbRecords(file, new FileSource(file, fd, windowBytes), p),
        );
        assert.deepEqual(problems, []);
        assert.deepEqual(
          records.map((r) => parseHeaderFields(r.blob)),
          fromMemory,
        );
      } finally {
        closeSync(fd);
      }
    }
  }
});

test('a file that shrinks while it is read is an InventoryError, not a crash', (t) => {
  const file = path.join(scratchDir(t), 'Packages.db');
  writeFileSync(file, buildNdb(marinerHeaders().slice(0, 3)));
  const fd = openSync(file, 'r');
  try {
    const source = new FileSource(file, fd, 64);
    truncateSync(file, 8192);
    inventoryError(
      () => collectRecords((p) => readNdbRecords(file, source, p)),
      /: ended at byte \d+ while \d+ bytes at \d+ were read \(did it shrink\?\)$/,
    );
  } finally {
    closeSync(fd);
  }
});
