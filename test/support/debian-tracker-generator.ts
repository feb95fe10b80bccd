// Generates a full-size Debian Security Tracker JSON (the schema of
// security-tracker.debian.org/tracker/data/json, ~70 MB) for benchmarks, deterministically for
// a given seed and dpkg status input. Source packages of the given dpkg status files (this
// machine's by default) are among the packages, with bookworm fixed versions around their
// installed source versions, so scans of that host find (and rule out) real work.
//
//   node test/support/debian-tracker-generator.ts OUT.json [--seed N] [--cves N] [--dpkg-status FILE]...
import { createWriteStream, existsSync, readFileSync, statSync } from 'node:fs';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { pick, seededRandom } from './seeded-random.ts';

export interface TrackerOptions {
  /** PRNG seed (default 1). */
  seed?: number;
  /** Distinct CVE ids (default 46,000); TEMP- ids come on top (~3 %). */
  cves?: number;
  /** dpkg status files whose source packages must appear (default: /var/lib/dpkg/status when present). */
  dpkgStatus?: readonly string[];
}

export interface TrackerStats {
  path: string;
  bytes: number;
  packages: number;
  /** Distinct vulnerability ids (CVE and TEMP). */
  ids: number;
  /** data[package][id] records. */
  records: number;
  /** data[package][id].releases[codename] entries. */
  releaseEntries: number;
  /** Of which resolved in "0" (never affected; the importer skips them). */
  notAffected: number;
  hostPackages: number;
}

const RELEASES = ['buster', 'bullseye', 'bookworm', 'trixie', 'sid'] as const;
type Release = (typeof RELEASES)[number];
const SUITE_SUFFIX: Record<Release, string> = {
  buster: '+deb10u',
  bullseye: '+deb11u',
  bookworm: '+deb12u',
  trixie: '+deb13u',
  sid: '',
};

/** Source name → source version, from dpkg status files (`Source: name (version)` or the binary's own). */
export function hostSources(files: readonly string[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const file of files) {
    for (const stanza of readFileSync(file, 'utf8').split(/\n\n+/)) {
      const pkg = /^Package: (\S+)$/m.exec(stanza)?.[1];
      const version = /^Version: (\S+)$/m.exec(stanza)?.[1];
      if (!pkg || !version || !/^Status: .* installed$/m.test(stanza)) continue;
      const src = /^Source: (\S+)(?: \((\S+)\))?$/m.exec(stanza);
      const name = src?.[1] ?? pkg;
      if (!out.has(name)) out.set(name, src?.[2] ?? version);
    }
  }
  return out;
}

const WORDS = (
  'buffer overflow use-after-free out-of-bounds read write integer heap stack null pointer dereference ' +
  'remote attacker crafted file request allows cause denial service execute arbitrary code via ' +
  'function handling parser component before version certificate validation memory leak double free ' +
  'race condition local user privilege escalation information disclosure cross-site scripting injection ' +
  'SQL command path traversal symlink temporary authentication bypass signature timing side channel'
).split(' ');
const STEMS = (
  'acl apr audio bind cairo curl dbus dns exif expat ffmpeg flac fontconfig freetype gd ghostscript ' +
  'glib gnutls gst gtk harfbuzz http icu idn image jbig jpeg json kerberos ldap lz magick mail mariadb ' +
  'mbed memcache mupdf nettle nghttp ntp ogg openjpeg pcre php pixman png poppler postgres pq proxy ' +
  'python qemu qt redis rsync ruby samba sasl sndfile snmp sqlite ssh ssl svg tar tiff tls unbound vim ' +
  'vorbis webkit wget x11 xen xml xslt yaml zip zlib zstd'
).split(' ');
const AFFIXES = [
  'lib%-perl',
  'python-%',
  'ruby-%',
  'node-%',
  'golang-github-%-go',
  'php-%',
  'r-cran-%',
  'lib%',
  '%',
  '%-tools',
  '%2',
  'haskell-%',
  'rust-%',
];
const URGENCIES: [string, number][] = [
  ['not yet assigned', 0.46],
  ['unimportant', 0.16],
  ['low', 0.14],
  ['medium', 0.12],
  ['high', 0.05],
  ['low**', 0.03],
  ['medium**', 0.02],
  ['high**', 0.02],
];

function weighted(rand: () => number, table: readonly [string, number][]): string {
  let r = rand() * table.reduce((s, [, w]) => s + w, 0);
  for (const [v, w] of table) if ((r -= w) < 0) return v;
  return table[table.length - 1][0];
}

/** Python's json.dumps layout (", " and ": "), which the tracker's export uses. */
function dumps(v: unknown): string {
  if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
    return `{${Object.entries(v)
      .map(([k, x]) => `${JSON.stringify(k)}: ${dumps(x)}`)
      .join(', ')}}`;
  }
  return JSON.stringify(v);
}

