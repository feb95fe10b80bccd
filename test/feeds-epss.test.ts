// The FIRST EPSS feed end to end: a generated full-size daily file (300,000 rows, the exact
// published shape) through the real CLI, from a file and over HTTP on loopback (ETag), read back
// with the vulnerability DB's own reader; malformed files refused, naming the line, with the
// previous scores kept.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { VulnDb } from '../src/vulndb/reader.ts';
import type { EpssInfo } from '../src/core/types.ts';
import { epssCsv, writeEpssFile } from './support/epss-generator.ts';
import { BIN } from './support/paths.ts';

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function patchloop(...args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      BIN,
      args,
      { env: { ...process.env, PATCHLOOP_HOME: '/nonexistent-patchloop-home' } },
      (err, stdout, stderr) =>
        resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr }),
    );
  });
}

function tmp(t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'patchloop-epss-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function epssOf(dataDir: string, ids: string[]): Map<string, EpssInfo | undefined> {
  const db = VulnDb.open(dataDir);
  try {
    return new Map([...db.enrichMany(ids)].map(([id, e]) => [id, e.epss]));
  } finally {
    db.close();
  }
}

const KNOWN = [
  { cve: 'CVE-2024-3094', score: 0.85, percentile: 0.99412 },
  { cve: 'CVE-2023-4863', score: 0.0312, percentile: 0.87 },
];

test('a full-size daily file imports every row with the score date', async (t) => {
  const dir = tmp(t);
  const file = writeEpssFile(join(dir, 'epss_scores-current.csv.gz'), { known: KNOWN, seed: 7 });
  const r = await patchloop('db', 'update', '--source', 'epss', '--from', file, '--data-dir', dir);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^epss: 300,000 EPSS scores in [\d.]+ s\n$/);

  const got = epssOf(dir, ['CVE-2024-3094', 'CVE-2023-4863', 'CVE-1999-1000', 'CVE-2099-0001']);
  assert.deepEqual(got.get('CVE-2024-3094'), { score: 0.85, percentile: 0.99412, date: '2026-11-01' });
  assert.deepEqual(got.get('CVE-2023-4863'), { score: 0.0312, percentile: 0.87, date: '2026-11-01' });
  // The generated row, as written in the file.
  const row = epssCsv({ known: KNOWN, seed: 7 })
    .split('\n')
    .find((l) => l.startsWith('CVE-1999-1000,'))!
    .split(',');
  assert.deepEqual(got.get('CVE-1999-1000'), { score: Number(row[1]), percentile: Number(row[2]), date: '2026-11-01' });
  assert.equal(got.has('CVE-2099-0001'), false);

  const db = VulnDb.open(dir);
  try {
    assert.deepEqual(
      db.feeds().map((f) => [f.feed, f.entry_count, f.distros, f.meta.model_version, f.meta.score_date]),
      [['epss', 300_000, [], 'v2025.03.14', '2026-11-01T12:55:00Z']],
    );
  } finally {
    db.close();
  }
});

