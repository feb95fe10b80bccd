// The native rpm database readers against Debian's real rpm (package rpm): the same
// packages, versions, architectures, source rpms, vendors and modularity labels.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import type { InstalledPackage } from '../src/core/types.ts';
import { scratchDir } from './support/scratch-dir.ts';
import { readRpmDatabase } from '../src/inventory/rpm/index.ts';
import { rpmQueryAll } from './support/rpm-query.ts';
import type { RpmCliPackage } from './support/rpm-query.ts';
import { buildNdb, fixture, marinerHeaders, writeBdbWithDbLoad } from './support/rpm-databases.ts';

interface Row {
  name: string;
  version: string;
  arch: string | null;
  source: string;
  source_version: string;
  vendor: string | null;
  modularity_label: string | null;
}

/** What the reader should report for one package rpm lists; SOURCERPM split by its own regex. */
function expectedRow(p: RpmCliPackage): Row {
  const epoch = /^(\d+):/.exec(p.evr)?.[0] ?? '';
  const src = p.sourceRpm === null ? null : /^(.+)-([^-]+)-([^-]+)\.(?:no)?src\.rpm$/.exec(p.sourceRpm);
  return {
    name: p.name,
    version: p.evr,
    arch: p.arch,
    source: src ? src[1] : p.name,
    source_version: src ? `${epoch}${src[2]}-${src[3]}` : p.evr,
    vendor: p.vendor === '' ? null : p.vendor,
    modularity_label: p.modularityLabel,
  };
}

function actualRow(p: InstalledPackage): Row {
  assert.equal(p.format, 'rpm');
  assert.equal(p.epoch === undefined, !/^\d+:/.test(p.version), `${p.name}: epoch field and version agree`);
  return {
    name: p.name,
    version: p.version,
    arch: p.arch === '' ? null : p.arch,
    source: p.source,
    source_version: p.source_version,
    vendor: p.vendor ?? null,
    modularity_label: p.modularity_label ?? null,
  };
}

function sorted(rows: Row[]): Row[] {
  const key = (r: Row): string => `${r.name}\t${r.version}\t${r.arch}`;
  return rows.sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
}

async function assertSameAsRpm(dbFile: string, expectedCount: number): Promise<void> {
  const got = await readRpmDatabase(dbFile);
  assert.deepEqual(got.warnings, []);
  const reference = rpmQueryAll(path.dirname(dbFile));
  assert.equal(reference.length, expectedCount, 'rpm -qa count');
  assert.deepEqual(sorted(got.packages.map(actualRow)), sorted(reference.map(expectedRow)));
}

for (const [dir, file, count] of [
  ['bdb-epoch', 'Packages', 1],
  ['bdb-libuuid', 'Packages', 1],
  ['bdb-syft', 'Packages', 1],
  ['sqlite-cbl-mariner-2.0', 'rpmdb.sqlite', 129],
] as const) {
  test(`${dir}: the same packages as rpm -qa`, async () => {
    await assertSameAsRpm(fixture(`${dir}/${file}`), count);
  });
}

const headers = marinerHeaders();

for (const opts of [
  { bigEndian: false, pageSize: 4096, label: 'little-endian, 4 KiB pages' },
  { bigEndian: true, pageSize: 4096, label: 'big-endian (as written on s390x), 4 KiB pages' },
  {
    bigEndian: false,
    pageSize: 512,
    label: 'little-endian, 512-byte pages (long overflow chains, chained bucket pages)',
  },
  {
    bigEndian: true,
    pageSize: 1024,
    fillFactor: 2,
    label: 'big-endian, 1 KiB pages, fill factor 2 (buckets over several split points)',
  },
]) {
  test(`Berkeley DB of 129 real headers, ${opts.label}: the same packages as rpm -qa`, async (t) => {
    const dir = scratchDir(t);
    const file = path.join(dir, 'Packages');
    writeBdbWithDbLoad(file, headers, opts);
    await assertSameAsRpm(file, 129);
  });
}

test('NDB of the same 129 headers reads as the SQLite database rpm reads', async (t) => {
  const dir = scratchDir(t);
  const file = path.join(dir, 'Packages.db');
  writeFileSync(file, buildNdb(headers));
  const ndb = await readRpmDatabase(file);
  const sqlite = await readRpmDatabase(fixture('sqlite-cbl-mariner-2.0/rpmdb.sqlite'));
  assert.equal(ndb.kind, 'ndb');
  assert.deepEqual(ndb.warnings, []);
  assert.deepEqual(ndb.packages, sqlite.packages);
  assert.equal(ndb.packages.length, 129);
});
