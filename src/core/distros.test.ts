// The distribution registry on CentOS and Amazon Linux: CentOS Linux 7/8 and CentOS Stream
// 8/9/10 hosts (their os-release files as the releases ship them) are scanned, not refused, each
// with what its support state and its vulnerability data are; Amazon Linux 2023 is, Amazon
// Linux 2 and the Amazon Linux AMI are refused.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseOsRelease } from '../inventory/os-release.ts';
import { distroProfile, resolveDistro, supportState, SUPPORTED_DISTROS, UnsupportedDistroError } from './distros.ts';
import type { AdvisoryLookup } from './lookup.ts';
import { matchInventory } from './match.ts';
import type { AdvisoryEntry, InstalledPackage, OsInfo } from './types.ts';

const OS_RELEASE: Record<string, string> = {
  'centos-7': [
    'NAME="CentOS Linux"',
    'VERSION="7 (Core)"',
    'ID="centos"',
    'ID_LIKE="rhel fedora"',
    'VERSION_ID="7"',
    'PRETTY_NAME="CentOS Linux 7 (Core)"',
    'ANSI_COLOR="0;31"',
    'CPE_NAME="cpe:/o:centos:centos:7"',
    'HOME_URL="https://www.centos.org/"',
    'BUG_REPORT_URL="https://bugs.centos.org/"',
    'CENTOS_MANTISBT_PROJECT="CentOS-7"',
    'CENTOS_MANTISBT_PROJECT_VERSION="7"',
    'REDHAT_SUPPORT_PRODUCT="centos"',
    'REDHAT_SUPPORT_PRODUCT_VERSION="7"',
  ].join('\n'),
  'centos-8': [
    'NAME="CentOS Linux"',
    'VERSION="8"',
    'ID="centos"',
    'ID_LIKE="rhel fedora"',
    'VERSION_ID="8"',
    'PLATFORM_ID="platform:el8"',
    'PRETTY_NAME="CentOS Linux 8"',
    'ANSI_COLOR="0;31"',
    'CPE_NAME="cpe:/o:centos:centos:8"',
    'HOME_URL="https://centos.org/"',
    'BUG_REPORT_URL="https://bugs.centos.org/"',
  ].join('\n'),
  'stream-8': [
    'NAME="CentOS Stream"',
    'VERSION="8"',
    'ID="centos"',
    'ID_LIKE="rhel fedora"',
    'VERSION_ID="8"',
    'PLATFORM_ID="platform:el8"',
    'PRETTY_NAME="CentOS Stream 8"',
    'ANSI_COLOR="0;31"',
    'CPE_NAME="cpe:/o:centos:centos:8"',
    'HOME_URL="https://centos.org/"',
    'REDHAT_SUPPORT_PRODUCT="Red Hat Enterprise Linux 8"',
    'REDHAT_SUPPORT_PRODUCT_VERSION="CentOS Stream"',
  ].join('\n'),
  'stream-9': [
    'NAME="CentOS Stream"',
    'VERSION="9"',
    'ID="centos"',
    'ID_LIKE="rhel fedora"',
    'VERSION_ID="9"',
    'PLATFORM_ID="platform:el9"',
    'PRETTY_NAME="CentOS Stream 9"',
    'ANSI_COLOR="0;31"',
    'LOGO="fedora-logo-icon"',
    'CPE_NAME="cpe:/o:centos:centos:9"',
    'HOME_URL="https://centos.org/"',
    'REDHAT_SUPPORT_PRODUCT="Red Hat Enterprise Linux 9"',
    'REDHAT_SUPPORT_PRODUCT_VERSION="CentOS Stream"',
  ].join('\n'),
  'stream-10': [
    'NAME="CentOS Stream"',
    'VERSION="10 (Coughlan)"',
    'ID="centos"',
    'ID_LIKE="rhel fedora"',
    'VERSION_ID="10"',
    'PLATFORM_ID="platform:el10"',
    'PRETTY_NAME="CentOS Stream 10 (Coughlan)"',
    'ANSI_COLOR="0;31"',
    'CPE_NAME="cpe:/o:centos:centos:10"',
    'HOME_URL="https://centos.org/"',
  ].join('\n'),
};

/** OsInfo as the inventory builds it from os-release. */
function osOf(name: string): OsInfo {
  const { fields, warnings } = parseOsRelease(OS_RELEASE[name], name);
  assert.deepEqual(warnings, []);
  const get = (k: string): string => fields.get(k) ?? '';
  return {
    id: get('ID'),
    version_id: get('VERSION_ID'),
    codename: '',
    pretty_name: get('PRETTY_NAME'),
    id_like: get('ID_LIKE').split(' '),
  };
}

