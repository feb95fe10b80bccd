// The distribution registry: how a host's os-release maps to the release key its feeds use,
// the version scheme and package key to match with, and when its security support ends.
import type { OsInfo, PackageFormat, PackageKeyKind, VersionSchemeName } from './types.ts';
import { PatchloopError } from './errors.ts';

export interface ReleaseSupport {
  /** Last day of the distribution's regular security support (ISO date). */
  ends: string;
  /** Extended support that a scan can still use data from (Debian LTS, Ubuntu Pro/ESM), if any. */
  extendedEnds?: string;
  extendedName?: string;
}

export interface DistroProfile {
  /**
   * os-release ID, also the `distro` of advisory entries. CentOS Stream shares CentOS Linux's
   * `centos` and is told apart as `centos-stream`.
   */
  id: string;
  name: string;
  format: PackageFormat;
  scheme: VersionSchemeName;
  /** Whether advisories are keyed on the source (deb, apk origin) or the binary (rpm) name. */
  keyKind: PackageKeyKind;
  /**
   * Feeds whose data applies to this distribution, best first (its own, or those of
   * `advisoryDistro`); empty when none does.
   */
  feeds: readonly string[];
  /** The distribution whose advisory entries apply here, when it publishes none of its own (CentOS Linux: `rhel`). */
  advisoryDistro?: string;
  /** What a scan of a release must say about where its vulnerability data comes from, or that none applies. */
  dataNote?: (release: string) => string | null;
  /**
   * The release key advisory entries use for this host; null when it cannot be told. Throws
   * UnsupportedDistroError, saying why, for a release of the distribution that patchloop does
   * not support (Amazon Linux 2 beside Amazon Linux 2023).
   */
  releaseKey(os: OsInfo): string | null;
  support: Readonly<Record<string, ReleaseSupport>>;
}

export class UnsupportedDistroError extends PatchloopError {
  constructor(message: string) {
    super('PL_E_UNSUPPORTED_DISTRO', message);
  }
}

const DEBIAN_CODENAMES: Record<string, string> = {
  '9': 'stretch',
  '10': 'buster',
  '11': 'bullseye',
  '12': 'bookworm',
  '13': 'trixie',
  '14': 'forky',
};

const majorVersion = (os: OsInfo): string | null => /^(\d+)/.exec(os.version_id)?.[1] ?? null;

const debian: DistroProfile = {
  id: 'debian',
  name: 'Debian',
  format: 'deb',
  scheme: 'deb',
  keyKind: 'source',
  feeds: ['debian', 'osv'],
  releaseKey: (os) => {
    if (os.codename) return os.codename.split('/')[0];
    const major = majorVersion(os);
    return major ? (DEBIAN_CODENAMES[major] ?? null) : null;
  },
  support: {
    stretch: { ends: '2020-07-06', extendedEnds: '2022-06-30', extendedName: 'LTS' },
    buster: { ends: '2022-09-10', extendedEnds: '2024-06-30', extendedName: 'LTS' },
    bullseye: { ends: '2024-08-14', extendedEnds: '2026-08-31', extendedName: 'LTS' },
    bookworm: { ends: '2026-06-10', extendedEnds: '2028-06-30', extendedName: 'LTS' },
    trixie: { ends: '2028-08-09', extendedEnds: '2030-06-30', extendedName: 'LTS' },
  },
};

const ubuntu: DistroProfile = {
  id: 'ubuntu',
  name: 'Ubuntu',
  format: 'deb',
  scheme: 'deb',
  keyKind: 'source',
  feeds: ['ubuntu', 'osv'],
  releaseKey: (os) => /^\d+\.\d+/.exec(os.version_id)?.[0] ?? null,
  support: {
    '16.04': { ends: '2021-04-30', extendedEnds: '2026-04-30', extendedName: 'Ubuntu Pro (ESM)' },
    '18.04': { ends: '2023-05-31', extendedEnds: '2028-05-31', extendedName: 'Ubuntu Pro (ESM)' },
    '20.04': { ends: '2025-05-31', extendedEnds: '2030-05-31', extendedName: 'Ubuntu Pro (ESM)' },
    '22.04': { ends: '2027-06-01', extendedEnds: '2032-04-30', extendedName: 'Ubuntu Pro (ESM)' },
    '24.04': { ends: '2029-05-31', extendedEnds: '2034-04-30', extendedName: 'Ubuntu Pro (ESM)' },
    '24.10': { ends: '2025-07-10' },
    '25.04': { ends: '2026-01-15' },
    '25.10': { ends: '2026-07-09' },
    '26.04': { ends: '2031-05-31', extendedEnds: '2036-04-30', extendedName: 'Ubuntu Pro (ESM)' },
  },
};

