// The Amazon Linux 2023 feed (src/feeds/amazon/) through `patchloop db update --source amazon`:
// updateinfo.xml plain and compressed, repository copies found through repomd.xml (checksum
// checked), the download path dnf takes (mirror list → repomd.xml → updateinfo) from a real
// HTTP server on loopback, and the inputs it refuses. The fixture files are written in AWS's
// format for these tests (test/fixtures/amazon/README.md).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { distroProfile, SUPPORTED_DISTROS } from '../src/core/distros.ts';
import { matchInventory } from '../src/core/match.ts';
import type { AdvisoryEntry, InstalledPackage } from '../src/core/types.ts';
import { followRepository, RepodataError } from '../src/feeds/common/repodata.ts';
import { FEED_NAMES, loadFeed } from '../src/feeds/registry.ts';
import { VulnDb } from '../src/vulndb/reader.ts';
import { runCli } from './support/cli.ts';
import { REPO_ROOT } from './support/paths.ts';

const FIXTURE = join(REPO_ROOT, 'test/fixtures/amazon');
const UPDATEINFO = join(FIXTURE, 'updateinfo.xml');
const AARCH64_REPO = join(FIXTURE, 'repo-aarch64');

const made: string[] = [];
const scratch = (what: string): string => {
  const dir = mkdtempSync(join(tmpdir(), `patchloop-amazon-${what}-`));
  made.push(dir);
  return dir;
};
after(() => {
  for (const dir of made) rmSync(dir, { recursive: true, force: true });
});

async function update(
  dataDir: string,
  inputs: string[],
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return runCli(['db', 'update', '--source', 'amazon', ...inputs.flatMap((i) => ['--from', i]), '--data-dir', dataDir]);
}

function withDb<T>(dataDir: string, use: (db: VulnDb) => T): T {
  const db = VulnDb.open(dataDir, ['amazon']);
  try {
    return use(db);
  } finally {
    db.close();
  }
}

const brief = (e: AdvisoryEntry) => [
  e.vuln_id,
  e.fixed_version,
  e.severity,
  e.raw_severity,
  e.advisory_ids,
  e.arches,
  e.key_kind,
];

test('the registry knows the amazon feed (the two core repositories of Amazon Linux 2023 by their mirror lists), as the distribution table does', async () => {
  assert.ok(FEED_NAMES.includes('amazon'));
  const feed = await loadFeed('amazon');
  assert.equal(feed.name, 'amazon');
  assert.deepEqual(feed.defaultUrls, [
    'https://cdn.amazonlinux.com/al2023/core/mirrors/latest/x86_64/mirror.list',
    'https://cdn.amazonlinux.com/al2023/core/mirrors/latest/aarch64/mirror.list',
  ]);
  assert.equal(typeof feed.follow, 'function');
  // The distribution table names feeds by their registry names: every one of them is registered.
  const named = SUPPORTED_DISTROS.flatMap((id) => distroProfile(id)!.feeds);
  assert.deepEqual(
    named.filter((n) => !FEED_NAMES.includes(n)),
    [],
  );
  assert.deepEqual(distroProfile('amzn')?.feeds, ['amazon']);
});

