import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  parseHeaderFields,
  RpmHeaderError,
  TAG_ARCH,
  TAG_EPOCH,
  TAG_MODULARITYLABEL,
  TAG_NAME,
  TAG_RELEASE,
  TAG_VENDOR,
  TAG_VERSION,
} from './header.ts';
import { buildHeader, marinerHeaders } from '../../../test/support/rpm-databases.ts';
import type { HeaderEntrySpec } from '../../../test/support/rpm-databases.ts';

const real = marinerHeaders();

const nvr: HeaderEntrySpec[] = [
  { tag: TAG_NAME, type: 'string', value: 'bash' },
  { tag: TAG_VERSION, type: 'string', value: '5.1.8' },
  { tag: TAG_RELEASE, type: 'string', value: '6.el9' },
];

function headerError(blob: Uint8Array, pattern: RegExp): void {
  assert.throws(
    () => parseHeaderFields(blob),
    (err: unknown) => err instanceof RpmHeaderError && pattern.test(err.message),
  );
}

test('every header of a real SQLite rpmdb parses, with the fields the blob holds', () => {
  assert.equal(real.length, 129);
  for (const { blob } of real) {
    const f = parseHeaderFields(blob);
    assert.ok(f.name.length > 0 && f.version.length > 0 && f.release.length > 0);
    assert.ok(f.sourceRpm === null || f.sourceRpm.endsWith('.src.rpm'), f.sourceRpm ?? '');
  }
  const glibc = real.map((r) => parseHeaderFields(r.blob)).find((f) => f.name === 'glibc');
  assert.deepEqual(glibc, {
    name: 'glibc',
    version: '2.34',
    release: '2.cm2',
    epoch: null,
    arch: 'x86_64',
    sourceRpm: 'glibc-2.34-2.cm2.src.rpm',
    vendor: 'Microsoft Corporation',
    modularityLabel: null,
  });
});

test('reads EPOCH, MODULARITYLABEL and the first string of I18NSTRING and STRING_ARRAY entries', () => {
  const blob = buildHeader([
    ...nvr,
    { tag: TAG_EPOCH, type: 'int32', value: 7 },
    { tag: TAG_VENDOR, type: 'i18n', value: 'Vendor Ü' },
    { tag: TAG_ARCH, type: 'array', value: ['aarch64', 'ignored'] },
    { tag: TAG_MODULARITYLABEL, type: 'string', value: 'nodejs:18:9020020230601:rhel9' },
  ]);
  const f = parseHeaderFields(blob);
  assert.equal(f.epoch, 7);
  assert.equal(f.vendor, 'Vendor Ü');
  assert.equal(f.arch, 'aarch64');
  assert.equal(f.modularityLabel, 'nodejs:18:9020020230601:rhel9');
  assert.equal(f.sourceRpm, null);
});

test('an entry added after the region (a dribble) replaces the earlier one, as in rpm', () => {
  const blob = buildHeader([...nvr, { tag: TAG_RELEASE, type: 'string', value: '7.el9' }]);
  assert.equal(parseHeaderFields(blob).release, '7.el9');
});

test('epoch 0 is kept apart from a missing epoch', () => {
  assert.equal(parseHeaderFields(buildHeader([...nvr, { tag: TAG_EPOCH, type: 'int32', value: 0 }])).epoch, 0);
  assert.equal(parseHeaderFields(buildHeader(nvr)).epoch, null);
});

test('missing or empty NAME, VERSION or RELEASE is an error naming the tag', () => {
  headerError(buildHeader(nvr.slice(1)), /no NAME tag/);
  headerError(buildHeader([nvr[0], nvr[2]]), /no VERSION tag/);
  headerError(buildHeader([...nvr.slice(0, 2), { tag: TAG_RELEASE, type: 'string', value: '' }]), /empty RELEASE/);
});

test('intro counts that disagree with the blob length are errors', () => {
  const blob = buildHeader(nvr);
  headerError(blob.subarray(0, 5), /shorter than its 8-byte intro/);
  headerError(blob.subarray(0, blob.length - 1), /requires/);
  headerError(new Uint8Array([...blob, 0]), /requires/);
  const noEntries = new Uint8Array(8);
  headerError(noEntries, /0 index entries/);
  const huge = Uint8Array.from(blob);
  new DataView(huge.buffer).setUint32(0, 0x10000);
  headerError(huge, /65536 index entries/);
  const bigData = Uint8Array.from(blob);
  new DataView(bigData.buffer).setUint32(4, 0x10000000);
  headerError(bigData, /data bytes/);
});

test('offsets, types and string ends are checked before data is read', () => {
  const blob = buildHeader([...nvr, { tag: TAG_EPOCH, type: 'int32', value: 1 }]);
  const view = (b: Uint8Array): DataView => new DataView(b.buffer, b.byteOffset, b.byteLength);
  const entry = (i: number): number => 8 + i * 16;

  const badOffset = Uint8Array.from(blob);
  view(badOffset).setInt32(entry(0) + 8, 1 << 20);
  headerError(badOffset, /NAME: data offset 1048576 outside/);

  const negative = Uint8Array.from(blob);
  view(negative).setInt32(entry(1) + 8, -16);
  headerError(negative, /VERSION: data offset -16 outside/);

  const wrongType = Uint8Array.from(blob);
  view(wrongType).setUint32(entry(0) + 4, 4);
  headerError(wrongType, /NAME: type 4, expected a string type/);

  const unaligned = Uint8Array.from(blob);
  view(unaligned).setInt32(entry(3) + 8, 1);
  headerError(unaligned, /EPOCH: INT32 at unaligned offset 1/);

  const stringCount = Uint8Array.from(blob);
  view(stringCount).setUint32(entry(0) + 12, 2);
  headerError(stringCount, /NAME: STRING with count 2/);

  // The last string loses its terminating NUL: it now runs to the end of the data store.
  const unterminated = buildHeader([nvr[1], nvr[2], nvr[0]]);
  unterminated[unterminated.length - 1] = 0x41;
  headerError(unterminated, /NAME: string at offset \d+ runs past the data store/);
});

test('random damage to real headers gives RpmHeaderError or a result, never another exception', () => {
  const samples = real.slice(0, 20).map((r) => r.blob);
  fc.assert(
    fc.property(
      fc.integer({ min: 0, max: samples.length - 1 }),
      fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 8 }),
      fc.option(fc.nat(), { nil: undefined }),
      (which, flips, cut) => {
        const blob = Uint8Array.from(samples[which]);
        // Damage the intro and index, where offsets and counts live, more often than the data.
        for (const [pos, value] of flips) blob[pos % Math.min(blob.length, 8 + 16 * 40)] = value;
        const damaged = cut === undefined ? blob : blob.subarray(0, cut % blob.length);
        try {
          parseHeaderFields(damaged);
        } catch (err) {
          if (!(err instanceof RpmHeaderError)) throw err;
        }
      },
    ),
    { numRuns: 2000 },
  );
});
