// Ubuntu: Canonical's OSV records refined by its OpenVEX statuses, and the Ubuntu Pro cases.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { packTar } from 'modern-tar';
import { matchInventory } from '../src/core/match.ts';
import type { Inventory } from '../src/core/types.ts';
import { importUbuntu, type UbuntuImportSummary } from '../src/feeds/ubuntu/index.ts';
import { VulnDb } from '../src/vulndb/reader.ts';
import { replaceFeed } from '../src/vulndb/writer.ts';

const UBUNTU = fileURLToPath(new URL('../../shared/data/feeds/ubuntu', import.meta.url));

async function load(
  inputs: string[],
): Promise<{ db: VulnDb; dir: string; summary: UbuntuImportSummary; warnings: string[] }> {
  const dir = mkdtempSync(join(tmpdir(), 'patchloop-ubuntu-'));
  const warnings: string[] = [];
  let summary: UbuntuImportSummary | undefined;
  await replaceFeed(dir, 'ubuntu', async (writer) => {
    summary = await importUbuntu(inputs, { writer, warn: (m) => warnings.push(m) });
  });
  return { db: VulnDb.open(dir), dir, summary: summary as UbuntuImportSummary, warnings };
}

const view = (db: VulnDb, release: string, pkg: string) =>
  db.entries('ubuntu', release, pkg).map((e) => ({
    vuln: e.vuln_id,
    status: e.status,
    raw: e.raw_status,
    fixed: e.fixed_version,
    pro: e.pro_only,
    sev: e.severity,
  }));

test('OSV + OpenVEX: unfixed packages get the tracker status; fixes, priorities and USNs come from OSV', async (t) => {
  const { db, dir, summary, warnings } = await load([UBUNTU]);
  t.after(() => {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });
  assert.deepEqual(warnings, []);
  assert.equal(summary.vexDocuments, 2);
  assert.equal(summary.withdrawn, 3, 'UBUNTU-CVE-2013-2208, -2020-36325, -2014-2901');
  // CVE-2016-20013: OSV says "affected" everywhere; the VEX statement says the team decided not to fix.
  assert.deepEqual(view(db, '22.04', 'glibc'), [
    { vuln: 'CVE-2016-20013', status: 'will_not_fix', raw: 'ignored', fixed: null, pro: false, sev: 'negligible' },
  ]);
  // zabbix in 22.04 is filed under jammy in OSV and esm-apps/jammy in VEX: same series.
  assert.deepEqual(view(db, '22.04', 'zabbix'), [
    { vuln: 'CVE-2016-20013', status: 'will_not_fix', raw: 'ignored', fixed: null, pro: false, sev: 'negligible' },
  ]);
  // gitlab has no VEX statement here: it stays plainly affected.
  assert.deepEqual(view(db, '16.04', 'gitlab'), [
    { vuln: 'CVE-2026-1403', status: 'affected', raw: 'affected', fixed: null, pro: false, sev: 'medium' },
  ]);
  // The USN adds nothing beside the UBUNTU-CVE record that lists it.
  assert.equal(summary.superseded, 1);
  assert.deepEqual(
    db.entries('ubuntu', '20.04', 'wayland').map((e) => [e.fixed_version, e.advisory_ids]),
    [['1.18.0-1ubuntu0.1', ['USN-5614-1', 'USN-5614-2']]],
  );
});