test('db update --from updateinfo.xml: binary rpms with full E:V-R and arch, Amazon severities, one entry per CVE with the advisory as its advisory id', async () => {
  const dataDir = scratch('data');
  const r = await update(dataDir, [UPDATEINFO]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^amazon: 57 entries, 11 vulnerabilities, 0 support rows \(amzn\) in [\d.]+ s\n$/);
  assert.equal(r.stderr, '');
  withDb(dataDir, (db) => {
    assert.deepEqual(
      db.feeds().map((f) => [f.feed, f.distros, f.entry_count]),
      [['amazon', ['amzn'], 57]],
    );
    // Two advisories for openssl-libs: the older one (one CVE) and ALAS2023-2024-700, whose two
    // CVEs are an entry each, found by their CVE with the advisory beside it.
    assert.deepEqual(db.entries('amzn', '2023', 'openssl-libs').map(brief).sort(), [
      ['CVE-2023-2650', '1:3.0.8-1.amzn2023.0.3', 'medium', 'Medium', ['ALAS2023-2023-181'], ['x86_64'], 'binary'],
      ['CVE-2024-4741', '1:3.0.8-1.amzn2023.0.16', 'high', 'Important', ['ALAS2023-2024-700'], ['x86_64'], 'binary'],
      ['CVE-2024-5535', '1:3.0.8-1.amzn2023.0.16', 'high', 'Important', ['ALAS2023-2024-700'], ['x86_64'], 'binary'],
    ]);
    assert.equal(db.vulnerability('ALAS2023-2024-700'), null);
    assert.deepEqual(db.vulnerability('CVE-2024-4741')?.aliases, ['ALAS2023-2024-700']);
    assert.deepEqual(db.entries('amzn', '2023', 'openssh-server').map(brief), [
      ['CVE-2024-6387', '8.7p1-8.amzn2023.0.11', 'critical', 'Critical', ['ALAS2023-2024-652'], ['x86_64'], 'binary'],
    ]);
    // noarch builds apply to every arch; an epoch of 0 is not written.
    assert.deepEqual(db.entries('amzn', '2023', 'python3-setuptools').map(brief), [
      ['CVE-2024-6345', '59.6.0-2.amzn2023.0.5', 'high', 'Important', ['ALAS2023-2024-660'], [], 'binary'],
    ]);
    assert.deepEqual(db.entries('amzn', '2023', 'vim-data').map(brief), [
      ['CVE-2024-22667', '2:9.1.083-1.amzn2023.0.1', 'low', 'Low', ['ALAS2023-2024-512'], [], 'binary'],
    ]);
    const v = db.vulnerability('CVE-2024-6387');
    assert.deepEqual(v?.aliases, ['ALAS2023-2024-652']);
    assert.deepEqual([v?.published, v?.modified], ['2024-07-01 18:41:00', '2024-07-03 21:02:00']);
    assert.match(
      v?.description ?? '',
      /^Amazon Linux 2023 - ALAS2023-2024-652: Critical priority package update for openssh\n\nPackage updates are available/,
    );
    // Nothing of the aarch64 repository yet.
    assert.deepEqual(db.entries('amzn', '2023', 'libxml2'), []);
  });
});

test('db update --from a gzip-compressed updateinfo and an aarch64 repository copy: both arches of one advisory fold into one entry', async () => {
  const dir = scratch('inputs');
  const gz = join(dir, 'updateinfo.xml.gz');
  writeFileSync(gz, gzipSync(readFileSync(UPDATEINFO)));
  for (const repo of [AARCH64_REPO, join(AARCH64_REPO, 'repodata'), join(AARCH64_REPO, 'repodata/repomd.xml')]) {
    const dataDir = scratch('data');
    const r = await update(dataDir, [gz, repo]);
    assert.equal(r.code, 0, `${repo}: ${r.stderr}`);
    withDb(dataDir, (db) => {
      assert.deepEqual(db.entries('amzn', '2023', 'openssl-libs').map(brief).sort(), [
        ['CVE-2023-2650', '1:3.0.8-1.amzn2023.0.3', 'medium', 'Medium', ['ALAS2023-2023-181'], ['x86_64'], 'binary'],
        [
          'CVE-2024-4741',
          '1:3.0.8-1.amzn2023.0.16',
          'high',
          'Important',
          ['ALAS2023-2024-700'],
          ['aarch64', 'x86_64'],
          'binary',
        ],
        [
          'CVE-2024-5535',
          '1:3.0.8-1.amzn2023.0.16',
          'high',
          'Important',
          ['ALAS2023-2024-700'],
          ['aarch64', 'x86_64'],
          'binary',
        ],
      ]);
      assert.deepEqual(
        db.entries('amzn', '2023', 'python3-setuptools').map((e) => e.arches),
        [[]],
      );
      assert.deepEqual(db.entries('amzn', '2023', 'libxml2').map(brief), [
        ['CVE-2024-25062', '2.10.4-1.amzn2023.0.6', 'medium', 'Medium', ['ALAS2023-2024-707'], ['aarch64'], 'binary'],
      ]);
    });
  }
});

