// The CISA KEV feed end to end: the real catalogue (1,404 entries, 2025-08-25) through the real
// CLI, from a file and over HTTP on loopback (ETag: an unchanged catalogue is not rebuilt), read
// back with the vulnerability DB's own reader; malformed catalogues refused with the previous
// data kept.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { VulnDb } from '../src/vulndb/reader.ts';
import { BIN, SHARED_DATA } from './support/paths.ts';

const CATALOGUE = join(SHARED_DATA, 'feeds/kev/known_exploited_vulnerabilities.json');

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
  const dir = mkdtempSync(join(tmpdir(), 'patchloop-kev-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function kevOf(dataDir: string, ids: string[]): Map<string, unknown> {
  const db = VulnDb.open(dataDir);
  try {
    return new Map([...db.enrichMany(ids)].map(([id, e]) => [id, e.kev]));
  } finally {
    db.close();
  }
}

const realCatalogue = (): { count: number; vulnerabilities: Record<string, unknown>[] } =>
  JSON.parse(readFileSync(CATALOGUE, 'utf8')) as { count: number; vulnerabilities: Record<string, unknown>[] };

test('the real catalogue imports every entry with its dates and ransomware use', async (t) => {
  const dir = tmp(t);
  const r = await patchloop('db', 'update', '--source', 'kev', '--from', CATALOGUE, '--data-dir', dir);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^kev: 1,404 known exploited vulnerabilities in [\d.]+ s\n$/);

  const cat = realCatalogue();
  const known = cat.vulnerabilities.filter((v) => v.knownRansomwareCampaignUse === 'Known');
  assert.equal(known.length, 293);
  const got = kevOf(dir, ['CVE-2025-48384', String(known[0].cveID), 'CVE-1999-99999']);
  // The catalogue's first entry, as it is written there.
  assert.deepEqual(got.get('CVE-2025-48384'), { date_added: '2025-08-25', due_date: '2025-09-15', ransomware: false });
  assert.deepEqual(got.get(String(known[0].cveID)), {
    date_added: known[0].dateAdded,
    due_date: known[0].dueDate,
    ransomware: true,
  });
  assert.equal(got.has('CVE-1999-99999'), false);
  const all = kevOf(
    dir,
    cat.vulnerabilities.map((v) => String(v.cveID)),
  );
  assert.equal(all.size, new Set(cat.vulnerabilities.map((v) => v.cveID)).size);

  const status = await patchloop('db', 'status', '--data-dir', dir, '--format', 'json');
  const { feeds } = JSON.parse(status.stdout) as {
    feeds: { feed: string; entries: number; distros: string[]; data_version: string }[];
  };
  assert.deepEqual(
    feeds.map((f) => [f.feed, f.entries, f.distros, f.data_version]),
    [['kev', 1404, [], '2025.08.25']],
  );
});

test('over HTTP: an unchanged catalogue (same ETag) is not rebuilt, a changed one is', async (t) => {
  const dir = tmp(t);
  let body = readFileSync(CATALOGUE);
  let version = 1;
  const requests: string[] = [];
  const server = createServer((req, res) => {
    const etag = `"kev-${version}"`;
    requests.push(`${req.method} ${req.headers['if-none-match'] ?? '-'}`);
    if (req.headers['if-none-match'] === etag) return void res.writeHead(304).end();
    res.writeHead(200, { etag, 'content-type': 'application/json', 'content-length': body.length }).end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => server.close());
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/known_exploited_vulnerabilities.json`;

  const first = await patchloop('db', 'update', '--source', 'kev', '--from', url, '--data-dir', dir);
  assert.equal(first.code, 0, first.stderr);
  assert.match(first.stdout, /1,404 known exploited vulnerabilities/);
  const second = await patchloop('db', 'update', '--source', 'kev', '--from', url, '--data-dir', dir);
  assert.equal(second.code, 0, second.stderr);
  assert.match(second.stdout, /^kev: up to date \(updated .*, 1,404 entries\)\n$/);
  assert.deepEqual(requests, ['GET -', 'GET "kev-1"']);

  // CISA adds an entry: a new ETag, a rebuild with it.
  const cat = realCatalogue();
  cat.vulnerabilities.unshift({ ...cat.vulnerabilities[0], cveID: 'CVE-2026-0001', dateAdded: '2026-12-01' });
  cat.count++;
  body = Buffer.from(JSON.stringify(cat));
  version++;
  const third = await patchloop('db', 'update', '--source', 'kev', '--from', url, '--data-dir', dir);
  assert.equal(third.code, 0, third.stderr);
  assert.match(third.stdout, /1,405 known exploited vulnerabilities/);
  assert.equal((kevOf(dir, ['CVE-2026-0001']).get('CVE-2026-0001') as { date_added: string }).date_added, '2026-12-01');
});

test('a malformed catalogue is refused with a clear error and the previous one kept; a bad entry is skipped', async (t) => {
  const dir = tmp(t);
  assert.equal((await patchloop('db', 'update', '--source', 'kev', '--from', CATALOGUE, '--data-dir', dir)).code, 0);
  const before = kevOf(dir, ['CVE-2025-48384']);

  const cat = realCatalogue();
  const truncated = join(dir, 'truncated.json');
  writeFileSync(truncated, JSON.stringify({ ...cat, vulnerabilities: cat.vulnerabilities.slice(0, 700) }));
  const r1 = await patchloop('db', 'update', '--source', 'kev', '--from', truncated, '--data-dir', dir);
  assert.equal(r1.code, 1);
  assert.match(
    r1.stderr,
    /update of feed kev failed, previous database kept \(updated .*\): .*truncated\.json: the catalogue says it holds 1404 vulnerabilities but lists 700: incomplete or altered/,
  );

  const other = join(dir, 'other.json');
  writeFileSync(other, JSON.stringify({ title: 'something else', items: [] }));
  const r2 = await patchloop('db', 'update', '--source', 'kev', '--from', other, '--data-dir', dir);
  assert.equal(r2.code, 1);
  assert.match(r2.stderr, /other\.json: not a CISA KEV catalogue: catalogVersion: .*expected string/);

  const notJson = join(dir, 'cut.json');
  writeFileSync(notJson, readFileSync(CATALOGUE).subarray(0, 5000));
  const r3 = await patchloop('db', 'update', '--source', 'kev', '--from', notJson, '--data-dir', dir);
  assert.equal(r3.code, 1);
  assert.match(r3.stderr, /cut\.json: not valid JSON/);
  assert.deepEqual(kevOf(dir, ['CVE-2025-48384']), before);

  // One entry without its due date and one with a made-up id: warned about, the rest imported.
  const damaged = realCatalogue();
  delete damaged.vulnerabilities[3].dueDate;
  damaged.vulnerabilities[5].cveID = 'CVE-25-1';
  const oneBad = join(dir, 'one-bad.json');
  writeFileSync(oneBad, JSON.stringify(damaged));
  const r4 = await patchloop('db', 'update', '--source', 'kev', '--from', oneBad, '--data-dir', dir);
  assert.equal(r4.code, 0, r4.stderr);
  assert.match(r4.stdout, /1,402 known exploited vulnerabilities/);
  assert.match(
    r4.stderr,
    new RegExp(`vulnerabilities\\[3\\] \\(${String(damaged.vulnerabilities[3].cveID)}\\) skipped: dueDate`),
  );
  assert.match(r4.stderr, /vulnerabilities\[5\] \(CVE-25-1\) skipped: cveID: expected a CVE id/);
});
