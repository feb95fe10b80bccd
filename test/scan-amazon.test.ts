// End to end on an Amazon Linux 2023 root whose rpmdb.sqlite rpm itself wrote (scripts/make-rpm-root
// from test/fixtures/amazon/packages.tsv), against the updateinfo.xml of the x86_64 and aarch64
// repositories in test/fixtures/amazon (written in AWS's format for these tests; its README lists
// what each advisory implies for this host): `patchloop db update --source amazon`, `patchloop
// scan`, the server matching the same host's report, and the patch backend the host gets.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { copyFileSync, cpSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { readInventory } from '../src/inventory/index.ts';
import { backendFor } from '../src/patch/backends.ts';
import { runCli } from './support/cli.ts';
import {
  assertFindings,
  findingOf,
  importFeed,
  removeTemporaries,
  scanJson,
  temporary,
  type Row,
} from './support/estate.ts';
import { REPO_ROOT } from './support/paths.ts';
import { api, enrollTestHost, fullReportOf, startTestServer } from './support/server.ts';

after(removeTemporaries);

const FIXTURE = join(REPO_ROOT, 'test/fixtures/amazon');
const INPUTS = [join(FIXTURE, 'updateinfo.xml'), join(FIXTURE, 'repo-aarch64')];
const RUNNING = '6.1.94-99.176.amzn2023.x86_64';

/** The fixture host's root: the rpm database rpm writes for packages.tsv, and an os-release. */
function amazonRoot(osRelease = 'os-release'): string {
  const built = execFileSync('sh', [join(REPO_ROOT, 'scripts/make-rpm-root'), join(FIXTURE, 'packages.tsv')], {
    encoding: 'utf8',
  }).trim();
  const root = temporary('amzn');
  cpSync(join(built, 'var'), join(root, 'var'), { recursive: true });
  mkdirSync(join(root, 'etc'));
  copyFileSync(join(FIXTURE, osRelease), join(root, 'etc/os-release'));
  return root;
}

const ssl = '1:3.0.8-1.amzn2023.0.14';
const ssh = '8.7p1-8.amzn2023.0.10';
const vim = '2:9.0.2153-1.amzn2023.0.1';
const EXPECTED: Row[] = [
  ['curl-minimal', '8.5.0-1.amzn2023.0.4', 'CVE-2024-2398', 'fixed', '8.5.0-1.amzn2023.0.5', 'medium', false],
  ['libcurl-minimal', '8.5.0-1.amzn2023.0.4', 'CVE-2024-2398', 'fixed', '8.5.0-1.amzn2023.0.5', 'medium', false],
  // Epoch 1 on both sides, kept in the fixed version; ALAS2023-2024-700 names two CVEs: a
  // finding each. The older ALAS2023-2023-181 (1:3.0.8-1.amzn2023.0.3) is installed already.
  ...['openssl', 'openssl-libs'].flatMap((p) =>
    ['CVE-2024-4741', 'CVE-2024-5535'].map((id): Row => [
      p,
      ssl,
      id,
      'fixed',
      '1:3.0.8-1.amzn2023.0.16',
      'high',
      false,
    ]),
  ),
  ['openssh', ssh, 'CVE-2024-6387', 'fixed', '8.7p1-8.amzn2023.0.11', 'critical', false],
  ['openssh-clients', ssh, 'CVE-2024-6387', 'fixed', '8.7p1-8.amzn2023.0.11', 'critical', false],
  ['openssh-server', ssh, 'CVE-2024-6387', 'fixed', '8.7p1-8.amzn2023.0.11', 'critical', false],
  // noarch installed, noarch fixed (listed by both repositories).
  ['python3-setuptools', '59.6.0-2.amzn2023.0.4', 'CVE-2024-6345', 'fixed', '59.6.0-2.amzn2023.0.5', 'high', false],
  // Epoch 2: 2:9.0.2153 < 2:9.1.083.
  ['vim-minimal', vim, 'CVE-2024-22667', 'fixed', '2:9.1.083-1.amzn2023.0.1', 'low', false],
  ['vim-data', vim, 'CVE-2024-22667', 'fixed', '2:9.1.083-1.amzn2023.0.1', 'low', false],
  // The running kernel; the older image beside it is installed, not running, and so is the
  // newer kernel6.12 line. kernel-headers is not the kernel: no kernel findings.
  ...['CVE-2024-36971', 'CVE-2024-39480'].flatMap((id): Row[] => [
    ['kernel', '6.1.94-99.176.amzn2023', id, 'fixed', '6.1.97-104.177.amzn2023', 'high', false],
    ['kernel', '6.1.92-99.174.amzn2023', id, 'fixed', '6.1.97-104.177.amzn2023', 'high', true],
  ]),
  ['kernel6.12', '6.12.13-47.116.amzn2023', 'CVE-2025-21756', 'fixed', '6.12.20-50.119.amzn2023', 'high', true],
  // Not reported: expat at the fixed build (ALAS2023-2024-530), libxml2 (ALAS2023-2024-707 has
  // aarch64 builds only), bash (no advisory).
];

