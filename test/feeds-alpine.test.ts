// Alpine secdb, JSON and YAML, as published (including its quirks: `packages: {}` for an empty
// repository, a `{}` where a list of ids belongs, a file name that disagrees with its branch).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { matchInventory } from '../src/core/match.ts';
import { importAlpine, type AlpineImportSummary } from '../src/feeds/alpine/index.ts';
import { VulnDb } from '../src/vulndb/reader.ts';
import { replaceFeed } from '../src/vulndb/writer.ts';

const ALPINE = fileURLToPath(new URL('../../shared/data/feeds/alpine', import.meta.url));

async function load(
  inputs: string[],
): Promise<{ db: VulnDb; warnings: string[]; summary: AlpineImportSummary | undefined; cleanup: () => void }> {
  const dir = mkdtempSync(join(tmpdir(), 'patchloop-alpine-'));
  const warnings: string[] = [];
  let summary: AlpineImportSummary | undefined;
  try {
    await replaceFeed(dir, 'alpine', async (writer) => {
      summary = await importAlpine(inputs, { writer, warn: (m) => warnings.push(m) });
    });
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  const db = VulnDb.open(dir);
  return { db, warnings, summary, cleanup: () => (db.close(), rmSync(dir, { recursive: true, force: true })) };
}

const fixes = (db: VulnDb, branch: string, origin: string) =>
  db
    .entries('alpine', branch, origin)
    .map((e) => [e.vuln_id, e.status, e.fixed_version, e.key_kind, e.severity])
    .sort();

test('secdb JSON and YAML: one fixed entry per id, keyed by origin and branch', async (t) => {
  const { db, warnings, summary, cleanup } = await load([ALPINE]);
  t.after(cleanup);
  assert.deepEqual(fixes(db, '3.11', 'apache2'), [
    ['CVE-2018-1333', 'fixed', '2.4.34-r0', 'source', 'unknown'],
    ['CVE-2018-8011', 'fixed', '2.4.34-r0', 'source', 'unknown'],
  ]);
  assert.deepEqual(fixes(db, 'edge', 'apk-tools'), [
    ['CVE-2021-30139', 'fixed', '2.12.5-r0', 'source', 'unknown'],
    ['CVE-2021-36159', 'fixed', '2.12.6-r0', 'source', 'unknown'],
  ]);
  assert.deepEqual(fixes(db, '3.15', 'zsh'), [
    ['CVE-2018-1071', 'fixed', '5.4.2-r1', 'source', 'unknown'],
    ['CVE-2018-1083', 'fixed', '5.4.2-r1', 'source', 'unknown'],
    ['CVE-2019-20044', 'fixed', '5.8-r0', 'source', 'unknown'],
    ['CVE-2021-45444', 'fixed', '5.8.1-r0', 'source', 'unknown'],
  ]);
  // 312-main.json lists `"2.8.0-r0": {}` for ansible: a fix that names no vulnerability, so no
  // entry; counted in the feed's metadata, not warned about on every update.
  assert.deepEqual(fixes(db, '3.12', 'ansible'), [['CVE-2018-16876', 'fixed', '2.7.9-r0', 'source', 'unknown']]);
  assert.deepEqual(warnings, []);
  assert.equal(summary?.fixesWithoutIds, 1);
  assert.equal(db.feeds()[0].meta.fixes_without_ids, '1');

  const inventory = {
    os: { id: 'alpine', version_id: '3.15.4', codename: '', pretty_name: 'Alpine Linux v3.15' },
    kernel: null,
    packages: [
      {
        name: 'zlib',
        version: '1.2.12-r0',
        arch: 'x86_64',
        source: 'zlib',
        source_version: '1.2.12-r0',
        format: 'apk' as const,
      },
      {
        name: 'xz-libs',
        version: '5.2.5-r1',
        arch: 'x86_64',
        source: 'xz',
        source_version: '5.2.5-r1',
        format: 'apk' as const,
      },
    ],
  };
  const findings = matchInventory(inventory, db).findings.map((f) => [f.package.name, f.id, f.status, f.fixed_version]);
  assert.deepEqual(findings, [['zlib', 'CVE-2022-37434', 'fixed', '1.2.12-r2']]);
});

test('fixes without ids are counted in the import summary; a malformed list of ids is still warned about', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'patchloop-secdb-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(
    join(dir, 'v3.18-main.yaml'),
    [
      'distroversion: v3.18',
      'packages:',
      '- pkg:',
      '    name: ansible',
      '    secfixes:',
      '      2.8.0-r0: {}',
      '      2.8.1-r0: []',
      '      2.8.2-r0:',
      '      2.8.3-r0:',
      '      - CVE-2019-10156',
      '      2.8.4-r0: {CVE-2019-14846: fixed}',
      '      2.8.5-r0: [42]',
    ].join('\n'),
  );
  const { db, warnings, summary, cleanup } = await load([dir]);
  t.after(cleanup);
  assert.deepEqual(fixes(db, '3.18', 'ansible'), [['CVE-2019-10156', 'fixed', '2.8.3-r0', 'source', 'unknown']]);
  assert.deepEqual([summary?.packages, summary?.entries, summary?.fixesWithoutIds], [1, 1, 3]);
  assert.equal(db.feeds()[0].meta.fixes_without_ids, '3');
  const file = join(dir, 'v3.18-main.yaml');
  assert.deepEqual(warnings, [
    `skipped ${file}: ansible 2.8.4-r0: expected a list of vulnerability ids, found {"CVE-2019-14846":"fixed"}`,
    `skipped ${file}: ansible 2.8.5-r0: expected a list of vulnerability ids, found [42]`,
  ]);
});

test('version 0 means never affected; a document that is not secdb is skipped, and no secdb at all is an error', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'patchloop-secdb-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(
    join(dir, 'v3.18-main.yaml'),
    [
      'distroversion: v3.18',
      'reponame: main',
      'packages:',
      '- pkg:',
      '    name: musl',
      '    secfixes:',
      "      '0':",
      '      - CVE-2019-14697',
      '      1.2.2_pre2-r0:',
      '      - CVE-2020-28928',
    ].join('\n'),
  );
  writeFileSync(join(dir, 'other.json'), JSON.stringify({ hello: 'world' }));
  const { db, warnings, cleanup } = await load([dir]);
  t.after(cleanup);
  assert.deepEqual(fixes(db, '3.18', 'musl'), [
    ['CVE-2019-14697', 'not_affected', null, 'source', 'unknown'],
    ['CVE-2020-28928', 'fixed', '1.2.2_pre2-r0', 'source', 'unknown'],
  ]);
  assert.equal(warnings.length, 1);
  assert.match(warnings[0], /other\.json: not an Alpine secdb document/);
  await assert.rejects(load([join(dir, 'other.json')]), /not Alpine secdb data/);
});
