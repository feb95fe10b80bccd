// The rpm header blob as the package database stores it: two big-endian counts (index
// entries, data bytes), the index entries (tag, type, offset, count), then the data store.
// Only the handful of tags an inventory needs are decoded; every offset is checked against
// the blob before it is read, so a corrupt record yields an RpmHeaderError, never a crash.
import { memorySource } from './bytes.ts';
import type { ByteSource } from './bytes.ts';
import { PatchloopError } from '../../core/errors.ts';

export const TAG_NAME = 1000;
export const TAG_VERSION = 1001;
export const TAG_RELEASE = 1002;
export const TAG_EPOCH = 1003;
export const TAG_VENDOR = 1011;
export const TAG_ARCH = 1022;
export const TAG_SOURCERPM = 1044;
export const TAG_MODULARITYLABEL = 5096;

const TYPE_INT32 = 4;
const TYPE_STRING = 6;
const TYPE_STRING_ARRAY = 8;
const TYPE_I18NSTRING = 9;

/** rpm's own sanity limits (lib/header.cc): at most 0xffff tags and 256 MiB of data. */
const MAX_INDEX_ENTRIES = 0xffff;
const MAX_DATA_BYTES = 0x0fffffff;
const INTRO_BYTES = 8;
const ENTRY_BYTES = 16;

/** The fields of one installed package header that the inventory reports. */
export interface RpmHeaderFields {
  name: string;
  version: string;
  release: string;
  /** null when the header has no EPOCH tag (which rpm distinguishes from epoch 0). */
  epoch: number | null;
  arch: string | null;
  sourceRpm: string | null;
  vendor: string | null;
  modularityLabel: string | null;
}

/** A header blob that is malformed; the message says what is wrong with it. */
export class RpmHeaderError extends PatchloopError {
  constructor(message: string) {
    super('PL_E_INVENTORY', message);
  }
}

const WANTED = new Set([
  TAG_NAME,
  TAG_VERSION,
  TAG_RELEASE,
  TAG_EPOCH,
  TAG_VENDOR,
  TAG_ARCH,
  TAG_SOURCERPM,
  TAG_MODULARITYLABEL,
]);

const utf8 = new TextDecoder('utf-8');

/**
 * Decodes the inventory fields of one header blob. Only the intro, the index and the data
 * of the wanted tags are read from `blob`, which may be a lazily read source. Entries
 * outside the immutable region ("dribbles", added at install time) come after the region's
 * entries in the index and replace them, as in rpm itself; hence the last entry for a tag wins.
 */
export function parseHeaderFields(blob: Uint8Array | ByteSource): RpmHeaderFields {
  const source = blob instanceof Uint8Array ? memorySource(blob) : blob;
  if (source.length < INTRO_BYTES)
    throw new RpmHeaderError(`header is ${source.length} bytes, shorter than its 8-byte intro`);
  const intro = viewOf(source.read(0, INTRO_BYTES));
  const il = intro.getUint32(0);
  const dl = intro.getUint32(4);
  if (il < 1 || il > MAX_INDEX_ENTRIES)
    throw new RpmHeaderError(`header claims ${il} index entries (allowed 1..${MAX_INDEX_ENTRIES})`);
  if (dl > MAX_DATA_BYTES) throw new RpmHeaderError(`header claims ${dl} data bytes (at most ${MAX_DATA_BYTES})`);
  const dataStart = INTRO_BYTES + il * ENTRY_BYTES;
  const expected = dataStart + dl;
  if (source.length !== expected) {
    throw new RpmHeaderError(
      `header is ${source.length} bytes but its intro (${il} entries, ${dl} data bytes) requires ${expected}`,
    );
  }

  const index = viewOf(source.read(INTRO_BYTES, il * ENTRY_BYTES));
  const found = new Map<number, EntryInfo>();
  for (let pos = 0; pos < index.byteLength; pos += ENTRY_BYTES) {
    const tag = index.getUint32(pos);
    if (WANTED.has(tag)) {
      found.set(tag, {
        type: index.getUint32(pos + 4),
        offset: index.getInt32(pos + 8),
        count: index.getUint32(pos + 12),
      });
    }
  }

  const ctx: DecodeContext = { source, dataStart, dl };
  const name = requiredString(ctx, found, TAG_NAME, 'NAME');
  const version = requiredString(ctx, found, TAG_VERSION, 'VERSION');
  const release = requiredString(ctx, found, TAG_RELEASE, 'RELEASE');
  return {
    name,
    version,
    release,
    epoch: optionalInt32(ctx, found, TAG_EPOCH, 'EPOCH'),
    arch: optionalString(ctx, found, TAG_ARCH, 'ARCH'),
    sourceRpm: optionalString(ctx, found, TAG_SOURCERPM, 'SOURCERPM'),
    vendor: optionalString(ctx, found, TAG_VENDOR, 'VENDOR'),
    modularityLabel: optionalString(ctx, found, TAG_MODULARITYLABEL, 'MODULARITYLABEL'),
  };
}