test('Amazon Linux 2023: db update --source amazon, then scan: every finding exact, nothing at or past its fix', async () => {
  const dataDir = await importFeed('amazon', INPUTS);
  const report = await scanJson(amazonRoot(), dataDir, ['--kernel', RUNNING]);
  assert.deepEqual(
    [report.host.distro, report.host.release, report.host.package_count, report.host.kernel],
    ['amzn', '2023', 17, RUNNING],
  );
  assertFindings(report, EXPECTED);
  const openssl = findingOf(report, 'openssl-libs', 'CVE-2024-5535');
  assert.deepEqual(
    [openssl.feed, openssl.advisory_ids, openssl.aliases, openssl.package.source],
    ['amazon', ['ALAS2023-2024-700'], ['ALAS2023-2024-700'], 'openssl'],
  );
  const ssh = findingOf(report, 'openssh-server', 'CVE-2024-6387');
  assert.deepEqual(
    [ssh.advisory_ids, ssh.aliases, ssh.raw_status],
    [['ALAS2023-2024-652'], ['ALAS2023-2024-652'], 'fixed'],
  );
  // Per vulnerability and source package: curl, openssl (two CVEs), openssh, python-setuptools,
  // vim, the running kernel (two CVEs); kernel6.12's CVE is in no running kernel.
  assert.deepEqual(report.summary.by_severity, { critical: 1, high: 5, medium: 1, low: 1, negligible: 0, unknown: 0 });
  assert.deepEqual([report.summary.total, report.summary.findings, report.summary.kernel_not_running], [8, 14, 1]);
  assert.deepEqual(
    report.kernel.images.map((i) => [i.name, i.version, i.running]),
    [
      ['kernel', '6.1.92-99.174.amzn2023', false],
      ['kernel', '6.1.94-99.176.amzn2023', true],
      ['kernel6.12', '6.12.13-47.116.amzn2023', false],
    ],
  );
  assert.equal(report.kernel.newer_installed, true, 'kernel6.12 is newer than the running 6.1 kernel');
  // Standard support until 2027-06-30, maintenance support until 2029-06-30.
  assert.ok(['supported', 'extended'].includes(report.support.state), JSON.stringify(report.support));
  assert.deepEqual(
    report.warnings.filter(
      (w) => !/past regular security support; fixes come from maintenance support until 2029-06-30/.test(w),
    ),
    [],
  );
});

test('Amazon Linux 2 is refused with a message saying so; a scan with no amazon feed names the db update to run', async () => {
  const dataDir = await importFeed('amazon', INPUTS);
  const al2 = await runCli(['scan', '--root', amazonRoot('os-release-amazon-linux-2'), '--data-dir', dataDir]);
  assert.equal(al2.code, 3);
  assert.match(al2.stderr, /^patchloop: .*Amazon Linux 2 is not supported; patchloop scans Amazon Linux 2023 only\n$/);
  const empty = await runCli(['scan', '--root', amazonRoot(), '--data-dir', temporary('no-data')]);
  assert.equal(empty.code, 3);
  assert.match(
    empty.stderr,
    /no vulnerability data for Amazon Linux in \S+; run `patchloop db update --source amazon` first/,
  );
});

