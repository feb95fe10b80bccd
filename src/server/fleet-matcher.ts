// Fleet matching with the same pure matcher `patchloop scan` uses, made affordable for
// thousands of hosts: a package's findings depend only on the host's distribution release
// (and Pro attachment), the package itself and, for kernel images, whether it is the running
// kernel. So results are cached per (release, package) and the matcher only ever sees the
// packages a host has that no host of its release had before.
import { resolveDistro, supportState, type DistroProfile } from '../core/distros.ts';
import { kernelRole } from '../core/kernel.ts';
import type { AdvisoryLookup, SupportNote } from '../core/lookup.ts';
import { matchInventory, type MatchResult } from '../core/match.ts';
import { effectiveSeverity } from '../core/severity.ts';
import {
  FINDING_STATUSES,
  SEVERITIES,
  type AdvisoryEntry,
  type CvssScore,
  type Enrichment,
  type Finding,
  type InstalledPackage,
  type VulnerabilityInfo,
} from '../core/types.ts';
import { exposureIdentity, findingIdentity, type StoredFinding } from './store/finding-identity.ts';
import { type HostMatch, type HostMatcher, type HostMatchInput } from './store/host-matcher.ts';
import type { Interner } from './store/interner.ts';

interface CachedFinding {
  nameId: number;
  vulnId: number;
  srcId: number;
  detailId: number;
  severity: number;
  status: number;
  fixable: boolean;
  dormant: boolean;
}

interface PackageResult {
  findings: CachedFinding[];
  unsupported: { source: string; kind: 'ended' | 'limited'; note: string } | null;
}

/** The result of a package with no finding and full support (shared, never changed). */
const NOTHING: PackageResult = Object.freeze({
  findings: Object.freeze([]) as unknown as CachedFinding[],
  unsupported: null,
});

/**
 * Releases whose results are cached at once. A fleet has a few dozen (distribution release ×
 * Pro attachment); a host can name any release key, so the least recently used one is dropped.
 */
const MAX_RELEASES = 64;
/** Entries per memo of advisory lookups: package keys come from hosts, so the memo is bounded. */
const MAX_MEMO = 50_000;

export interface FleetMatcherOptions {
  includeUndetermined?: boolean;
  /** Today's date, ISO (YYYY-MM-DD), for release support states. */
  today: () => string;
  onWarning?: (message: string) => void;
}

export class FleetMatcher implements HostMatcher {
  private lookup: MemoLookup;
  private readonly interner: Interner;
  private readonly options: FleetMatcherOptions;
  private results = new Map<string, Map<number, PackageResult>>();
  /** The results of the previous vulnerability data, kept while the fleet is re-matched. */
  private previous: Map<string, Map<number, PackageResult>> | null = null;
  /** The generation `previous` belongs to: only hosts matched with it can be compared with it. */
  previousGeneration: number | null = null;
  private readonly unchanged = new Map<string, Map<number, boolean>>();
  private readonly kernels = new Map<string, boolean>();
  /** Incremented whenever the vulnerability data changes. */
  generation: number;

  constructor(lookup: AdvisoryLookup, interner: Interner, generation: number, options: FleetMatcherOptions) {
    this.lookup = new MemoLookup(lookup);
    this.interner = interner;
    this.generation = generation;
    this.options = options;
  }

  /**
   * New vulnerability data (a new generation), or interned ids dropped by a rollback (same
   * generation): every cached result is dropped. On new data the old results are kept aside
   * until forgetPrevious(), so a re-match can tell which hosts' results did not change.
   */
  reset(lookup: AdvisoryLookup, generation: number): void {
    this.lookup = new MemoLookup(lookup);
    if (generation !== this.generation) {
      this.previous = this.results.size > 0 ? this.results : null;
      this.previousGeneration = this.previous ? this.generation : null;
      this.unchanged.clear();
    }
    this.results = new Map();
    this.kernels.clear();
    this.generation = generation;
  }

  forgetPrevious(): void {
    this.previous = null;
    this.previousGeneration = null;
    this.unchanged.clear();
  }

  /** Whether this package's result is the same as with the previous data (memoised). */
  private sameAsPrevious(osKey: string, slot: number, now: PackageResult): boolean {
    let memo = this.unchanged.get(osKey);
    if (!memo) {
      memo = new Map();
      this.unchanged.set(osKey, memo);
    }
    let same = memo.get(slot);
    if (same === undefined) {
      const before = this.previous?.get(osKey)?.get(slot);
      same =
        before !== undefined &&
        before.findings.length === now.findings.length &&
        before.findings.every((f, i) => {
          const g = now.findings[i];
          return f.nameId === g.nameId && f.vulnId === g.vulnId && f.detailId === g.detailId && f.dormant === g.dormant;
        }) &&
        JSON.stringify(before.unsupported) === JSON.stringify(now.unsupported);
      memo.set(slot, same);
    }
    return same;
  }

