// Reads the tracker JSON one source package at a time. The full file is ~70 MB of JSON whose
// parsed form would take several times that in memory; its top level is one object keyed by
// source package, so this scans the bytes for the boundaries of each top-level member and
// JSON-parses one package's value at a time. Memory stays at one package (the largest, `linux`,
// is a few MB) whatever the size of the file.
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { createGunzip } from 'node:zlib';
import { PatchloopError } from '../../core/errors.ts';

export class TrackerFormatError extends PatchloopError {
  constructor(message: string) {
    super('PL_E_FEED_INPUT', message);
  }
}

export interface TopLevelMember {
  /** The member's key (a source package name). */
  name: string;
  /** The member's value, parsed (always a plain object). */
  value: Record<string, unknown>;
  /** 1-based line where the member's key starts, for messages. */
  line: number;
}

/** Scanner states. */
const S = {
  start: 0,
  key: 1,
  inKey: 2,
  colon: 3,
  value: 4,
  inValue: 5,
  afterValue: 6,
  end: 7,
} as const;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN = 0x7b;
const CLOSE = 0x7d;
const COMMA = 0x2c;
const COLON = 0x3a;
const NEWLINE = 0x0a;

function isSpace(b: number): boolean {
  return b === 0x20 || b === NEWLINE || b === 0x0d || b === 0x09;
}

function show(b: number): string {
  return b >= 0x20 && b < 0x7f ? JSON.stringify(String.fromCharCode(b)) : `byte 0x${b.toString(16).padStart(2, '0')}`;
}

/**
 * Yields the members of a JSON object `{"name": {...}, ...}` whose values must be objects.
 * Throws TrackerFormatError (naming the file and line) for anything else: another top-level
 * type, a member that is not an object, invalid JSON, or a file that ends early (truncated).
 */
export async function* readTopLevelObjects(
  chunks: AsyncIterable<Buffer>,
  file: string,
): AsyncGenerator<TopLevelMember> {
  let state: number = S.start;
  let line = 1;
  let members = 0;
  // Pieces of the key or value being read, when it spans chunks.
  let pieces: Buffer[] = [];
  let key = '';
  let keyLine = 1;
  let depth = 0;
  let inString = false;
  let escaped = false;

  const fail = (what: string): never => {
    throw new TrackerFormatError(`${file}:${line}: not the Debian tracker JSON format: ${what}`);
  };

  for await (const chunk of chunks) {
    let start = 0;
    for (let i = 0; i < chunk.length; i++) {
      const b = chunk[i];
      if (b === NEWLINE) line++;
      switch (state) {
        case S.inValue:
          if (inString) {
            if (escaped) escaped = false;
            else if (b === BACKSLASH) escaped = true;
            else if (b === QUOTE) inString = false;
          } else if (b === QUOTE) {
            inString = true;
          } else if (b === OPEN) {
            depth++;
          } else if (b === CLOSE && --depth === 0) {
            pieces.push(chunk.subarray(start, i + 1));
            const text = pieces.length === 1 ? pieces[0].toString('utf8') : Buffer.concat(pieces).toString('utf8');
            pieces = [];
            let value: unknown;
            try {
              value = JSON.parse(text);
            } catch (err) {
              throw new TrackerFormatError(
                `${file}:${keyLine}: invalid JSON in the record of package ${JSON.stringify(key)}: ${(err as Error).message}`,
              );
            }
            members++;
            yield { name: key, value: value as Record<string, unknown>, line: keyLine };
            state = S.afterValue;
          }
          break;
        case S.inKey:
          if (escaped) escaped = false;
          else if (b === BACKSLASH) escaped = true;
          else if (b === QUOTE) {
            pieces.push(chunk.subarray(start, i + 1));
            const raw = Buffer.concat(pieces).toString('utf8');
            pieces = [];
            try {
              key = JSON.parse(raw) as string;
            } catch {
              fail(`invalid object key ${raw}`);
            }
            state = S.colon;
          } else if (b === NEWLINE) {
            fail('line break inside an object key');
          }
          break;
        case S.start:
          if (isSpace(b)) break;
          if (b !== OPEN) fail(`expected a JSON object, found ${show(b)} at the start`);
          state = S.key;
          break;
        case S.key:
          if (isSpace(b)) break;
          if (b === QUOTE) {
            state = S.inKey;
            keyLine = line;
            escaped = false;
            start = i;
          } else if (b === CLOSE && members === 0) {
            state = S.end;
          } else {
            fail(`expected a package name, found ${show(b)}`);
          }
          break;
        case S.colon:
          if (isSpace(b)) break;
          if (b !== COLON) fail(`expected ":" after ${JSON.stringify(key)}, found ${show(b)}`);
          state = S.value;
          break;
        case S.value:
          if (isSpace(b)) break;
          if (b !== OPEN) fail(`the value of ${JSON.stringify(key)} is not an object (starts with ${show(b)})`);
          state = S.inValue;
          depth = 1;
          inString = false;
          escaped = false;
          start = i;
          break;
        case S.afterValue:
          if (isSpace(b)) break;
          if (b === COMMA) state = S.key;
          else if (b === CLOSE) state = S.end;
          else fail(`expected "," or "}" after the record of ${JSON.stringify(key)}, found ${show(b)}`);
          break;
        case S.end:
          if (!isSpace(b)) fail(`unexpected ${show(b)} after the end of the top-level object`);
          break;
      }
    }
    if (state === S.inValue || state === S.inKey) pieces.push(chunk.subarray(start));
  }

  if (state !== S.end) {
    const where =
      state === S.start
        ? 'the file is empty'
        : members === 0 && state === S.key
          ? 'it ends after "{"'
          : `it ends inside or after the record of package ${JSON.stringify(key)}`;
    throw new TrackerFormatError(
      `${file}:${line}: truncated Debian tracker JSON: ${where} (the top-level object is never closed)`,
    );
  }
}

/** The bytes of a file, gunzipped when it starts with the gzip magic number. */
export async function* fileChunks(path: string): AsyncGenerator<Buffer> {
  const fh = await open(path, 'r');
  const magic = Buffer.alloc(2);
  try {
    await fh.read(magic, 0, 2, 0);
  } finally {
    await fh.close();
  }
  const raw = createReadStream(path, { highWaterMark: 1 << 20 });
  let stream: NodeJS.ReadableStream = raw;
  if (magic[0] === 0x1f && magic[1] === 0x8b) {
    const gunzip = createGunzip();
    raw.on('error', (err) => gunzip.destroy(err));
    stream = raw.pipe(gunzip);
  }
  try {
    for await (const chunk of stream) yield chunk as Buffer;
  } catch (err) {
    if ((err as { code?: string }).code?.startsWith('Z_')) {
      throw new TrackerFormatError(`${path}: damaged gzip data: ${(err as Error).message}`);
    }
    throw err;
  } finally {
    raw.destroy();
  }
}
