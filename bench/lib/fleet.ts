// The server and export benchmarks' fleet: its releases (Debian, Ubuntu, AlmaLinux, Alpine), the
// package universe each host draws from, and the vulnerability DB that matches it, generated
// deterministically (seeded) in the real formats: package lists as the inventory readers produce
// them, advisory entries as the feed importers write them (vulndb writer).
import type { WirePackage } from '../../src/core/protocol.ts';
import type { AdvisoryEntry, EntryStatus, OsInfo, Severity } from '../../src/core/types.ts';
import { replaceFeed } from '../../src/vulndb/writer.ts';
import { pick, seededRandom } from '../../test/support/seeded-random.ts';

// ---------------------------------------------------------------- the fleet's releases
export interface Release {
  name: string;
  share: number;
  os: OsInfo;
  feed: string;
  distro: string;
  release: string;
  format: 'deb' | 'rpm' | 'apk';
  arch: string;
  /** Version string of source s at level v (0 oldest, 2 current, 3 published later). */
  version(s: number, v: number): string;
  kernel(v: number): { pkg: WirePackage; running: string };
}

function debRelease(name: string, share: number, os: OsInfo, feed: string, suffix: string): Release {
  const version = (s: number, v: number) =>
    `${1 + (s % 7)}.${s % 13}.${s % 5}-${1 + (s % 3)}${v === 0 ? '' : `+${suffix}u${v}`}`;
  return {
    name,
    share,
    os,
    feed,
    distro: os.id,
    release: os.id === 'debian' ? os.codename : os.version_id,
    format: 'deb',
    arch: 'amd64',
    version,
    kernel: (v) => ({
      pkg: {
        name: `linux-image-6.1.0-${20 + v}-amd64`,
        version: `6.1.${100 + v * 10}-1`,
        arch: 'amd64',
        source: 'linux-signed-amd64',
        source_version: `6.1.${100 + v * 10}+1`,
        format: 'deb',
      },
      running: `6.1.0-${20 + v}-amd64`,
    }),
  };
}

export const RELEASES: Release[] = [
  debRelease(
    'debian 12',
    0.35,
    { id: 'debian', version_id: '12', codename: 'bookworm', pretty_name: 'Debian GNU/Linux 12 (bookworm)' },
    'debian',
    'deb12',
  ),
  debRelease(
    'debian 11',
    0.1,
    { id: 'debian', version_id: '11', codename: 'bullseye', pretty_name: 'Debian GNU/Linux 11 (bullseye)' },
    'debian',
    'deb11',
  ),
  debRelease(
    'ubuntu 22.04',
    0.2,
    { id: 'ubuntu', version_id: '22.04', codename: 'jammy', pretty_name: 'Ubuntu 22.04.5 LTS' },
    'ubuntu',
    'ubuntu22.04.',
  ),
  debRelease(
    'ubuntu 24.04',
    0.15,
    { id: 'ubuntu', version_id: '24.04', codename: 'noble', pretty_name: 'Ubuntu 24.04.1 LTS' },
    'ubuntu',
    'ubuntu24.04.',
  ),
  {
    name: 'almalinux 9',
    share: 0.12,
    os: { id: 'almalinux', version_id: '9.4', codename: '', pretty_name: 'AlmaLinux 9.4 (Seafoam Ocelot)' },
    feed: 'almalinux',
    distro: 'almalinux',
    release: '9',
    format: 'rpm',
    arch: 'x86_64',
    version: (s, v) => `${1 + (s % 7)}.${s % 13}.${s % 5}-${1 + (s % 3)}.el9${v === 0 ? '' : `_${v}`}`,
    kernel: (v) => ({
      pkg: {
        name: 'kernel-core',
        version: `5.14.0-${400 + v * 10}.el9`,
        arch: 'x86_64',
        source: 'kernel',
        source_version: `5.14.0-${400 + v * 10}.el9`,
        format: 'rpm',
      },
      running: `5.14.0-${400 + v * 10}.el9.x86_64`,
    }),
  },
  {
    name: 'alpine 3.19',
    share: 0.08,
    os: { id: 'alpine', version_id: '3.19.1', codename: '', pretty_name: 'Alpine Linux v3.19' },
    feed: 'alpine',
    distro: 'alpine',
    release: '3.19',
    format: 'apk',
    arch: 'x86_64',
    version: (s, v) => `${1 + (s % 7)}.${s % 13}.${s % 5}-r${v}`,
    kernel: (v) => ({
      pkg: {
        name: 'linux-lts',
        version: `6.6.${30 + v * 5}-r0`,
        arch: 'x86_64',
        source: 'linux-lts',
        source_version: `6.6.${30 + v * 5}-r0`,
        format: 'apk',
      },
      running: `6.6.${30 + v * 5}-0-lts`,
    }),
  },
];

