// Matching: installed packages × advisory entries → findings. Pure: all data comes through
// AdvisoryLookup, so the same code serves `patchloop scan` on one host and the server's fleet.
import { kernelRole } from './kernel.ts';
import { resolveDistro, supportState, type DistroProfile, type SupportState } from './distros.ts';
import type { AdvisoryLookup, SupportNote } from './lookup.ts';
import type { AdvisoryEntry, Finding, FindingStatus, InstalledPackage, Inventory, PackageKeyKind } from './types.ts';
import { getScheme } from './version/index.ts';
import type { VersionScheme } from './version/scheme.ts';

export interface MatchOptions {
  /** Report `undetermined` / `under_investigation` entries as affected (off by default). */
  includeUndetermined?: boolean;
  /** Ubuntu: the host is attached to Ubuntu Pro (esm-infra/esm-apps fixes are installable). */
  proAttached?: boolean;
  /** Release key to use instead of the one os-release gives (Alpine branch from repositories). */
  release?: string;
  /** Today's date (ISO, YYYY-MM-DD) for support-lifecycle checks; none made without it. */
  today?: string;
}

export interface KernelSummary {
  running: string | null;
  /** Installed kernel images, with whether each is the running one. */
  images: { name: string; version: string; running: boolean }[];
  /** An image newer than the running one is installed: a reboot would activate it. */
  newer_installed: boolean;
}

export interface MatchResult {
  findings: Finding[];
  /** Problems that did not stop matching (invalid versions in data, unknown running kernel…). */
  warnings: string[];
  /** The distribution and release key the inventory was matched as. */
  distro: string;
  release: string;
  kernel: KernelSummary;
  /** Where the release stands in its distribution's support lifecycle (needs options.today). */
  support: SupportState;
  /** Source packages the distribution lists as out of (or limited in) security support. */
  unsupported: { source: string; kind: 'ended' | 'limited'; note: string }[];
}

/** One package key an installed package is looked up under, and the version compared then. */
interface KeyLookup {
  key: string;
  /** Only entries keyed this way apply (null: every entry of the key). */
  kind: PackageKeyKind | null;
  version: string;
  /**
   * rpm source versions: a binary's SOURCERPM names no epoch, so the epoch of `version` is the
   * binary's own, a guess; the source's is the one the advisory writes.
   */
  epochFromAdvisory?: boolean;
}

/** How an installed package is looked up and compared. */
interface MatchKey {
  lookups: KeyLookup[];
  notRunningKernel: boolean;
}

