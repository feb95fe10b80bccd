import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SUPPORTED_DISTROS } from './distros.ts';
import { matchInventory } from './match.ts';
import type { AdvisoryLookup, SupportNote } from './lookup.ts';
import type { AdvisoryEntry, InstalledPackage, Inventory, OsInfo } from './types.ts';

/** An in-memory lookup: the matcher's contract without the SQLite files. */
function lookupOf(entries: AdvisoryEntry[], support: Record<string, SupportNote> = {}): AdvisoryLookup {
  return {
    entries: (distro, release, key) =>
      entries.filter((e) => e.distro === distro && e.release === release && e.package === key),
    vulnerability: (id) => ({
      id,
      aliases: [`ALIAS-${id}`],
      description: '',
      published: null,
      modified: null,
      references: [],
    }),
    support: (_d, _r, key) => support[key] ?? null,
  };
}

function entry(over: Partial<AdvisoryEntry>): AdvisoryEntry {
  return {
    feed: 'debian',
    distro: 'debian',
    release: 'bookworm',
    package: 'pkg',
    key_kind: 'source',
    scheme: 'deb',
    vuln_id: 'CVE-1',
    status: 'fixed',
    raw_status: 'resolved',
    introduced: null,
    fixed_version: null,
    last_affected: null,
    severity: 'high',
    raw_severity: 'high',
    advisory_ids: [],
    ...over,
  };
}

const BOOKWORM: OsInfo = {
  id: 'debian',
  version_id: '12',
  codename: 'bookworm',
  pretty_name: 'Debian GNU/Linux 12 (bookworm)',
};
const ALMA9: OsInfo = { id: 'almalinux', version_id: '9.4', codename: '', pretty_name: 'AlmaLinux 9.4' };

function deb(name: string, version: string, source = name, sourceVersion = version): InstalledPackage {
  return { name, version, arch: 'amd64', source, source_version: sourceVersion, format: 'deb' };
}

function rpm(name: string, version: string, extra: Partial<InstalledPackage> = {}): InstalledPackage {
  return { name, version, arch: 'x86_64', source: name, source_version: version, format: 'rpm', ...extra };
}

const inv = (os: OsInfo, packages: InstalledPackage[], kernel: string | null = null): Inventory => ({
  os,
  kernel,
  packages,
});

test('intervals: introduced, fixed and last_affected bound the affected versions', () => {
  const lookup = lookupOf([
    entry({ package: 'a', vuln_id: 'CVE-A', introduced: '2.0-1', fixed_version: '2.5-1', status: 'fixed' }),
    entry({ package: 'a', vuln_id: 'CVE-B', last_affected: '1.9-1', status: 'affected' }),
    entry({ package: 'a', vuln_id: 'CVE-C', introduced: '3.0-1', status: 'affected' }),
  ]);
  const ids = (v: string) => matchInventory(inv(BOOKWORM, [deb('a', v)]), lookup).findings.map((f) => f.id);
  assert.deepEqual(ids('1.0-1'), ['CVE-B']);
  assert.deepEqual(ids('1.9-1'), ['CVE-B']);
  assert.deepEqual(ids('2.0-1'), ['CVE-A']);
  assert.deepEqual(ids('2.5-1'), []);
  assert.deepEqual(ids('3.0-1'), ['CVE-C']);
});

test('aliases come from the vulnerability record, never repeating the id', () => {
  const r = matchInventory(inv(BOOKWORM, [deb('a', '1')]), lookupOf([entry({ package: 'a', status: 'affected' })]));
  assert.deepEqual(r.findings[0].aliases, ['ALIAS-CVE-1']);
});

test('undetermined entries are reported only on request', () => {
  const lookup = lookupOf([entry({ package: 'a', status: 'undetermined', raw_status: 'undetermined' })]);
  assert.equal(matchInventory(inv(BOOKWORM, [deb('a', '1')]), lookup).findings.length, 0);
  const r = matchInventory(inv(BOOKWORM, [deb('a', '1')]), lookup, { includeUndetermined: true });
  assert.equal(r.findings[0].status, 'affected');
  assert.equal(r.findings[0].raw_status, 'undetermined');
});