  get cachedPackages(): number {
    let n = 0;
    for (const m of this.results.values()) n += m.size;
    return n;
  }

  /** The host's distribution release and the result cache of that release. */
  private releaseOf(input: Omit<HostMatchInput, 'pkgIds'>): {
    profile: DistroProfile;
    release: string;
    osKey: string;
    cache: Map<number, PackageResult>;
  } {
    const resolved = resolveDistro(input.os);
    const { profile } = resolved;
    const release = input.releaseHint || resolved.release;
    const osKey = `${profile.id}\u0000${release}\u0000${input.proAttached ? 1 : 0}`;
    let cache = this.results.get(osKey);
    if (cache) {
      // Most recently used last: the release whose cache is dropped first is the one unused longest.
      this.results.delete(osKey);
    } else {
      cache = new Map();
      if (this.results.size >= MAX_RELEASES) this.results.delete(this.results.keys().next().value!);
    }
    this.results.set(osKey, cache);
    return { profile, release, osKey, cache };
  }

  private matchMisses(
    input: Omit<HostMatchInput, 'pkgIds'>,
    r: { profile: DistroProfile; release: string; cache: Map<number, PackageResult> },
    called: { cacheKey: number; pkg: InstalledPackage; id: number }[],
  ): MatchResult {
    const result = matchInventory(
      { os: input.os, kernel: input.kernel, packages: called.map((m) => m.pkg) },
      this.lookup,
      {
        release: r.release,
        today: this.options.today(),
        includeUndetermined: this.options.includeUndetermined,
        proAttached: input.proAttached,
      },
    );
    for (const w of result.warnings) if (w.startsWith('skipped ')) this.options.onWarning?.(w);
    this.store(r.cache, called, result.findings, result.unsupported, r.profile.keyKind);
    return result;
  }

  /**
   * Matches those of `ids` (not kernel images) that no host of this release had before, so
   * that matchHost on a large package set finds them cached: a big report is matched piece
   * by piece, with the event loop free in between. Results are the ones matchHost would get.
   */
  warm(input: Omit<HostMatchInput, 'pkgIds' | 'onlyNames'>, ids: ArrayLike<number>): void {
    const r = this.releaseOf(input);
    const misses: { cacheKey: number; pkg: InstalledPackage; id: number }[] = [];
    for (let i = 0; i < ids.length; i++) {
      const p = this.interner.pkg(ids[i]);
      if (!p.kernelImage && !r.cache.has(ids[i] * 2)) misses.push({ cacheKey: ids[i] * 2, pkg: p.pkg, id: ids[i] });
    }
    if (misses.length > 0) this.matchMisses(input, r, misses);
  }

  /** Drops every cached result of packages the store no longer has (collected garbage). */
  forgetPackages(ids: readonly number[]): void {
    if (ids.length === 0) return;
    for (const results of [this.results, this.previous]) {
      if (!results) continue;
      for (const [osKey, cache] of results) {
        for (const id of ids) {
          cache.delete(id * 2);
          cache.delete(id * 2 + 1);
        }
        if (cache.size === 0 && results === this.results) results.delete(osKey);
      }
    }
    for (const memo of this.unchanged.values()) {
      for (const id of ids) {
        memo.delete(id * 2);
        memo.delete(id * 2 + 1);
      }
    }
    // Kernel summaries are keyed by the images' ids; they are few and cheap to recompute.
    if (ids.some((id) => this.interner.pkg(id).kernelImage)) this.kernels.clear();
  }

