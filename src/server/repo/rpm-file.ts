// An .rpm as the dnf repository metadata needs it: the lead (96 bytes), the signature header
// (padded to 8 bytes), then the main header, whose byte range dnf records (rpm:header-range);
// every tag of both headers decoded by type. Offsets and counts are checked against the header
// before anything is read, so a damaged file is a PackageFileError, never a crash.
import { PackageFileError, readAt, withFile } from './package-file.ts';

const LEAD_BYTES = 96;
const LEAD_MAGIC = 0xedabeedb;
const HEADER_MAGIC = 0x8eade801;
const MAX_INDEX_ENTRIES = 0xffff;
const MAX_DATA_BYTES = 0x0fffffff;

type TagValue = number[] | bigint[] | string[] | Buffer;

export interface RpmHeader {
  /** The values of a tag: numbers (INT8..INT32), bigints (INT64), strings, or bytes (BIN). */
  tags: Map<number, TagValue>;
  /** Byte offset of the header in the file and the offset just past it. */
  start: number;
  end: number;
}

export interface RpmFile {
  signature: RpmHeader;
  header: RpmHeader;
}

/** Reads one header structure (magic, index, data store) at `offset`. */
function readHeader(fd: number, offset: number, file: string, what: string): RpmHeader {
  const intro = readAt(fd, offset, 16);
  if (intro.length < 16 || intro.readUInt32BE(0) !== HEADER_MAGIC)
    throw new PackageFileError(file, `no ${what} header at byte ${offset}`);
  const il = intro.readUInt32BE(8);
  const dl = intro.readUInt32BE(12);
  if (il < 1 || il > MAX_INDEX_ENTRIES || dl > MAX_DATA_BYTES)
    throw new PackageFileError(file, `${what} header claims ${il} entries and ${dl} data bytes`);
  const body = readAt(fd, offset + 16, il * 16 + dl);
  if (body.length !== il * 16 + dl) throw new PackageFileError(file, `${what} header is cut short`);
  const data = body.subarray(il * 16);
  const tags = new Map<number, TagValue>();
  for (let i = 0; i < il; i++) {
    const tag = body.readUInt32BE(i * 16);
    const type = body.readUInt32BE(i * 16 + 4);
    const at = body.readInt32BE(i * 16 + 8);
    const count = body.readUInt32BE(i * 16 + 12);
    if (at < 0 || at > dl) throw new PackageFileError(file, `${what} header tag ${tag}: offset ${at} outside its data`);
    tags.set(
      tag,
      decode(
        data,
        type,
        at,
        count,
        () => new PackageFileError(file, `${what} header tag ${tag}: value runs past its data`),
      ),
    );
  }
  return { tags, start: offset, end: offset + 16 + il * 16 + dl };
}

function decode(data: Buffer, type: number, at: number, count: number, overrun: () => Error): TagValue {
  const need = (bytes: number): void => {
    if (at + bytes > data.length) throw overrun();
  };
  switch (type) {
    case 1: // CHAR
    case 2: // INT8
      need(count);
      return [...data.subarray(at, at + count)];
    case 3: // INT16
      need(count * 2);
      return Array.from({ length: count }, (_, i) => data.readUInt16BE(at + i * 2));
    case 4: // INT32
      need(count * 4);
      return Array.from({ length: count }, (_, i) => data.readUInt32BE(at + i * 4));
    case 5: // INT64
      need(count * 8);
      return Array.from({ length: count }, (_, i) => data.readBigUInt64BE(at + i * 8));
    case 6: // STRING
    case 8: // STRING_ARRAY
    case 9: {
      // I18NSTRING
      const out: string[] = [];
      let p = at;
      for (let i = 0; i < (type === 6 ? 1 : count); i++) {
        const nul = data.indexOf(0, p);
        if (nul === -1) throw overrun();
        out.push(data.toString('utf8', p, nul));
        p = nul + 1;
      }
      return out;
    }
    case 7: // BIN
      need(count);
      return data.subarray(at, at + count);
    default:
      return []; // NULL and unknown types carry nothing the metadata uses
  }
}

/** Reads the lead and both headers of an .rpm. */
export function readRpmFile(file: string): RpmFile {
  return withFile(file, (fd) => {
    const lead = readAt(fd, 0, LEAD_BYTES);
    if (lead.length < LEAD_BYTES || lead.readUInt32BE(0) !== LEAD_MAGIC)
      throw new PackageFileError(file, 'not an .rpm (no lead)');
    const signature = readHeader(fd, LEAD_BYTES, file, 'signature');
    // The signature header is padded to a multiple of 8 bytes.
    const mainAt = signature.end + ((8 - ((signature.end - LEAD_BYTES) % 8)) % 8);
    return { signature, header: readHeader(fd, mainAt, file, 'main') };
  });
}

export const TAG = {
  NAME: 1000,
  VERSION: 1001,
  RELEASE: 1002,
  EPOCH: 1003,
  SUMMARY: 1004,
  DESCRIPTION: 1005,
  BUILDTIME: 1006,
  BUILDHOST: 1007,
  SIZE: 1009,
  VENDOR: 1011,
  LICENSE: 1014,
  PACKAGER: 1015,
  GROUP: 1016,
  URL: 1020,
  ARCH: 1022,
  FILEMODES: 1030,
  FILEFLAGS: 1037,
  SOURCERPM: 1044,
  ARCHIVESIZE: 1046,
  PROVIDENAME: 1047,
  REQUIREFLAGS: 1048,
  REQUIRENAME: 1049,
  REQUIREVERSION: 1050,
  CONFLICTFLAGS: 1053,
  CONFLICTNAME: 1054,
  CONFLICTVERSION: 1055,
  CHANGELOGTIME: 1080,
  CHANGELOGNAME: 1081,
  CHANGELOGTEXT: 1082,
  OBSOLETENAME: 1090,
  PROVIDEFLAGS: 1112,
  PROVIDEVERSION: 1113,
  OBSOLETEFLAGS: 1114,
  OBSOLETEVERSION: 1115,
  DIRINDEXES: 1116,
  BASENAMES: 1117,
  DIRNAMES: 1118,
  LONGARCHIVESIZE: 271,
  LONGSIZE: 5009,
} as const;

/** Signature header: the uncompressed payload size (rpm's RPMSIGTAG_PAYLOADSIZE, and its 64-bit twin). */
export const SIGTAG_PAYLOADSIZE = 1007;
export const SIGTAG_LONGARCHIVESIZE = 271;

export function str(h: RpmHeader, tag: number): string | null {
  const v = h.tags.get(tag);
  return Array.isArray(v) && typeof v[0] === 'string' ? v[0] : null;
}

export function strings(h: RpmHeader, tag: number): string[] {
  const v = h.tags.get(tag);
  return Array.isArray(v) && v.every((x) => typeof x === 'string') ? (v as string[]) : [];
}

export function nums(h: RpmHeader, tag: number): number[] {
  const v = h.tags.get(tag);
  if (!Array.isArray(v)) return [];
  return v.map((x) => Number(x));
}

export function num(h: RpmHeader, tag: number): number | null {
  const v = nums(h, tag);
  return v.length ? v[0] : null;
}