test('CentOS Linux and CentOS Stream share the os-release ID "centos" and are told apart by name', () => {
  const resolved = Object.keys(OS_RELEASE).map((name) => {
    const { profile, release } = resolveDistro(osOf(name));
    return [name, profile.id, profile.name, release, profile.feeds];
  });
  assert.deepEqual(resolved, [
    ['centos-7', 'centos', 'CentOS Linux', '7', ['redhat']],
    ['centos-8', 'centos', 'CentOS Linux', '8', ['redhat']],
    ['stream-8', 'centos-stream', 'CentOS Stream', '8', []],
    ['stream-9', 'centos-stream', 'CentOS Stream', '9', []],
    ['stream-10', 'centos-stream', 'CentOS Stream', '10', []],
  ]);
  // No CentOS Linux 9 ever existed: a 9 without a name is Stream.
  assert.equal(
    resolveDistro({ id: 'centos', version_id: '9', codename: '', pretty_name: '' }).profile.id,
    'centos-stream',
  );
  assert.equal(distroProfile('centos')?.advisoryDistro, 'rhel');
  assert.equal(distroProfile('centos-stream')?.advisoryDistro, undefined);
  assert.ok(SUPPORTED_DISTROS.includes('centos') && SUPPORTED_DISTROS.includes('centos-stream'));
});

test('support dates: CentOS Linux 7 and 8, CentOS Stream 8 and 9 as published', () => {
  const state = (name: string, today: string) => {
    const { profile, release } = resolveDistro(osOf(name));
    return supportState(profile, release, today);
  };
  assert.deepEqual(state('centos-7', '2024-06-30'), { state: 'supported', ends: '2024-06-30' });
  assert.deepEqual(state('centos-7', '2024-07-01'), { state: 'ended', ended: '2024-06-30' });
  assert.deepEqual(state('centos-8', '2022-01-01'), { state: 'ended', ended: '2021-12-31' });
  assert.deepEqual(state('stream-8', '2024-06-01'), { state: 'ended', ended: '2024-05-31' });
  assert.deepEqual(state('stream-9', '2026-01-01'), { state: 'supported', ends: '2027-05-31' });
  assert.deepEqual(state('stream-9', '2027-06-01'), { state: 'ended', ended: '2027-05-31' });
});

test('a release named like an object property is unknown, not ended', () => {
  const debian = distroProfile('debian')!;
  for (const release of ['constructor', 'toString', '__proto__', 'hasOwnProperty'])
    assert.deepEqual(supportState(debian, release, '2026-01-01'), { state: 'unknown' });
});

// RHEL data as the Red Hat feed files it: CVE-2021-25220, bind on RHEL 7 (RHSA-2023:0402).
const RHEL7_BIND: AdvisoryEntry = {
  feed: 'redhat',
  distro: 'rhel',
  release: '7',
  package: 'bind-libs',
  key_kind: 'binary',
  scheme: 'rpm',
  vuln_id: 'CVE-2021-25220',
  status: 'fixed',
  raw_status: 'fixed',
  introduced: null,
  fixed_version: '32:9.11.4-26.P2.el7_9.13',
  last_affected: null,
  severity: 'medium',
  raw_severity: 'Moderate',
  advisory_ids: ['RHSA-2023:0402'],
  module_stream: null,
  arches: [],
};

function lookupOf(entries: AdvisoryEntry[]): AdvisoryLookup & { asked: string[] } {
  const asked: string[] = [];
  return {
    asked,
    entries: (distro, release, key) => {
      asked.push(`${distro} ${release} ${key}`);
      return entries.filter((e) => e.distro === distro && e.release === release && e.package === key);
    },
    vulnerability: () => null,
    support: () => null,
  };
}

const bindLibs = (release: string): InstalledPackage => ({
  name: 'bind-libs',
  version: `32:9.11.4-26.P2.${release}`,
  arch: 'x86_64',
  source: 'bind',
  source_version: `32:9.11.4-26.P2.${release}`,
  format: 'rpm',
});

test('CentOS Linux 7 is matched against RHEL 7 data, past its end of life, saying where its data comes from', () => {
  const lookup = lookupOf([RHEL7_BIND]);
  const r = matchInventory({ os: osOf('centos-7'), kernel: null, packages: [bindLibs('el7_9.9')] }, lookup, {
    today: '2026-01-15',
  });
  assert.deepEqual([r.distro, r.release], ['centos', '7']);
  assert.deepEqual(
    r.findings.map((f) => [f.package.name, f.id, f.status, f.fixed_version, f.feed]),
    [['bind-libs', 'CVE-2021-25220', 'fixed', '32:9.11.4-26.P2.el7_9.13', 'redhat']],
  );
  assert.ok(
    lookup.asked.every((a) => a.startsWith('rhel 7 ')),
    lookup.asked.join(', '),
  );
  assert.deepEqual(r.support, { state: 'ended', ended: '2024-06-30' });
  assert.deepEqual(r.warnings, [
    'CentOS Linux 7 reached the end of its security support on 2024-06-30: no new fixes are published for it',
    'no feed carries CentOS Linux data: CentOS Linux 7 rebuilt the packages of Red Hat Enterprise Linux 7 with their versions, so it is matched against the RHEL 7 data of the Red Hat feed; ' +
      'fixes Red Hat published after 2024-06-30 were never built for CentOS Linux 7, and their fixed versions exist only for RHEL',
  ]);
});

