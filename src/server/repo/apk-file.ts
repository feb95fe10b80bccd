// An .apk (apk-tools v2 format) as an APKINDEX needs it: concatenated gzip members — an
// optional signature, the control member (.PKGINFO), the data — of which the index records the
// control member's SHA-1 (`C:Q1…`, what apk checks a package from a signed index against) and
// the .PKGINFO fields.
import { createHash } from 'node:crypto';
import { inflateRawSync } from 'node:zlib';
import { unpackTar } from 'modern-tar';
import { PackageFileError, readAt, withFile } from './package-file.ts';

export interface ApkPackage {
  /** .PKGINFO's `key = value` lines (a key may repeat: depend, provides). */
  info: [string, string][];
  get(key: string): string | undefined;
  all(key: string): string[];
  /** SHA-1 of the control member's compressed bytes, base64 (the index writes `C:Q1` + this). */
  controlSha1: string;
}

/** The length of a gzip member's header at `at` (RFC 1952: optional extra, name, comment, CRC). */
function gzipHeaderLength(b: Buffer, file: string): number {
  if (b.length < 10 || b[0] !== 0x1f || b[1] !== 0x8b || b[2] !== 8)
    throw new PackageFileError(file, 'not an .apk (no gzip member where one should start)');
  const flags = b[3];
  let p = 10;
  if (flags & 4) p += 2 + b.readUInt16LE(p);
  for (const bit of [8, 16]) {
    if (flags & bit) {
      const nul = b.indexOf(0, p);
      if (nul === -1) throw new PackageFileError(file, 'gzip member header runs past its data');
      p = nul + 1;
    }
  }
  if (flags & 2) p += 2;
  return p;
}

/** The control member's bytes cannot exceed this; a larger one is not a package's. */
const CONTROL_LIMIT = 4 * 1024 * 1024;

export async function readApkFile(file: string): Promise<ApkPackage> {
  const head = withFile(file, (fd) => readAt(fd, 0, CONTROL_LIMIT));
  let offset = 0;
  // The signature member (absent in an unsigned package) comes first, then the control member.
  for (let member = 0; member < 2; member++) {
    const headerLength = gzipHeaderLength(head.subarray(offset), file);
    let inflated: { buffer: Buffer; engine: { bytesWritten: number } };
    try {
      inflated = inflateRawSync(head.subarray(offset + headerLength), { info: true }) as unknown as typeof inflated;
    } catch (err) {
      throw new PackageFileError(file, `gzip member at byte ${offset}: ${(err as Error).message}`);
    }
    const end = offset + headerLength + inflated.engine.bytesWritten + 8;
    const entries = await unpackTar(inflated.buffer);
    const pkginfo = entries.find((e) => e.header.name === '.PKGINFO');
    if (pkginfo?.data) {
      const info: [string, string][] = [];
      for (const line of new TextDecoder().decode(pkginfo.data).split('\n')) {
        const m = /^([a-z_]+) = (.*)$/.exec(line);
        if (m) info.push([m[1], m[2]]);
      }
      return {
        info,
        get: (key) => info.find(([k]) => k === key)?.[1],
        all: (key) => info.filter(([k]) => k === key).map(([, v]) => v),
        controlSha1: createHash('sha1').update(head.subarray(offset, end)).digest('base64'),
      };
    }
    if (!entries.some((e) => e.header.name.startsWith('.SIGN.'))) break;
    offset = end;
  }
  throw new PackageFileError(file, 'no .PKGINFO in the control member');
}
