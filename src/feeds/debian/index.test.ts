// The debian importer on the real samples, through the real vulnerability DB writer and reader.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { replaceFeed } from '../../vulndb/writer.ts';
import { VulnDb } from '../../vulndb/reader.ts';
import { debianFeed, importDebian, type DebianImportStats } from './index.ts';
import { DebianInputError } from './inputs.ts';

const DATA = new URL('../../../../shared/data/feeds/debian/', import.meta.url).pathname;
const SAMPLE_DIR = join(DATA, 'tracker-json-sample');
const SAMPLE = join(SAMPLE_DIR, 'debian.json');
const SUPPORT_DIR = join(DATA, 'security-support-lists');

function tmp(t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'patchloop-deb-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

async function importInto(dataDir: string, inputs: string[], now = new Date('2026-11-27T00:00:00Z')) {
  const warnings: string[] = [];
  let stats: DebianImportStats | undefined;
  const summary = await replaceFeed(dataDir, 'debian', async (writer) => {
    stats = await importDebian(inputs, { writer, warn: (m) => warnings.push(m) }, { now });
  });
  return { summary, stats: stats as DebianImportStats, warnings };
}

test('the sample tracker, its DSA excerpt and the support lists: entries, advisories, vulnerabilities, support', async (t) => {
  const dataDir = tmp(t);
  const { summary, stats, warnings } = await importInto(dataDir, [SAMPLE_DIR, SUPPORT_DIR]);
  assert.deepEqual(warnings, []);
  assert.deepEqual(
    { ...stats },
    {
      packages: 6,
      records: 7,
      // prototypejs 4 + txt2man 4 + backupninja 4 + chromium 5 + sope 4; CVE-2007-2383 is "0" in 4 releases.
      entries: 21,
      notAffected: 4,
      malformedRecords: 0,
      vulnerabilities: 7,
      advisoryFixes: 9,
      entriesWithAdvisories: 1,
      // limited: 30 plain names × 7 releases; ended: deb9 20 + deb10 8 + deb12 15 (patterns match no sample package).
      supportRows: 253,
      releases: ['bookworm', 'bullseye', 'buster', 'jessie', 'sid', 'stretch', 'trixie'],
    },
  );
  assert.equal(summary.entries, 21);
  assert.equal(summary.support, 253);

  const db = VulnDb.open(dataDir);
  t.after(() => db.close());
  assert.deepEqual(
    db.entries('debian', 'bookworm', 'sope').map((e) => [e.vuln_id, e.status, e.fixed_version, e.advisory_ids]),
    [['CVE-2025-53603', 'fixed', '5.8.0-1+deb12u1', ['DSA-5970-1']]],
  );
  assert.deepEqual(db.entries('debian', 'bullseye', 'sope')[0].advisory_ids, []);
  assert.deepEqual(
    db.entries('debian', 'buster', 'chromium').map((e) => [e.status, e.raw_status, e.severity, e.raw_severity]),
    [['end_of_life', 'open', 'unknown', 'end-of-life']],
  );
  assert.deepEqual(
    db.entries('debian', 'buster', 'prototypejs').map((e) => e.vuln_id),
    ['CVE-2008-7220'],
  );
  assert.deepEqual(db.entries('debian', 'bookworm', 'prototypejs'), []);

  assert.deepEqual(db.vulnerability('CVE-2008-7220'), {
    id: 'CVE-2008-7220',
    aliases: [],
    description:
      'Unspecified vulnerability in Prototype JavaScript framework (prototypejs) before 1.6.0.2 allows attackers to make "cross-site ajax requests" via unknown vectors.',
    published: null,
    modified: null,
    references: ['https://security-tracker.debian.org/tracker/CVE-2008-7220', 'https://bugs.debian.org/555217'],
  });
  assert.equal(db.vulnerability('CVE-2022-0358')?.description, '');

  assert.deepEqual(db.support('debian', 'bookworm', 'wolfssl'), {
    kind: 'ended',
    note: 'security support ended on 2026-06-12 (last supported version 5.5.4-2+deb12u2): Crypto library difficult to support in the longterm; see: https://bugs.debian.org/1138294',
  });
  assert.equal(db.support('debian', 'buster', 'xen')?.kind, 'ended');
  assert.match(
    db.support('debian', 'stretch', 'xen')?.note ?? '',
    /^security support ended on 2020-01-13 \(last supported version 4\.8\.5\.final\+shim4\.10\.4-1\+deb9u12\)/,
  );
  assert.deepEqual(db.support('debian', 'trixie', 'adns'), {
    kind: 'limited',
    note: 'Stub resolver that should only be used with trusted recursors',
  });
  assert.deepEqual(db.support('debian', 'sid', 'adns'), db.support('debian', 'trixie', 'adns'));
  assert.equal(db.support('debian', 'bookworm', 'adns')?.kind, 'limited');
  // Support rows belong to the release whose list names them.
  assert.equal(db.support('debian', 'bullseye', 'wolfssl'), null);
  assert.equal(db.feeds()[0].meta.tracker_records, '7');
});

test('support announced for a later date is recorded as limited, with the date', async (t) => {
  const dataDir = tmp(t);
  await importInto(
    dataDir,
    [SAMPLE, join(SUPPORT_DIR, 'security-support-ended.deb12')],
    new Date('2026-05-01T12:00:00Z'),
  );
  const db = VulnDb.open(dataDir);
  t.after(() => db.close());
  assert.deepEqual(db.support('debian', 'bookworm', 'lxd'), {
    kind: 'limited',
    note: 'security support ends on 2026-06-12 (last supported version 5.0.2-5+deb12u6): Security fixes for open vulnerabilities are too complex to be backported; see: https://bugs.debian.org/1138294',
  });
  assert.equal(db.support('debian', 'bookworm', 'suricata')?.kind, 'ended');
});

test("security-support patterns expand over the tracker's source packages", async (t) => {
  const dir = tmp(t);
  const tracker = join(dir, 'debian.json');
  const rec = { releases: { stretch: { status: 'open', repositories: { stretch: '1' }, urgency: 'low' } } };
  writeFileSync(
    tracker,
    JSON.stringify({
      'node-lodash': { 'CVE-2020-8203': rec },
      nodejs: { 'CVE-2020-1': rec },
      'golang-1.19': { 'CVE-2023-1': rec },
    }),
  );
  const dataDir = join(dir, 'data');
  const { stats } = await importInto(dataDir, [
    tracker,
    join(SUPPORT_DIR, 'security-support-ended.deb9'),
    join(SUPPORT_DIR, 'security-support-limited'),
  ]);
  const db = VulnDb.open(dataDir);
  t.after(() => db.close());
  assert.match(
    db.support('debian', 'stretch', 'node-lodash')?.note ?? '',
    /^security support ended on 2020-02-20: https:\/\/www\.debian\.org\/releases\/stretch/,
  );
  // nodejs has its own line (a last supported version), not the node-.* one.
  assert.match(db.support('debian', 'stretch', 'nodejs')?.note ?? '', /last supported version 0\.10\.29~dfsg-2/);
  assert.equal(db.support('debian', 'stretch', 'golang-1.19')?.kind, 'limited');
  assert.equal(stats.releases.join(), 'stretch');
});

test('the unsuffixed ended list takes its release from the VERSION file or a link to the .debNN list', async (t) => {
  const dir = tmp(t);
  const withVersion = join(dir, 'a');
  mkdirSync(withVersion);
  copyFileSync(join(SUPPORT_DIR, 'security-support-ended'), join(withVersion, 'security-support-ended'));
  copyFileSync(join(SUPPORT_DIR, 'VERSION'), join(withVersion, 'VERSION'));
  const linked = join(dir, 'b');
  mkdirSync(linked);
  copyFileSync(join(SUPPORT_DIR, 'security-support-ended.deb10'), join(linked, 'security-support-ended.deb10'));
  symlinkSync('security-support-ended.deb10', join(linked, 'security-support-ended'));
  const dataDir = join(dir, 'data');
  await importInto(dataDir, [
    SAMPLE,
    join(withVersion, 'security-support-ended'),
    join(linked, 'security-support-ended'),
  ]);
  const db = VulnDb.open(dataDir);
  t.after(() => db.close());
  assert.equal(db.support('debian', 'bookworm', 'pdns')?.kind, 'ended');
  assert.equal(db.support('debian', 'buster', 'pluxml')?.kind, 'ended');

  const bare = join(dir, 'c');
  mkdirSync(bare);
  copyFileSync(join(SUPPORT_DIR, 'security-support-ended'), join(bare, 'security-support-ended'));
  await assert.rejects(
    importInto(join(dir, 'd2'), [SAMPLE, join(bare, 'security-support-ended')]),
    /cannot tell which Debian release this list is for/,
  );
  copyFileSync(join(SUPPORT_DIR, 'security-support-ended.deb10'), join(bare, 'security-support-ended.deb99'));
  await assert.rejects(
    importInto(join(dir, 'd3'), [SAMPLE, join(bare, 'security-support-ended.deb99')]),
    /Debian 99 has no known codename/,
  );
});

test('gzip inputs and downloaded-copy names (<hash>-<name>) are recognised', async (t) => {
  const dir = tmp(t);
  writeFileSync(join(dir, '0123456789abcdef-json'), gzipSync(readFileSync(SAMPLE)));
  writeFileSync(join(dir, '89abcdef01234567-list'), gzipSync(readFileSync(join(SAMPLE_DIR, 'DSA-list-excerpt'))));
  copyFileSync(
    join(SUPPORT_DIR, 'security-support-ended.deb12'),
    join(dir, 'fedcba9876543210-security-support-ended.deb12'),
  );
  const { stats } = await importInto(join(dir, 'data'), [dir]);
  assert.equal(stats.entries, 21);
  assert.equal(stats.entriesWithAdvisories, 1);
  assert.equal(stats.supportRows, 15);
});

test("inputs that are not the feed's are errors naming the file", async (t) => {
  const dir = tmp(t);
  await assert.rejects(importInto(join(dir, 'd1'), [SUPPORT_DIR]), /no Debian tracker JSON among the inputs/);
  await assert.rejects(importInto(join(dir, 'd2'), [SAMPLE, SAMPLE]), /several tracker JSON files among the inputs/);
  await assert.rejects(
    importInto(join(dir, 'd3'), [SAMPLE, join(DATA, 'tracker-lists/data/CVE/list')]),
    /tracker-lists\/data\/CVE\/list: not a debian feed input/,
  );
  await assert.rejects(importInto(join(dir, 'd4'), [join(dir, 'absent.json')]), /cannot read input .*absent\.json/);
  // The tracker's distributions.json is JSON too, but not the tracker's records.
  await assert.rejects(
    importInto(join(dir, 'd5'), [join(DATA, 'tracker-lists/distributions.json')]),
    /distributions\.json: 6 of 6 records are malformed/,
  );
});

test('a truncated tracker file fails the import and leaves the previous feed in place', async (t) => {
  const dir = tmp(t);
  const dataDir = join(dir, 'data');
  await importInto(dataDir, [SAMPLE]);
  const text = readFileSync(SAMPLE, 'utf8');
  const cut = join(dir, 'debian.json');
  writeFileSync(cut, text.slice(0, Math.floor(text.length * 0.6)));
  await assert.rejects(
    importInto(dataDir, [cut]),
    /update of feed "debian" failed, previous database kept: .*debian\.json:\d+: truncated Debian tracker JSON/,
  );
  const db = VulnDb.open(dataDir);
  t.after(() => db.close());
  assert.equal(db.feeds()[0].entry_count, 21);
});

test('a few malformed records are warnings; mostly malformed records fail the import', async (t) => {
  const dir = tmp(t);
  const good = { releases: { bookworm: { status: 'open', repositories: {}, urgency: 'low' } } };
  const some = join(dir, 'some.json');
  writeFileSync(
    some,
    JSON.stringify(
      { a: { 'CVE-1': good, 'CVE-2': good, 'CVE-3': { releases: 5 } }, 'Bad Name': { 'CVE-4': good } },
      null,
      1,
    ),
  );
  const { stats, warnings } = await importInto(join(dir, 'd1'), [some]);
  assert.equal(stats.entries, 2);
  assert.equal(stats.malformedRecords, 2);
  assert.deepEqual(warnings.length, 2);
  assert.match(warnings[0], /some\.json:2: a CVE-3: malformed record, skipped: releases: /);
  assert.match(warnings[1], /some\.json:\d+: "Bad Name" is not a source package name, its 1 record\(s\) skipped/);

  const most = join(dir, 'most.json');
  writeFileSync(most, JSON.stringify({ a: { 'CVE-1': good, 'CVE-2': { releases: 5 }, 'CVE-3': [] } }));
  await assert.rejects(
    importInto(join(dir, 'd2'), [most]),
    /2 of 3 records are malformed; is this the Debian tracker JSON format\?/,
  );
});

test('a tracker JSON without records, or with mostly malformed ones, is refused with a DebianInputError', async (t) => {
  const dir = tmp(t);
  const empty = join(dir, 'empty.json');
  writeFileSync(empty, '{}');
  const bad = join(dir, 'bad.json');
  writeFileSync(bad, JSON.stringify({ a: { 'CVE-1': { releases: 5 } } }));
  for (const [input, why] of [
    [empty, /the tracker JSON holds no records/],
    [bad, /1 of 1 records are malformed/],
  ] as const) {
    await assert.rejects(
      importInto(join(dir, 'data'), [input]),
      (err: Error) => err.cause instanceof DebianInputError && why.test(err.cause.message),
    );
  }
});

test('debianFeed implements the registry contract', () => {
  assert.equal(debianFeed.name, 'debian');
  assert.ok(debianFeed.defaultUrls.includes('https://security-tracker.debian.org/tracker/data/json'));
  assert.ok(debianFeed.defaultUrls.every((u) => u.startsWith('https://')));
});