test('an advisory for aarch64 builds only is not a finding on x86_64; noarch fixes apply to every arch', async () => {
  const dataDir = scratch('data');
  assert.equal((await update(dataDir, [AARCH64_REPO])).code, 0);
  const os = { id: 'amzn', version_id: '2023', codename: '', pretty_name: 'Amazon Linux 2023.5.20240805' };
  const pkg = (name: string, version: string, arch: string, source: string): InstalledPackage => ({
    name,
    version,
    arch,
    source,
    source_version: version,
    format: 'rpm',
  });
  const host = (arch: string) => ({
    os,
    kernel: null,
    packages: [
      pkg('libxml2', '2.10.4-1.amzn2023.0.5', arch, 'libxml2'),
      pkg('python3-setuptools', '59.6.0-2.amzn2023.0.4', 'noarch', 'python-setuptools'),
    ],
  });
  withDb(dataDir, (db) => {
    const found = (arch: string) =>
      matchInventory(host(arch), db, { today: '2026-01-15' }).findings.map((f) => [
        f.package.name,
        f.id,
        f.fixed_version,
      ]);
    assert.deepEqual(found('aarch64'), [
      ['libxml2', 'CVE-2024-25062', '2.10.4-1.amzn2023.0.6'],
      ['python3-setuptools', 'CVE-2024-6345', '59.6.0-2.amzn2023.0.5'],
    ]);
    assert.deepEqual(found('x86_64'), [['python3-setuptools', 'CVE-2024-6345', '59.6.0-2.amzn2023.0.5']]);
  });
});

const AL2_UPDATE =
  '<update author="linux-security@amazon.com" from="linux-security@amazon.com" status="final" type="security" version="1.4">' +
  '<id>ALAS2-2024-2500</id><title>Amazon Linux 2 - ALAS2-2024-2500: important priority package update for openssl</title>' +
  '<severity>important</severity><references><reference href="x" id="CVE-2024-5535" title="" type="cve" /></references>' +
  '<pkglist><collection short="amazon-linux-2"><name>Amazon Linux 2</name>' +
  '<package arch="x86_64" epoch="1" name="openssl-libs" release="27.amzn2.0.1" version="1.0.2k"><filename>Packages/x.rpm</filename></package>' +
  '</collection></pkglist></update>';

test('Amazon Linux 2 advisories are skipped with a warning; inputs with none of Amazon Linux 2023 are refused and the previous DB kept', async () => {
  const dir = scratch('al2');
  const mixed = join(dir, 'mixed-updateinfo.xml');
  writeFileSync(mixed, readFileSync(UPDATEINFO, 'utf8').replace('</updates>', `${AL2_UPDATE}\n</updates>`));
  const al2Only = join(dir, 'al2-updateinfo.xml');
  writeFileSync(al2Only, `<?xml version="1.0" ?>\n<updates>\n${AL2_UPDATE}\n</updates>\n`);

  const dataDir = scratch('data');
  const ok = await update(dataDir, [mixed]);
  assert.equal(ok.code, 0, ok.stderr);
  assert.equal(
    ok.stderr,
    `patchloop: amazon: warning: ${mixed}: skipped ALAS2-2024-2500: not an Amazon Linux 2023 advisory (ALAS2023-…); Amazon Linux 2 and older releases are not supported\n`,
  );
  const before = withDb(dataDir, (db) => db.feeds()[0]);
  assert.equal(before.entry_count, 57);
  withDb(dataDir, (db) =>
    assert.ok(
      db.entries('amzn', '2', 'openssl-libs').length === 0 && db.entries('amzn', '2023', 'openssl-libs').length === 3,
    ),
  );

  const refused = await update(dataDir, [al2Only]);
  assert.equal(refused.code, 1);
  assert.match(
    refused.stderr,
    /update of feed amazon failed, previous database kept \(updated [^)]+\): \S+al2-updateinfo\.xml: no Amazon Linux 2023 advisory \(ALAS2023-…\): only 1 of other releases \(such as ALAS2-2024-2500\); patchloop reads Amazon Linux 2023 data only/,
  );
  assert.deepEqual(
    withDb(dataDir, (db) => db.feeds()[0]),
    before,
  );
});

