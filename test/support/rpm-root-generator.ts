// Generates an AlmaLinux 9 root of N installed binary packages with a genuine rpmdb.sqlite
// (written by rpm through scripts/make-rpm-root). Names and versions come from the AlmaLinux 9
// OSV advisories, so the scan has real work: of each source, a third is installed at an earlier
// fixed build (older), a third at the latest fix (equal) and a third one build past it (newer).
// Deterministic for a given seed.
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { compareRpmVersions, parseEvr } from '../../src/core/version/rpm.ts';
import { seededRandom } from './seeded-random.ts';

export interface RpmRootOptions {
  /** Directory of AlmaLinux 9 OSV records (AlmaLinux/osv-database's almalinux9). */
  advisories: string;
  count: number;
  /** Where the package list is written (it is also the cache key of the built database). */
  listFile: string;
  repo: string;
  seed?: number;
}

export interface RpmRootSummary {
  packages: number;
  sources: number;
  older: number;
  equal: number;
  newer: number;
  modular: number;
  /** `uname -r` of the kernel installed (null when no kernel-core was drawn). */
  kernel: string | null;
}

interface Advisory {
  id: string;
  published: string;
  summary: string;
  affected: { package: { ecosystem: string; name: string }; ranges: { events: Record<string, string>[] }[] }[];
}

interface Binary {
  name: string;
  /** Group: the advisory's subject (`openssl`, `nodejs:18`); its fixed builds, oldest first. */
  group: string;
  fixes: string[];
}

const OS_RELEASE = `NAME="AlmaLinux"
VERSION="9.4 (Seafoam Ocelot)"
ID="almalinux"
ID_LIKE="rhel centos fedora"
VERSION_ID="9.4"
PLATFORM_ID="platform:el9"
PRETTY_NAME="AlmaLinux 9.4 (Seafoam Ocelot)"
ANSI_COLOR="0;34"
LOGO="fedora-logo-icon"
CPE_NAME="cpe:/o:almalinux:almalinux:9::baseos"
HOME_URL="https://almalinux.org/"
DOCUMENTATION_URL="https://wiki.almalinux.org/"
BUG_REPORT_URL="https://bugs.almalinux.org/"
`;

// Variants a plain x86_64 host does not install (other arches, debug and real-time kernels).
const SKIP = /(^kernel-(64k|rt|zfcpdump|debug)|-debug(-|$)|-debuginfo$|-debugsource$)/;
const NOARCH = /-(doc|docs|javadoc|wheel|filesystem|licenses|data)$/;

/** `Important: nodejs:18 security update` → `nodejs:18`; `Moderate: openssl security update` → `openssl`. */
function subjectOf(summary: string): string {
  return /^[A-Za-z]+:\s+([\w.+-]+(?::[\w.+-]+)?)/.exec(summary)?.[1] ?? 'unknown';
}

function readBinaries(dir: string): Binary[] {
  // Each binary belongs to the subject of its latest advisory; its fixes are that subject's.
  const byName = new Map<string, { group: string; published: string; fixes: Map<string, string[]> }>();
  for (const file of readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()) {
    const adv = JSON.parse(readFileSync(join(dir, file), 'utf8')) as Advisory;
    const group = subjectOf(adv.summary);
    for (const a of adv.affected ?? []) {
      if (a.package.ecosystem !== 'AlmaLinux:9' || SKIP.test(a.package.name)) continue;
      for (const r of a.ranges ?? []) {
        for (const e of r.events) {
          if (!e.fixed) continue;
          const fixed = e.fixed.replace(/^0+:/, '');
          if (parseEvr(fixed).release === null) continue;
          let b = byName.get(a.package.name);
          if (!b) byName.set(a.package.name, (b = { group, published: adv.published, fixes: new Map() }));
          if (adv.published > b.published) {
            b.group = group;
            b.published = adv.published;
          }
          const list = b.fixes.get(group) ?? [];
          list.push(fixed);
          b.fixes.set(group, list);
        }
      }
    }
  }
  return [...byName].map(([name, b]) => ({
    name,
    group: b.group,
    fixes: [...new Set(b.fixes.get(b.group) ?? [])].sort(compareRpmVersions),
  }));
}