test("the server matches an Amazon Linux 2023 host's report with the same findings as the scan, and says why it does not match an Amazon Linux 2 host", async (t) => {
  const dataDir = await importFeed('amazon', INPUTS);
  const s = await startTestServer(null, {}, { dataDir });
  t.after(() => s.close());
  const inventory = await readInventory(amazonRoot(), { kernel: RUNNING });
  const token = await enrollTestHost(s, 'al2023-1', 'web');
  const sent = await api(s.url, '/api/v1/reports', { token, body: fullReportOf(inventory, 'al2023-1'), gzip: true });
  assert.equal(sent.status, 200, sent.text);

  const hosts = (await api(s.url, '/api/v1/hosts?search=al2023-1', { token: s.adminToken })).body as {
    items: { id: number }[];
  };
  const host = (await api(s.url, `/api/v1/hosts/${hosts.items[0].id}`, { token: s.adminToken })).body as {
    distro: string;
    release: string;
    support: { state: string };
  };
  assert.deepEqual([host.distro, host.release, host.support.state], ['amzn', '2023', 'supported']);
  type F = {
    vulnerability: string;
    packages: { name: string; version: string }[];
    status: string;
    fixed_version: string;
    severity: string;
    feed: string;
    advisory_ids: string[];
  };
  const findings = (
    await api(s.url, `/api/v1/findings?host=${hosts.items[0].id}&per_page=100`, { token: s.adminToken })
  ).body as { total: number; items: F[] };
  const rows = findings.items
    .flatMap((f) =>
      f.packages.map((p) =>
        JSON.stringify([p.name, p.version, f.vulnerability, f.status, f.fixed_version, f.severity]),
      ),
    )
    .sort();
  // The server keeps installed but not running kernel images apart from exposure, as the scan's summary does.
  const exposed = EXPECTED.filter((r) => !r[6])
    .map((r) => JSON.stringify(r.slice(0, 6)))
    .sort();
  assert.deepEqual(rows, exposed);
  assert.equal(findings.total, 8, 'the exposures the scan counts');
  const detail = (await api(s.url, `/api/v1/hosts/${hosts.items[0].id}`, { token: s.adminToken })).body as {
    open: { total: number };
    kernel_not_running_findings: number;
  };
  assert.deepEqual([detail.open.total, detail.kernel_not_running_findings], [8, 1]);
  assert.ok(
    findings.items.every(
      (f) => f.feed === 'amazon' && f.advisory_ids.length === 1 && f.advisory_ids[0].startsWith('ALAS2023-'),
    ),
  );

  // An Amazon Linux 2 host's report is stored, and the host says why it is not matched.
  const al2 = await readInventory(amazonRoot('os-release-amazon-linux-2'), { kernel: RUNNING });
  const al2Token = await enrollTestHost(s, 'al2-1', 'web');
  assert.equal(
    (await api(s.url, '/api/v1/reports', { token: al2Token, body: fullReportOf(al2, 'al2-1') })).status,
    200,
  );
  const al2Host = (
    (await api(s.url, '/api/v1/hosts?search=al2-1', { token: s.adminToken })).body as {
      items: { id: number; match_error: string | null; open: { total: number } }[];
    }
  ).items[0];
  assert.deepEqual(
    [al2Host.match_error, al2Host.open.total],
    ['Amazon Linux 2 is not supported; patchloop scans Amazon Linux 2023 only', 0],
  );
});

test('the patch backend of an Amazon Linux 2023 root is dnf-automatic, through its package format; patch --explain runs', async () => {
  const root = amazonRoot();
  const inventory = await readInventory(root, { kernel: RUNNING });
  assert.equal(backendFor(inventory.os)?.name, 'dnf-automatic');
  const explain = await runCli(['patch', '--explain', '--host', 'al2023-1', '--at', '2026-12-01T10:00:00Z']);
  assert.equal(explain.code, 0, explain.stderr);
  assert.match(explain.stdout, /^Policy default v1 for group default\.\nal2023-1 is in ring all/);
});