  matchHost(input: HostMatchInput): HostMatch {
    const rel = this.releaseOf(input);
    const { profile, release, osKey, cache } = rel;

    const misses: { cacheKey: number; pkg: InstalledPackage; id: number }[] = [];
    const images: { id: number; running: boolean }[] = [];
    const slots: number[] = [];
    for (let i = 0; i < input.pkgIds.length; i++) {
      const id = input.pkgIds[i];
      const p = this.interner.pkg(id);
      let cacheKey = id * 2;
      if (p.kernelImage) {
        const role = kernelRole(p.pkg, profile.format, input.kernel);
        const running = role.kind === 'image' && role.running;
        images.push({ id, running });
        cacheKey += running ? 1 : 0;
      }
      slots.push(cacheKey);
      if (!cache.has(cacheKey)) misses.push({ cacheKey, pkg: p.pkg, id });
    }

    const kernelKey = `${osKey}\u0000${input.kernel ?? ''}\u0000${images
      .map((i) => i.id)
      .sort((a, b) => a - b)
      .join(',')}`;
    const kernelKnown = this.kernels.has(kernelKey);
    const warnings: string[] = [];
    if (misses.length > 0 || !kernelKnown) {
      const inCall = new Map<number, { cacheKey: number; pkg: InstalledPackage; id: number }>();
      for (const m of misses) inCall.set(m.id, m);
      // The kernel summary (is a newer image installed?) needs every image of the host.
      if (!kernelKnown) {
        for (const img of images) {
          if (!inCall.has(img.id))
            inCall.set(img.id, {
              cacheKey: img.id * 2 + (img.running ? 1 : 0),
              pkg: this.interner.pkg(img.id).pkg,
              id: img.id,
            });
        }
      }
      const result = this.matchMisses(input, rel, [...inCall.values()]);
      this.kernels.set(kernelKey, result.kernel.newer_installed);
      warnings.push(...result.warnings);
    }

    const findings = new Map<number, StoredFinding>();
    /** Exposures (source package, vulnerability) found on kernel images that are not running. */
    const dormantSeen = new Set<number>();
    /** Exposures found otherwise: a dormant one of these is exposure, not dormant. */
    const exposed = new Set<number>();
    const unsupported = new Map<string, HostMatch['unsupported'][number]>();
    // Packages outside a delta's scope: their findings are looked at only if a dormant kernel
    // finding could share an identity with one of them.
    const skipped: PackageResult[] = [];
    for (let i = 0; i < slots.length; i++) {
      const r = cache.get(slots[i]);
      if (!r) throw new Error(`fleet matcher: no result for package ${input.pkgIds[i]}`);
      if (r.unsupported) unsupported.set(r.unsupported.source, r.unsupported);
      if (r.findings.length === 0) continue;
      if (input.onlyNames && !input.onlyNames.has(this.interner.pkg(input.pkgIds[i]).nameId)) {
        skipped.push(r);
        continue;
      }
      for (const f of r.findings) {
        if (f.dormant) {
          dormantSeen.add(exposureIdentity(f.srcId, f.vulnId));
          continue;
        }
        exposed.add(exposureIdentity(f.srcId, f.vulnId));
        // Several installed versions of one name+arch (rpm multi-install) make one finding.
        const identity = findingIdentity(f.nameId, f.vulnId);
        if (!findings.has(identity)) {
          findings.set(identity, {
            nameId: f.nameId,
            vulnId: f.vulnId,
            srcId: f.srcId,
            pkgId: input.pkgIds[i],
            detailId: f.detailId,
            severity: f.severity,
            status: f.status,
            fixable: f.fixable,
          });
        }
      }
    }
    // The dormant count covers the whole host, a delta's scope or not (the same rule as the scan's summary).
    for (const r of skipped)
      for (const f of r.findings) (f.dormant ? dormantSeen : exposed).add(exposureIdentity(f.srcId, f.vulnId));
    let dormant = 0;
    for (const identity of dormantSeen) if (!exposed.has(identity)) dormant++;

    let sameAsBefore = this.previous !== null;
    for (let i = 0; sameAsBefore && i < slots.length; i++)
      sameAsBefore = this.sameAsPrevious(osKey, slots[i], cache.get(slots[i])!);

    const support = supportState(profile, release, this.options.today());
    return {
      sameAsBefore,
      distro: profile.id,
      release,
      findings,
      dormant,
      kernelNewer: this.kernels.get(kernelKey) ?? false,
      support,
      unsupported: [...unsupported.values()],
      warnings: warnings.filter((w) => !w.startsWith('skipped ')),
    };
  }