test('over HTTP: the same file (same ETag) is not rebuilt; the next day is', async (t) => {
  const dir = tmp(t);
  let body = gzipSync(epssCsv({ rows: 20_000, known: KNOWN }));
  let day = 1;
  const requests: string[] = [];
  const server = createServer((req, res) => {
    const etag = `"epss-${day}"`;
    requests.push(req.headers['if-none-match'] ?? '-');
    if (req.headers['if-none-match'] === etag) return void res.writeHead(304).end();
    res.writeHead(200, { etag, 'content-type': 'application/gzip', 'content-length': body.length }).end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => server.close());
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/epss_scores-current.csv.gz`;

  const first = await patchloop('db', 'update', '--source', 'epss', '--from', url, '--data-dir', dir);
  assert.equal(first.code, 0, first.stderr);
  assert.match(first.stdout, /20,000 EPSS scores/);
  const second = await patchloop('db', 'update', '--source', 'epss', '--from', url, '--data-dir', dir);
  assert.match(second.stdout, /^epss: up to date \(updated .*, 20,000 entries\)\n$/);

  day = 2;
  body = gzipSync(
    epssCsv({
      rows: 20_000,
      known: [{ cve: 'CVE-2024-3094', score: 0.9, percentile: 0.995 }],
      score_date: '2026-11-02T12:55:00Z',
    }),
  );
  const third = await patchloop('db', 'update', '--source', 'epss', '--from', url, '--data-dir', dir);
  assert.equal(third.code, 0, third.stderr);
  assert.deepEqual(requests, ['-', '"epss-1"', '"epss-1"']);
  assert.deepEqual(epssOf(dir, ['CVE-2024-3094']).get('CVE-2024-3094'), {
    score: 0.9,
    percentile: 0.995,
    date: '2026-11-02',
  });
});

test('a malformed file is refused, naming the line, and the previous scores stay', async (t) => {
  const dir = tmp(t);
  const good = writeEpssFile(join(dir, 'good.csv.gz'), { rows: 5_000, known: KNOWN });
  assert.equal((await patchloop('db', 'update', '--source', 'epss', '--from', good, '--data-dir', dir)).code, 0);
  const before = epssOf(dir, ['CVE-2024-3094']);
  const text = epssCsv({ rows: 5_000, known: KNOWN }).split('\n');

  const cases: [string, string[], RegExp][] = [
    [
      'score-out-of-range',
      text.map((l, i) => (i === 1000 ? l.replace(/,[^,]*,/, ',1.5,') : l)),
      /:1001: malformed EPSS row "CVE-[\d-]+,1\.5,[\d.]+": expected CVE-id,score,percentile with both numbers between 0 and 1/,
    ],
    ['short-row', text.map((l, i) => (i === 40 ? l.split(',').slice(0, 2).join(',') : l)), /:41: malformed EPSS row/],
    ['bad-id', text.map((l, i) => (i === 3 ? l.replace('CVE-', 'CAN-') : l)), /:4: malformed EPSS row "CAN-/],
    [
      'no-comment',
      text.slice(1),
      /:1: not an EPSS file: expected the comment line "#model_version:…,score_date:…", found "cve,epss,percentile"/,
    ],
    [
      'bad-date',
      [text[0].replace('2026-11-01T12:55:00Z', 'yesterday'), ...text.slice(1)],
      /:1: not an EPSS comment line: score_date: /,
    ],
    [
      'other-header',
      [text[0], 'cve,score,pct', ...text.slice(2)],
      /:2: expected the header "cve,epss,percentile", found "cve,score,pct"/,
    ],
  ];
  for (const [name, lines, want] of cases) {
    const file = join(dir, `${name}.csv.gz`);
    writeFileSync(file, gzipSync(lines.join('\n')));
    const r = await patchloop('db', 'update', '--source', 'epss', '--from', file, '--data-dir', dir);
    assert.equal(r.code, 1, `${name}: ${r.stdout}`);
    assert.match(r.stderr, /update of feed epss failed, previous database kept \(updated /, name);
    assert.match(r.stderr, want, name);
  }
  // A download cut short: the gzip stream ends early.
  const cut = join(dir, 'cut.csv.gz');
  const whole = readFileSync(good);
  writeFileSync(cut, whole.subarray(0, whole.length >> 1));
  const r = await patchloop('db', 'update', '--source', 'epss', '--from', cut, '--data-dir', dir);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /cut\.csv\.gz: corrupt gzip data/);
  // Only a comment and a header: no scores at all.
  const empty = join(dir, 'empty.csv.gz');
  writeFileSync(empty, gzipSync(`${text[0]}\n${text[1]}\n`));
  const e = await patchloop('db', 'update', '--source', 'epss', '--from', empty, '--data-dir', dir);
  assert.equal(e.code, 1);
  assert.match(e.stderr, /the input contained no EPSS scores/);

  assert.deepEqual(epssOf(dir, ['CVE-2024-3094']), before);
});