export function matchInventory(inventory: Inventory, lookup: AdvisoryLookup, options: MatchOptions = {}): MatchResult {
  const { profile, release: osRelease } = resolveDistro(inventory.os);
  const release = options.release ?? osRelease;
  const scheme = getScheme(profile.scheme);
  const warnings: string[] = [];
  const findings: Finding[] = [];
  const entriesByKey = new Map<string, AdvisoryEntry[]>();
  const kernel: KernelSummary = { running: inventory.kernel, images: [], newer_installed: false };
  const badVersions = new Set<string>();
  const unsupported: MatchResult['unsupported'] = [];
  const unsupportedSeen = new Set<string>();
  const releaseSupport = options.today ? supportState(profile, release, options.today) : { state: 'unknown' as const };
  if (releaseSupport.state === 'ended') {
    warnings.push(
      `${profile.name} ${release} reached the end of its security support on ${releaseSupport.ended}: no new fixes are published for it`,
    );
  } else if (releaseSupport.state === 'extended') {
    warnings.push(
      `${profile.name} ${release} is past regular security support; fixes come from ${releaseSupport.name} until ${releaseSupport.ends}`,
    );
  }
  const dataNote = profile.dataNote?.(release);
  if (dataNote) warnings.push(dataNote);
  // Entries are filed under the distribution that publishes them (CentOS Linux: RHEL's).
  const dataDistro = profile.advisoryDistro ?? profile.id;

  const keyed: [InstalledPackage, MatchKey][] = [];
  for (const pkg of inventory.packages) {
    if (pkg.format !== profile.format) continue;
    const mk = matchKey(pkg, profile, inventory.kernel, kernel);
    if (mk) keyed.push([pkg, mk]);
  }
  lookup.prefetch?.(dataDistro, release, [...new Set(keyed.flatMap(([, mk]) => mk.lookups.map((l) => l.key)))]);
  const aliasCache = new Map<string, string[]>();

  for (const [pkg, mk] of keyed) {
    let reported: Finding['package'] | undefined;
    const primary = mk.lookups[0].key;
    const support = lookup.support(dataDistro, release, primary);
    if (support && !unsupportedSeen.has(primary)) {
      unsupportedSeen.add(primary);
      unsupported.push({ source: primary, kind: support.kind, note: support.note });
    }
    const found = new Map<string, Finding>();
    for (const l of mk.lookups) {
      let entries = entriesByKey.get(l.key);
      if (!entries) {
        entries = lookup.entries(dataDistro, release, l.key);
        entriesByKey.set(l.key, entries);
      }
      for (const entry of entries) {
        if (l.kind !== null && entry.key_kind !== l.kind) continue;
        // Several entries (feeds, ranges, binary and source keys) can say the same thing; the
        // first — the distro's own feed comes first in lookup order, the binary key before
        // the source key — wins for a package and vulnerability.
        if (found.has(entry.vuln_id)) continue;
        const verdict = judge(entry, pkg, l.version, l.epochFromAdvisory === true, scheme, options, badVersions);
        if (!verdict) continue;
        // One package object for all findings of a package: large hosts have thousands.
        reported ??= {
          name: pkg.name,
          version: pkg.version,
          arch: pkg.arch,
          source: pkg.source,
          source_version: pkg.source_version,
        };
        const finding = toFinding(
          entry,
          reported,
          endOfSupport(verdict, support),
          mk,
          aliasesOf(entry, lookup, aliasCache),
        );
        found.set(entry.vuln_id, finding);
        findings.push(finding);
      }
    }
    // Advisories that name a found vulnerability again: a second look at the package's entries,
    // for the few packages with findings only.
    if (found.size === 0) continue;
    for (const l of mk.lookups) {
      for (const entry of entriesByKey.get(l.key)!) {
        if (entry.advisory_ids.length === 0 || (l.kind !== null && entry.key_kind !== l.kind)) continue;
        const finding = found.get(entry.vuln_id);
        if (finding) addRelisting(finding, entry, pkg, l, scheme, badVersions);
      }
    }
  }

  if (inventory.kernel === null && kernel.images.length > 0) {
    warnings.push(
      'running kernel unknown (use --kernel for another root): every installed kernel image is treated as running',
    );
  }
  kernel.newer_installed = newerKernelInstalled(kernel, scheme);
  for (const b of badVersions) warnings.push(b);
  findings.sort(compareFindings);
  return { findings, warnings, distro: profile.id, release, kernel, support: releaseSupport, unsupported };
}

function matchKey(
  pkg: InstalledPackage,
  profile: DistroProfile,
  running: string | null,
  kernel: KernelSummary,
): MatchKey | null {
  const role = kernelRole(pkg, profile.format, running);
  if (role.kind === 'excluded') return null;
  const notRunningKernel = role.kind === 'image' && !role.running;
  if (role.kind === 'image') kernel.images.push({ name: pkg.name, version: pkg.version, running: role.running });
  if (profile.keyKind === 'source') {
    if (role.kind === 'image')
      return { lookups: [{ key: role.key, kind: null, version: role.version }], notRunningKernel };
    return { lookups: [{ key: pkg.source, kind: null, version: pkg.source_version }], notRunningKernel };
  }
  // rpm distributions publish both: binary packages with their builds (ALSA, RHSA CSAF) and
  // source packages (Rocky OSV, Red Hat's unfixed statements and Security Data API). Each
  // entry applies through the key it names, compared with that package's own version.
  const lookups: KeyLookup[] = [
    { key: pkg.name, kind: 'binary', version: pkg.version },
    { key: pkg.source, kind: 'source', version: pkg.source_version, epochFromAdvisory: true },
  ];
  return { lookups, notRunningKernel };
}

