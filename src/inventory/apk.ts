// apk's installed database (`/lib/apk/db/installed`; `/usr/lib/apk/db/installed` on
// usr-merged systems such as Wolfi): one record per package, one `X:value` line per field,
// records separated by blank lines. Only P (name), V (version), A (arch), o (origin) matter.
import type { InstalledPackage } from '../core/types.ts';
import { isBlank } from './deb822.ts';
import { InventoryError, type InventoryReader, type ReadResult } from './reader.ts';
import { kindOf, readDatabaseText, resolveInRoot } from './rootfs.ts';

/** Where apk keeps the database, relative to the root, in the order apk itself looks. */
const DB_PATHS = ['lib/apk/db/installed', 'usr/lib/apk/db/installed'];

export interface ApkParse {
  packages: InstalledPackage[];
  warnings: string[];
  /** Records skipped as unusable (no name, no version, garbage). */
  corrupt: number;
}

interface ApkRecord {
  line: number;
  fields: Map<string, string>;
  problems: string[];
}

const COLON = 0x3a;
const WANTED = new Set(['P', 'V', 'A', 'o']);

/** Parses the database text. Corrupt records become warnings naming `file` and the line. */
export function parseApkInstalled(text: string, file: string): ApkParse {
  const out: ApkParse = { packages: [], warnings: [], corrupt: 0 };
  for (const rec of splitRecords(text)) {
    const where = `${file}:${rec.line}`;
    const problems = rec.problems.length > 0 ? ` (${rec.problems.join('; ')})` : '';
    const name = rec.fields.get('P');
    const version = rec.fields.get('V');
    if (!name || /\s/.test(name)) {
      out.corrupt++;
      out.warnings.push(
        `${where}: record skipped: ${name === undefined ? 'no' : 'invalid'} P: (package name) line${problems}`,
      );
      continue;
    }
    if (!version || /\s/.test(version)) {
      out.corrupt++;
      out.warnings.push(
        `${where}: package ${name} skipped: ${version === undefined ? 'no' : 'invalid'} V: (version) line${problems}`,
      );
      continue;
    }
    if (problems) out.warnings.push(`${where}: package ${name}: malformed lines ignored${problems}`);
    const origin = rec.fields.get('o');
    out.packages.push({
      name,
      version,
      arch: rec.fields.get('A') ?? '',
      // A package built from an APKBUILD of the same name records no origin.
      source: origin || name,
      source_version: version,
      format: 'apk',
    });
  }
  return out;
}

function splitRecords(text: string): ApkRecord[] {
  const records: ApkRecord[] = [];
  let current: ApkRecord | null = null;
  let lineNo = 0;
  for (let pos = 0; pos < text.length;) {
    lineNo++;
    let next = text.indexOf('\n', pos);
    if (next === -1) next = text.length;
    const end = next > pos && text.charCodeAt(next - 1) === 0x0d ? next - 1 : next;
    const start = pos;
    pos = next + 1;
    const first = text.charCodeAt(start);
    if (end === start || ((first === 0x20 || first === 0x09) && isBlank(text, start, end))) {
      current = null;
      continue;
    }
    if (current === null) {
      current = { line: lineNo, fields: new Map(), problems: [] };
      records.push(current);
    }
    if (end - start < 2 || text.charCodeAt(start + 1) !== COLON) {
      current.problems.push(`line ${lineNo}: not a "X:value" line`);
      continue;
    }
    const key = text[start];
    if (!WANTED.has(key)) continue;
    if (current.fields.has(key)) current.problems.push(`line ${lineNo}: ${key}: repeated`);
    current.fields.set(key, text.slice(start + 2, end).trim());
  }
  return records;
}

/** Reads the database file; InventoryError when it is unreadable or holds no valid record. */
export async function readApkDatabase(file: string): Promise<ReadResult> {
  const parsed = parseApkInstalled(await readDatabaseText(file), file);
  if (parsed.packages.length === 0) {
    if (parsed.corrupt > 0) {
      throw new InventoryError(
        file,
        `no valid package record, ${parsed.corrupt} corrupt; first: ${parsed.warnings[0]}`,
      );
    }
    parsed.warnings.push(`${file}: no installed package recorded`);
  }
  return { packages: parsed.packages, warnings: parsed.warnings };
}

export const apkReader: InventoryReader = {
  format: 'apk',
  async detect(root: string): Promise<string | null> {
    for (const rel of DB_PATHS) {
      const file = await resolveInRoot(root, rel);
      if ((await kindOf(file)) !== null) return file;
    }
    return null;
  },
  read(_root: string, dbPath: string): Promise<ReadResult> {
    return readApkDatabase(dbPath);
  },
};