const rhelSupport: Record<string, ReleaseSupport> = {
  '7': { ends: '2024-06-30' },
  '8': { ends: '2029-05-31' },
  '9': { ends: '2032-05-31' },
  '10': { ends: '2035-05-31' },
};

function rhelFamily(id: string, name: string, feeds: string[]): DistroProfile {
  return {
    id,
    name,
    format: 'rpm',
    scheme: 'rpm',
    keyKind: 'binary',
    feeds,
    releaseKey: majorVersion,
    support: rhelSupport,
  };
}

// CentOS Linux 7 and 8 were rebuilds of RHEL 7 and 8 from Red Hat's sources, with the same
// package versions, and CentOS published no vulnerability data of its own beyond mirrored
// announcements; other scanners (Trivy, Vuls) match them against Red Hat's data, and so does
// patchloop. What does not carry over: fixes Red Hat shipped after a CentOS release ended (RHEL 7
// ELS, RHEL 8 after 2021) were never built for CentOS, so those fixed versions exist only for
// RHEL; the scan says so. Both releases have ended.
const centosLinuxSupport: Record<string, ReleaseSupport> = {
  '7': { ends: '2024-06-30' },
  '8': { ends: '2021-12-31' },
};

const centosLinux: DistroProfile = {
  id: 'centos',
  name: 'CentOS Linux',
  format: 'rpm',
  scheme: 'rpm',
  keyKind: 'binary',
  feeds: ['redhat'],
  advisoryDistro: 'rhel',
  releaseKey: majorVersion,
  support: centosLinuxSupport,
  dataNote: (release) => {
    const ended = centosLinuxSupport[release]?.ends;
    return (
      `no feed carries CentOS Linux data: CentOS Linux ${release} rebuilt the packages of Red Hat Enterprise Linux ${release} with their versions, ` +
      `so it is matched against the RHEL ${release} data of the Red Hat feed` +
      (ended
        ? `; fixes Red Hat published after ${ended} were never built for CentOS Linux ${release}, and their fixed versions exist only for RHEL`
        : '')
    );
  },
};

// CentOS Stream is developed ahead of RHEL: a fix reaches Stream as a later build of the next
// minor release (libxml2 2.9.7-11.el8 in Stream 8, 2.9.7-9.el8_4.2 in RHEL 8.4), never as
// RHEL's build, and CentOS publishes no advisories for it. RHEL's fixed versions therefore say
// nothing reliable about a Stream host (Trivy declines Stream for this reason), and no feed
// patchloop reads carries Stream data: a Stream host is scanned with none, and told so, so an
// empty result is not mistaken for a clean one. Stream 10's end date is not yet published.
const centosStream: DistroProfile = {
  id: 'centos-stream',
  name: 'CentOS Stream',
  format: 'rpm',
  scheme: 'rpm',
  keyKind: 'binary',
  feeds: [],
  releaseKey: majorVersion,
  support: { '8': { ends: '2024-05-31' }, '9': { ends: '2027-05-31' } },
  dataNote: () =>
    "no feed carries CentOS Stream data, and Red Hat's RHEL data does not apply to it (CentOS Stream is built ahead of RHEL, " +
    "with other release numbers than RHEL's fixes): no package of this host was checked for vulnerabilities",
};

/** CentOS Stream says so in its name; no CentOS Linux release after 8 exists. */
function isCentosStream(os: OsInfo): boolean {
  if (/\bstream\b/i.test(os.pretty_name)) return true;
  const major = Number(majorVersion(os));
  return Number.isInteger(major) && major >= 9;
}

