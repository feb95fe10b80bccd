// Alpine's repository index, APKINDEX.tar.gz, signed as abuild-sign signs it: a gzip member
// holding a tar with one file, `.SIGN.RSA256.<key name>` (RSA PKCS#1 v1.5 over the SHA-256 of
// the index member that follows, the tar's end blocks cut so the stream goes on), followed by
// the gzip member of the index tar (DESCRIPTION, APKINDEX). apk-tools checks the signature with
// /etc/apk/keys/<key name> and then each package's control member against its `C:` line.
import { gzipSync } from 'node:zlib';
import { packTar } from 'modern-tar';
import type { ApkPackage } from './apk-file.ts';

export interface ApkEntry {
  pkg: ApkPackage;
  size: number;
}

/** One index record (apk's single-letter fields). */
function record(e: ApkEntry): string {
  const p = e.pkg;
  const lines: [string, string | undefined][] = [
    ['C', `Q1${p.controlSha1}`],
    ['P', p.get('pkgname')],
    ['V', p.get('pkgver')],
    ['A', p.get('arch')],
    ['S', String(e.size)],
    ['I', p.get('size')],
    ['T', p.get('pkgdesc')],
    ['U', p.get('url')],
    ['L', p.get('license')],
    ['o', p.get('origin')],
    ['m', p.get('maintainer')],
    ['t', p.get('builddate')],
    ['c', p.get('commit')],
    ['D', p.all('depend').join(' ') || undefined],
    ['p', p.all('provides').join(' ') || undefined],
    ['i', p.all('install_if').join(' ') || undefined],
  ];
  return lines
    .filter(([, v]) => v !== undefined && v !== '')
    .map(([k, v]) => `${k}:${v}\n`)
    .join('');
}

export function apkIndexText(entries: readonly ApkEntry[]): string {
  return entries.map((e) => `${record(e)}\n`).join('');
}

async function tarOf(name: string, data: Uint8Array, mtime: Date, withEnd: boolean): Promise<Uint8Array> {
  const tar = await packTar([
    {
      header: {
        name,
        size: data.length,
        type: 'file',
        mode: 0o644,
        uid: 0,
        gid: 0,
        uname: 'root',
        gname: 'root',
        mtime,
      },
      body: data,
    },
  ]);
  return withEnd ? tar : tar.subarray(0, 512 + Math.ceil(data.length / 512) * 512);
}

/** APKINDEX.tar.gz, signed with `sign` under `keyName` (the file name in /etc/apk/keys). */
export async function signedApkIndex(
  entries: readonly ApkEntry[],
  o: { description: string; keyName: string; sign: (data: Uint8Array) => Buffer; now: number },
): Promise<Buffer> {
  const mtime = new Date(Math.floor(o.now / 1000) * 1000);
  const enc = new TextEncoder();
  const index = await packTar([
    {
      header: {
        name: 'DESCRIPTION',
        size: enc.encode(o.description).length,
        type: 'file',
        mode: 0o644,
        uid: 0,
        gid: 0,
        uname: 'root',
        gname: 'root',
        mtime,
      },
      body: enc.encode(o.description),
    },
    {
      header: {
        name: 'APKINDEX',
        size: enc.encode(apkIndexText(entries)).length,
        type: 'file',
        mode: 0o644,
        uid: 0,
        gid: 0,
        uname: 'root',
        gname: 'root',
        mtime,
      },
      body: enc.encode(apkIndexText(entries)),
    },
  ]);
  const indexGz = gzipSync(index, { level: 9 });
  const signatureGz = gzipSync(await tarOf(`.SIGN.RSA256.${o.keyName}`, o.sign(indexGz), mtime, false), { level: 9 });
  return Buffer.concat([signatureGz, indexGz]);
}