export async function generateTracker(path: string, opts: TrackerOptions = {}): Promise<TrackerStats> {
  const rand = seededRandom(opts.seed ?? 1);
  const cveCount = opts.cves ?? 46_000;
  const statusFiles = opts.dpkgStatus ?? (existsSync('/var/lib/dpkg/status') ? ['/var/lib/dpkg/status'] : []);
  const host = hostSources(statusFiles);

  // Packages: the host's sources, then synthetic names; a few get most CVEs (as linux,
  // chromium and firefox-esr do), which keeps per-package records realistically skewed.
  const names: string[] = [...host.keys()].sort();
  const taken = new Set(names);
  for (const big of [
    'linux',
    'chromium',
    'firefox-esr',
    'thunderbird',
    'imagemagick',
    'tcpdump',
    'wireshark',
    'php8.2',
    'qemu',
    'openjdk-17',
  ]) {
    if (!taken.has(big)) {
      taken.add(big);
      names.push(big);
    }
  }
  const targetPackages = Math.max(names.length, Math.round(cveCount / 5.2));
  for (let i = 0; names.length < targetPackages; i++) {
    const stem = pick(rand, STEMS) + (rand() < 0.5 ? pick(rand, STEMS) : '');
    const name = pick(rand, AFFIXES).replace('%', stem) + (i % 7 === 0 ? `${1 + (i % 5)}` : '');
    if (!taken.has(name)) {
      taken.add(name);
      names.push(name);
    }
  }
  // Zipf-like weights: the package at rank r gets 1/(r+8); host packages are spread over ranks.
  const order = names
    .map((n) => ({ n, k: rand() }))
    .sort((a, b) => a.k - b.k)
    .map((x) => x.n);
  const weights = order.map((_, r) => 1 / (r + 8));
  const cumulative: number[] = [];
  weights.reduce((s, w, i) => (cumulative[i] = s + w), 0);
  const total = cumulative[cumulative.length - 1];
  const drawPackage = (): string => {
    const x = rand() * total;
    let lo = 0;
    let hi = cumulative.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cumulative[mid] < x) lo = mid + 1;
      else hi = mid;
    }
    return order[lo];
  };

  // Ids per package: CVEs over 1999-2026 (more in recent years), some shared by 2-3 packages.
  const byPackage = new Map<string, string[]>();
  const usedIds = new Set<string>();
  const ids: string[] = [];
  while (ids.length < cveCount) {
    const year = 2026 - Math.floor(Math.pow(rand(), 1.8) * 28);
    const id = `CVE-${year}-${String(1 + Math.floor(rand() * (year >= 2014 ? 60_000 : 9_999))).padStart(4, '0')}`;
    if (usedIds.has(id)) continue;
    usedIds.add(id);
    ids.push(id);
  }
  for (let i = 0; i < Math.round(cveCount * 0.03); i++) {
    const id = `TEMP-${String(Math.floor(rand() * 1_500_000)).padStart(7, '0')}-${Math.floor(rand() * 0xffffff)
      .toString(16)
      .toUpperCase()
      .padStart(6, '0')}`;
    if (usedIds.has(id)) continue;
    usedIds.add(id);
    ids.push(id);
  }
  for (const id of ids) {
    const r = rand();
    const count = r < 0.06 ? 3 : r < 0.3 ? 2 : 1;
    const pkgs = new Set<string>();
    while (pkgs.size < count) pkgs.add(drawPackage());
    for (const p of pkgs) {
      const list = byPackage.get(p);
      if (list) list.push(id);
      else byPackage.set(p, [id]);
    }
  }

  const out = createWriteStream(path);
  const write = async (s: string) => {
    if (!out.write(s)) await once(out, 'drain');
  };
  const stats: TrackerStats = {
    path,
    bytes: 0,
    packages: 0,
    ids: ids.length,
    records: 0,
    releaseEntries: 0,
    notAffected: 0,
    hostPackages: 0,
  };
  await write('{');
  let firstPackage = true;
  for (const pkg of [...byPackage.keys()].sort()) {
    const installed = host.get(pkg);
    if (installed) stats.hostPackages++;
    const base = releaseVersions(rand, installed);
    const records: string[] = [];
    for (const id of byPackage.get(pkg) ?? []) {
      records.push(`${JSON.stringify(id)}: ${dumps(record(rand, id, base, installed, stats))}`);
      stats.records++;
    }
    await write(`${firstPackage ? '' : ', '}${JSON.stringify(pkg)}: {${records.join(', ')}}`);
    firstPackage = false;
    stats.packages++;
  }
  await write('}');
  out.end();
  await once(out, 'finish');
  stats.bytes = statSync(path).size;
  return stats;
}

/** The version each release ships: older releases older upstreams; bookworm = the host's when installed. */
function releaseVersions(rand: () => number, installed: string | undefined): Record<Release, string> {
  const major = 1 + Math.floor(rand() * 9);
  const minor = Math.floor(rand() * 30);
  const epoch = rand() < 0.08 ? `${1 + Math.floor(rand() * 3)}:` : '';
  const v = (m: number, n: number, rev: number) => `${epoch}${m}.${n}.${Math.floor(rand() * 12)}-${rev}`;
  return {
    buster: v(major, minor, 1 + Math.floor(rand() * 3)),
    bullseye: v(major, minor + 2, 1 + Math.floor(rand() * 3)),
    bookworm: installed ?? v(major, minor + 5, 1 + Math.floor(rand() * 3)),
    trixie: v(major + 1, minor, 1 + Math.floor(rand() * 3)),
    sid: v(major + 1, minor + 1, 1 + Math.floor(rand() * 3)),
  };
}

