// `patchloop db update` / `db status` end to end: the real CLI, real sample inputs, a real HTTP
// server on 127.0.0.1 for URL inputs, and the vulnerability DB read back with its own reader.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { replaceFeed } from '../src/vulndb/writer.ts';
import { VulnDb } from '../src/vulndb/reader.ts';
import { feedFile } from '../src/vulndb/paths.ts';
import { BIN, SHARED_DATA } from './support/paths.ts';

const DATA = join(SHARED_DATA, 'feeds/debian');
const SAMPLE_DIR = join(DATA, 'tracker-json-sample');
const SAMPLE = join(SAMPLE_DIR, 'debian.json');
const SUPPORT_DIR = join(DATA, 'security-support-lists');

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the CLI without blocking this process (the HTTP server below must keep answering). */
function patchloop(...args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      BIN,
      args,
      { env: { ...process.env, PATCHLOOP_HOME: '/nonexistent-patchloop-home' } },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

function tmp(t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'patchloop-dbu-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function fingerprint(path: string): { sha256: string; ino: number; mtimeMs: number } {
  const st = statSync(path);
  return { sha256: createHash('sha256').update(readFileSync(path)).digest('hex'), ino: st.ino, mtimeMs: st.mtimeMs };
}

function sopeFix(dataDir: string): unknown {
  const db = VulnDb.open(dataDir);
  try {
    return db.entries('debian', 'bookworm', 'sope').map((e) => [e.vuln_id, e.fixed_version, e.advisory_ids]);
  } finally {
    db.close();
  }
}

test('import the sample, then a truncated copy: exit 1, the previous database kept and still answering', async (t) => {
  const dir = tmp(t);
  const dataDir = join(dir, 'data');
  const first = await patchloop(
    'db',
    'update',
    '--source',
    'debian',
    '--from',
    SAMPLE_DIR,
    '--from',
    SUPPORT_DIR,
    '--data-dir',
    dataDir,
  );
  assert.equal(first.code, 0, first.stderr);
  assert.match(first.stdout, /^debian: 21 entries, 7 vulnerabilities, 253 support rows \(debian\) in \d+\.\d s\n$/);
  assert.equal(first.stderr, '');
  const before = fingerprint(feedFile(dataDir, 'debian'));
  const updatedAt = JSON.parse((await patchloop('db', 'status', '--data-dir', dataDir, '--format', 'json')).stdout)
    .feeds[0].updated_at as string;

  const text = readFileSync(SAMPLE, 'utf8');
  const cut = join(dir, 'debian.json');
  writeFileSync(cut, text.slice(0, text.indexOf('"sope"') + 40));
  const second = await patchloop('db', 'update', '--source', 'debian', '--from', cut, '--data-dir', dataDir);
  assert.equal(second.code, 1);
  assert.equal(second.stdout, '');
  assert.ok(
    second.stderr.includes(
      `patchloop: update of feed debian failed, previous database kept (updated ${updatedAt}): ${cut}:`,
    ),
    second.stderr,
  );
  assert.match(second.stderr, /truncated Debian tracker JSON: it ends inside or after the record of package "sope"/);
  assert.deepEqual(fingerprint(feedFile(dataDir, 'debian')), before);
  assert.deepEqual(sopeFix(dataDir), [['CVE-2025-53603', '5.8.0-1+deb12u1', ['DSA-5970-1']]]);

  // Not JSON at all, and JSON of another shape: both refused the same way.
  const notJson = join(dir, 'not.json');
  writeFileSync(notJson, '[1, 2, 3]\n');
  const third = await patchloop('db', 'update', '--source', 'debian', '--from', notJson, '--data-dir', dataDir);
  assert.equal(third.code, 1);
  assert.match(third.stderr, /not a debian feed input/);
  assert.deepEqual(fingerprint(feedFile(dataDir, 'debian')), before);
});

test('updating debian leaves another feed file untouched; db status lists both', async (t) => {
  const dir = tmp(t);
  const dataDir = join(dir, 'data');
  // A tiny second feed, written with the DB writer itself.
  await replaceFeed(dataDir, 'alpine', (w) => {
    w.entry({
      feed: 'alpine',
      distro: 'alpine',
      release: '3.20',
      package: 'openssl',
      key_kind: 'source',
      scheme: 'apk',
      vuln_id: 'CVE-2024-0727',
      status: 'fixed',
      raw_status: 'fixed',
      introduced: null,
      fixed_version: '3.3.0-r0',
      last_affected: null,
      severity: 'unknown',
      raw_severity: '',
      advisory_ids: [],
    });
    w.meta('source', 'test');
  });
  const other = fingerprint(feedFile(dataDir, 'alpine'));

  const run = await patchloop('db', 'update', '--source', 'debian', '--from', SAMPLE, '--data-dir', dataDir);
  assert.equal(run.code, 0, run.stderr);
  assert.deepEqual(fingerprint(feedFile(dataDir, 'alpine')), other);

  const status = await patchloop('db', 'status', '--data-dir', dataDir, '--format', 'json');
  assert.equal(status.code, 0);
  const feeds = (
    JSON.parse(status.stdout) as { feeds: { feed: string; entries: number; distros: string[]; source: string }[] }
  ).feeds;
  assert.deepEqual(
    feeds.map((f) => [f.feed, f.entries, f.distros, f.source]),
    [
      ['alpine', 1, ['alpine'], 'test'],
      ['debian', 21, ['debian'], SAMPLE],
    ],
  );
  const table = await patchloop('db', 'status', '--data-dir', dataDir);
  assert.match(
    table.stdout,
    /^FEED {4}UPDATED +AGE +ENTRIES +SIZE +DISTROS +SOURCE\nalpine +\S+ +\d+ s +1 +\d+ KiB +alpine +test\ndebian +\S+ +\d+ s +21 +\d+ KiB +debian +\S+debian\.json\n$/,
  );

  const db = VulnDb.open(dataDir);
  t.after(() => db.close());
  assert.equal(db.entries('alpine', '3.20', 'openssl')[0].fixed_version, '3.3.0-r0');
});

test('URL inputs: downloaded, then "up to date" without a rebuild while the server answers 304', async (t) => {
  const dir = tmp(t);
  const dataDir = join(dir, 'data');
  const tracker = readFileSync(SAMPLE);
  const dsa = readFileSync(join(SAMPLE_DIR, 'DSA-list-excerpt'));
  let version = 1;
  const seen: string[] = [];
  const server = createServer((req, res) => {
    const body = req.url === '/tracker/data/json' ? tracker : req.url === '/data/DSA/list' ? dsa : null;
    seen.push(`${req.url} ${req.headers['if-none-match'] ?? '-'}`);
    if (!body) return void res.writeHead(404).end();
    const etag = `"${req.url}-${version}"`;
    if (req.headers['if-none-match'] === etag) return void res.writeHead(304).end();
    res.writeHead(200, { etag, 'content-length': body.length }).end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => server.close());
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const args = [
    'db',
    'update',
    '--source',
    'debian',
    '--from',
    `${base}/tracker/data/json`,
    '--from',
    `${base}/data/DSA/list`,
    '--data-dir',
    dataDir,
  ];

  const first = await patchloop(...args);
  assert.equal(first.code, 0, first.stderr);
  assert.match(first.stdout, /^debian: 21 entries/);
  assert.deepEqual(sopeFix(dataDir), [['CVE-2025-53603', '5.8.0-1+deb12u1', ['DSA-5970-1']]]);
  const built = fingerprint(feedFile(dataDir, 'debian'));

  const second = await patchloop(...args);
  assert.equal(second.code, 0, second.stderr);
  assert.match(second.stdout, /^debian: up to date \(updated \S+, 21 entries\)\n$/);
  assert.deepEqual(fingerprint(feedFile(dataDir, 'debian')), built);
  assert.deepEqual(seen.slice(2), ['/tracker/data/json "/tracker/data/json-1"', '/data/DSA/list "/data/DSA/list-1"']);

  version = 2;
  const third = await patchloop(...args);
  assert.equal(third.code, 0, third.stderr);
  assert.match(third.stdout, /^debian: 21 entries/);
  assert.notEqual(fingerprint(feedFile(dataDir, 'debian')).ino, built.ino);

  // A URL the user named that is not there fails the update; the DB stays.
  const missing = await patchloop(
    'db',
    'update',
    '--source',
    'debian',
    '--from',
    `${base}/nothing`,
    '--data-dir',
    dataDir,
  );
  assert.equal(missing.code, 1);
  assert.match(
    missing.stderr,
    /update of feed debian failed, previous database kept \(updated [^)]+\): download of http:\/\/127\.0\.0\.1:\d+\/nothing failed: HTTP 404/,
  );
});

test('usage errors: empty DB without --source, unknown source, --from without one --source', async (t) => {
  const dir = tmp(t);
  const empty = await patchloop('db', 'update', '--data-dir', dir);
  assert.equal(empty.code, 2);
  assert.match(empty.stderr, /has no feeds yet; name the feeds to fetch with --source \(debian, ubuntu/);
  const unknown = await patchloop('db', 'update', '--source', 'gentoo', '--data-dir', dir);
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /unknown feed source "gentoo"/);
  const ambiguous = await patchloop(
    'db',
    'update',
    '--source',
    'debian',
    '--source',
    'ubuntu',
    '--from',
    SAMPLE,
    '--data-dir',
    dir,
  );
  assert.equal(ambiguous.code, 2);
  assert.match(ambiguous.stderr, /--from needs exactly one --source/);
  const status = await patchloop('db', 'status', '--data-dir', dir);
  assert.equal(status.code, 0);
  assert.match(status.stdout, /^No feeds in .*vulndb; fetch some with: patchloop db update --source NAME\n$/);
  const badFormat = await patchloop('db', 'status', '--data-dir', dir, '--format', 'xml');
  assert.equal(badFormat.code, 2);
});

test('file:// inputs are cached like downloads; db status reports an unreadable feed file without failing', async (t) => {
  const dir = tmp(t);
  const dataDir = join(dir, 'data');
  const url = `file://${SAMPLE}`;
  const first = await patchloop('db', 'update', '--source', 'debian', '--from', url, '--data-dir', dataDir);
  assert.equal(first.code, 0, first.stderr);
  const second = await patchloop('db', 'update', '--source', 'debian', '--from', url, '--data-dir', dataDir);
  assert.match(second.stdout, /^debian: up to date/);

  writeFileSync(join(dataDir, 'vulndb', 'ubuntu.sqlite'), 'not a database');
  const status = await patchloop('db', 'status', '--data-dir', dataDir, '--format', 'json');
  assert.equal(status.code, 0, status.stderr);
  const feeds = (JSON.parse(status.stdout) as { feeds: { feed: string; entries: number | null; error?: string }[] })
    .feeds;
  assert.deepEqual(
    feeds.map((f) => [f.feed, f.entries]),
    [
      ['debian', 21],
      ['ubuntu', null],
    ],
  );
  assert.match(feeds[1].error ?? '', /cannot read vulnerability database .*ubuntu\.sqlite/);
  const table = await patchloop('db', 'status', '--data-dir', dataDir);
  assert.match(table.stdout, /\nubuntu +- +- +- +14 B +- +unreadable: cannot read vulnerability database/);
});