// Package universe of a release: SOURCES sources with 1–3 binaries; the first BASE binaries are
// on every host, the rest are picked per host.
const SOURCES = 1600;
interface Binary {
  name: string;
  source: number;
}
const UNIVERSE: Binary[] = [];
for (let s = 0; s < SOURCES; s++) {
  const n = 1 + (s % 3 === 0 ? 2 : s % 5 === 0 ? 1 : 0);
  for (let b = 0; b < n; b++) UNIVERSE.push({ name: b === 0 ? `pkg${s}` : `lib${s}-${b}`, source: s });
}

export interface HostSpec {
  index: number;
  hostname: string;
  release: Release;
  lag: number;
  kernelLevel: number;
  extras: number[];
}

/**
 * The hosts of a fleet whose hosts have about `packages` packages each: the first 70 % of the
 * universe's binaries on every host, the rest picked per host. Deterministic (seeded by host index).
 */
export function fleetOf(packages: number): Fleet {
  const BASE = Math.min(UNIVERSE.length, Math.round(packages * 0.7));
  function hostSpec(i: number): HostSpec {
    const r = seededRandom(i * 7919 + 1);
    let acc = 0;
    const x = r();
    let release = RELEASES[RELEASES.length - 1];
    for (const rel of RELEASES) {
      acc += rel.share;
      if (x < acc) {
        release = rel;
        break;
      }
    }
    const lag = pick(r, [0.02, 0.02, 0.02, 0.05, 0.1, 0.1, 0.3]);
    const extras = new Set<number>();
    while (extras.size < packages - BASE - 1) extras.add(BASE + Math.floor(r() * (UNIVERSE.length - BASE)));
    return {
      index: i,
      hostname: `host-${String(i).padStart(5, '0')}.example.net`,
      release,
      lag,
      kernelLevel: r() < 0.8 ? 2 : 1,
      extras: [...extras],
    };
  }

  /** The host's packages on `day` (0: first report; 1: after its daily upgrades). */
  function packagesOf(h: HostSpec, day: number): { packages: WirePackage[]; kernel: string } {
    const r = seededRandom(h.index * 104729 + 17);
    const upgrades = day > 0 && seededRandom(h.index * 31 + 5)() < 0.25;
    const level = new Map<number, number>();
    const levelOf = (s: number): number => {
      let v = level.get(s);
      if (v === undefined) {
        const y = r();
        v = y < h.lag / 3 ? 0 : y < h.lag ? 1 : 2;
        // The upgrading hosts bring some lagging sources up to date.
        if (upgrades && v < 2 && r() < 0.5) v = 2;
        level.set(s, v);
      }
      return v;
    };
    const rel = h.release;
    const out: WirePackage[] = [];
    for (const idx of [...Array(BASE).keys(), ...h.extras]) {
      const b = UNIVERSE[idx];
      const v = rel.version(b.source, levelOf(b.source));
      out.push({
        name: b.name,
        version: v,
        arch: rel.arch,
        source: `src${b.source}`,
        source_version: v,
        format: rel.format,
      });
    }
    const k = rel.kernel(h.kernelLevel);
    out.push(k.pkg);
    return { packages: out, kernel: k.running };
  }
  return { packages, hostSpec, packagesOf };
}

export interface Fleet {
  packages: number;
  hostSpec(i: number): HostSpec;
  /** The host's packages on `day` (0: first report; 1: after its daily upgrades). */
  packagesOf(h: HostSpec, day: number): { packages: WirePackage[]; kernel: string };
}

// ---------------------------------------------------------------- the vulnerability DB
const SEVERITY_MIX: Severity[] = [
  'critical',
  'high',
  'high',
  'high',
  'medium',
  'medium',
  'medium',
  'medium',
  'medium',
  'medium',
  'medium',
  'low',
  'low',
  'low',
  'low',
  'low',
  'low',
  'negligible',
  'negligible',
  'unknown',
];

