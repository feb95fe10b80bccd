// `scan --ignore-file` on the real Debian 12 host with a tracker-schema feed written for it:
// entries take the findings they cover out of the report's findings, counts and --fail-on (listed
// under `excepted` with their entry); an expired entry, an accepted risk without an expiry and an
// entry written before the finding became more severe do not apply and say why; a file with a
// wildcard or without a justification is refused naming its line.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from './support/cli.ts';
import { REPO_ROOT, SHARED_DATA } from './support/paths.ts';

const ROOT = join(SHARED_DATA, 'pkgdb/dpkg/bookworm-host');
const FEED = join(REPO_ROOT, 'test/fixtures/debian/bookworm-host-tracker.json');
let dataDir: string;
let dir: string;

interface Report {
  findings: { id: string; package: { name: string } }[];
  excepted: { id: string; package: { name: string }; exception: { entry: number; kind: string } }[];
  summary: { by_severity: Record<string, number>; total: number };
  warnings: string[];
}

const inDays = (n: number): string => new Date(Date.now() + n * 86_400_000).toISOString().slice(0, 10);

function ignoreFile(name: string, text: string): string {
  const file = join(dir, name);
  writeFileSync(file, text);
  return file;
}

const scan = (...extra: string[]) =>
  runCli(['scan', '--root', ROOT, '--kernel', '6.1.0-40-amd64', '--data-dir', dataDir, ...extra]);

before(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'patchloop-ignore-'));
  dir = mkdtempSync(join(tmpdir(), 'patchloop-ignore-files-'));
  const r = await runCli(['db', 'update', '--source', 'debian', '--from', FEED, '--data-dir', dataDir]);
  assert.equal(r.code, 0, r.stderr);
});

test('entries hide what they cover; expired, unbounded and outgrown entries do not, and say so', async () => {
  const plain = await scan('--format', 'json');
  assert.equal(plain.code, 0, plain.stderr);
  const before = JSON.parse(plain.stdout) as Report;

  const file = ignoreFile(
    'ignore.yaml',
    `exceptions:
  - scope: { vulnerability: CVE-2099-0001, package: openssl }
    kind: accepted_risk
    justification: the vulnerable cipher is disabled in our builds
    owner: platform-team
    expires_at: ${inDays(30)}
  - scope: { vulnerability: CVE-2099-0070 }
    kind: false_positive
    justification: vim is not used on servers
    severity: medium
  - scope: { vulnerability: CVE-2099-0030 }
    kind: mitigated
    justification: zlib input is trusted
    expires_at: 2020-01-31
  - scope: { package: tar }
    kind: accepted_risk
    justification: no expiry given
  - scope: { vulnerability: CVE-2099-0010, group: web }
    kind: will_fix_later
    justification: group scopes need a fleet
`,
  );
  const r = await scan('--format', 'json', '--ignore-file', file);
  assert.equal(r.code, 0, r.stderr);
  const report = JSON.parse(r.stdout) as Report;
  assert.deepEqual(report.excepted.map((f) => [f.id, f.package.name, f.exception.entry, f.exception.kind]).sort(), [
    ['CVE-2099-0001', 'libssl-dev', 1, 'accepted_risk'],
    ['CVE-2099-0001', 'libssl3', 1, 'accepted_risk'],
    ['CVE-2099-0001', 'openssl', 1, 'accepted_risk'],
  ]);
  assert.ok(!report.findings.some((f) => f.id === 'CVE-2099-0001'));
  // One exposure (openssl's three binaries) fewer, a high one.
  assert.equal(report.summary.total, before.summary.total - 1);
  assert.equal(report.summary.by_severity.high, before.summary.by_severity.high - 1);
  assert.equal(report.findings.length, before.findings.length - 3);
  const mine = report.warnings.filter((w) => w.startsWith(file));
  assert.deepEqual(mine.map((w) => w.slice(file.length + 2)).sort(), [
    'entry 2 no longer hides CVE-2099-0070 in vim: it became high since',
    'entry 3 (vulnerability CVE-2099-0030) expired on 2020-01-31: it no longer applies',
    'entry 4 (package tar) does not apply: an accepted risk needs an expiry (expires_at)',
    "entry 5: group and tag name hosts of a server's fleet; a standalone scan has neither",
  ]);
  assert.match(r.stderr, /patchloop: warning: .*entry 3 \(vulnerability CVE-2099-0030\) expired on 2020-01-31/);
});

test('--fail-on counts only what the ignore file leaves', async () => {
  assert.equal((await scan('--format', 'json', '--fail-on', 'high')).code, 1);
  const file = ignoreFile(
    'highs.yaml',
    `exceptions:
  - scope: { vulnerability: CVE-2099-0001 }
    kind: mitigated
    justification: cipher disabled
  - scope: { vulnerability: CVE-2099-0070, package: vim }
    kind: will_fix_later
    justification: vim goes in the next image
    expires_at: ${inDays(60)}
`,
  );
  const r = await scan('--format', 'json', '--fail-on', 'high', '--ignore-file', file);
  assert.equal(r.code, 0, r.stderr);
  const report = JSON.parse(r.stdout) as Report;
  assert.equal(report.summary.by_severity.high, 0);
});

test('a wrong ignore file is a usage error naming the file and line', async () => {
  const file = ignoreFile(
    'bad.yaml',
    `exceptions:
  - scope: { vulnerability: CVE-2099-* }
    kind: false_positive
    justification: everything
  - scope: { package: tar }
    kind: mitigated
`,
  );
  const r = await scan('--ignore-file', file);
  assert.equal(r.code, 2);
  assert.match(
    r.stderr,
    new RegExp(`${file}:2: exceptions\\[0\\]\\.scope\\.vulnerability: vulnerability: wildcards are not allowed`),
  );
  assert.match(r.stderr, /exceptions\[1\]\.justification/);
});