/**
 * A later advisory that names a found vulnerability again for this package (AlmaLinux
 * ALSA-2023:5145, then ALSA-2023:6247 for .NET 7.0): its id joins the finding's advisory ids
 * when its fix is not installed either, so a host that lacks it is told. The finding's fixed
 * version stays the lowest fix, the one the finding was made from.
 */
function addRelisting(
  finding: Finding,
  entry: AdvisoryEntry,
  pkg: InstalledPackage,
  l: KeyLookup,
  scheme: VersionScheme,
  badVersions: Set<string>,
): void {
  const fresh = entry.advisory_ids.filter((id) => !finding.advisory_ids.includes(id));
  if (fresh.length === 0 || entry.fixed_version === null || !appliesTo(entry, pkg)) return;
  const c = compareInstalled(
    entry,
    pkg,
    l.version,
    entry.fixed_version,
    l.epochFromAdvisory === true,
    scheme,
    badVersions,
  );
  if (c === null || c >= 0) return;
  finding.advisory_ids = [...finding.advisory_ids, ...fresh];
}

/** Whether an entry's arches and module stream allow it to apply to this package at all. */
function appliesTo(entry: AdvisoryEntry, pkg: InstalledPackage): boolean {
  if (entry.arches?.length && pkg.arch !== 'noarch' && !entry.arches.includes(pkg.arch)) return false;
  if (entry.module_stream && moduleStream(pkg) !== entry.module_stream) return false;
  // A modular package is only matched by advisories for its own stream: a fix in another
  // stream (nodejs 20 for an installed nodejs:18) is not an update this host can take.
  if (!entry.module_stream && moduleStream(pkg)) return false;
  return true;
}

/** The installed version compared with a version an entry writes (null: a version the scheme rejects). */
function compareInstalled(
  entry: AdvisoryEntry,
  pkg: InstalledPackage,
  installed: string,
  version: string,
  epochFromAdvisory: boolean,
  scheme: VersionScheme,
  badVersions: Set<string>,
): number | null {
  try {
    const left = epochFromAdvisory ? withEpochFrom(version, installed) : installed;
    return scheme.compare(left, withEpochOf(version, left, pkg.format));
  } catch (err) {
    badVersions.add(`skipped ${entry.vuln_id} for ${pkg.name}: ${err instanceof Error ? err.message : String(err)}`);
    return null;
  }
}

interface Verdict {
  status: FindingStatus;
  fixed_version: string | null;
  raw_status: string;
  reason: string;
}

/** Whether one entry applies to one installed package, and with which status. */
function judge(
  entry: AdvisoryEntry,
  pkg: InstalledPackage,
  installed: string,
  epochFromAdvisory: boolean,
  scheme: VersionScheme,
  options: MatchOptions,
  badVersions: Set<string>,
): Verdict | null {
  let status: FindingStatus;
  switch (entry.status) {
    case 'not_affected':
      return null;
    case 'undetermined':
    case 'under_investigation':
      if (!options.includeUndetermined) return null;
      status = 'affected';
      break;
    default:
      status = entry.status;
  }
  if (!appliesTo(entry, pkg)) return null;
  const cmp = (a: string, b: string): number | null =>
    compareInstalled(entry, pkg, a, b, epochFromAdvisory, scheme, badVersions);
  if (entry.introduced !== null) {
    const c = cmp(installed, entry.introduced);
    if (c === null || c < 0) return null;
  }
  if (entry.fixed_version !== null) {
    const c = cmp(installed, entry.fixed_version);
    if (c === null || c >= 0) return null;
    if (entry.pro_only && !options.proAttached) {
      return {
        status: 'affected',
        fixed_version: null,
        raw_status: `${entry.raw_status}; fix ${entry.fixed_version} only through Ubuntu Pro`,
        reason: `${installed} < ${entry.fixed_version}, a fix published only for Ubuntu Pro (this host is not attached)`,
      };
    }
    return {
      status: entry.status === 'fixed' ? 'fixed' : status,
      fixed_version: entry.fixed_version,
      raw_status: entry.raw_status,
      reason: `installed ${installed} < fixed ${entry.fixed_version} (${scheme.name} order)`,
    };
  }
  if (entry.last_affected !== null) {
    const c = cmp(installed, entry.last_affected);
    if (c === null || c > 0) return null;
    return {
      status,
      fixed_version: null,
      raw_status: entry.raw_status,
      reason: `installed ${installed} <= last affected ${entry.last_affected}`,
    };
  }
  // A "fixed" entry without a version says nothing usable.
  if (entry.status === 'fixed') return null;
  return {
    status,
    fixed_version: null,
    raw_status: entry.raw_status,
    reason: `${entry.raw_status} for every version of ${entry.package} in this release`,
  };
}

