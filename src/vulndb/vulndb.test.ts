import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AdvisoryEntry } from '../core/types.ts';
import { FeedUpdateError, replaceFeed } from './writer.ts';
import { VulnDb } from './reader.ts';
import { feedFile } from './paths.ts';

const entry = (over: Partial<AdvisoryEntry> = {}): AdvisoryEntry => ({
  feed: 'debian',
  distro: 'debian',
  release: 'bookworm',
  package: 'openssl',
  key_kind: 'source',
  scheme: 'deb',
  vuln_id: 'CVE-2024-0001',
  status: 'fixed',
  raw_status: 'resolved',
  introduced: null,
  fixed_version: '3.0.15-1',
  last_affected: null,
  severity: 'high',
  raw_severity: 'high',
  advisory_ids: ['DSA-1-1'],
  ...over,
});

test('a feed round-trips through the store', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'vulndb-'));
  const summary = await replaceFeed(dir, 'debian', (w) => {
    w.entry(entry());
    w.entry(entry({ release: 'trixie', fixed_version: '3.3.0-1', module_stream: null, arches: ['amd64'] }));
    w.vulnerability({
      id: 'CVE-2024-0001',
      aliases: ['A'],
      description: 'd',
      published: null,
      modified: null,
      references: ['r1'],
    });
    w.vulnerability({
      id: 'CVE-2024-0001',
      aliases: ['B'],
      description: 'ignored',
      published: null,
      modified: null,
      references: ['r1'],
    });
    w.support({ distro: 'debian', release: 'bookworm', package: 'openssl', kind: 'limited', note: 'n' });
    w.meta('source', 'file:///x');
  });
  assert.equal(summary.entries, 2);
  assert.deepEqual(summary.distros, ['debian']);
  assert.equal(statSync(feedFile(dir, 'debian')).isFile(), true);

  const db = VulnDb.open(dir);
  try {
    assert.deepEqual(db.entries('debian', 'bookworm', 'openssl'), [
      { ...entry(), module_stream: null, arches: [], pro_only: false, aliases: ['A', 'B'] },
    ]);
    // A batch prefetch answers the same, and says "nothing" for keys it fetched without entries.
    db.prefetch('debian', 'bookworm', ['openssl', 'zlib']);
    assert.equal(db.entries('debian', 'bookworm', 'openssl')[0].vuln_id, 'CVE-2024-0001');
    assert.deepEqual(db.entries('debian', 'bookworm', 'zlib'), []);
    assert.deepEqual(db.support('debian', 'bookworm', 'openssl'), { kind: 'limited', note: 'n' });
    assert.equal(db.support('debian', 'bookworm', 'zlib'), null);
    assert.deepEqual(db.entries('debian', 'trixie', 'openssl')[0].arches, ['amd64']);
    assert.deepEqual(db.entries('ubuntu', 'bookworm', 'openssl'), []);
    const v = db.vulnerability('CVE-2024-0001');
    assert.deepEqual([v?.description, v?.aliases, v?.references], ['d', ['A', 'B'], ['r1']]);
    assert.deepEqual(db.support('debian', 'bookworm', 'openssl'), { kind: 'limited', note: 'n' });
    assert.equal(db.feeds()[0].meta.source, 'file:///x');
    assert.equal([...db.allEntries('debian', 'bookworm')].length, 1);
  } finally {
    db.close();
  }
});

test('a failed update keeps the previous feed and leaves no temporary file behind', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'vulndb-'));
  await replaceFeed(dir, 'debian', (w) => w.entry(entry()));
  const reader = VulnDb.open(dir); // a scan that has the old file open while the update runs
  await assert.rejects(
    replaceFeed(dir, 'debian', (w) => {
      w.entry(entry({ vuln_id: 'CVE-NEW' }));
      throw new Error('input truncated at byte 123');
    }),
    (err: Error) =>
      err instanceof FeedUpdateError && /previous database kept: input truncated at byte 123/.test(err.message),
  );
  await assert.rejects(
    replaceFeed(dir, 'debian', () => {}),
    /contained no advisory entries/,
  );
  assert.deepEqual(
    reader.entries('debian', 'bookworm', 'openssl').map((e) => e.vuln_id),
    ['CVE-2024-0001'],
  );
  reader.close();
  const fresh = VulnDb.open(dir);
  assert.deepEqual(
    fresh.entries('debian', 'bookworm', 'openssl').map((e) => e.vuln_id),
    ['CVE-2024-0001'],
  );
  fresh.close();
  assert.deepEqual(readdirSync(join(dir, 'vulndb')).sort(), ['debian.lock', 'debian.sqlite']);
});

