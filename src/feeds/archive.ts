// Reads feed inputs — a file, a directory tree, a zip, a tar (plain, gzip, xz or zstd) or a
// single gzip/xz/zstd-compressed file — as one stream of member files. Formats are told by their magic
// bytes, not by their names. Members are yielded one at a time so that a large archive is
// never held decompressed in memory as a whole.
import { spawn } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { open, readdir, readFile, stat } from 'node:fs/promises';
import { basename, join, relative } from 'node:path';
import { Readable, type Transform } from 'node:stream';
import { createGunzip, createZstdDecompress, gunzipSync, zstdDecompressSync } from 'node:zlib';
import { inflateSync } from 'fflate';
import { createTarDecoder } from 'modern-tar';
import { PatchloopError } from '../core/errors.ts';

/** One member file of an input. */
export interface InputFile {
  /** Where it came from, for messages: a path, or `archive.zip!member/path`. */
  origin: string;
  /** Path inside the input (relative to a directory, or the archive member name). */
  name: string;
  data: Uint8Array;
}

export interface ReadInputOptions {
  /** Which member names to read (others are skipped unread). Default: names ending in `.json`. */
  accept?: (name: string) => boolean;
}

/** An input that cannot be read as a file, directory or archive; the message names it. */
export class InputError extends PatchloopError {
  constructor(message: string) {
    super('PL_E_FEED_INPUT', message);
  }
}

export type InputFormat = 'directory' | 'zip' | 'tar' | 'tar.gz' | 'tar.xz' | 'tar.zst' | 'gz' | 'xz' | 'zst' | 'file';

const isJson = (name: string): boolean => name.toLowerCase().endsWith('.json');

/** Reads every accepted member of every input, in input order (directories sorted by name). */
export async function* readInputs(
  inputs: readonly string[],
  options: ReadInputOptions = {},
): AsyncGenerator<InputFile> {
  for (const input of inputs) yield* readInput(input, options);
}

export async function* readInput(input: string, options: ReadInputOptions = {}): AsyncGenerator<InputFile> {
  const accept = options.accept ?? isJson;
  const format = await detectFormat(input);
  switch (format) {
    case 'directory':
      yield* readDirectory(input, accept);
      return;
    case 'zip':
      yield* readZip(input, accept);
      return;
    case 'tar':
    case 'tar.gz':
    case 'tar.xz':
    case 'tar.zst':
      yield* readTar(input, format, accept);
      return;
    case 'zst': {
      const name = basename(input).replace(/\.zst$/i, '');
      let data: Uint8Array;
      try {
        data = zstdDecompressSync(await readFile(input));
      } catch (err) {
        throw new InputError(`${input}: corrupt zstd data: ${(err as Error).message}`);
      }
      yield { origin: input, name, data };
      return;
    }
    case 'gz': {
      // A single compressed file: its member name is the file name without `.gz`.
      const name = basename(input).replace(/\.gz$/i, '');
      let data: Uint8Array;
      try {
        data = gunzipSync(await readFile(input));
      } catch (err) {
        throw new InputError(`${input}: corrupt gzip data: ${(err as Error).message}`);
      }
      yield { origin: input, name, data };
      return;
    }
    case 'xz': {
      const name = basename(input).replace(/\.xz$/i, '');
      const chunks: Buffer[] = [];
      for await (const c of xzDecompress(input)) chunks.push(c as Buffer);
      yield { origin: input, name, data: Buffer.concat(chunks) };
      return;
    }
    case 'file':
      // A plain file given by name is read whatever its name: the caller asked for it.
      yield { origin: input, name: basename(input), data: await readFile(input) };
      return;
  }
}