  private store(
    cache: Map<number, PackageResult>,
    called: { cacheKey: number; pkg: InstalledPackage; id: number }[],
    findings: Finding[],
    unsupported: { source: string; kind: 'ended' | 'limited'; note: string }[],
    keyKind: 'source' | 'binary',
  ): void {
    const byTriple = new Map<string, PackageResult[]>();
    for (const c of called) {
      const r: PackageResult = { findings: [], unsupported: null };
      cache.set(c.cacheKey, r);
      const t = triple(c.pkg.name, c.pkg.version, c.pkg.arch);
      const list = byTriple.get(t);
      if (list) list.push(r);
      else byTriple.set(t, [r]);
      const key = keyKind === 'source' ? c.pkg.source : c.pkg.name;
      r.unsupported = unsupported.find((u) => u.source === key) ?? null;
    }
    // Where the distribution rates nothing, the severity is the band of the CVSS score the feeds
    // carry (core/severity.ts), as `patchloop scan` says: counts by severity agree.
    const cvss = this.lookup.cvssOf(findings.filter((f) => f.severity === 'unknown').map((f) => f.id));
    for (const found of findings) {
      const targets = byTriple.get(triple(found.package.name, found.package.version, found.package.arch));
      if (!targets) continue;
      const f =
        found.severity === 'unknown' && cvss.has(found.id)
          ? { ...found, severity: effectiveSeverity(found.severity, cvss.get(found.id)).severity }
          : found;
      const vulnId = this.interner.vulnId(f.id);
      // Its other names, so that searches by an alias or an advisory find it.
      this.interner.aliases.note(vulnId, f.advisory_ids.length ? [...f.aliases, ...f.advisory_ids] : f.aliases);
      const cached: CachedFinding = {
        nameId: this.interner.nameId(f.package.name, f.package.arch),
        vulnId,
        srcId: this.interner.srcId(f.package.source),
        detailId: this.interner.detailId({
          status: f.status,
          raw_status: f.raw_status,
          fixed_version: f.fixed_version,
          severity: f.severity,
          raw_severity: f.raw_severity,
          feed: f.feed,
          advisory_ids: f.advisory_ids,
        }),
        severity: SEVERITIES.indexOf(f.severity),
        status: FINDING_STATUSES.indexOf(f.status),
        fixable: f.status === 'fixed',
        dormant: f.kernel_not_running === true,
      };
      for (const t of targets) t.findings.push(cached);
    }
    // Most packages have no finding and full support: they share one result (a cache entry
    // then costs its map slot only, which matters for a host with 100,000 packages).
    for (const c of called) {
      const r = cache.get(c.cacheKey)!;
      if (r.findings.length === 0 && r.unsupported === null) cache.set(c.cacheKey, NOTHING);
    }
  }
}

function triple(name: string, version: string, arch: string): string {
  return `${name}\u0000${version}\u0000${arch}`;
}

const NO_ENTRIES: AdvisoryEntry[] = Object.freeze([]) as unknown as AdvisoryEntry[];

/** A Map that forgets its oldest entries beyond a size: a memo that hosts cannot grow without bound. */
class BoundedMemo<V> {
  private readonly map = new Map<string, V>();
  private readonly max: number;

  constructor(max: number) {
    this.max = max;
  }

  get(key: string): V | undefined {
    return this.map.get(key);
  }

  set(key: string, value: V): void {
    if (this.map.size >= this.max) {
      // Drop the oldest tenth at once: eviction stays cheap per insertion.
      let n = Math.ceil(this.max / 10);
      for (const k of this.map.keys()) {
        if (n-- <= 0) break;
        this.map.delete(k);
      }
    }
    this.map.set(key, value);
  }
}

/** Remembers lookups: hosts of one release ask for the same package keys over and over. */
class MemoLookup implements AdvisoryLookup {
  private readonly inner: AdvisoryLookup;
  private readonly entryMemo = new BoundedMemo<AdvisoryEntry[]>(MAX_MEMO);
  private readonly supportMemo = new BoundedMemo<SupportNote | null>(MAX_MEMO);
  private readonly vulnMemo = new BoundedMemo<VulnerabilityInfo | null>(MAX_MEMO);

  constructor(inner: AdvisoryLookup) {
    this.inner = inner;
  }

  entries(distro: string, release: string, key: string): AdvisoryEntry[] {
    const k = `${distro}\u0000${release}\u0000${key}`;
    let e = this.entryMemo.get(k);
    if (!e) {
      e = this.inner.entries(distro, release, key);
      // Most keys have no entry: one shared empty list instead of one per key.
      if (e.length === 0) e = NO_ENTRIES;
      this.entryMemo.set(k, e);
    }
    return e;
  }

  support(distro: string, release: string, key: string): SupportNote | null {
    const k = `${distro}\u0000${release}\u0000${key}`;
    let s = this.supportMemo.get(k);
    if (s === undefined) {
      s = this.inner.support(distro, release, key);
      this.supportMemo.set(k, s);
    }
    return s;
  }

  /** The CVSS scores the feeds carry for these ids (those with none are absent). */
  cvssOf(ids: readonly string[]): Map<string, CvssScore[]> {
    const out = new Map<string, CvssScore[]>();
    const inner = this.inner as AdvisoryLookup & {
      hasEnrichment?(): boolean;
      enrichMany?(ids: Iterable<string>): Map<string, Enrichment>;
    };
    if (ids.length === 0 || !inner.enrichMany || !inner.hasEnrichment?.()) return out;
    for (const [id, e] of inner.enrichMany(ids)) if (e.cvss?.length) out.set(id, e.cvss);
    return out;
  }

  vulnerability(id: string): VulnerabilityInfo | null {
    let v = this.vulnMemo.get(id);
    if (v === undefined) {
      v = this.inner.vulnerability(id);
      this.vulnMemo.set(id, v);
    }
    return v;
  }
}