test('the running kernel image is exposure; other images are flagged; headers and libc-dev are not reported', () => {
  const lookup = lookupOf([entry({ package: 'linux', vuln_id: 'CVE-K', fixed_version: '6.1.130-1', status: 'fixed' })]);
  const packages = [
    deb('linux-image-6.1.0-28-amd64', '6.1.119-1', 'linux-signed-amd64', '6.1.119+1'),
    deb('linux-image-6.1.0-31-amd64', '6.1.128-1', 'linux-signed-amd64', '6.1.128+1'),
    deb('linux-image-amd64', '6.1.128-1', 'linux-signed-amd64', '6.1.128+1'),
    deb('linux-headers-6.1.0-31-amd64', '6.1.128-1', 'linux', '6.1.128-1'),
    deb('linux-libc-dev', '6.1.128-1', 'linux', '6.1.128-1'),
    deb('linux-base', '4.9', 'linux-base', '4.9'),
  ];
  const r = matchInventory(inv(BOOKWORM, packages, '6.1.0-28-amd64'), lookup);
  assert.deepEqual(
    r.findings.map((f) => [f.package.name, f.kernel_not_running ?? false]),
    [
      ['linux-image-6.1.0-28-amd64', false],
      ['linux-image-6.1.0-31-amd64', true],
    ],
  );
  assert.equal(r.kernel.newer_installed, true);
  assert.deepEqual(
    r.kernel.images.map((i) => i.running),
    [true, false],
  );

  const unknown = matchInventory(inv(BOOKWORM, packages, null), lookup);
  assert.ok(unknown.findings.every((f) => !f.kernel_not_running));
  assert.match(unknown.warnings.join('\n'), /running kernel unknown/);
});

test('rpm: binary name and full E:V-R; an epoch missing from the advisory is the installed one', () => {
  const lookup = lookupOf([
    entry({
      distro: 'almalinux',
      release: '9',
      package: 'openssl',
      key_kind: 'binary',
      scheme: 'rpm',
      fixed_version: '3.0.7-27.el9',
    }),
    entry({
      distro: 'almalinux',
      release: '9',
      package: 'bind',
      key_kind: 'binary',
      scheme: 'rpm',
      vuln_id: 'CVE-2',
      fixed_version: '32:9.16.23-18.el9',
    }),
  ]);
  const r = matchInventory(
    inv(ALMA9, [rpm('openssl', '1:3.0.7-25.el9', { epoch: 1 }), rpm('bind', '32:9.16.23-20.el9', { epoch: 32 })]),
    lookup,
  );
  assert.deepEqual(
    r.findings.map((f) => [f.package.name, f.fixed_version]),
    [['openssl', '3.0.7-27.el9']],
  );
});

test('rpm: a modular package matches only advisories for its own stream; arches filter', () => {
  const lookup = lookupOf([
    entry({
      distro: 'almalinux',
      release: '9',
      package: 'nodejs',
      scheme: 'rpm',
      key_kind: 'binary',
      vuln_id: 'CVE-S18',
      fixed_version: '1:18.20.4-1.module_el9',
      module_stream: 'nodejs:18',
    }),
    entry({
      distro: 'almalinux',
      release: '9',
      package: 'nodejs',
      scheme: 'rpm',
      key_kind: 'binary',
      vuln_id: 'CVE-S20',
      fixed_version: '1:20.16.0-1.module_el9',
      module_stream: 'nodejs:20',
    }),
    entry({
      distro: 'almalinux',
      release: '9',
      package: 'nodejs',
      scheme: 'rpm',
      key_kind: 'binary',
      vuln_id: 'CVE-PLAIN',
      fixed_version: '1:22.0.0-1.el9',
    }),
    entry({
      distro: 'almalinux',
      release: '9',
      package: 'tool',
      scheme: 'rpm',
      key_kind: 'binary',
      vuln_id: 'CVE-ARM',
      fixed_version: '2-1',
      arches: ['aarch64'],
    }),
  ]);
  const r = matchInventory(
    inv(ALMA9, [
      rpm('nodejs', '1:18.19.0-1.module_el9', { modularity_label: 'nodejs:18:9040020240101:abcd', epoch: 1 }),
      rpm('tool', '1-1'),
    ]),
    lookup,
  );
  assert.deepEqual(
    r.findings.map((f) => f.id),
    ['CVE-S18'],
  );
});

