// os-release(5): `/etc/os-release`, else `/usr/lib/os-release`: shell-style `KEY=value`
// assignments. Also derives the release key a distribution's advisories are filed under when
// os-release does not spell it out (codename for Debian and Ubuntu, branch for Alpine).
import { readFile } from 'node:fs/promises';
import type { OsInfo } from '../core/types.ts';
import { alpineBranch } from './alpine-branch.ts';
import { describeFsError, resolveInRoot } from './rootfs.ts';

export {
  alpineBranch,
  branchOfRelease,
  repositoryBranches,
  type AlpineBranch,
  type RepositoryBranch,
} from './alpine-branch.ts';

const OS_RELEASE_PATHS = ['etc/os-release', 'usr/lib/os-release'];

export interface OsReleaseParse {
  fields: Map<string, string>;
  warnings: string[];
}

/** Parses os-release text. Lines that are not assignments are warnings naming file and line. */
export function parseOsRelease(text: string, file: string): OsReleaseParse {
  const fields = new Map<string, string>();
  const warnings: string[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].trim();
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line);
    if (!m) {
      warnings.push(`${file}:${i + 1}: not a KEY=value assignment; ignored`);
      continue;
    }
    const value = unquote(m[2]);
    if (typeof value !== 'string') {
      warnings.push(`${file}:${i + 1}: ${m[1]}: ${value.error}; ignored`);
      continue;
    }
    fields.set(m[1], value);
  }
  return { fields, warnings };
}

/** One shell word: unquoted, "double" (\ escapes $ ` " \) and 'single' quoted parts. */
function unquote(raw: string): string | { error: string } {
  let out = '';
  let i = 0;
  while (i < raw.length) {
    const c = raw[i];
    if (c === '"') {
      const close = scanDouble(raw, i + 1);
      if (close === null) return { error: 'unterminated double quote' };
      out += close.text;
      i = close.end + 1;
    } else if (c === "'") {
      const end = raw.indexOf("'", i + 1);
      if (end === -1) return { error: 'unterminated single quote' };
      out += raw.slice(i + 1, end);
      i = end + 1;
    } else if (c === '\\') {
      if (i + 1 < raw.length) out += raw[i + 1];
      i += 2;
    } else if (c === ' ' || c === '\t') {
      // The word ends here; only a comment may follow it.
      const rest = raw.slice(i).trim();
      if (rest !== '' && !rest.startsWith('#'))
        return { error: `text after the value (${JSON.stringify(rest)}); quote values with spaces` };
      break;
    } else {
      out += c;
      i++;
    }
  }
  return out;
}

function scanDouble(raw: string, start: number): { text: string; end: number } | null {
  let text = '';
  for (let i = start; i < raw.length; i++) {
    const c = raw[i];
    if (c === '"') return { text, end: i };
    if (c === '\\' && i + 1 < raw.length && '$`"\\'.includes(raw[i + 1])) {
      text += raw[i + 1];
      i++;
    } else {
      text += c;
    }
  }
  return null;
}

export interface OsInfoResult {
  os: OsInfo;
  /** The os-release file read, or null when there is none. */
  file: string | null;
  warnings: string[];
}

/** Reads the host's OsInfo from the root's os-release (and the release files it falls back on). */
export async function readOsInfo(root: string): Promise<OsInfoResult> {
  const warnings: string[] = [];
  let file: string | null = null;
  let fields = new Map<string, string>();
  for (const rel of OS_RELEASE_PATHS) {
    const candidate = await resolveInRoot(root, rel);
    let text: string;
    try {
      text = await readFile(candidate, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT')
        warnings.push(`${candidate}: cannot read: ${describeFsError(err)}`);
      continue;
    }
    const parsed = parseOsRelease(text, candidate);
    warnings.push(...parsed.warnings);
    fields = parsed.fields;
    file = candidate;
    break;
  }
  if (file === null) warnings.push(`no os-release under ${root} (looked for /${OS_RELEASE_PATHS.join(', /')})`);

  const get = (k: string): string => fields.get(k) ?? '';
  const os: OsInfo = {
    id: get('ID'),
    version_id: get('VERSION_ID'),
    codename: '',
    pretty_name: get('PRETTY_NAME'),
    id_like: get('ID_LIKE')
      .split(/\s+/)
      .filter((s) => s !== ''),
  };
  if (file !== null && !os.id) warnings.push(`${file}: no ID field; the distribution is unknown`);
  os.codename = await releaseKey(root, os, fields, warnings);
  return { os, file, warnings };
}

/**
 * Debian family: VERSION_CODENAME, UBUNTU_CODENAME, the word in VERSION ("12 (bookworm)",
 * "14.04.6 LTS, Trusty Tahr"), then (Debian testing/sid) `/etc/debian_version` ("trixie/sid").
 * Alpine has no codename: the branch (`3.18`, `edge`) stands in, the key its advisories use.
 */
async function releaseKey(root: string, os: OsInfo, fields: Map<string, string>, warnings: string[]): Promise<string> {
  if (os.id === 'alpine') {
    const b = await alpineBranch(root, os.version_id);
    warnings.push(...b.warnings);
    return b.branch ?? '';
  }
  const named = fields.get('VERSION_CODENAME') || fields.get('UBUNTU_CODENAME');
  if (named) return named;
  const family = [os.id, ...(os.id_like ?? [])];
  if (!family.includes('debian') && !family.includes('ubuntu')) return '';
  const fromVersion = codenameInVersion(fields.get('VERSION') ?? '');
  if (fromVersion) return fromVersion;
  if (os.id !== 'debian') return '';
  const file = await resolveInRoot(root, 'etc/debian_version');
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT')
      warnings.push(`${file}: cannot read: ${describeFsError(err)}`);
    return '';
  }
  // "trixie/sid" on testing and unstable; a number ("12.5") on a stable release.
  const m = /^([a-z]+)\/sid$/.exec(text.trim());
  return m ? m[1] : '';
}

/**
 * The codename word in a Debian/Ubuntu VERSION: "12 (bookworm)", "16.04.7 LTS (Xenial Xerus)", "14.04.6 LTS, Trusty
 * Tahr".
 */
export function codenameInVersion(version: string): string {
  const m = /\(([A-Za-z]+)[^)]*\)/.exec(version) ?? /,\s*([A-Za-z]+)/.exec(version);
  return m ? m[1].toLowerCase() : '';
}