function sentence(rand: () => number, words: number): string {
  const out: string[] = [];
  for (let i = 0; i < words; i++) out.push(pick(rand, WORDS));
  // An occasional non-ASCII name, as real descriptions have.
  if (rand() < 0.05) out.push('(reported by Jérôme Müller)');
  const s = out.join(' ');
  return `${s[0].toUpperCase()}${s.slice(1)}.`;
}

function record(
  rand: () => number,
  id: string,
  base: Record<Release, string>,
  installed: string | undefined,
  stats: TrackerStats,
): Record<string, unknown> {
  const rec: Record<string, unknown> = {};
  if (rand() < 0.97) rec.description = sentence(rand, 20 + Math.floor(rand() * 50));
  if (rand() < 0.7) rec.scope = rand() < 0.75 ? 'remote' : 'local';
  if (rand() < 0.45) rec.debianbug = 900_000 + Math.floor(rand() * 230_000);
  const urgency = weighted(rand, URGENCIES);
  const year = id.startsWith('CVE-') ? Number(id.slice(4, 8)) : 2024;
  // Old issues were long fixed before recent releases: resolved everywhere, often "0".
  const old = year < 2016;
  const releases: Record<string, unknown> = {};
  for (const rel of RELEASES) {
    if (rel === 'buster' && rand() < 0.35) continue; // not tracked for every package any more
    if (rel === 'trixie' && rand() < 0.05) continue;
    releases[rel] = release(
      rand,
      rel,
      base[rel],
      installed && rel === 'bookworm' ? installed : undefined,
      urgency,
      old,
      stats,
    );
    stats.releaseEntries++;
  }
  rec.releases = releases;
  return rec;
}

function release(
  rand: () => number,
  rel: Release,
  shipped: string,
  installed: string | undefined,
  urgency: string,
  old: boolean,
  stats: TrackerStats,
): Record<string, unknown> {
  const repositories: Record<string, string> = { [rel]: shipped };
  const r = rand();
  if (old ? r < 0.55 : r < 0.12) {
    stats.notAffected++;
    return { status: 'resolved', repositories, fixed_version: '0', urgency: old ? 'unimportant' : urgency };
  }
  if (old || r < 0.62) {
    let fixed: string;
    if (rel === 'sid' || rel === 'trixie' || old) {
      fixed = shipped;
    } else {
      // A security update: the shipped version plus a +debNNuM suffix. For the host's own
      // packages about a third are newer than what is installed, so the scan has findings.
      const bump = `${shipped}${SUITE_SUFFIX[rel]}${1 + Math.floor(rand() * 4)}`;
      fixed = installed && rand() < 0.66 ? installed : bump;
      repositories[`${rel}-security`] = fixed;
    }
    return { status: 'resolved', repositories, fixed_version: fixed, urgency };
  }
  if (r < 0.97) {
    const entry: Record<string, unknown> = {
      status: 'open',
      repositories,
      urgency: rel === 'buster' && rand() < 0.4 ? 'end-of-life' : urgency,
    };
    const n = rand();
    if (rel !== 'sid' && n < 0.45) {
      entry.nodsa = pick(rand, [
        'Minor issue',
        'Minor issue; can be fixed via point release',
        'Revisit when fixed upstream',
        'Negligible security impact',
      ]);
      entry.nodsa_reason = n < 0.04 ? 'ignored' : n < 0.08 ? 'postponed' : '';
    }
    return entry;
  }
  return { status: 'undetermined', repositories, urgency: 'not yet assigned' };
}

function usage(): never {
  process.stderr.write(
    'usage: node test/support/debian-tracker-generator.ts OUT.json [--seed N] [--cves N] [--dpkg-status FILE]...\n',
  );
  process.exit(2);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const args = process.argv.slice(2);
  let out: string | undefined;
  const opts: { seed?: number; cves?: number; dpkgStatus?: string[] } = {};
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    const num = () => {
      const n = Number(args[++i]);
      if (!Number.isInteger(n) || n <= 0) usage();
      return n;
    };
    if (a === '--seed') opts.seed = num();
    else if (a === '--cves') opts.cves = num();
    else if (a === '--dpkg-status' && args[i + 1]) (opts.dpkgStatus ??= []).push(args[++i]);
    else if (!a.startsWith('-') && !out) out = a;
    else usage();
  }
  if (!out) usage();
  const started = performance.now();
  const s = await generateTracker(out, opts);
  process.stdout.write(
    `${s.path}: ${(s.bytes / 1e6).toFixed(1)} MB, ${s.packages} packages (${s.hostPackages} from dpkg status), ${s.ids} ids, ` +
      `${s.records} records, ${s.releaseEntries} release entries (${s.notAffected} resolved in "0") in ${((performance.now() - started) / 1000).toFixed(1)} s\n`,
  );
}