function viewOf(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

interface DecodeContext {
  source: ByteSource;
  dataStart: number;
  dl: number;
}

interface EntryInfo {
  type: number;
  offset: number;
  count: number;
}

function checkedEntry(ctx: DecodeContext, found: Map<number, EntryInfo>, tag: number, label: string): EntryInfo | null {
  const entry = found.get(tag);
  if (entry === undefined) return null;
  if (entry.offset < 0 || entry.offset >= ctx.dl)
    throw new RpmHeaderError(`${label}: data offset ${entry.offset} outside the ${ctx.dl}-byte data store`);
  if (entry.count < 1) throw new RpmHeaderError(`${label}: count ${entry.count}`);
  return entry;
}

function requiredString(ctx: DecodeContext, found: Map<number, EntryInfo>, tag: number, label: string): string {
  const value = optionalString(ctx, found, tag, label);
  if (value === null) throw new RpmHeaderError(`no ${label} tag (${tag})`);
  if (value === '') throw new RpmHeaderError(`empty ${label} tag (${tag})`);
  return value;
}

/** A STRING tag's value; for the array types (I18NSTRING, STRING_ARRAY), their first string. */
function optionalString(ctx: DecodeContext, found: Map<number, EntryInfo>, tag: number, label: string): string | null {
  const entry = checkedEntry(ctx, found, tag, label);
  if (entry === null) return null;
  if (entry.type !== TYPE_STRING && entry.type !== TYPE_I18NSTRING && entry.type !== TYPE_STRING_ARRAY) {
    throw new RpmHeaderError(`${label}: type ${entry.type}, expected a string type`);
  }
  if (entry.type === TYPE_STRING && entry.count !== 1)
    throw new RpmHeaderError(`${label}: STRING with count ${entry.count}`);
  // Strings are short; read a little, and more only when no NUL has turned up yet.
  const start = ctx.dataStart + entry.offset;
  const end = ctx.dataStart + ctx.dl;
  for (let chunk = 128; ; chunk *= 8) {
    const length = Math.min(chunk, end - start);
    const bytes = ctx.source.read(start, length);
    const nul = bytes.indexOf(0);
    if (nul !== -1) return utf8.decode(bytes.subarray(0, nul));
    if (start + length >= end)
      throw new RpmHeaderError(`${label}: string at offset ${entry.offset} runs past the data store`);
  }
}

function optionalInt32(ctx: DecodeContext, found: Map<number, EntryInfo>, tag: number, label: string): number | null {
  const entry = checkedEntry(ctx, found, tag, label);
  if (entry === null) return null;
  if (entry.type !== TYPE_INT32) throw new RpmHeaderError(`${label}: type ${entry.type}, expected INT32`);
  if (entry.offset % 4 !== 0) throw new RpmHeaderError(`${label}: INT32 at unaligned offset ${entry.offset}`);
  if (entry.offset + 4 > ctx.dl)
    throw new RpmHeaderError(`${label}: INT32 at offset ${entry.offset} runs past the data store`);
  return viewOf(ctx.source.read(ctx.dataStart + entry.offset, 4)).getUint32(0);
}
