// dpkg's package database: `/var/lib/dpkg/status` (plus the `updates/` journal dpkg has not
// folded in yet), and the distroless layout `/var/lib/dpkg/status.d/` (one file per package,
// beside `<name>.md5sums` lists, and no Status field because only installed packages are there).
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import type { InstalledPackage } from '../core/types.ts';
import { parseDeb822 } from './deb822.ts';
import { InventoryError, type InventoryReader, type ReadResult } from './reader.ts';
import { describeFsError, kindOf, readDatabaseText, resolveInRoot } from './rootfs.ts';

const FIELDS: ReadonlySet<string> = new Set(['package', 'version', 'architecture', 'source', 'status']);

/** dpkg states (third word of `Status:`) of a package whose files are not on disk. */
const FILES_ABSENT: ReadonlySet<string> = new Set(['not-installed', 'config-files']);
const STATES: ReadonlySet<string> = new Set([
  'not-installed',
  'config-files',
  'half-installed',
  'unpacked',
  'half-configured',
  'triggers-awaited',
  'triggers-pending',
  'installed',
]);

/** Which file layout a text comes from: the status file, or one file of `status.d/`. */
export type DpkgLayout = 'status' | 'status.d';

/** One package record, including those whose files are gone (journal entries can revive or remove). */
export interface DpkgRecord {
  pkg: InstalledPackage;
  onDisk: boolean;
  /** `file:line` of the record, for warnings. */
  where: string;
}

export interface DpkgParse {
  records: DpkgRecord[];
  warnings: string[];
  /** Records skipped as unusable (no Package, no Version, garbage). */
  corrupt: number;
}

/** Parses one status-file text. Corrupt records become warnings naming `file` and the line. */
export function parseDpkgStatus(text: string, file: string, layout: DpkgLayout): DpkgParse {
  const out: DpkgParse = { records: [], warnings: [], corrupt: 0 };
  for (const para of parseDeb822(text, FIELDS)) {
    const where = `${file}:${para.line}`;
    const f = para.fields;
    const name = f.get('package');
    const problems = para.problems.length > 0 ? ` (${para.problems.join('; ')})` : '';
    if (!name) {
      out.corrupt++;
      out.warnings.push(`${where}: record skipped: ${name === '' ? 'empty' : 'no'} Package field${problems}`);
      continue;
    }
    if (/\s/.test(name)) {
      out.corrupt++;
      out.warnings.push(`${where}: record skipped: invalid package name ${JSON.stringify(name)}${problems}`);
      continue;
    }
    const onDisk = filesOnDisk(f.get('status'), name, where, layout, out.warnings);
    const version = f.get('version');
    if (!version || /\s/.test(version)) {
      // A purged or config-files record may lawfully lack a version: nothing of it is installed.
      if (!onDisk) continue;
      out.corrupt++;
      const why =
        version === undefined
          ? 'no Version field'
          : version === ''
            ? 'empty Version field'
            : `invalid version ${JSON.stringify(version)}`;
      out.warnings.push(`${where}: package ${name} skipped: ${why}${problems}`);
      continue;
    }
    if (problems) out.warnings.push(`${where}: package ${name}: malformed lines ignored${problems}`);
    const arch = f.get('architecture') ?? '';
    const src = parseSource(f.get('source'), name, version, where, out.warnings);
    out.records.push({
      pkg: { name, version, arch, source: src.name, source_version: src.version, format: 'deb' },
      onDisk,
      where,
    });
  }
  return out;
}

function filesOnDisk(
  status: string | undefined,
  name: string,
  where: string,
  layout: DpkgLayout,
  warnings: string[],
): boolean {
  if (status === undefined) {
    // status.d holds installed packages only and never says so; in the status file dpkg always
    // writes Status, so its absence is worth a word (counted as installed: better a finding too many).
    if (layout === 'status') warnings.push(`${where}: package ${name} has no Status field; counted as installed`);
    return true;
  }
  const words = status.split(' ').filter((w) => w !== '');
  const state = words[2];
  if (words.length === 3 && STATES.has(state)) return !FILES_ABSENT.has(state);
  warnings.push(`${where}: package ${name} has an unrecognised Status ${JSON.stringify(status)}; counted as installed`);
  return true;
}

/** `Source: name` or `Source: name (version)`; absent means the binary's own name and version. */
function parseSource(
  field: string | undefined,
  name: string,
  version: string,
  where: string,
  warnings: string[],
): { name: string; version: string } {
  if (!field) return { name, version };
  const open = field.indexOf('(');
  if (open === -1) return /\s/.test(field) ? badSource() : { name: field, version };
  const close = field.indexOf(')', open);
  const srcName = field.slice(0, open).trim();
  const srcVersion = close === -1 ? '' : field.slice(open + 1, close).trim();
  if (!srcName || !srcVersion || /\s/.test(srcName) || /\s/.test(srcVersion) || field.slice(close + 1).trim() !== '')
    return badSource();
  return { name: srcName, version: srcVersion };

  function badSource(): { name: string; version: string } {
    warnings.push(
      `${where}: package ${name}: malformed Source ${JSON.stringify(field)}; using the binary's own name and version`,
    );
    return { name, version };
  }
}