test('Ubuntu Pro: a fix only in Ubuntu:Pro is pro_only; the base archive fix wins where there is one', async (t) => {
  const { db, dir } = await load([join(UBUNTU, 'osv-esm-cases'), join(UBUNTU, 'osv/cve/2021')]);
  t.after(() => {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });
  assert.deepEqual(view(db, '20.04', 'netty'), [
    { vuln: 'CVE-2022-24823', status: 'fixed', raw: 'fixed', fixed: '1:4.1.45-1ubuntu0.1~esm2', pro: true, sev: 'low' },
  ]);
  assert.deepEqual(view(db, '14.04', 'netty'), [
    { vuln: 'CVE-2022-24823', status: 'affected', raw: 'affected', fixed: null, pro: false, sev: 'low' },
  ]);
  assert.deepEqual(view(db, '16.04', 'unzip'), [
    { vuln: 'CVE-2014-9913', status: 'fixed', raw: 'fixed', fixed: '6.0-20ubuntu1.1', pro: false, sev: 'negligible' },
  ]);
  assert.deepEqual(view(db, '14.04', 'unzip'), [
    { vuln: 'CVE-2014-9913', status: 'fixed', raw: 'fixed', fixed: '6.0-9ubuntu1.6', pro: true, sev: 'negligible' },
  ]);

  // Through the matcher: a 20.04 host with the old netty is affected either way; only a
  // Pro-attached host is told to install the +esm build.
  const inventory: Inventory = {
    os: { id: 'ubuntu', version_id: '20.04', codename: 'focal', pretty_name: 'Ubuntu 20.04.6 LTS' },
    kernel: null,
    packages: [
      {
        name: 'libnetty-java',
        version: '1:4.1.45-1',
        arch: 'all',
        source: 'netty',
        source_version: '1:4.1.45-1',
        format: 'deb',
      },
    ],
  };
  const plain = matchInventory(inventory, db).findings.filter((f) => f.id === 'CVE-2022-24823');
  assert.deepEqual(
    plain.map((f) => [f.status, f.fixed_version]),
    [['affected', null]],
  );
  const pro = matchInventory(inventory, db, { proAttached: true }).findings.filter((f) => f.id === 'CVE-2022-24823');
  assert.deepEqual(
    pro.map((f) => [f.status, f.fixed_version]),
    [['fixed', '1:4.1.45-1ubuntu0.1~esm2']],
  );
});

/** A gzip tarball of some directories under the Ubuntu data, the way Canonical ships osv-all / vex-all. */
async function tarball(path: string, dirs: string[]): Promise<void> {
  const entries = dirs.flatMap((d) =>
    (readdirSync(join(UBUNTU, d), { recursive: true }) as string[])
      .filter((f) => f.endsWith('.json'))
      .sort()
      .map((f) => {
        const body = new Uint8Array(readFileSync(join(UBUNTU, d, f)));
        return { header: { name: `${d}/${f}`, size: body.length }, body };
      }),
  );
  writeFileSync(path, gzipSync(await packTar(entries)));
}

test('separate OSV and VEX archives are both applied; VEX buried after OSV records in one archive is reported', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'patchloop-ubuntu-tar-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  await tarball(join(dir, 'osv-all.tar.gz'), ['osv']);
  await tarball(join(dir, 'vex-all.tar.gz'), ['vex']);
  await tarball(join(dir, 'mixed.tar.gz'), ['osv', 'vex']);

  const both = await load([join(dir, 'osv-all.tar.gz'), join(dir, 'vex-all.tar.gz')]);
  t.after(() => {
    both.db.close();
    rmSync(both.dir, { recursive: true, force: true });
  });
  assert.deepEqual(both.warnings, []);
  assert.equal(both.summary.vexDocuments, 2);
  assert.deepEqual(
    view(both.db, '24.04', 'sssd').map((e) => e.status),
    ['will_not_fix'],
  );

  const mixed = await load([join(dir, 'mixed.tar.gz')]);
  t.after(() => {
    mixed.db.close();
    rmSync(mixed.dir, { recursive: true, force: true });
  });
  assert.equal(mixed.warnings.length, 1);
  assert.match(mixed.warnings[0], /^2 OpenVEX document\(s\) sat after OSV records in an archive and were not applied/);
  assert.deepEqual(
    view(mixed.db, '24.04', 'sssd').map((e) => e.status),
    ['affected'],
  );
});