/** Tells an input's format from its first bytes (and, for compressed data, what is inside). */
export async function detectFormat(input: string): Promise<InputFormat> {
  let st;
  try {
    st = await stat(input);
  } catch (err) {
    throw new InputError(
      `${input}: cannot read input: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
    );
  }
  if (st.isDirectory()) return 'directory';
  if (!st.isFile()) throw new InputError(`${input}: not a regular file or directory`);
  const head = await readHead(input, 512);
  if (
    head.length >= 4 &&
    head[0] === 0x50 &&
    head[1] === 0x4b &&
    (head[2] === 0x03 || head[2] === 0x05) &&
    (head[3] === 0x04 || head[3] === 0x06)
  ) {
    return 'zip';
  }
  if (isTarHeader(head)) return 'tar';
  if (head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b) {
    return isTarHeader(await decompressedHead(input, createGunzip())) ? 'tar.gz' : 'gz';
  }
  if (
    head.length >= 6 &&
    head[0] === 0xfd &&
    head[1] === 0x37 &&
    head[2] === 0x7a &&
    head[3] === 0x58 &&
    head[4] === 0x5a &&
    head[5] === 0x00
  ) {
    return /\.(tar\.xz|txz)$/i.test(input) ? 'tar.xz' : 'xz';
  }
  if (head.length >= 4 && head[0] === 0x28 && head[1] === 0xb5 && head[2] === 0x2f && head[3] === 0xfd) {
    // Red Hat ships its CSAF VEX collection as a .tar.zst.
    return isTarHeader(await decompressedHead(input, createZstdDecompress())) ? 'tar.zst' : 'zst';
  }
  return 'file';
}

async function readHead(path: string, n: number): Promise<Buffer> {
  const fh = await open(path, 'r');
  try {
    const buf = Buffer.alloc(n);
    const { bytesRead } = await fh.read(buf, 0, n, 0);
    return buf.subarray(0, bytesRead);
  } finally {
    await fh.close();
  }
}

/** ustar / GNU tar: "ustar" at offset 257. */
function isTarHeader(head: Uint8Array): boolean {
  return head.length >= 262 && Buffer.from(head.subarray(257, 262)).toString('latin1') === 'ustar';
}

async function decompressedHead(path: string, decompress: Transform): Promise<Buffer> {
  const src = createReadStream(path);
  src.pipe(decompress);
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const c of decompress) {
      chunks.push(c as Buffer);
      size += (c as Buffer).length;
      if (size >= 512) break;
    }
  } catch {
    // a corrupt stream is reported when it is read for real
  } finally {
    src.destroy();
    decompress.destroy();
  }
  return Buffer.concat(chunks).subarray(0, 512);
}

async function* readDirectory(root: string, accept: (name: string) => boolean): AsyncGenerator<InputFile> {
  const files: string[] = [];
  const walk = async (dir: string): Promise<void> => {
    const entries = await readdir(dir, { withFileTypes: true });
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const e of entries) {
      const p = join(dir, e.name);
      if (e.isDirectory()) await walk(p);
      else if (e.isFile() && accept(relative(root, p))) files.push(p);
    }
  };
  await walk(root);
  for (const p of files) yield { origin: p, name: relative(root, p), data: await readFile(p) };
}

interface ZipMember {
  name: string;
  method: number;
  compressedSize: number;
  size: number;
  localHeaderOffset: number;
}

/**
 * The members a zip's central directory lists (zip64 included: osv.dev's larger all.zip files
 * have more than 65,535 members). fflate's streaming reader was measured at 220 MB peak RSS for
 * AlmaLinux's 6 MB all.zip; reading the directory and inflating each member with zlib stays
 * near the size of the archive.
 */
function zipDirectory(path: string, buf: Buffer): ZipMember[] {
  const bad = (why: string): InputError => new InputError(`${path}: corrupt zip archive: ${why}`);
  // End of central directory: 22 bytes plus a comment of up to 65,535 bytes, at the very end.
  let eocd = -1;
  for (let i = buf.length - 22; i >= Math.max(0, buf.length - 22 - 0xffff); i--) {
    if (buf.readUInt32LE(i) === 0x06054b50) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw bad('no end-of-central-directory record (truncated?)');
  let count = buf.readUInt16LE(eocd + 10);
  let dirOffset = buf.readUInt32LE(eocd + 16);
  if ((count === 0xffff || dirOffset === 0xffffffff) && eocd >= 20 && buf.readUInt32LE(eocd - 20) === 0x07064b50) {
    const z64 = Number(buf.readBigUInt64LE(eocd - 20 + 8));
    if (z64 + 56 > buf.length || buf.readUInt32LE(z64) !== 0x06064b50) throw bad('broken zip64 end record');
    count = Number(buf.readBigUInt64LE(z64 + 32));
    dirOffset = Number(buf.readBigUInt64LE(z64 + 48));
  }
  const members: ZipMember[] = [];
  let p = dirOffset;
  for (let n = 0; n < count; n++) {
    if (p + 46 > buf.length || buf.readUInt32LE(p) !== 0x02014b50) throw bad(`central directory entry ${n} is missing`);
    const method = buf.readUInt16LE(p + 10);
    let compressedSize = buf.readUInt32LE(p + 20);
    let size = buf.readUInt32LE(p + 24);
    const nameLen = buf.readUInt16LE(p + 28);
    const extraLen = buf.readUInt16LE(p + 30);
    const commentLen = buf.readUInt16LE(p + 32);
    let localHeaderOffset = buf.readUInt32LE(p + 42);
    const name = buf.toString('utf8', p + 46, p + 46 + nameLen);
    // zip64 extra field: the 64-bit values of the fields that are 0xffffffff, in this order.
    let e = p + 46 + nameLen;
    const extraEnd = e + extraLen;
    while (e + 4 <= extraEnd) {
      const id = buf.readUInt16LE(e);
      const len = buf.readUInt16LE(e + 2);
      if (id === 0x0001) {
        let q = e + 4;
        if (size === 0xffffffff) {
          size = Number(buf.readBigUInt64LE(q));
          q += 8;
        }
        if (compressedSize === 0xffffffff) {
          compressedSize = Number(buf.readBigUInt64LE(q));
          q += 8;
        }
        if (localHeaderOffset === 0xffffffff) localHeaderOffset = Number(buf.readBigUInt64LE(q));
      }
      e += 4 + len;
    }
    members.push({ name, method, compressedSize, size, localHeaderOffset });
    p = extraEnd + commentLen;
  }
  return members;
}

async function* readZip(path: string, accept: (name: string) => boolean): AsyncGenerator<InputFile> {
  const buf = await readFile(path);
  for (const m of zipDirectory(path, buf)) {
    if (m.name.endsWith('/') || !accept(m.name)) continue;
    const h = m.localHeaderOffset;
    if (h + 30 > buf.length || buf.readUInt32LE(h) !== 0x04034b50)
      throw new InputError(`${path}!${m.name}: corrupt zip member: no local header`);
    const start = h + 30 + buf.readUInt16LE(h + 26) + buf.readUInt16LE(h + 28);
    const raw = buf.subarray(start, start + m.compressedSize);
    if (raw.length !== m.compressedSize) throw new InputError(`${path}!${m.name}: corrupt zip member: truncated`);
    let data: Uint8Array;
    if (m.method === 0) data = raw;
    else if (m.method === 8) {
      try {
        data = inflateSync(raw, { out: new Uint8Array(m.size) });
      } catch (err) {
        throw new InputError(`${path}!${m.name}: corrupt zip member: ${(err as Error).message}`);
      }
    } else throw new InputError(`${path}!${m.name}: unsupported zip compression method ${m.method}`);
    if (data.length !== m.size)
      throw new InputError(`${path}!${m.name}: corrupt zip member: ${data.length} bytes, expected ${m.size}`);
    yield { origin: `${path}!${m.name}`, name: m.name, data };
  }
}

function xzDecompress(path: string): Readable {
  const child = spawn('xz', ['-dc', '--', path], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const out = child.stdout;
  child.on('error', (err) =>
    out.destroy(new InputError(`${path}: cannot run xz to decompress it (${err.message}); install xz-utils`)),
  );
  child.on('close', (code) => {
    if (code !== 0)
      out.destroy(new InputError(`${path}: corrupt xz data: ${stderr.trim() || `xz exited with ${code}`}`));
  });
  return out;
}

async function* readTar(
  path: string,
  format: 'tar' | 'tar.gz' | 'tar.xz' | 'tar.zst',
  accept: (name: string) => boolean,
): AsyncGenerator<InputFile> {
  let byteStream: Readable;
  if (format === 'tar.xz') {
    byteStream = xzDecompress(path);
  } else {
    const file = createReadStream(path);
    if (format === 'tar.gz' || format === 'tar.zst') {
      const decompress = format === 'tar.gz' ? createGunzip() : createZstdDecompress();
      file.on('error', (err) => decompress.destroy(err));
      byteStream = file.pipe(decompress);
    } else {
      byteStream = file;
    }
  }
  let streamError: Error | null = null;
  byteStream.on('error', (err) => (streamError ??= err));
  const entries = (Readable.toWeb(byteStream) as ReadableStream<Uint8Array>).pipeThrough(
    createTarDecoder({ strict: true }),
  );
  try {
    for await (const entry of entries) {
      const name = entry.header.name.replace(/^\.\//, '');
      const isFile = (entry.header.type ?? 'file') === 'file';
      if (!isFile || !accept(name)) {
        await entry.body.cancel();
        continue;
      }
      const data = new Uint8Array(await new Response(entry.body).arrayBuffer());
      yield { origin: `${path}!${name}`, name, data };
    }
  } catch (err) {
    const cause = (streamError as Error | null) ?? (err as Error);
    if (cause instanceof InputError) throw cause;
    throw new InputError(`${path}: corrupt ${format} archive: ${cause.message || String(cause)}`);
  } finally {
    byteStream.destroy();
  }
}

/** Decodes a member as UTF-8 text (a byte-order mark is dropped). */
export function textOf(file: InputFile): string {
  const text = Buffer.from(file.data.buffer, file.data.byteOffset, file.data.byteLength).toString('utf8');
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

/** Parses a member as JSON; the error names the member. */
export function jsonOf(file: InputFile): unknown {
  try {
    return JSON.parse(textOf(file));
  } catch (err) {
    throw new InputError(`${file.origin}: not valid JSON: ${(err as Error).message}`);
  }
}
