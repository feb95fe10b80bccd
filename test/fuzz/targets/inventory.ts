// Fuzz targets: the text package databases (dpkg status, apk installed) and os-release, each
// read from a file in a scratch root as the inventory reads them.
import path from 'node:path';
import type { InstalledPackage, PackageFormat } from '../../../src/core/types.ts';
import { readApkDatabase } from '../../../src/inventory/apk.ts';
import { readDpkgDatabase } from '../../../src/inventory/dpkg.ts';
import { alpineBranch, readOsInfo } from '../../../src/inventory/os-release.ts';
import { InventoryError } from '../../../src/inventory/reader.ts';
import { REPO_ROOT, SHARED_DATA } from '../../support/paths.ts';
import { filesUnder, invariant, seedFile, writeInput, type FuzzTarget } from './common.ts';

const PKGDB = path.join(SHARED_DATA, 'pkgdb');
const ESTATE = path.join(REPO_ROOT, 'test', 'fixtures', 'estate');

/**
 * What every reader promises of a package it returns: a name and a version (the dpkg and apk
 * readers also refuse white space in them; rpm headers are taken as rpm stored them).
 */
export function checkPackages(packages: readonly InstalledPackage[], format: PackageFormat): void {
  const bad = (s: unknown): boolean => typeof s !== 'string' || s === '' || (format !== 'rpm' && /\s/.test(s));
  for (const p of packages) {
    invariant(!bad(p.name), () => `package with name ${JSON.stringify(p.name)}`);
    invariant(!bad(p.version), () => `package ${p.name} with version ${JSON.stringify(p.version)}`);
    invariant(
      p.source !== '' && p.source_version !== '',
      () => `package ${p.name} with an empty source or source version`,
    );
    invariant(p.format === format, () => `package ${p.name} of format ${p.format}`);
  }
}

export const dpkgStatus: FuzzTarget = {
  name: 'dpkg-status',
  kind: 'text',
  seeds: () => [
    // The real host's 729 packages, cut to the first 48 KiB: mutations spread over the records.
    seedFile(path.join(PKGDB, 'dpkg/bookworm-host/var/lib/dpkg/status'), 48 << 10),
    ...filesUnder(path.join(PKGDB, 'dpkg/scalibr'), (f) => !f.endsWith('.md5sums')).map((f) => seedFile(f)),
    ...filesUnder(path.join(PKGDB, 'dpkg/syft-status.d'), (f) => !f.endsWith('.md5sums')).map((f) => seedFile(f)),
    seedFile(path.join(PKGDB, 'dpkg/syft-image-dpkg/var/lib/dpkg/status')),
    seedFile(path.join(PKGDB, 'dpkg/osv-scanner-status')),
  ],
  dictionary: [
    'Package: ',
    'Version: ',
    'Architecture: ',
    'Source: ',
    'Status: ',
    'install ok installed',
    'deinstall ok config-files',
    ' (',
    ')',
    ':amd64',
    '1:2.3-4',
  ],
  async run(input, scratch) {
    const file = await writeInput(scratch, 'var/lib/dpkg/status', input);
    const result = await readDpkgDatabase(file);
    checkPackages(result.packages, 'deb');
    return result.packages.length;
  },
  clear: [InventoryError],
};

export const apkInstalled: FuzzTarget = {
  name: 'apk-installed',
  kind: 'text',
  seeds: () => [
    ...filesUnder(path.join(PKGDB, 'apk')).map((f) => seedFile(f, 48 << 10)),
    seedFile(path.join(ESTATE, 'alpine/installed-3.15'), 48 << 10),
  ],
  dictionary: ['P:', 'V:', 'A:', 'o:', 'C:', 'T:', 'x86_64', '-r0'],
  async run(input, scratch) {
    const file = await writeInput(scratch, 'lib/apk/db/installed', input);
    const result = await readApkDatabase(file);
    checkPackages(result.packages, 'apk');
    return result.packages.length;
  },
  clear: [InventoryError],
};

export const osRelease: FuzzTarget = {
  name: 'os-release',
  kind: 'text',
  seeds: () => [
    seedFile(path.join(PKGDB, 'dpkg/bookworm-host/etc/os-release')),
    seedFile(path.join(PKGDB, 'dpkg/syft-image-dpkg/etc/os-release')),
    ...filesUnder(path.join(ESTATE, 'os-release')).map((f) => seedFile(f)),
    ...filesUnder(path.join(ESTATE, 'alpine'), (f) => f.endsWith('/os-release')).map((f) => seedFile(f)),
    seedFile(path.join(ESTATE, 'ubuntu/focal-root/etc/os-release')),
  ],
  dictionary: [
    'ID=',
    'ID_LIKE=',
    'VERSION_ID=',
    'VERSION_CODENAME=',
    'UBUNTU_CODENAME=',
    'VERSION=',
    'PRETTY_NAME=',
    'debian',
    'ubuntu',
    'alpine',
    '"',
    "'",
    '\\',
  ],
  async run(input, scratch) {
    await writeInput(scratch, 'root/etc/os-release', input);
    const result = await readOsInfo(path.join(scratch, 'root'));
    for (const k of ['id', 'version_id', 'codename', 'pretty_name'] as const)
      invariant(typeof result.os[k] === 'string', () => `os.${k} is not a string`);
    return result.os;
  },
  clear: [InventoryError],
};

export const alpineRepositories: FuzzTarget = {
  name: 'alpine-repositories',
  kind: 'text',
  seeds: () => filesUnder(path.join(ESTATE, 'alpine'), (f) => f.endsWith('/apk/repositories')).map((f) => seedFile(f)),
  dictionary: [
    'https://dl-cdn.alpinelinux.org/alpine/v3.18/main',
    '/edge/community',
    '@testing ',
    'latest-stable',
    '#',
    '/v',
    '3.18',
    '/',
  ],
  async run(input, scratch) {
    // The release file disagrees with most repositories: both are read, the repositories win.
    await writeInput(scratch, 'root/etc/apk/repositories', input);
    await writeInput(scratch, 'root/etc/alpine-release', Buffer.from('3.15.4\n'));
    const b = await alpineBranch(path.join(scratch, 'root'), '3.15.4');
    invariant(b.branch === null || /^(\d+\.\d+|edge)$/.test(b.branch), () => `branch ${JSON.stringify(b.branch)}`);
    return b.branch;
  },
  clear: [InventoryError],
};

export const inventoryTargets: FuzzTarget[] = [dpkgStatus, apkInstalled, osRelease, alpineRepositories];