/** Reads a status file (`*\/status`, with its `updates/` journal and any `status.d/` beside it). */
async function readStatusFile(file: string): Promise<DpkgParse> {
  const parsed = parseDpkgStatus(await readDatabaseText(file), file, 'status');
  if (path.basename(file) !== 'status') return parsed;
  const adminDir = path.dirname(file);
  const journal = await readJournal(path.join(adminDir, 'updates'));
  const warnings = [...parsed.warnings];
  const records = mergeRecords(parsed.records, journal.records, warnings);
  warnings.push(...journal.warnings);
  const merged: DpkgParse = { records, warnings, corrupt: parsed.corrupt + journal.corrupt };
  const statusD = path.join(adminDir, 'status.d');
  if ((await kindOf(statusD)) === 'dir') {
    const extra = await readStatusDir(statusD);
    merged.records = addMissing(merged.records, extra.records, merged.warnings);
    merged.warnings.push(...extra.warnings);
    merged.corrupt += extra.corrupt;
  }
  return merged;
}

/**
 * dpkg's journal: records written during an operation that dpkg has not yet folded into the
 * status file. dpkg-query applies them in numeric order, each replacing the package's record.
 */
async function readJournal(dir: string): Promise<DpkgParse> {
  const out: DpkgParse = { records: [], warnings: [], corrupt: 0 };
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return out;
  }
  const entries = names.filter((n) => /^\d+$/.test(n)).sort((a, b) => Number(a) - Number(b));
  for (const n of entries) {
    const file = path.join(dir, n);
    const p = parseDpkgStatus(await readDatabaseText(file), file, 'status');
    out.records = mergeRecords(out.records, p.records, out.warnings);
    out.warnings.push(...p.warnings);
    out.corrupt += p.corrupt;
  }
  return out;
}

/** Reads every package file of a distroless `status.d/` directory. */
async function readStatusDir(dir: string): Promise<DpkgParse> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (err) {
    throw new InventoryError(dir, `cannot read directory: ${describeFsError(err)}`);
  }
  const out: DpkgParse = { records: [], warnings: [], corrupt: 0 };
  const all: DpkgRecord[] = [];
  for (const n of names.sort()) {
    if (n.endsWith('.md5sums') || n.startsWith('.')) continue;
    const file = path.join(dir, n);
    if ((await kindOf(file)) !== 'file') continue;
    const p = parseDpkgStatus(await readDatabaseText(file), file, 'status.d');
    if (p.records.length === 0 && p.corrupt === 0) p.warnings.push(`${file}: no package record`);
    all.push(...p.records);
    out.warnings.push(...p.warnings);
    out.corrupt += p.corrupt;
  }
  out.records = addMissing([], all, out.warnings);
  return out;
}

const keyOf = (r: DpkgRecord): string => `${r.pkg.name}\0${r.pkg.arch}`;

/** `base` with each of `updates` replacing the record of the same package and architecture. */
function mergeRecords(base: DpkgRecord[], updates: DpkgRecord[], warnings: string[]): DpkgRecord[] {
  const byKey = new Map<string, DpkgRecord>();
  for (const r of base) {
    const k = keyOf(r);
    const prev = byKey.get(k);
    if (prev)
      warnings.push(
        `${r.where}: package ${r.pkg.name} (${r.pkg.arch || 'no arch'}) already recorded at ${prev.where}; the later record wins`,
      );
    byKey.set(k, r);
  }
  for (const r of updates) byKey.set(keyOf(r), r);
  return [...byKey.values()];
}

/** `base` plus the records of `extra` for packages `base` does not have. */
function addMissing(base: DpkgRecord[], extra: DpkgRecord[], warnings: string[]): DpkgRecord[] {
  const byKey = new Map(base.map((r) => [keyOf(r), r]));
  for (const r of extra) {
    const prev = byKey.get(keyOf(r));
    if (!prev) byKey.set(keyOf(r), r);
    else if (prev.pkg.version !== r.pkg.version) {
      warnings.push(
        `${r.where}: package ${r.pkg.name} ${r.pkg.version} is recorded as ${prev.pkg.version} at ${prev.where}; keeping that one`,
      );
    }
  }
  return [...byKey.values()];
}

/**
 * Reads a dpkg database: a status file (any name; one named `status` also gets its admin
 * directory's journal and `status.d/`) or a `status.d/` directory.
 */
export async function readDpkgDatabase(dbPath: string): Promise<ReadResult> {
  const kind = await kindOf(dbPath);
  let parsed: DpkgParse;
  if (kind === 'file') parsed = await readStatusFile(dbPath);
  else if (kind === 'dir' && path.basename(dbPath) !== 'status') parsed = await readStatusDir(dbPath);
  else
    throw new InventoryError(
      dbPath,
      kind === null ? 'no such file or directory' : 'not a dpkg status file or status.d directory',
    );

  if (parsed.records.length === 0 && parsed.corrupt > 0) {
    throw new InventoryError(
      dbPath,
      `no valid package record, ${parsed.corrupt} corrupt; first: ${parsed.warnings[0]}`,
    );
  }
  const packages = parsed.records.filter((r) => r.onDisk).map((r) => r.pkg);
  if (packages.length === 0) parsed.warnings.push(`${dbPath}: no installed package recorded`);
  return { packages, warnings: parsed.warnings };
}

export const dpkgReader: InventoryReader = {
  format: 'deb',
  async detect(root: string): Promise<string | null> {
    const status = await resolveInRoot(root, 'var/lib/dpkg/status');
    if ((await kindOf(status)) !== null) return status;
    const statusD = await resolveInRoot(root, 'var/lib/dpkg/status.d');
    if ((await kindOf(statusD)) === 'dir') return statusD;
    return null;
  },
  read(_root: string, dbPath: string): Promise<ReadResult> {
    return readDpkgDatabase(dbPath);
  },
};