test('CentOS Stream is scanned with no feed: RHEL data does not apply to it, and the scan says nothing was checked', () => {
  const lookup = lookupOf([{ ...RHEL7_BIND, release: '9' }]);
  const r = matchInventory({ os: osOf('stream-9'), kernel: null, packages: [bindLibs('el9')] }, lookup, {
    today: '2026-01-15',
  });
  assert.deepEqual([r.distro, r.release, r.findings], ['centos-stream', '9', []]);
  assert.ok(
    lookup.asked.every((a) => !a.startsWith('rhel ')),
    lookup.asked.join(', '),
  );
  assert.deepEqual(r.warnings, [
    "no feed carries CentOS Stream data, and Red Hat's RHEL data does not apply to it (CentOS Stream is built ahead of RHEL, with other release numbers than RHEL's fixes): " +
      'no package of this host was checked for vulnerabilities',
  ]);
  const ended = matchInventory({ os: osOf('stream-8'), kernel: null, packages: [] }, lookup, { today: '2026-01-15' });
  assert.equal(
    ended.warnings[0],
    'CentOS Stream 8 reached the end of its security support on 2024-05-31: no new fixes are published for it',
  );
});

// Amazon Linux: os-release ID "amzn" for every release; 2023 is the one supported.
const AL2023 = [
  'NAME="Amazon Linux"',
  'VERSION="2023"',
  'ID="amzn"',
  'ID_LIKE="fedora"',
  'VERSION_ID="2023"',
  'PLATFORM_ID="platform:al2023"',
  'PRETTY_NAME="Amazon Linux 2023.6.20241010"',
  'ANSI_COLOR="0;33"',
  'CPE_NAME="cpe:2.3:o:amazon:amazon_linux:2023"',
  'SUPPORT_END="2029-06-30"',
].join('\n');
const AL2 = [
  'NAME="Amazon Linux"',
  'VERSION="2"',
  'ID="amzn"',
  'ID_LIKE="centos rhel fedora"',
  'VERSION_ID="2"',
  'PRETTY_NAME="Amazon Linux 2"',
].join('\n');
const AL1 = [
  'NAME="Amazon Linux AMI"',
  'VERSION="2018.03"',
  'ID="amzn"',
  'ID_LIKE="rhel fedora"',
  'VERSION_ID="2018.03"',
  'PRETTY_NAME="Amazon Linux AMI 2018.03"',
].join('\n');

function osFrom(text: string): OsInfo {
  const { fields } = parseOsRelease(text, 'os-release');
  const get = (k: string): string => fields.get(k) ?? '';
  return {
    id: get('ID'),
    version_id: get('VERSION_ID'),
    codename: '',
    pretty_name: get('PRETTY_NAME'),
    id_like: get('ID_LIKE').split(' '),
  };
}

test('Amazon Linux 2023: one release key for its quarterly versions, rpm binaries keyed by name, the amazon feed', () => {
  const { profile, release } = resolveDistro(osFrom(AL2023));
  assert.deepEqual(
    [
      profile.id,
      profile.name,
      release,
      profile.format,
      profile.scheme,
      profile.keyKind,
      profile.feeds,
      profile.advisoryDistro,
    ],
    ['amzn', 'Amazon Linux', '2023', 'rpm', 'rpm', 'binary', ['amazon'], undefined],
  );
  assert.ok(SUPPORTED_DISTROS.includes('amzn'));
  assert.equal(
    resolveDistro({ id: 'amzn', version_id: '2023.6.20241010', codename: '', pretty_name: '' }).release,
    '2023',
  );
  assert.throws(
    () => resolveDistro({ id: 'amzn', version_id: '', codename: '', pretty_name: 'Amazon Linux' }),
    /cannot tell the Amazon Linux release from os-release/,
  );
});

test('Amazon Linux 2023 support: standard until 2027-06-30, maintenance support until 2029-06-30', () => {
  const amzn = distroProfile('amzn')!;
  assert.deepEqual(supportState(amzn, '2023', '2027-06-30'), { state: 'supported', ends: '2027-06-30' });
  assert.deepEqual(supportState(amzn, '2023', '2027-07-01'), {
    state: 'extended',
    ends: '2029-06-30',
    name: 'maintenance support',
  });
  assert.deepEqual(supportState(amzn, '2023', '2029-07-01'), { state: 'ended', ended: '2029-06-30' });
  const r = matchInventory({ os: osFrom(AL2023), kernel: null, packages: [] }, lookupOf([]), { today: '2028-01-15' });
  assert.deepEqual(r.warnings, [
    'Amazon Linux 2023 is past regular security support; fixes come from maintenance support until 2029-06-30',
  ]);
});

test('Amazon Linux 2 and the Amazon Linux AMI share the ID and are refused, saying only Amazon Linux 2023 is scanned', () => {
  for (const [text, name] of [
    [AL2, 'Amazon Linux 2'],
    [AL1, 'Amazon Linux AMI 2018.03'],
  ]) {
    assert.throws(
      () => resolveDistro(osFrom(text)),
      (err: unknown) =>
        err instanceof UnsupportedDistroError &&
        err.message === `${name} is not supported; patchloop scans Amazon Linux 2023 only`,
    );
  }
});