function newerKernelInstalled(kernel: KernelSummary, scheme: VersionScheme): boolean {
  const running = kernel.images.filter((i) => i.running);
  if (kernel.running === null || running.length === 0) return false;
  return kernel.images.some((i) => !i.running && running.every((r) => safeCompare(scheme, i.version, r.version) > 0));
}

function safeCompare(scheme: VersionScheme, a: string, b: string): number {
  try {
    return scheme.compare(a, b);
  } catch {
    return 0;
  }
}

function moduleStream(pkg: InstalledPackage): string | null {
  if (!pkg.modularity_label) return null;
  const [name, stream] = pkg.modularity_label.split(':');
  return name && stream ? `${name}:${stream}` : null;
}

/**
 * rpm data sometimes omits an epoch the package has (a known source of false results in
 * other scanners). When the advisory version has no epoch and the installed one has, the
 * advisory is taken to mean the installed epoch.
 */
function withEpochOf(advisoryVersion: string, installed: string, format: string): string {
  if (format !== 'rpm' || advisoryVersion.includes(':')) return advisoryVersion;
  const epoch = /^(\d+):/.exec(installed)?.[1];
  return epoch && epoch !== '0' ? `${epoch}:${advisoryVersion}` : advisoryVersion;
}

/** `installed` with the epoch `advisoryVersion` writes (none when it writes none). */
function withEpochFrom(advisoryVersion: string, installed: string): string {
  const epoch = /^(\d+):/.exec(advisoryVersion)?.[1];
  const bare = installed.replace(/^\d+:/, '');
  return epoch ? `${epoch}:${bare}` : bare;
}

/** A package the distribution no longer supports gets no fix for what is still open. */
function endOfSupport(v: Verdict, support: SupportNote | null): Verdict {
  if (support?.kind !== 'ended' || v.status === 'fixed') return v;
  return { ...v, status: 'end_of_life', raw_status: `${v.raw_status}; security support ended: ${support.note}` };
}

/** Aliases of an entry's vulnerability, never repeating its own id; looked up once per id. */
function aliasesOf(entry: AdvisoryEntry, lookup: AdvisoryLookup, cache: Map<string, string[]>): string[] {
  let aliases = cache.get(entry.vuln_id);
  if (!aliases) {
    aliases = (entry.aliases ?? lookup.vulnerability(entry.vuln_id)?.aliases ?? []).filter((a) => a !== entry.vuln_id);
    cache.set(entry.vuln_id, aliases);
  }
  return aliases;
}

function toFinding(
  entry: AdvisoryEntry,
  pkg: Finding['package'],
  v: Verdict,
  mk: MatchKey,
  aliases: string[],
): Finding {
  const f: Finding = {
    id: entry.vuln_id,
    aliases,
    package: pkg,
    status: v.status,
    raw_status: v.raw_status,
    fixed_version: v.fixed_version,
    severity: entry.severity,
    raw_severity: entry.raw_severity,
    feed: entry.feed,
    advisory_ids: entry.advisory_ids,
    reason: v.reason,
  };
  if (mk.notRunningKernel) {
    f.kernel_not_running = true;
    f.reason += '; this kernel image is installed but not running';
  }
  return f;
}

/** Code-point order (stable across locales, and much cheaper than localeCompare). */
function compareFindings(a: Finding, b: Finding): number {
  return cmp(a.package.name, b.package.name) || cmp(a.package.arch, b.package.arch) || cmp(a.id, b.id);
}

const cmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
