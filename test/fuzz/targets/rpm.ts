// Fuzz targets: rpm header blobs, and the three rpm package databases (SQLite, Berkeley DB
// hash, NDB) read through readRpmDatabase from a file, as the inventory reads them. The
// database seeds are the real files where they are small, and containers holding real
// headers (from the CBL-Mariner database) where the real file is large.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { InventoryError } from '../../../src/inventory/reader.ts';
import { parseHeaderFields, RpmHeaderError } from '../../../src/inventory/rpm/header.ts';
import { readRpmDatabase } from '../../../src/inventory/rpm/index.ts';
import { toInstalledPackage } from '../../../src/inventory/rpm/package.ts';
import { buildNdb, fixture, marinerHeaders, writeSqliteRpmdb, type StoredHeader } from '../../support/rpm-databases.ts';
import type { Seed } from '../mutate.ts';
import { invariant, seedFile, writeInput, type FuzzTarget } from './common.ts';
import { checkPackages } from './inventory.ts';

/** A few real headers, smallest first: small blobs keep the index and strings in reach of mutations. */
function someHeaders(count: number): StoredHeader[] {
  return marinerHeaders()
    .sort((a, b) => a.blob.length - b.blob.length)
    .slice(0, count);
}

export const rpmHeader: FuzzTarget = {
  name: 'rpm-header',
  kind: 'binary',
  seeds: () => {
    const all = marinerHeaders().sort((a, b) => a.blob.length - b.blob.length);
    const picks = [0, 1, 2, 3, Math.floor(all.length / 4), Math.floor(all.length / 2)];
    return picks.map((i) => ({ name: `sqlite-cbl-mariner-2.0 header ${all[i].id}`, bytes: all[i].blob }));
  },
  dictionary: ['\u0000', 'x86_64', '.src.rpm', 'noarch'],
  run(input) {
    const fields = parseHeaderFields(input);
    invariant(
      fields.name !== '' && fields.version !== '' && fields.release !== '',
      () => 'header fields with an empty name, version or release',
    );
    return toInstalledPackage(fields, () => {});
  },
  clear: [RpmHeaderError],
};

async function readDatabase(input: Uint8Array, scratch: string, name: string): Promise<number> {
  const file = await writeInput(scratch, name, input);
  const result = await readRpmDatabase(file);
  checkPackages(result.packages, 'rpm');
  return result.packages.length;
}

export const rpmSqlite: FuzzTarget = {
  name: 'rpm-sqlite',
  kind: 'binary',
  weight: 0.5,
  seeds: () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'patchloop-fuzz-seed-'));
    try {
      const file = path.join(dir, 'rpmdb.sqlite');
      // Closing the only connection folds the write-ahead log into the file.
      writeSqliteRpmdb(file, someHeaders(3));
      const seeds: Seed[] = [{ name: 'rpmdb.sqlite holding 3 CBL-Mariner headers', bytes: readFileSync(file) }];
      seeds.push(seedFile(fixture('sqlite-empty/rpmdb.sqlite')));
      return seeds;
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
  dictionary: ['SQLite format 3\u0000', 'Packages', 'CREATE TABLE'],
  run: (input, scratch) => readDatabase(input, scratch, 'rpmdb.sqlite'),
  clear: [InventoryError],
};

export const rpmBdb: FuzzTarget = {
  name: 'rpm-bdb',
  kind: 'binary',
  seeds: () => ['bdb-epoch', 'bdb-syft', 'bdb-libuuid', 'invalid'].map((d) => seedFile(fixture(`${d}/Packages`))),
  run: (input, scratch) => readDatabase(input, scratch, 'Packages'),
  clear: [InventoryError],
};

export const rpmNdb: FuzzTarget = {
  name: 'rpm-ndb',
  kind: 'binary',
  weight: 0.5,
  seeds: () => [
    { name: 'Packages.db holding 3 CBL-Mariner headers', bytes: buildNdb(someHeaders(3)) },
    seedFile(fixture('ndb-sle15-bci/Packages.db')),
  ],
  dictionary: ['RpmP', 'Slot', 'BlbS', 'BlbE'],
  run: (input, scratch) => readDatabase(input, scratch, 'Packages.db'),
  clear: [InventoryError],
};

export const rpmTargets: FuzzTarget[] = [rpmHeader, rpmSqlite, rpmBdb, rpmNdb];