const alpine: DistroProfile = {
  id: 'alpine',
  name: 'Alpine Linux',
  format: 'apk',
  scheme: 'apk',
  keyKind: 'source',
  feeds: ['alpine', 'osv'],
  // The inventory puts the branch it found in /etc/apk/repositories into `codename`;
  // otherwise `3.18.4` → `3.18`, and a development snapshot (`3.21_alpha2024…`) is edge.
  releaseKey: (os) =>
    os.codename || (/_alpha|edge/.test(os.version_id) ? 'edge' : (/^\d+\.\d+/.exec(os.version_id)?.[0] ?? null)),
  support: {
    '3.11': { ends: '2021-11-01' },
    '3.12': { ends: '2022-05-01' },
    '3.13': { ends: '2022-11-01' },
    '3.14': { ends: '2023-05-01' },
    '3.15': { ends: '2023-11-01' },
    '3.16': { ends: '2024-05-23' },
    '3.17': { ends: '2024-11-22' },
    '3.18': { ends: '2025-05-09' },
    '3.19': { ends: '2025-11-01' },
    '3.20': { ends: '2026-04-01' },
    '3.21': { ends: '2026-11-01' },
    '3.22': { ends: '2027-05-01' },
    '3.23': { ends: '2027-11-01' },
  },
};

// Amazon Linux 2023 (os-release ID "amzn", VERSION_ID "2023"): rpm and dnf like the RHEL family,
// with advisories of its own (ALAS2023) in its repositories' updateinfo.xml, naming binary
// packages with full E:V-R. One release key for the whole release: its quarterly versions
// (2023.6.20241010, in PRETTY_NAME) are snapshots of one repository. Standard support until
// 2027-06-30, then maintenance support (security fixes only) until 2029-06-30. Amazon Linux 2 and
// the Amazon Linux AMI share the ID and are not supported: no feed patchloop reads carries their
// advisories, and they patch with yum, not dnf.
const amazonLinux: DistroProfile = {
  id: 'amzn',
  name: 'Amazon Linux',
  format: 'rpm',
  scheme: 'rpm',
  keyKind: 'binary',
  feeds: ['amazon'],
  releaseKey: (os) => {
    const release = /^(\d+)(?:\.|$)/.exec(os.version_id)?.[1];
    if (release === undefined) return null;
    if (release !== '2023')
      throw new UnsupportedDistroError(
        `${os.pretty_name || `Amazon Linux ${os.version_id}`} is not supported; patchloop scans Amazon Linux 2023 only`,
      );
    return release;
  },
  support: { '2023': { ends: '2027-06-30', extendedEnds: '2029-06-30', extendedName: 'maintenance support' } },
};

const PROFILES: readonly DistroProfile[] = [
  debian,
  ubuntu,
  rhelFamily('rhel', 'Red Hat Enterprise Linux', ['redhat', 'osv']),
  rhelFamily('almalinux', 'AlmaLinux', ['almalinux', 'osv']),
  rhelFamily('rocky', 'Rocky Linux', ['rocky', 'osv']),
  amazonLinux,
  centosLinux,
  centosStream,
  alpine,
];

export const SUPPORTED_DISTROS = PROFILES.map((p) => p.id);

export function distroProfile(id: string): DistroProfile | undefined {
  return PROFILES.find((p) => p.id === id);
}

/** The profile for a host; throws UnsupportedDistroError with a message a user can act on. */
export function resolveDistro(os: OsInfo): { profile: DistroProfile; release: string } {
  const profile = os.id === 'centos' && isCentosStream(os) ? centosStream : distroProfile(os.id);
  if (!profile) {
    const what = os.pretty_name || os.id || 'an unknown distribution (no os-release)';
    throw new UnsupportedDistroError(`${what} is not supported; patchloop scans ${SUPPORTED_DISTROS.join(', ')}`);
  }
  const release = profile.releaseKey(os);
  if (!release) {
    throw new UnsupportedDistroError(
      `cannot tell the ${profile.name} release from os-release (VERSION_ID "${os.version_id}", codename "${os.codename}")`,
    );
  }
  return { profile, release };
}

export type SupportState =
  | { state: 'supported'; ends: string }
  | { state: 'extended'; ends: string; name: string }
  | { state: 'ended'; ended: string }
  | { state: 'unknown' };

/** Where a release stands on `today` (ISO date) according to the table above. */
export function supportState(profile: DistroProfile, release: string, today: string): SupportState {
  // Own keys only: a release named like an object property ("constructor") is unknown, not ended.
  const s = Object.hasOwn(profile.support, release) ? profile.support[release] : undefined;
  if (!s) return { state: 'unknown' };
  if (today <= s.ends) return { state: 'supported', ends: s.ends };
  if (s.extendedEnds && today <= s.extendedEnds)
    return { state: 'extended', ends: s.extendedEnds, name: s.extendedName ?? 'extended support' };
  return { state: 'ended', ended: s.extendedEnds ?? s.ends };
}