function entriesFor(rel: Release, generation: number): AdvisoryEntry[] {
  const r = seededRandom(rel.name.length * 1000 + rel.release.charCodeAt(0));
  // Changes of generation 2 draw from their own sequence, so generation 1's data stays the same.
  const r2 = seededRandom(rel.name.length * 3000 + 7);
  const out: AdvisoryEntry[] = [];
  const keyed = rel.format === 'rpm' ? 'binary' : 'source';
  const scheme = rel.format;
  const entry = (
    pkg: string,
    vuln: string,
    status: EntryStatus,
    fixed: string | null,
    severity: Severity,
  ): AdvisoryEntry => ({
    feed: rel.feed,
    distro: rel.distro,
    release: rel.release,
    package: pkg,
    key_kind: keyed,
    scheme,
    vuln_id: vuln,
    status,
    raw_status: status,
    introduced: null,
    fixed_version: fixed,
    last_affected: null,
    severity,
    raw_severity: severity,
    advisory_ids: fixed ? [`${rel.feed.toUpperCase()}-${vuln.slice(4)}`] : [],
    module_stream: null,
    arches: [],
    pro_only: false,
  });
  for (let s = 0; s < SOURCES; s++) {
    const affected = r() < 0.2;
    const n = 1 + Math.floor(r() * 8);
    const binaries = UNIVERSE.filter((b) => b.source === s);
    const keys = keyed === 'source' ? [`src${s}`] : binaries.map((b) => b.name);
    if (!affected) {
      // Generation 2 publishes advisories for packages that had none.
      if (r2() < 0.03 && generation === 2)
        for (const key of keys)
          out.push(entry(key, `CVE-2026-${String(50000 + s).padStart(5, '0')}`, 'fixed', rel.version(s, 3), 'high'));
      continue;
    }
    for (let j = 0; j < n; j++) {
      const vuln = `CVE-${2018 + ((s + j) % 8)}-${String(10000 + s * 10 + j).padStart(5, '0')}`;
      const severity = pick(r, SEVERITY_MIX);
      const y = r();
      let status: EntryStatus;
      let fixed: string | null = null;
      if (y < 0.55) {
        status = 'fixed';
        fixed = rel.version(s, r() < 0.5 ? 1 : 2);
      } else if (y < 0.65) {
        status = 'not_affected';
      } else if (y < 0.85) {
        status = 'affected';
        // Generation 2: a fix is published for some of them (a version no host has yet).
        if (r2() < 0.15 && generation === 2) {
          status = 'fixed';
          fixed = rel.version(s, 3);
        }
      } else if (y < 0.95) {
        status = r() < 0.5 ? 'will_not_fix' : 'fix_deferred';
      } else {
        status = 'undetermined';
      }
      // Generation 2 withdraws a few entries.
      if (r2() < 0.01 && generation === 2) continue;
      for (const key of keys) out.push(entry(key, vuln, status, fixed, severity));
    }
  }
  // The kernel: many entries, most fixed in the current kernel.
  const k = rel.kernel(2).pkg;
  const kernelKey = rel.format === 'deb' ? 'linux' : k.source === 'kernel' ? k.name : k.source;
  for (let j = 0; j < 600; j++) {
    const vuln = `CVE-2024-${String(30000 + j).padStart(5, '0')}`;
    const y = r();
    const severity = pick(r, SEVERITY_MIX);
    if (y < 0.7) out.push(entry(kernelKey, vuln, 'fixed', rel.kernel(r() < 0.5 ? 1 : 2).pkg.version, severity));
    else if (y < 0.85) out.push(entry(kernelKey, vuln, 'affected', null, severity));
  }
  return out;
}

export async function writeVulnDb(dataDir: string, generation: number): Promise<number> {
  let total = 0;
  for (const feed of [...new Set(RELEASES.map((r) => r.feed))]) {
    const summary = await replaceFeed(dataDir, feed, (w) => {
      for (const rel of RELEASES.filter((x) => x.feed === feed)) {
        for (const e of entriesFor(rel, generation)) {
          w.entry(e);
          w.vulnerability({
            id: e.vuln_id,
            aliases: [],
            description: `synthetic ${e.vuln_id}`,
            published: null,
            modified: null,
            references: [],
          });
        }
      }
    });
    total += summary.entries;
  }
  return total;
}
