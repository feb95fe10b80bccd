// End to end on a real Debian 12 package database: `db update` imports a tracker-schema feed
// written for that host, `scan` reports exactly the findings the Debian rules call for.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, readFileSync, writeFileSync, cpSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from './support/cli.ts';
import { REPO_ROOT, SHARED_DATA } from './support/paths.ts';

const ROOT = join(SHARED_DATA, 'pkgdb/dpkg/bookworm-host');
const FEED = join(REPO_ROOT, 'test/fixtures/debian/bookworm-host-tracker.json');

// Each row: binary package, vulnerability, status, fixed version, severity. Binary lists come
// from the host's status file (Source: fields); the rule each row exercises is in the feed's
// descriptions.
const EXPECTED: [string, string, string, string | null, string][] = [
  ...['libssl-dev', 'libssl3', 'openssl'].flatMap((p): [string, string, string, string | null, string][] => [
    [p, 'CVE-2099-0001', 'fixed', '3.0.19-1~deb12u3', 'high'],
    [p, 'CVE-2099-0003', 'fixed', '3.0.19-1', 'medium'],
    [p, 'CVE-2099-0004', 'affected', null, 'medium'],
  ]),
  ...['curl', 'libcurl3-gnutls', 'libcurl3-nss', 'libcurl4'].flatMap(
    (p): [string, string, string, string | null, string][] => [
      [p, 'CVE-2099-0010', 'will_not_fix', null, 'low'],
      [p, 'CVE-2099-0011', 'fix_deferred', null, 'low'],
    ],
  ),
  ['bash', 'CVE-2099-0020', 'fixed', '5.2.15-3', 'low'],
  ['zlib1g', 'CVE-2099-0030', 'affected', null, 'negligible'],
  ['zlib1g-dev', 'CVE-2099-0030', 'affected', null, 'negligible'],
  ...['libgnutls-dane0', 'libgnutls-openssl27', 'libgnutls28-dev', 'libgnutls30', 'libgnutlsxx30'].map(
    (p): [string, string, string, string | null, string] => [p, 'CVE-2099-0050', 'end_of_life', null, 'unknown'],
  ),
  ['tar', 'CVE-2099-0060', 'affected', null, 'unknown'],
  ...['vim', 'vim-common', 'vim-runtime', 'xxd'].map((p): [string, string, string, string | null, string] => [
    p,
    'CVE-2099-0070',
    'fixed',
    '2:9.0.1378-2+deb12u3',
    'high',
  ]),
  ...['libperl5.36', 'perl', 'perl-base', 'perl-modules-5.36'].map(
    (p): [string, string, string, string | null, string] => [p, 'TEMP-0000000-ABCDEF', 'affected', null, 'negligible'],
  ),
];

const key = (r: readonly unknown[]): string => JSON.stringify(r);

async function importedDataDir(): Promise<string> {
  const dataDir = mkdtempSync(join(tmpdir(), 'patchloop-scan-'));
  const r = await runCli(['db', 'update', '--source', 'debian', '--from', FEED, '--data-dir', dataDir]);
  assert.equal(r.code, 0, r.stderr);
  return dataDir;
}

test('scan of a real bookworm host reports exactly the findings the Debian rules give', async () => {
  const dataDir = await importedDataDir();
  const r = await runCli([
    'scan',
    '--root',
    ROOT,
    '--kernel',
    '6.1.0-40-amd64',
    '--data-dir',
    dataDir,
    '--format',
    'json',
  ]);
  assert.equal(r.code, 0, r.stderr);
  const report = JSON.parse(r.stdout);
  assert.equal(report.schema, 'patchloop.scan/v1');
  assert.equal(report.host.distro, 'debian');
  assert.equal(report.host.release, 'bookworm');
  assert.equal(report.host.package_count, 729);
  const got = report.findings.map((f: Record<string, unknown>) =>
    key([(f.package as { name: string }).name, f.id, f.status, f.fixed_version, f.severity]),
  );
  assert.deepEqual([...got].sort(), EXPECTED.map(key).sort());
  // Every contract field is present on every finding.
  for (const f of report.findings) {
    for (const field of ['id', 'aliases', 'package', 'status', 'fixed_version', 'severity', 'feed', 'advisory_ids']) {
      assert.ok(field in f, `finding lacks ${field}`);
    }
    assert.deepEqual(Object.keys(f.package).sort(), ['arch', 'name', 'source', 'source_version', 'version']);
    assert.equal(f.feed, 'debian');
  }
  const bash = report.findings.find((f: { package: { name: string } }) => f.package.name === 'bash');
  // The binNMU binary (5.2.15-2+b8) is judged by its source version.
  assert.equal(bash.package.version, '5.2.15-2+b8');
  assert.equal(bash.package.source_version, '5.2.15-2');
  // Counted per vulnerability and source package: openssl's three binaries are one exposure per
  // CVE, curl's four, gnutls28's five, vim's four and perl's four likewise.
  assert.equal(report.summary.findings, EXPECTED.length);
  assert.equal(
    report.summary.total,
    new Set(report.findings.map((f: { id: string; package: { source: string } }) => `${f.id} ${f.package.source}`))
      .size,
  );
  assert.equal(report.summary.total, 11);
  assert.equal(report.summary.by_status.fixed, 2 + 1 + 1);
  assert.equal(report.summary.by_severity.high, 1 + 1);
});