test('updating one feed leaves the others untouched', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'vulndb-'));
  await replaceFeed(dir, 'alpine', (w) =>
    w.entry(entry({ feed: 'alpine', distro: 'alpine', release: '3.20', scheme: 'apk' })),
  );
  const before = statSync(feedFile(dir, 'alpine')).mtimeMs;
  await replaceFeed(dir, 'debian', (w) => w.entry(entry()));
  await replaceFeed(dir, 'debian', (w) => w.entry(entry({ vuln_id: 'CVE-2' })));
  assert.equal(statSync(feedFile(dir, 'alpine')).mtimeMs, before);
  const db = VulnDb.open(dir);
  assert.deepEqual(
    db.feeds().map((f) => f.feed),
    ['alpine', 'debian'],
  );
  assert.deepEqual(
    db.feedsFor('alpine').map((f) => f.feed),
    ['alpine'],
  );
  assert.equal(db.entries('debian', 'bookworm', 'openssl')[0].vuln_id, 'CVE-2');
  db.close();
});

test('a concurrent update of the same feed is refused, naming the holder; the lock of an earlier version is cleaned up', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'vulndb-'));
  await replaceFeed(dir, 'debian', (w) => w.entry(entry()));
  let inner: Promise<unknown> | undefined;
  await replaceFeed(dir, 'debian', (w) => {
    inner = replaceFeed(dir, 'debian', (w2) => w2.entry(entry()));
    w.entry(entry());
  });
  await assert.rejects(
    inner as Promise<unknown>,
    new RegExp(`another update of feed debian is running \\(pid ${process.pid}; lock `),
  );
  // Earlier versions kept the pid in <feed>.sqlite.lock; one of a dead process is removed.
  writeFileSync(`${feedFile(dir, 'debian')}.lock`, '999999999');
  await replaceFeed(dir, 'debian', (w) => w.entry(entry()));
  assert.deepEqual(readdirSync(join(dir, 'vulndb')).sort(), ['debian.lock', 'debian.sqlite']);
});

test('a corrupt feed file is reported by name, not read as empty', () => {
  const dir = mkdtempSync(join(tmpdir(), 'vulndb-'));
  const file = feedFile(dir, 'debian');
  mkdirSync(join(dir, 'vulndb'), { recursive: true });
  writeFileSync(file, 'this is not a SQLite database, just text that got here somehow'.repeat(100));
  assert.throws(
    () => VulnDb.open(dir),
    (err: Error) => err.message.startsWith(`cannot read vulnerability database ${file}:`),
  );
});

test('KEV, EPSS and CVSS of a vulnerability come from whichever feed files hold them', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'vulndb-'));
  await replaceFeed(dir, 'debian', (w) => {
    w.entry(entry());
    w.cvss('CVE-2024-0001', {
      version: '3.1',
      score: 7.5,
      vector: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N',
      source: 'nvd',
    });
  });
  await replaceFeed(dir, 'kev', (w) => {
    w.kev({
      cve: 'CVE-2024-0001',
      date_added: '2024-07-01',
      due_date: '2024-07-22',
      ransomware: true,
      vendor: 'OpenSSL',
      product: 'OpenSSL',
      name: 'OpenSSL flaw',
      required_action: 'Apply updates',
    });
  });
  await replaceFeed(dir, 'epss', (w) => {
    w.meta('score_date', '2026-11-01T12:55:00Z');
    w.epss('CVE-2024-0001', 0.97231, 0.99821);
    w.epss('CVE-2024-0002', 0.00043, 0.1);
  });
  // An empty exploitation feed is a broken input, as an empty advisory feed is.
  await assert.rejects(
    replaceFeed(dir, 'kev', () => {}),
    (err: unknown) => err instanceof FeedUpdateError && /no known exploited vulnerabilities/.test(err.message),
  );
  const db = VulnDb.open(dir);
  try {
    assert.equal(db.hasEnrichment(), true);
    const want = {
      kev: { date_added: '2024-07-01', due_date: '2024-07-22', ransomware: true },
      epss: { score: 0.97231, percentile: 0.99821, date: '2026-11-01' },
      cvss: [{ version: '3.1', score: 7.5, vector: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N', source: 'nvd' }],
    };
    assert.deepEqual(db.enrichment('CVE-2024-0001'), want);
    assert.equal(db.enrichment('CVE-1999-0001'), null);
    const many = db.enrichMany(['CVE-2024-0001', 'CVE-2024-0002', 'CVE-1999-0001', 'CVE-2024-0001']);
    assert.deepEqual([...many.keys()].sort(), ['CVE-2024-0001', 'CVE-2024-0002']);
    assert.deepEqual(many.get('CVE-2024-0001'), want);
    assert.deepEqual(many.get('CVE-2024-0002'), { epss: { score: 0.00043, percentile: 0.1, date: '2026-11-01' } });
    // Exploitation feeds cover no distribution: the matcher never reads them.
    assert.deepEqual(
      db.feedsFor('debian').map((f) => f.feed),
      ['debian'],
    );
  } finally {
    db.close();
  }
});