function formatEvr(epoch: string | null, version: string, release: string): string {
  return `${epoch && epoch !== '0' ? `${epoch}:` : ''}${version}-${release}`;
}

/** A build before `fixed`: the previous fix when there is one, else the release lowered. */
function olderThan(fixes: string[]): string {
  if (fixes.length > 1) return fixes[fixes.length - 2];
  const evr = parseEvr(fixes[0]);
  const release = evr.release ?? '1';
  const m = /[1-9]\d*/.exec(release);
  const lowered = m
    ? `${release.slice(0, m.index)}${Number(m[0]) - 1}${release.slice(m.index + m[0].length)}`
    : `0.${release}`;
  const older = formatEvr(evr.epoch, evr.version, lowered);
  return compareRpmVersions(older, fixes[0]) < 0 ? older : formatEvr(evr.epoch, evr.version, `0.${release}`);
}

function newerThan(fixed: string): string {
  const evr = parseEvr(fixed);
  return formatEvr(evr.epoch, evr.version, `${evr.release ?? '1'}.1`);
}

export function generateRpmRoot(root: string, o: RpmRootOptions): RpmRootSummary {
  const rand = seededRandom(o.seed ?? 42);
  const binaries = readBinaries(o.advisories);
  const groups = new Map<string, Binary[]>();
  for (const b of binaries) groups.set(b.group, [...(groups.get(b.group) ?? []), b]);
  // Whole groups in a shuffled order until the count is reached.
  const order = [...groups.keys()].sort();
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [order[i], order[j]] = [order[j], order[i]];
  }
  const lines: string[] = [];
  const summary: RpmRootSummary = { packages: 0, sources: 0, older: 0, equal: 0, newer: 0, modular: 0, kernel: null };
  const sources = new Set<string>();
  for (const group of order) {
    if (summary.packages >= o.count) break;
    // The least represented of older / equal / newer so far, so the three stay balanced.
    const counts = [summary.older, summary.equal, summary.newer];
    const mode = counts.indexOf(Math.min(...counts));
    const [subject, stream] = group.split(':');
    const chosen: { b: Binary; evr: string }[] = [];
    for (const b of groups.get(group) ?? []) {
      if (summary.packages + chosen.length >= o.count) break;
      const latest = b.fixes[b.fixes.length - 1];
      chosen.push({ b, evr: mode === 0 ? olderThan(b.fixes) : mode === 1 ? latest : newerThan(latest) });
    }
    // Binaries installed at one build share a source rpm, named after the subject when one of
    // them is the subject itself (as rpm names the main package after the spec).
    const byEvr = new Map<string, Binary[]>();
    for (const c of chosen) byEvr.set(c.evr, [...(byEvr.get(c.evr) ?? []), c.b]);
    for (const [evr, list] of byEvr) {
      const { epoch, version, release } = parseEvr(evr);
      const names = list.map((b) => b.name).sort();
      const srpm = `${names.includes(subject) ? subject : names[0]}-${version}-${release}.src.rpm`;
      sources.add(srpm);
      const modular = stream !== undefined && /\.module[_+]/.test(release ?? '');
      const label = modular ? `${subject}:${stream}:9040020240101000000:rhel9` : '-';
      for (const name of names) {
        const arch = NOARCH.test(name) ? 'noarch' : 'x86_64';
        lines.push(
          [name, epoch && epoch !== '0' ? epoch : '-', version, release, arch, srpm, label, 'AlmaLinux'].join('\t'),
        );
        if (name === 'kernel-core') summary.kernel = `${version}-${release}.x86_64`;
        summary.packages++;
        if (modular) summary.modular++;
        summary[mode === 0 ? 'older' : mode === 1 ? 'equal' : 'newer']++;
      }
    }
  }
  summary.sources = sources.size;
  writeFileSync(o.listFile, `# ${summary.packages} binary packages drawn from ${o.advisories}\n${lines.join('\n')}\n`);
  const built = execFileSync('sh', [join(o.repo, 'scripts/make-rpm-root'), o.listFile], { encoding: 'utf8' }).trim();
  rmSync(root, { recursive: true, force: true });
  mkdirSync(join(root, 'etc'), { recursive: true });
  cpSync(join(built, 'var'), join(root, 'var'), { recursive: true });
  writeFileSync(join(root, 'etc/os-release'), OS_RELEASE);
  return summary;
}
