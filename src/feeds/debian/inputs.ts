// Tells the debian feed's inputs apart. The feed reads four kinds of file, found by name or by
// their first bytes (downloaded copies are named `<hash>-<url file name>`):
//   - the tracker JSON (starts with `{`), exactly one;
//   - advisory lists (`[date] DSA-…`, `DLA-…`, `DTSA-…` headers);
//   - security-support-ended[.debNN] and security-support-limited.
// A directory is searched recursively; files in it that are none of these are reported once.
import { closeSync, existsSync, openSync, readdirSync, readFileSync, readSync, realpathSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { constants, gunzipSync } from 'node:zlib';
import { codenameOf } from './releases.ts';
import { PatchloopError } from '../../core/errors.ts';

export type DebianInput =
  | { kind: 'tracker'; path: string }
  | { kind: 'advisories'; path: string }
  | { kind: 'support-ended'; path: string; release: string }
  | { kind: 'support-limited'; path: string };

const ENDED = /security-support-ended(?:\.deb(\d+))?$/;
const LIMITED = /security-support-limited$/;
const ADVISORY_HEADER = /^\[[^\]\n]+\]\s+(?:DSA|DLA|DTSA)-\d+/;
/** Files that come with the inputs' usual directories and are not inputs. */
const KNOWN_EXTRAS = new Set(['distributions.json', 'VERSION', 'copyright', 'README', 'README.md']);

export class DebianInputError extends PatchloopError {
  constructor(message: string) {
    super('PL_E_FEED_INPUT', message);
  }
}

export function classifyInputs(inputs: readonly string[], warn: (message: string) => void): DebianInput[] {
  const out: DebianInput[] = [];
  for (const input of inputs) {
    let st;
    try {
      st = statSync(input);
    } catch (err) {
      throw new DebianInputError(`cannot read input ${input}: ${(err as Error).message}`);
    }
    if (st.isDirectory()) {
      out.push(...classifyDirectory(input, warn));
      continue;
    }
    const found = classifyFile(input);
    if (typeof found === 'string') throw new DebianInputError(`${input}: ${found}`);
    out.push(found);
  }
  const trackers = out.filter((i) => i.kind === 'tracker');
  if (trackers.length === 0) {
    throw new DebianInputError(
      `no Debian tracker JSON among the inputs (${inputs.join(', ')}); it is the file at https://security-tracker.debian.org/tracker/data/json`,
    );
  }
  if (trackers.length > 1) {
    throw new DebianInputError(
      `several tracker JSON files among the inputs (${trackers.map((t) => t.path).join(', ')}); give one`,
    );
  }
  return out;
}

function classifyDirectory(dir: string, warn: (message: string) => void): DebianInput[] {
  const found: DebianInput[] = [];
  const ignored: string[] = [];
  const walk = (d: string) => {
    for (const entry of readdirSync(d, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const path = join(d, entry.name);
      if (entry.name.startsWith('.') || entry.name.endsWith('.meta.json') || entry.name.includes('.tmp-')) continue;
      if (entry.isDirectory()) {
        walk(path);
        continue;
      }
      if (!entry.isFile() && !entry.isSymbolicLink()) continue;
      if (KNOWN_EXTRAS.has(entry.name)) continue;
      const kind = classifyFile(path);
      if (typeof kind === 'string') ignored.push(path.slice(dir.length + 1));
      else found.push(kind);
    }
  };
  walk(dir);
  if (ignored.length) {
    const shown = ignored.slice(0, 5).join(', ');
    warn(
      `${dir}: ignored ${ignored.length} file(s) that are not debian feed inputs: ${shown}${ignored.length > 5 ? ', …' : ''}`,
    );
  }
  // The unsuffixed ended list is a copy of (or link to) one release's list; keep one of the two.
  const explicit = new Set(
    found
      .filter((f) => f.kind === 'support-ended' && ENDED.exec(basename(f.path))?.[1])
      .map((f) => (f as { release: string }).release),
  );
  return found.filter(
    (f) => !(f.kind === 'support-ended' && !ENDED.exec(basename(f.path))?.[1] && explicit.has(f.release)),
  );
}

/** The input's kind, or why it is none of the feed's inputs. */
function classifyFile(path: string): DebianInput | string {
  const name = basename(path).replace(/\.gz$/, '');
  const ended = ENDED.exec(name);
  if (ended) {
    const release = ended[1] ? codenameOf(Number(ended[1])) : unsuffixedRelease(path);
    if (!release) {
      return ended[1]
        ? `Debian ${ended[1]} has no known codename (known: 9 to 15)`
        : "cannot tell which Debian release this list is for: name it security-support-ended.debNN, or keep the package's VERSION file beside it";
    }
    return { kind: 'support-ended', path, release };
  }
  if (LIMITED.test(name)) return { kind: 'support-limited', path };
  const raw = readHead(path);
  if (raw === null) return 'damaged gzip data';
  const head = raw.trimStart();
  if (head.startsWith('{')) return { kind: 'tracker', path };
  if (ADVISORY_HEADER.test(head)) return { kind: 'advisories', path };
  return head === ''
    ? 'the file is empty'
    : 'not a debian feed input (the tracker JSON, a DSA/DLA/DTSA list, or a security-support list)';
}

/**
 * debian-security-support installs `security-support-ended` as a link to the list of its own
 * release, and its VERSION file (`1:12+2026.06.30`) names that release.
 */
function unsuffixedRelease(path: string): string | null {
  try {
    const target = ENDED.exec(basename(realpathSync(path)));
    if (target?.[1]) return codenameOf(Number(target[1]));
  } catch {
    // fall through to the VERSION file
  }
  const versionFile = join(dirname(path), 'VERSION');
  if (!existsSync(versionFile)) return null;
  const m = /^(?:\d+:)?(\d+)\+/.exec(readFileSync(versionFile, 'utf8').trim());
  return m ? codenameOf(Number(m[1])) : null;
}

/** The first bytes of a file as text, gunzipped when it is gzip (null: damaged gzip). */
function readHead(path: string): string | null {
  const fd = openSync(path, 'r');
  const buf = Buffer.alloc(4096);
  let n: number;
  try {
    n = readSync(fd, buf, 0, buf.length, 0);
  } finally {
    closeSync(fd);
  }
  let head = buf.subarray(0, n);
  if (head[0] === 0x1f && head[1] === 0x8b) {
    try {
      head = gunzipSync(head, { finishFlush: constants.Z_SYNC_FLUSH });
    } catch {
      return null;
    }
  }
  return head.toString('utf8');
}

/** A whole (small) list file as text, gunzipped when it is gzip. */
export function readText(path: string): string {
  const buf = readFileSync(path);
  return (buf[0] === 0x1f && buf[1] === 0x8b ? gunzipSync(buf) : buf).toString('utf8');
}