test('broken inputs are refused naming the file, and the previous DB stays: bad XML, a mixed repository copy, no repository, another format', async () => {
  const dataDir = scratch('data');
  assert.equal((await update(dataDir, [UPDATEINFO])).code, 0);
  const before = withDb(dataDir, (db) => db.feeds()[0]);
  const dir = scratch('broken');

  const truncated = join(dir, 'updateinfo.xml');
  const text = readFileSync(UPDATEINFO, 'utf8');
  writeFileSync(truncated, text.slice(0, text.indexOf('</update>', text.length / 2)));
  // A repository copy whose updateinfo is not the file repomd.xml names (an rsync caught midway).
  const mixed = join(dir, 'repo');
  cpSync(AARCH64_REPO, mixed, { recursive: true });
  const gzName = readdirSync(join(mixed, 'repodata')).find((f) => f.endsWith('-updateinfo.xml.gz'))!;
  const otherGz = gzipSync(readFileSync(UPDATEINFO));
  writeFileSync(join(mixed, 'repodata', gzName), otherGz);
  const cases: [string, RegExp][] = [
    [truncated, new RegExp(`${truncated}: not well-formed XML: `)],
    [
      mixed,
      new RegExp(
        `${join(mixed, 'repodata', gzName)}: sha256 ${createHash('sha256').update(otherGz).digest('hex')} is not the ${gzName.slice(0, 64)} that ${join(mixed, 'repodata/repomd.xml')} gives: a partial or mixed copy of the repository`,
      ),
    ],
    [FIXTURE, new RegExp(`${FIXTURE}: not an rpm repository \\(no repodata/repomd.xml\\) nor an updateinfo file`)],
    [join(FIXTURE, 'packages.tsv'), /packages\.tsv: not an updateinfo document \(no <updates>\) nor a repomd\.xml/],
  ];
  for (const [input, message] of cases) {
    const r = await update(dataDir, [input]);
    assert.equal(r.code, 1, input);
    assert.match(r.stderr, /update of feed amazon failed, previous database kept/);
    assert.match(r.stderr, message);
    assert.deepEqual(
      withDb(dataDir, (db) => db.feeds()[0]),
      before,
    );
  }
});

/**
 * A repository as AWS's CDN serves it: a mirror list naming the repository, its repomd.xml and the updateinfo it names.
 */
class RepositoryServer {
  readonly files = new Map<string, Buffer>();
  readonly requests: string[] = [];
  private server: Server | null = null;
  url = '';

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      this.requests.push(req.url ?? '');
      const body = this.files.get(req.url ?? '');
      if (!body) {
        res.writeHead(404).end();
        return;
      }
      const etag = `"${createHash('sha256').update(body).digest('hex').slice(0, 16)}"`;
      if (req.headers['if-none-match'] === etag) {
        res.writeHead(304, { etag }).end();
        return;
      }
      res.writeHead(200, { etag, 'content-length': body.length }).end(body);
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** Publishes `updateinfo` as the repository `guid`, and points the mirror list at it. */
  publish(guid: string, updateinfo: string): void {
    const gz = gzipSync(updateinfo);
    const sum = createHash('sha256').update(gz).digest('hex');
    const repomd =
      '<?xml version="1.0" encoding="UTF-8"?>\n<repomd xmlns="http://linux.duke.edu/metadata/repo"><revision>1</revision>' +
      `<data type="updateinfo"><checksum type="sha256">${sum}</checksum><location href="repodata/${sum}-updateinfo.xml.gz"/></data></repomd>\n`;
    this.files.set(`/guids/${guid}/x86_64/repodata/repomd.xml`, Buffer.from(repomd));
    this.files.set(`/guids/${guid}/x86_64/repodata/${sum}-updateinfo.xml.gz`, gz);
    this.files.set('/mirrors/latest/x86_64/mirror.list', Buffer.from(`${this.url}/guids/${guid}/x86_64/\n`));
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server!.close(() => resolve()));
  }
}