test('--only-fixed and --fail-on select and gate on findings', async () => {
  const dataDir = await importedDataDir();
  const base = ['scan', '--root', ROOT, '--kernel', '6.1.0-40-amd64', '--data-dir', dataDir, '--format', 'json'];
  const fixedOnly = await runCli([...base, '--only-fixed']);
  assert.equal(fixedOnly.code, 0, fixedOnly.stderr);
  const statuses = new Set(JSON.parse(fixedOnly.stdout).findings.map((f: { status: string }) => f.status));
  assert.deepEqual([...statuses], ['fixed']);
  assert.equal((await runCli([...base, '--fail-on', 'high'])).code, 1);
  assert.equal((await runCli([...base, '--fail-on', 'critical'])).code, 0);
  assert.equal((await runCli([...base, '--fail-on', 'bogus'])).code, 2);
});

test('table and SARIF outputs carry the same findings', async () => {
  const dataDir = await importedDataDir();
  const base = ['scan', '--root', ROOT, '--kernel', '6.1.0-40-amd64', '--data-dir', dataDir];
  const table = await runCli([...base, '--format', 'table']);
  assert.equal(table.code, 0, table.stderr);
  assert.match(
    table.stdout,
    /^Total: 11 \(high 2, medium 2, low 3, negligible 2, unknown 2\); fixed 4, affected 4, will not fix 1, fix deferred 1, end of life 1\ncounted per vulnerability and source package: 34 findings on binary packages$/m,
  );
  assert.match(table.stdout, /^openssl 3\.0\.19-1~deb12u2 {2}\(libssl-dev, libssl3, openssl\)$/m);
  assert.ok(!table.stdout.includes('\u001b['), 'no colour when not on a terminal');

  const sarif = await runCli([...base, '--format', 'sarif']);
  assert.equal(sarif.code, 0, sarif.stderr);
  const doc = JSON.parse(sarif.stdout);
  assert.equal(doc.version, '2.1.0');
  assert.equal(doc.runs[0].results.length, EXPECTED.length);
  const ruleIds = new Set(doc.runs[0].tool.driver.rules.map((r: { id: string }) => r.id));
  assert.deepEqual([...ruleIds].sort(), [...new Set(EXPECTED.map((e) => e[1]))].sort());
  assert.equal(doc.runs[0].results.find((r: { ruleId: string }) => r.ruleId === 'CVE-2099-0001').level, 'error');
});