test('rpm: source-keyed entries apply to every binary of that source, by the source version', () => {
  const rocky: OsInfo = { id: 'rocky', version_id: '9.4', codename: '', pretty_name: 'Rocky Linux 9.4' };
  const lookup = lookupOf([
    entry({
      distro: 'rocky',
      release: '9',
      package: 'python3.9',
      key_kind: 'source',
      scheme: 'rpm',
      vuln_id: 'CVE-SRC',
      fixed_version: '3.9.18-3.el9_4.5',
    }),
    // Keyed on the source rpm `python3`, not on the binary of that name built from python3.9.
    entry({
      distro: 'rocky',
      release: '9',
      package: 'python3',
      key_kind: 'source',
      scheme: 'rpm',
      vuln_id: 'CVE-OTHER-SRC',
      fixed_version: '9:9-1',
    }),
    entry({
      distro: 'rocky',
      release: '9',
      package: 'python3',
      key_kind: 'binary',
      scheme: 'rpm',
      vuln_id: 'CVE-BIN',
      fixed_version: '3.9.18-3.el9_4.4',
    }),
  ]);
  const py = (name: string) =>
    rpm(name, '3.9.18-3.el9_4.3', { source: 'python3.9', source_version: '3.9.18-3.el9_4.3' });
  const r = matchInventory(inv(rocky, [py('python3'), py('python3-libs')]), lookup);
  assert.deepEqual(
    r.findings.map((f) => [f.package.name, f.id, f.fixed_version]),
    [
      ['python3', 'CVE-BIN', '3.9.18-3.el9_4.4'],
      ['python3', 'CVE-SRC', '3.9.18-3.el9_4.5'],
      ['python3-libs', 'CVE-SRC', '3.9.18-3.el9_4.5'],
    ],
  );
});

test("rpm: a source epoch is the advisory's, not the binary's (SOURCERPM names none)", () => {
  const rocky: OsInfo = { id: 'rocky', version_id: '9.4', codename: '', pretty_name: 'Rocky Linux 9.4' };
  const lookup = lookupOf([
    entry({
      distro: 'rocky',
      release: '9',
      package: 'perl',
      key_kind: 'source',
      scheme: 'rpm',
      fixed_version: '4:5.32.1-481.el9',
    }),
  ]);
  // perl (epoch 4) builds sub-packages with epochs and versions of their own.
  const sub = (release: string) =>
    rpm('perl-Attribute-Handlers', `1.01-${release}`, {
      arch: 'noarch',
      source: 'perl',
      source_version: `5.32.1-${release}`,
    });
  const libs = (release: string) =>
    rpm('perl-libs', `4:5.32.1-${release}`, { epoch: 4, source: 'perl', source_version: `4:5.32.1-${release}` });
  const names = (release: string) =>
    matchInventory(inv(rocky, [sub(release), libs(release)]), lookup).findings.map((f) => f.package.name);
  assert.deepEqual(names('481.el9'), []);
  assert.deepEqual(names('480.el9'), ['perl-Attribute-Handlers', 'perl-libs']);
});

test('rpm kernels: tools built from the kernel source get no kernel findings; a debug image runs only as +debug', () => {
  const lookup = lookupOf(
    ['kernel-core', 'kernel-debug-core', 'kernel-tools', 'perf', 'bpftool', 'kernel-headers'].map((p) =>
      entry({
        distro: 'almalinux',
        release: '9',
        package: p,
        key_kind: 'binary',
        scheme: 'rpm',
        vuln_id: 'ALSA-K',
        fixed_version: '5.14.0-427.20.1.el9_4',
      }),
    ),
  );
  const k = (name: string) => rpm(name, '5.14.0-427.13.1.el9_4', { source: 'kernel' });
  const packages = ['kernel-core', 'kernel-debug-core', 'kernel-tools', 'perf', 'bpftool', 'kernel-headers'].map(k);
  const plain = matchInventory(inv(ALMA9, packages, '5.14.0-427.13.1.el9_4.x86_64'), lookup);
  assert.deepEqual(
    plain.findings.map((f) => [f.package.name, f.kernel_not_running ?? false]),
    [
      ['kernel-core', false],
      ['kernel-debug-core', true],
    ],
  );
  const debug = matchInventory(inv(ALMA9, packages, '5.14.0-427.13.1.el9_4.x86_64+debug'), lookup);
  assert.deepEqual(
    debug.findings.map((f) => [f.package.name, f.kernel_not_running ?? false]),
    [
      ['kernel-core', true],
      ['kernel-debug-core', false],
    ],
  );
});