test('by URL as dnf finds it: mirror list → repomd.xml → updateinfo; unchanged is up to date, a new repository is read again', async (t) => {
  const repo = new RepositoryServer();
  await repo.start();
  t.after(() => repo.close());
  const text = readFileSync(UPDATEINFO, 'utf8');
  repo.publish('3f2a-0001', text);
  const mirrorList = `${repo.url}/mirrors/latest/x86_64/mirror.list`;
  const dataDir = scratch('data');

  const first = await update(dataDir, [mirrorList]);
  assert.equal(first.code, 0, first.stderr);
  assert.match(first.stdout, /^amazon: 57 entries, 11 vulnerabilities/);
  const sum = [...repo.files.keys()].find((k) => k.endsWith('-updateinfo.xml.gz'))!;
  assert.deepEqual(repo.requests, [
    '/mirrors/latest/x86_64/mirror.list',
    '/guids/3f2a-0001/x86_64/repodata/repomd.xml',
    sum,
  ]);

  const again = await update(dataDir, [mirrorList]);
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stdout, /^amazon: up to date \(updated [^,]+, 57 entries\)\n$/);

  // The next repository snapshot: a new GUID, with one more advisory.
  const newer =
    '<update author="linux-security@amazon.com" from="linux-security@amazon.com" status="final" type="security" version="1.4"><id>ALAS2023-2024-999</id>' +
    '<title>Amazon Linux 2023 - ALAS2023-2024-999: Medium priority package update for openssl</title><severity>Medium</severity>' +
    '<references><reference href="x" id="CVE-2024-9143" title="" type="cve" /></references><pkglist><collection short="amazon-linux-2023">' +
    '<package arch="x86_64" epoch="1" name="openssl" release="1.amzn2023.0.18" version="3.0.8"><filename>Packages/x.rpm</filename></package>' +
    '</collection></pkglist></update>\n';
  repo.publish('3f2a-0002', text.replace('</updates>', `${newer}</updates>`));
  const next = await update(dataDir, [mirrorList]);
  assert.equal(next.code, 0, next.stderr);
  assert.match(next.stdout, /^amazon: 58 entries, 12 vulnerabilities/);
  withDb(dataDir, (db) =>
    assert.deepEqual(
      db
        .entries('amzn', '2023', 'openssl')
        .map((e) => e.advisory_ids[0])
        .sort(),
      ['ALAS2023-2023-181', 'ALAS2023-2024-700', 'ALAS2023-2024-700', 'ALAS2023-2024-999'],
    ),
  );

  // A mirror list whose repository is gone: a URL given with --from is never skipped.
  repo.files.delete('/guids/3f2a-0002/x86_64/repodata/repomd.xml');
  const gone = await update(dataDir, [mirrorList]);
  assert.equal(gone.code, 1);
  assert.match(
    gone.stderr,
    /previous database kept .*download of http:\/\/127\.0\.0\.1:\d+\/guids\/3f2a-0002\/x86_64\/repodata\/repomd\.xml failed: .*404/,
  );
});

test('following a repository: https never leads to plain http or a local file, a repomd location never leaves the repository', async () => {
  const dir = scratch('follow');
  const file = (name: string, text: string): string => {
    const p = join(dir, name);
    writeFileSync(p, text);
    return p;
  };
  const repomd = readFileSync(join(AARCH64_REPO, 'repodata/repomd.xml'), 'utf8');
  const base = 'https://cdn.example/al2023/core/guids/abc/x86_64/';
  assert.deepEqual(await followRepository({ url: `${base}repodata/repomd.xml`, path: file('repomd.xml', repomd) }), [
    `${base}${/href="(repodata\/[0-9a-f]{64}-updateinfo\.xml\.gz)"/.exec(repomd)![1]}`,
  ]);
  assert.deepEqual(
    await followRepository({
      url: 'https://cdn.example/mirror.list',
      path: file('a.list', `# mirrors\n${base}\nhttps://other.example/x86_64/\n`),
    }),
    [`${base}repodata/repomd.xml`],
  );
  assert.equal(await followRepository({ url: 'https://cdn.example/u.xml', path: UPDATEINFO }), null);
  const refused: [string, string, RegExp][] = [
    [
      'https://cdn.example/mirror.list',
      'http://cdn.example/x86_64/\n',
      /will not follow http:\/\/cdn\.example\/x86_64\/repodata\/repomd\.xml \(from https only to https/,
    ],
    [
      'https://cdn.example/mirror.list',
      'https://cdn.example/x86_64/\nftp://cdn.example/x86_64/\n',
      /line 2: not an http\(s\) URL: ftp:/,
    ],
    [
      'https://cdn.example/r/repodata/repomd.xml',
      repomd.replace(/href="repodata\/[^"]+-updateinfo\.xml\.gz"/, 'href="../../etc/passwd"'),
      /the updateinfo location "\.\.\/\.\.\/etc\/passwd" is not a path inside the repository/,
    ],
    [
      'https://cdn.example/r/repodata/repomd.xml',
      repomd.replace(/href="repodata\/[^"]+-updateinfo\.xml\.gz"/, 'href="file:///etc/passwd"'),
      /is not a path inside the repository/,
    ],
    [
      'https://cdn.example/r/repodata/repomd.xml',
      repomd.replace(/<data type="updateinfo">[\s\S]*?<\/data>/, ''),
      /the repository publishes no updateinfo/,
    ],
  ];
  for (const [url, text, message] of refused) {
    await assert.rejects(
      followRepository({ url, path: file('input', text) }),
      (err: unknown) => err instanceof RepodataError && message.test(err.message) && err.message.startsWith(`${url}: `),
    );
  }
});
