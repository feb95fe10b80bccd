// OSV ecosystem strings of the distributions patchloop scans → the (distro, release, scheme,
// key kind) its advisory entries are filed under. Release keys are the ones the matcher
// derives from os-release: Debian codename, Ubuntu VERSION_ID, RHEL-family major version,
// Alpine branch.
import type { PackageKeyKind, VersionSchemeName } from '../../core/types.ts';
import { rhelMajorFromCpeProduct } from '../common/rhel-cpe.ts';

export interface EcosystemTarget {
  distro: string;
  release: string;
  scheme: VersionSchemeName;
  key_kind: PackageKeyKind;
  /** Ubuntu: the `Ubuntu:Pro:…` ecosystem (fixes published in esm-infra / esm-apps). */
  pro?: boolean;
}

/** `skip`: a distribution ecosystem patchloop knows but does not match (a variant it cannot tell apart on a host). */
export type EcosystemMapping = EcosystemTarget | { skip: string } | null;

const DEBIAN_CODENAMES: Record<string, string> = {
  '7': 'wheezy',
  '8': 'jessie',
  '9': 'stretch',
  '10': 'buster',
  '11': 'bullseye',
  '12': 'bookworm',
  '13': 'trixie',
  '14': 'forky',
  '15': 'duke',
};

/**
 * The target of one ecosystem string; null for ecosystems outside patchloop's scope
 * (language ecosystems and distributions it does not scan).
 */
export function mapEcosystem(ecosystem: string): EcosystemMapping {
  const colon = ecosystem.indexOf(':');
  const name = colon < 0 ? ecosystem : ecosystem.slice(0, colon);
  const rest = colon < 0 ? '' : ecosystem.slice(colon + 1);
  switch (name) {
    case 'Debian': {
      // Own keys only: `Debian:constructor` names no release.
      const codename = Object.hasOwn(DEBIAN_CODENAMES, rest) ? DEBIAN_CODENAMES[rest] : undefined;
      return codename
        ? { distro: 'debian', release: codename, scheme: 'deb', key_kind: 'source' }
        : { skip: `${ecosystem} (no Debian release)` };
    }
    case 'Ubuntu': {
      // Ubuntu:22.04:LTS, Ubuntu:25.10, Ubuntu:Pro:16.04:LTS; Pro variants (FIPS, Realtime,
      // BlueField…) are separate kernels/archives a host cannot be told to be on from os-release.
      const m = /^(Pro:)?(\d\d\.\d\d)(:LTS)?$/.exec(rest);
      if (!m) return { skip: `${ecosystem} (Ubuntu variant)` };
      return { distro: 'ubuntu', release: m[2], scheme: 'deb', key_kind: 'source', pro: Boolean(m[1]) };
    }
    case 'AlmaLinux': {
      const m = /^(\d+)$/.exec(rest);
      return m
        ? { distro: 'almalinux', release: m[1], scheme: 'rpm', key_kind: 'binary' }
        : { skip: `${ecosystem} (no AlmaLinux major release)` };
    }
    case 'Rocky Linux': {
      // Rocky's OSV names source packages (RLSA-2024:3671 lists `ruby`, not `ruby-libs`).
      const m = /^(\d+)$/.exec(rest);
      return m
        ? { distro: 'rocky', release: m[1], scheme: 'rpm', key_kind: 'source' }
        : { skip: `${ecosystem} (no Rocky Linux major release)` };
    }
    case 'Alpine': {
      const m = /^v(\d+\.\d+)$/.exec(rest);
      if (m) return { distro: 'alpine', release: m[1], scheme: 'apk', key_kind: 'source' };
      return rest === 'edge'
        ? { distro: 'alpine', release: 'edge', scheme: 'apk', key_kind: 'source' }
        : { skip: `${ecosystem} (no Alpine branch)` };
    }
    case 'Red Hat': {
      const major = rhelMajorFromCpeProduct(rest);
      return major
        ? { distro: 'rhel', release: major, scheme: 'rpm', key_kind: 'binary' }
        : { skip: `${ecosystem} (not a mainline RHEL stream)` };
    }
    default:
      return null;
  }
}