test('Ubuntu Pro-only fixes: a non-attached host is told it is affected, not to install +esm', () => {
  const noble: OsInfo = { id: 'ubuntu', version_id: '20.04', codename: 'focal', pretty_name: 'Ubuntu 20.04' };
  const lookup = lookupOf([
    entry({
      feed: 'ubuntu',
      distro: 'ubuntu',
      release: '20.04',
      package: 'a',
      fixed_version: '1.0-1ubuntu0.1+esm1',
      pro_only: true,
      raw_status: 'released',
    }),
  ]);
  const plain = matchInventory(inv(noble, [deb('a', '1.0-1')]), lookup);
  assert.equal(plain.findings[0].status, 'affected');
  assert.equal(plain.findings[0].fixed_version, null);
  assert.match(plain.findings[0].raw_status, /only through Ubuntu Pro/);
  const pro = matchInventory(inv(noble, [deb('a', '1.0-1')]), lookup, { proAttached: true });
  assert.equal(pro.findings[0].status, 'fixed');
  assert.equal(pro.findings[0].fixed_version, '1.0-1ubuntu0.1+esm1');
});

test('a package out of security support: open issues become end_of_life, published fixes stay fixed', () => {
  const lookup = lookupOf(
    [
      entry({ package: 'a', vuln_id: 'CVE-OPEN', status: 'affected', raw_status: 'open' }),
      entry({ package: 'a', vuln_id: 'CVE-FIX', fixed_version: '2-1' }),
    ],
    { a: { kind: 'ended', note: 'see README.Debian.security' } },
  );
  const r = matchInventory(inv(BOOKWORM, [deb('a', '1-1')]), lookup);
  assert.deepEqual(
    r.findings.map((f) => [f.id, f.status]),
    [
      ['CVE-FIX', 'fixed'],
      ['CVE-OPEN', 'end_of_life'],
    ],
  );
  assert.deepEqual(r.unsupported, [{ source: 'a', kind: 'ended', note: 'see README.Debian.security' }]);
});

test('invalid versions in the data are skipped with a warning, not ordered', () => {
  const lookup = lookupOf([entry({ package: 'a', fixed_version: 'not a version!' })]);
  const r = matchInventory(inv(BOOKWORM, [deb('a', '1-1')]), lookup);
  assert.equal(r.findings.length, 0);
  assert.match(r.warnings.join('\n'), /skipped CVE-1 for a: invalid deb version/);
});

test('support lifecycle: an ended release warns', () => {
  const buster: OsInfo = { id: 'debian', version_id: '10', codename: 'buster', pretty_name: 'Debian 10' };
  const r = matchInventory(inv(buster, []), lookupOf([]), { today: '2026-11-27' });
  assert.equal(r.support.state, 'ended');
  assert.match(r.warnings[0], /Debian buster reached the end of its security support on 2024-06-30/);
  const ok = matchInventory(inv(BOOKWORM, []), lookupOf([]), { today: '2026-11-27' });
  assert.equal(ok.support.state, 'extended');
});

test('an unknown distribution is refused with a clear message', () => {
  assert.throws(
    () =>
      matchInventory(
        inv({ id: 'gentoo', version_id: '', codename: '', pretty_name: 'Gentoo Linux' }, []),
        lookupOf([]),
      ),
    { message: `Gentoo Linux is not supported; patchloop scans ${SUPPORTED_DISTROS.join(', ')}` },
  );
  assert.ok(SUPPORTED_DISTROS.includes('debian') && SUPPORTED_DISTROS.includes('alpine'));
});
