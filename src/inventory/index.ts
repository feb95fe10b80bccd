// The inventory of one root filesystem: os-release, every package database found there, and
// the running kernel. One registry entry per package-database format.
import path from 'node:path';
import { unmatchedKernel } from '../core/kernel.ts';
import type { InstalledPackage, Inventory, PackageFormat } from '../core/types.ts';
import { apkReader } from './apk.ts';
import { dpkgReader } from './dpkg.ts';
import { runningKernel } from './kernel.ts';
import { readOsInfo } from './os-release.ts';
import { InventoryError, type InventoryReader, type ReadResult } from './reader.ts';
import { kindOf } from './rootfs.ts';
import { rpmReader } from './rpm/index.ts';

export { InventoryError } from './reader.ts';
export type { InventoryReader, ReadResult } from './reader.ts';

/** Every package-database reader, one per format. */
export const inventoryReaders: readonly InventoryReader[] = [dpkgReader, rpmReader, apkReader];

export function readerFor(format: PackageFormat): InventoryReader {
  const reader = inventoryReaders.find((r) => r.format === format);
  if (!reader) throw new Error(`no inventory reader for format ${format}`);
  return reader;
}

type ReadOutcome = { reader: InventoryReader; dbPath: string } & ({ result: ReadResult } | { error: Error });

export interface ReadInventoryOptions {
  /** Kernel release to report (`uname -r` form); defaults to the running one when root is `/`. */
  kernel?: string;
}

/**
 * Reads the inventory of `root` (`/` for this host). Every database present is read (a host
 * normally has one; several give a warning). Throws InventoryError when `root` is not a
 * directory, when no package database is found, or when none of those found can be read.
 */
export async function readInventory(root: string, opts: ReadInventoryOptions = {}): Promise<Inventory> {
  const rootAbs = path.resolve(root);
  const rootKind = await kindOf(rootAbs);
  if (rootKind !== 'dir')
    throw new InventoryError(rootAbs, rootKind === null ? 'no such directory' : 'not a directory');
  const kernel = runningKernel(rootAbs, opts.kernel);

  const [osInfo, detected] = await Promise.all([
    readOsInfo(rootAbs),
    Promise.all(inventoryReaders.map(async (reader) => ({ reader, dbPath: await reader.detect(rootAbs) }))),
  ]);
  const found = detected.filter((d): d is { reader: InventoryReader; dbPath: string } => d.dbPath !== null);
  if (found.length === 0) {
    const formats = inventoryReaders.map((r) => r.format).join(', ');
    throw new InventoryError(
      rootAbs,
      `no package database found (looked for ${formats}: e.g. var/lib/dpkg/status, lib/apk/db/installed, var/lib/rpm)`,
    );
  }

  const outcomes: ReadOutcome[] = await Promise.all(
    found.map(async ({ reader, dbPath }): Promise<ReadOutcome> => {
      try {
        return { reader, dbPath, result: await reader.read(rootAbs, dbPath) };
      } catch (err) {
        return { reader, dbPath, error: err instanceof Error ? err : new Error(String(err)) };
      }
    }),
  );
  const read: { reader: InventoryReader; dbPath: string; result: ReadResult }[] = [];
  const failed: Error[] = [];
  for (const o of outcomes) {
    if ('result' in o) read.push(o);
    else failed.push(o.error);
  }
  if (read.length === 0) throw failed[0];

  const warnings = [...osInfo.warnings];
  // Another database failing while one was read: report it, keep what could be read.
  for (const err of failed) warnings.push(`${err.message} (skipped; other package databases were read)`);
  const withPackages = read.filter((r) => r.result.packages.length > 0);
  if (withPackages.length > 1) {
    warnings.push(
      `several package databases found, all read: ${withPackages.map((r) => `${r.reader.format} (${r.dbPath})`).join(', ')}`,
    );
  }
  const packages: InstalledPackage[] = [];
  for (const r of read) {
    packages.push(...r.result.packages);
    warnings.push(...r.result.warnings);
  }
  packages.sort(comparePackages);
  // A release given by hand that no installed image runs as is most likely mistyped.
  const unmatched = opts.kernel !== undefined ? unmatchedKernel(packages, kernel) : null;
  if (unmatched) warnings.push(unmatched);
  return { os: osInfo.os, kernel, packages, warnings };
}

/** Name, then architecture, then version, then format: a stable order for output and diffs. */
export function comparePackages(a: InstalledPackage, b: InstalledPackage): number {
  return cmp(a.name, b.name) || cmp(a.arch, b.arch) || cmp(a.version, b.version) || cmp(a.format, b.format);
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
