// An rpm repository's metadata index, `repodata/repomd.xml`: where the repository's files are
// (primary, filelists, updateinfo…), each with its checksum. Feeds that read updateinfo.xml use
// it to find that file (whose name carries its checksum, so it changes with every update), in a
// local copy of a repository and behind a download URL; and a mirror list (one repository URL a
// line, as dnf's `mirrorlist=` serves it) to find the repository.
import { open, readFile } from 'node:fs/promises';
import sax from 'sax';
import { PatchloopError } from '../../core/errors.ts';
import type { FeedDownload } from '../registry.ts';
import { looksLikeUpdateinfo } from './updateinfo.ts';

/** A repomd.xml or mirror list that cannot be used; the message says why. */
export class RepodataError extends PatchloopError {
  constructor(message: string, options?: ErrorOptions) {
    super('PL_E_FEED_INPUT', message, options);
  }
}

export interface RepomdRecord {
  /** `primary`, `updateinfo`, `group_xz`… */
  type: string;
  /** The file's path from the repository root (`repodata/…-updateinfo.xml.gz`). */
  href: string;
  /** Checksum of the file as stored, when the record gives one. */
  checksum: { type: string; value: string } | null;
}

export function looksLikeRepomd(text: string): boolean {
  return /<repomd[\s>]/.test(text.slice(0, 4096));
}

/** The records of a repomd.xml; throws RepodataError when it is not one. */
export function parseRepomd(xml: string): RepomdRecord[] {
  const records: RepomdRecord[] = [];
  const parser = sax.parser(true, { trim: false });
  let root: string | null = null;
  let record: RepomdRecord | null = null;
  let checksumType: string | null = null;
  let text = '';
  parser.onopentag = (tag) => {
    const a = tag.attributes as Record<string, string>;
    root ??= tag.name;
    text = '';
    if (tag.name === 'data') record = { type: a.type ?? '', href: '', checksum: null };
    else if (record && tag.name === 'location') record.href = a.href ?? '';
    else if (record && tag.name === 'checksum') checksumType = a.type ?? '';
  };
  parser.ontext = (t) => {
    text += t;
  };
  parser.onclosetag = (name) => {
    if (name === 'checksum' && record && checksumType !== null) {
      record.checksum = { type: checksumType, value: text.trim().toLowerCase() };
      checksumType = null;
    } else if (name === 'data' && record) {
      records.push(record);
      record = null;
    }
  };
  parser.onerror = (err) => {
    throw new RepodataError(`not well-formed XML: ${err.message.split('\n')[0]}`, { cause: err });
  };
  parser.write(xml).close();
  if (root !== 'repomd')
    throw new RepodataError(`not a repomd.xml (its root element is ${root === null ? 'missing' : `<${root}>`})`);
  return records;
}

/** The updateinfo record of a repomd.xml; throws RepodataError when there is none or its location is unusable. */
export function updateinfoRecord(xml: string): RepomdRecord {
  const record = parseRepomd(xml).find((r) => r.type === 'updateinfo');
  if (!record)
    throw new RepodataError('the repository publishes no updateinfo (no <data type="updateinfo"> in repomd.xml)');
  // A path inside the repository: never absolute, never climbing out of it.
  if (
    !record.href ||
    record.href.startsWith('/') ||
    record.href.split('/').includes('..') ||
    /^[a-z][a-z0-9+.-]*:/i.test(record.href)
  ) {
    throw new RepodataError(`the updateinfo location "${record.href}" is not a path inside the repository`);
  }
  return record;
}

/**
 * The repository URLs of a mirror list, first choice first; throws RepodataError when a line
 * is not an http(s) URL or there is none.
 */
export function parseMirrorList(text: string): URL[] {
  const urls: URL[] = [];
  for (const [i, raw] of text.split('\n').entries()) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    let url: URL;
    try {
      url = new URL(line);
    } catch {
      throw new RepodataError(`line ${i + 1} is not a URL: ${JSON.stringify(line.slice(0, 80))}`);
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:')
      throw new RepodataError(`line ${i + 1}: not an http(s) URL: ${url.protocol}`);
    urls.push(url);
  }
  if (urls.length === 0) throw new RepodataError('an empty mirror list');
  return urls;
}

/** A URL naming a directory (a repository root): with its trailing slash, so relative paths resolve inside it. */
export function directoryUrl(url: URL): URL {
  const u = new URL(url.href);
  if (!u.pathname.endsWith('/')) u.pathname += '/';
  return u;
}

/**
 * `FeedSource.follow` for feeds read from rpm repositories: a downloaded mirror list leads to
 * its first repository's `repodata/repomd.xml`, a repomd.xml to the updateinfo file it names;
 * an updateinfo document (or anything else, which the import then refuses) is the data. No
 * step leads from https to plain http, nor from the network to a local file.
 */
export async function followRepository(d: FeedDownload): Promise<string[] | null> {
  const head = await readHead(d.path, 4096);
  if (looksLikeUpdateinfo(head)) return null;
  let next: URL;
  try {
    if (looksLikeRepomd(head)) {
      // Locations are relative to the repository root, the parent of repodata/.
      next = new URL(updateinfoRecord(await readFile(d.path, 'utf8')).href, new URL('../', d.url));
    } else if (/^\s*(?:#[^\n]*\n\s*)*https?:\/\//.test(head)) {
      next = new URL('repodata/repomd.xml', directoryUrl(parseMirrorList(await readFile(d.path, 'utf8'))[0]));
    } else {
      return null;
    }
  } catch (err) {
    if (err instanceof RepodataError) throw new RepodataError(`${d.url}: ${err.message}`, { cause: err });
    throw err;
  }
  const from = new URL(d.url).protocol;
  const allowed =
    next.protocol === from || next.protocol === 'https:' || (next.protocol === 'http:' && from !== 'https:');
  if (!allowed)
    throw new RepodataError(
      `${d.url}: will not follow ${next.href} (from https only to https, and from the network never to a local file)`,
    );
  return [next.href];
}

/** The first `bytes` bytes of a file as text. */
async function readHead(path: string, bytes: number): Promise<string> {
  const fh = await open(path, 'r');
  try {
    const buf = Buffer.alloc(bytes);
    const { bytesRead } = await fh.read(buf, 0, bytes, 0);
    return buf.toString('utf8', 0, bytesRead);
  } finally {
    await fh.close();
  }
}