test("the fixes recorded in the host packages' own changelogs are never reported as open", async () => {
  // 8,000+ (source, version, CVE) rows read from this host's Debian changelogs: each CVE's fix
  // is in the installed version. Built into a tracker feed that says "fixed in that version",
  // none may produce a finding; bumped one revision later, every one must.
  const rows = readFileSync(join(SHARED_DATA, 'feeds/debian/bookworm-host-changelog-cves.tsv'), 'utf8')
    .split('\n')
    .slice(1)
    .filter(Boolean)
    .map((l) => l.split('\t'));
  const inv = JSON.parse((await runCli(['inventory', '--root', ROOT, '--format', 'json'])).stdout) as {
    packages: { source: string; source_version: string }[];
  };
  const installed = new Map(inv.packages.map((p) => [p.source, p.source_version]));
  // A stable update backports an unstable fix under a tilde version (590-2.1 → 590-2.1~deb12u1);
  // its changelog names the unstable version, the tracker names the backport. Do as the tracker.
  const trackerVersion = (source: string, version: string): string => {
    const have = installed.get(source);
    return have?.startsWith(`${version}~`) ? have : version;
  };
  const tracker = (bump: boolean): Record<string, Record<string, unknown>> => {
    const t: Record<string, Record<string, unknown>> = {};
    for (const [, source, version, , cve] of rows) {
      const fixed = trackerVersion(source, version);
      t[source] ??= {};
      t[source][cve] = {
        releases: { bookworm: { status: 'resolved', fixed_version: bump ? `${fixed}.1` : fixed, urgency: 'medium' } },
      };
    }
    return t;
  };
  const dir = mkdtempSync(join(tmpdir(), 'patchloop-changelog-'));
  for (const bump of [false, true]) {
    const feed = join(dir, `tracker-${bump}.json`);
    writeFileSync(feed, JSON.stringify(tracker(bump)));
    const dataDir = join(dir, `data-${bump}`);
    assert.equal((await runCli(['db', 'update', '--source', 'debian', '--from', feed, '--data-dir', dataDir])).code, 0);
    const r = await runCli([
      'scan',
      '--root',
      ROOT,
      '--data-dir',
      dataDir,
      '--kernel',
      '6.1.0-40-amd64',
      '--format',
      'json',
    ]);
    assert.equal(r.code, 0, r.stderr);
    const findings = JSON.parse(r.stdout).findings as { id: string; package: { source: string } }[];
    if (!bump) {
      assert.equal(
        findings.length,
        0,
        `reported as open: ${findings
          .slice(0, 5)
          .map((f) => `${f.package.source} ${f.id}`)
          .join(', ')}`,
      );
    } else {
      // Every row whose changelog version is the installed source version itself must now be
      // reported; nothing outside the rows may be.
      // (Where a CVE is named at several versions, only those named at the installed one alone.)
      const versionsOf = new Map<string, Set<string>>();
      for (const [, source, version, , cve] of rows) {
        const k = `${source} ${cve}`;
        versionsOf.set(k, (versionsOf.get(k) ?? new Set()).add(trackerVersion(source, version)));
      }
      const mustReport = [...versionsOf]
        // `linux` is installed only as linux-libc-dev and linux-perf: never kernel findings.
        .filter(([k]) => !k.startsWith('linux '))
        .filter(([k, versions]) => versions.size === 1 && installed.get(k.split(' ')[0]) === [...versions][0])
        .map(([k]) => k);
      assert.ok(mustReport.length > 100, `only ${mustReport.length} rows at the installed version`);
      const reported = new Set(findings.map((f) => `${f.package.source} ${f.id}`));
      for (const m of mustReport) assert.ok(reported.has(m), `not reported: ${m}`);
      for (const f of findings) assert.ok(rows.some((r) => r[1] === f.package.source && r[4] === f.id));
    }
  }
});

test('an unsupported distribution and a missing vulnerability DB exit 3 with a clear message', async () => {
  const dataDir = await importedDataDir();
  const root = mkdtempSync(join(tmpdir(), 'patchloop-gentoo-'));
  cpSync(join(ROOT, 'var'), join(root, 'var'), { recursive: true });
  mkdirSync(join(root, 'etc'));
  writeFileSync(join(root, 'etc/os-release'), 'ID=gentoo\nNAME=Gentoo\nPRETTY_NAME="Gentoo Linux"\n');
  const unsupported = await runCli(['scan', '--root', root, '--data-dir', dataDir]);
  assert.equal(unsupported.code, 3);
  assert.match(unsupported.stderr, /Gentoo Linux is not supported/);

  const empty = mkdtempSync(join(tmpdir(), 'patchloop-empty-'));
  const noDb = await runCli(['scan', '--root', ROOT, '--data-dir', empty]);
  assert.equal(noDb.code, 3);
  assert.match(noDb.stderr, /no vulnerability data for Debian .*patchloop db update --source debian/);
});

test('ECS output: one finding-state document per finding, with ids stable across scans', async () => {
  const dataDir = await importedDataDir();
  const args = ['scan', '--root', ROOT, '--kernel', '6.1.0-40-amd64', '--data-dir', dataDir, '--format', 'ecs'];
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- ECS documents are deep JSON
  type Doc = Record<string, any>;
  const docsOf = async (): Promise<Doc[]> => {
    const r = await runCli(args);
    assert.equal(r.code, 0, r.stderr);
    return r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
  };
  const first = await docsOf();
  assert.equal(first.length, EXPECTED.length);
  for (const d of first) {
    assert.equal(d.event.kind, 'state');
    assert.equal(d.host.os.platform, 'debian');
  }
  const vim = first.find((d) => d.package.name === 'vim');
  assert.ok(vim);
  assert.deepEqual(
    [vim.vulnerability.id, vim.package.fixed_version, vim.vulnerability.severity],
    ['CVE-2099-0070', '2:9.0.1378-2+deb12u3', 'high'],
  );
  const ids = (docs: Doc[]) => docs.map((d) => d.patchloop.finding_id).sort();
  assert.equal(new Set(ids(first)).size, first.length);
  assert.deepEqual(ids(await docsOf()), ids(first));
});
