// One validated OSV record → advisory entries (one per affected package and version interval)
// and the vulnerability's descriptive data. Distribution-specific readings of the record
// (Ubuntu priorities and Pro fixes, RHEL-family severities and module streams) are decided by
// the ecosystem, so every OSV feed reads a record the same way.
import type { AdvisoryEntry, CvssScore, Severity, VersionSchemeName, VulnerabilityInfo } from '../../core/types.ts';
import { getScheme } from '../../core/version/index.ts';
import { mapEcosystem, type EcosystemTarget } from './ecosystems.ts';
import type { OsvAffected, OsvRange, OsvRecord } from './schema.ts';
import { cveOf } from '../../core/vuln-id.ts';
import { fromCvssScore, fromRedHatImpact, fromSeverityWord, fromUbuntuPriority } from '../common/severity.ts';
import { cvssBaseScore, cvssScore } from '../common/cvss.ts';

export interface ConvertOptions {
  feed: string;
  /** Which distributions this feed imports; records for others are skipped (counted). */
  acceptTarget: (t: EcosystemTarget) => boolean;
  warn: (message: string) => void;
  stats: ConvertStats;
}

export interface ConvertStats {
  /** Ecosystems outside patchloop's scope → number of affected packages skipped. */
  unknownEcosystems: Map<string, number>;
  /** Known distribution ecosystems skipped (variants, other distributions than the feed's). */
  skippedEcosystems: Map<string, number>;
  /** Bug-fix/enhancement advisories that name no CVE. */
  nonSecurity: number;
}

export function newStats(): ConvertStats {
  return { unknownEcosystems: new Map(), skippedEcosystems: new Map(), nonSecurity: 0 };
}

/** One entry and what feeds may need to refine it later. */
export interface ConvertedEntry {
  entry: AdvisoryEntry;
  /** The `distro` qualifier of the package purl (Ubuntu: `jammy`, `esm-infra/xenial`). */
  purlDistro: string | null;
  /** Ubuntu: read from an `Ubuntu:Pro:…` ecosystem. */
  fromPro: boolean;
}

export interface ConvertedRecord {
  id: string;
  entries: ConvertedEntry[];
  /** One per vulnerability the record names: each CVE, else the record itself. */
  vulnerabilities: VulnerabilityInfo[];
  /** CVE ids the record is about. */
  cves: string[];
  /** CVSS scores the record gives its vulnerability (only a record about one vulnerability: see recordCvss). */
  cvss: { vulnId: string; score: CvssScore }[];
}

const CVE = /\bCVE-\d{4}-\d{4,}\b/;
const CVE_G = /\bCVE-\d{4}-\d{4,}\b/g;
/** Ids of distribution advisories (the ones that carry fixes). */
const ADVISORY_ID = /^(USN|DSA|DLA|DTSA|ELA|RHSA|RHBA|RHEA|ALSA|ALBA|ALEA|RLSA|RLBA|RLEA|ALPINE)-/;
const NON_SECURITY_ID = /^(RH|AL|RL)(BA|EA)-/;

function inc(m: Map<string, number>, k: string): void {
  m.set(k, (m.get(k) ?? 0) + 1);
}

/** CVE ids a record is about: its own id, aliases and upstream; else what it says it fixes. */
export function recordCves(rec: OsvRecord): string[] {
  const direct = new Set<string>();
  for (const id of [rec.id, ...(rec.aliases ?? []), ...(rec.upstream ?? [])]) {
    const m = CVE.exec(id);
    if (m) direct.add(m[0]);
  }
  if (direct.size) return [...direct];
  // Distribution advisories (ALSA, RLSA…) list the CVEs they fix under `related`, and some
  // only in their references.
  const related = new Set<string>();
  for (const id of rec.related ?? []) {
    const m = CVE.exec(id);
    if (m && m[0] === id) related.add(id);
  }
  if (related.size) return [...related];
  const fromRefs = new Set<string>();
  for (const r of rec.references ?? []) for (const m of r.url.matchAll(CVE_G)) fromRefs.add(m[0]);
  return [...fromRefs];
}

export function normaliseVersion(scheme: VersionSchemeName, v: string): string {
  // rpm: an explicit zero epoch is the same version as none; inventories print none.
  return scheme === 'rpm' ? v.replace(/^0+:/, '') : v;
}

function rhFamily(t: EcosystemTarget): boolean {
  return t.scheme === 'rpm';
}

const RH_IMPACT_LEAD = /^(Low|Moderate|Important|Critical|None):\s/;
const RH_IMPACT_TRAIL = /\((Low|Moderate|Important|Critical|None)\)\s*$/;
/** A `module:stream` word: after a space or the start, before a space, `/component`, a comma or the end. */
const MODULE_STREAM = /(?<=^|\s)([A-Za-z0-9_.+-]+:[A-Za-z0-9_.+-]+)(?=[\s/,]|$)/g;
const ADVISORY_ID_WORD = /^[A-Z]+-\d{4}:\d+$/;

/**
 * The Red Hat impact and the module streams an RHEL-family advisory summary names, in the forms
 * the real records use: `Important: nodejs:18 security update`, `Moderate: pki-core:10.6 and
 * pki-deps:10.6 security update`, `Moderate: httpd:2.4/httpd security update`,
 * `ALSA-2022:5468: php:8.0 security update (Important)`. Every stream is kept: an advisory for
 * two modules (or two streams of one, `idm:DL1 and idm:client`) fixes packages of each.
 */
export function parseRhSummary(summary: string | undefined): { impact: string | null; streams: string[] } {
  if (!summary) return { impact: null, streams: [] };
  const impact = RH_IMPACT_LEAD.exec(summary)?.[1] ?? RH_IMPACT_TRAIL.exec(summary)?.[1] ?? null;
  const streams: string[] = [];
  for (const m of summary.matchAll(MODULE_STREAM)) {
    if (!ADVISORY_ID_WORD.test(m[1]) && !streams.includes(m[1])) streams.push(m[1]);
  }
  return { impact, streams };
}

interface SeverityChoice {
  severity: Severity;
  raw: string;
}

function severityFromList(list: OsvRecord['severity']): SeverityChoice | null {
  if (!list?.length) return null;
  const ubuntu = list.find((s) => s.type === 'Ubuntu');
  if (ubuntu) return { severity: fromUbuntuPriority(ubuntu.score), raw: ubuntu.score };
  // The newest CVSS version the record scores with (v4, then v3).
  for (const type of ['CVSS_V4', 'CVSS_V3'] as const) {
    for (const s of list) {
      if (s.type !== type) continue;
      const base = cvssBaseScore(s.score);
      if (base) return { severity: fromCvssScore(base.score), raw: s.score };
    }
  }
  return { severity: 'unknown', raw: list[0].score };
}

function stringField(obj: Record<string, unknown> | undefined, key: string): string | null {
  const v = obj?.[key];
  return typeof v === 'string' && v.trim() ? v : null;
}

/**
 * Ubuntu USN records carry each CVE's priority in `database_specific.cves_map`, which the
 * schema leaves unchecked: every level is checked here (a null among the entries threw).
 */
function ubuntuCvePriority(a: OsvAffected, cve: string): string | null {
  const map = a.database_specific?.cves_map;
  const cves = isObject(map) && Array.isArray(map.cves) ? map.cves : [];
  const hit = cves.find((c) => isObject(c) && c.id === cve) as Record<string, unknown> | undefined;
  const severity = Array.isArray(hit?.severity) ? hit.severity : [];
  const s = (severity.find((x) => isObject(x) && x.type === 'Ubuntu') as Record<string, unknown> | undefined)?.score;
  return typeof s === 'string' ? s : null;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function chooseSeverity(
  rec: OsvRecord,
  a: OsvAffected,
  t: EcosystemTarget,
  vulnId: string,
  rhImpact: string | null,
): SeverityChoice {
  // The distribution's own rating first (DESIGN.md), then CVSS.
  const own = stringField(a.ecosystem_specific, 'severity') ?? stringField(a.database_specific, 'severity');
  if (own) return { severity: t.distro === 'ubuntu' ? fromUbuntuPriority(own) : fromSeverityWord(own), raw: own };
  if (t.distro === 'ubuntu') {
    const p = ubuntuCvePriority(a, vulnId);
    if (p) return { severity: fromUbuntuPriority(p), raw: p };
  }
  if (rhFamily(t) && rhImpact) return { severity: fromRedHatImpact(rhImpact), raw: rhImpact };
  const listed = severityFromList(a.severity) ?? severityFromList(rec.severity);
  if (listed) return listed;
  const dbWord = stringField(rec.database_specific, 'severity');
  if (dbWord) return { severity: fromSeverityWord(dbWord), raw: dbWord };
  return { severity: 'unknown', raw: '' };
}

interface Interval {
  introduced: string | null;
  fixed: string | null;
  last_affected: string | null;
}

/** The affected intervals of one ECOSYSTEM range, its events taken in version order. */
export function rangeIntervals(range: OsvRange, scheme: VersionSchemeName): Interval[] {
  const s = getScheme(scheme);
  const events = range.events
    .filter((e) => !('limit' in e))
    .map((e, i) => {
      const [kind, version] = Object.entries(e)[0] as [string, string];
      return { kind, version, i };
    });
  // "0" is the start of time, not a version; equal versions keep their written order.
  events.sort((a, b) => {
    const az = a.kind === 'introduced' && a.version === '0';
    const bz = b.kind === 'introduced' && b.version === '0';
    if (az || bz) return az && bz ? a.i - b.i : az ? -1 : 1;
    return s.compare(a.version, b.version) || a.i - b.i;
  });
  const out: Interval[] = [];
  let open = false;
  let start: string | null = null;
  for (const e of events) {
    if (e.kind === 'introduced') {
      if (!open) {
        open = true;
        start = e.version === '0' ? null : e.version;
      }
    } else if (e.kind === 'fixed') {
      if (open) out.push({ introduced: start, fixed: e.version, last_affected: null });
      open = false;
    } else if (e.kind === 'last_affected') {
      if (open) out.push({ introduced: start, fixed: null, last_affected: e.version });
      open = false;
    }
  }
  if (open) out.push({ introduced: start, fixed: null, last_affected: null });
  return out;
}

function purlDistro(purl: string | undefined): string | null {
  if (!purl) return null;
  const q = purl.indexOf('?');
  if (q < 0) return null;
  const params = new URLSearchParams(purl.slice(q + 1).split('#')[0]);
  return params.get('distro');
}

function availabilityIsPro(a: OsvAffected): boolean {
  const v = stringField(a.ecosystem_specific, 'availability');
  return v !== null && /ubuntu pro/i.test(v);
}

function validVersion(scheme: VersionSchemeName, v: string): string | null {
  return getScheme(scheme).validate(v);
}

/** Converts one record; null when it yields nothing for this feed (reasons are counted or warned). */
export function convertRecord(rec: OsvRecord, origin: string, opts: ConvertOptions): ConvertedRecord | null {
  const cves = recordCves(rec);
  // Every CVE the record names is a vulnerability of its own, found under its CVE id with the
  // advisory among its advisory ids; a record that names no CVE is one under its own id.
  const vulnIds = cves.length ? cves : [rec.id];
  const isAdvisory = ADVISORY_ID.test(rec.id);
  const advisoryIds = new Set<string>();
  if (isAdvisory) advisoryIds.add(rec.id);
  for (const id of [...(rec.related ?? []), ...(rec.upstream ?? [])]) if (ADVISORY_ID.test(id)) advisoryIds.add(id);
  const rh = parseRhSummary(rec.summary);

  const entries: ConvertedEntry[] = [];
  let nonSecurity = false;
  for (const [ai, a] of (rec.affected ?? []).entries()) {
    if (!a.package) continue;
    const mapped = mapEcosystem(a.package.ecosystem);
    if (mapped === null) {
      inc(opts.stats.unknownEcosystems, a.package.ecosystem.split(':')[0]);
      continue;
    }
    if ('skip' in mapped) {
      inc(opts.stats.skippedEcosystems, mapped.skip);
      continue;
    }
    if (!opts.acceptTarget(mapped)) {
      inc(opts.stats.skippedEcosystems, `${a.package.ecosystem} (not imported by the ${opts.feed} feed)`);
      continue;
    }
    if (rhFamily(mapped) && NON_SECURITY_ID.test(rec.id) && cves.length === 0) {
      // A bug-fix or enhancement advisory that fixes no CVE is not a vulnerability.
      nonSecurity = true;
      continue;
    }
    const t = mapped;
    const where = `${origin}: ${rec.id} affected[${ai}] (${a.package.ecosystem} ${a.package.name})`;
    const intervals: Interval[] = [];
    let bad = false;
    const ecosystemRanges = (a.ranges ?? []).filter((r) => r.type === 'ECOSYSTEM');
    for (const r of ecosystemRanges) {
      const versions = r.events.map((e) => Object.values(e)[0] as string).filter((v) => v !== '0');
      const invalid = versions
        .map((v) => [v, validVersion(t.scheme, normaliseVersion(t.scheme, v))] as const)
        .find(([, why]) => why !== null);
      if (invalid) {
        opts.warn(`${where}: skipped, invalid ${t.scheme} version ${JSON.stringify(invalid[0])}: ${invalid[1]}`);
        bad = true;
        break;
      }
      intervals.push(...rangeIntervals(r, t.scheme));
    }
    if (bad) continue;
    if (ecosystemRanges.length === 0 && a.versions?.length) {
      // No range: the listed versions, each one exactly, are affected.
      for (const v of a.versions) {
        const why = validVersion(t.scheme, normaliseVersion(t.scheme, v));
        if (why) {
          opts.warn(`${where}: skipped version ${JSON.stringify(v)}: ${why}`);
          continue;
        }
        intervals.push({ introduced: v, fixed: null, last_affected: v });
      }
    }
    if (intervals.length === 0) continue;
    const pro = t.pro === true || availabilityIsPro(a);
    for (const iv of intervals) {
      const fixed = iv.fixed === null ? null : normaliseVersion(t.scheme, iv.fixed);
      const modular = rhFamily(t) && fixed !== null && /\.module[_+]/.test(fixed);
      // Which module a package of a several-module advisory is from cannot be told from the
      // record: the module build in its release is not the module's name, and the real records
      // share builds across streams (pki-deps and maven, idm:DL1 and idm:client) and list
      // packages of python39-devel under a python39 build. So a modular fix is filed under
      // every stream the summary names. That is safe: the matcher applies a stream-tagged entry
      // only to a package installed from that stream, and a package of this name installed from
      // any of those streams is one the advisory updates.
      const streams: (string | null)[] = modular && rh.streams.length ? rh.streams : [null];
      for (const [moduleStream, vulnId] of streams.flatMap((m) => vulnIds.map((v) => [m, v] as const))) {
        const severity = chooseSeverity(rec, a, t, vulnId, rh.impact);
        const entry: AdvisoryEntry = {
          feed: opts.feed,
          distro: t.distro,
          release: t.release,
          package: a.package.name,
          key_kind: t.key_kind,
          scheme: t.scheme,
          vuln_id: vulnId,
          status: fixed !== null ? 'fixed' : 'affected',
          raw_status:
            fixed !== null
              ? 'fixed'
              : iv.last_affected !== null
                ? 'affected (last affected version known)'
                : 'affected',
          introduced: iv.introduced === null ? null : normaliseVersion(t.scheme, iv.introduced),
          fixed_version: fixed,
          last_affected: iv.last_affected === null ? null : normaliseVersion(t.scheme, iv.last_affected),
          severity: severity.severity,
          raw_severity: severity.raw,
          // Related advisories carry fixes for other releases; an unfixed entry has none.
          advisory_ids: fixed !== null ? [...advisoryIds] : isAdvisory ? [rec.id] : [],
          module_stream: moduleStream,
          arches: [],
          pro_only: fixed !== null && pro,
        };
        entries.push({ entry, purlDistro: purlDistro(a.package.purl), fromPro: t.pro === true });
      }
    }
  }
  if (nonSecurity && entries.length === 0) opts.stats.nonSecurity++;
  if (entries.length === 0) return null;

  const description = [rec.summary, rec.details]
    .filter((s): s is string => Boolean(s?.trim()))
    .map((s) => s.trim())
    .join('\n\n');
  const references = (rec.references ?? []).map((r) => r.url);
  const vulnerabilities = vulnIds.map((id): VulnerabilityInfo => ({
    id,
    aliases: aliasesOf(rec, cves, id),
    description,
    published: rec.published ?? null,
    modified: rec.modified,
    // An advisory links every CVE it fixes: each CVE keeps its own links and the advisory's.
    references: cves.length <= 1 ? references : references.filter((url) => ownReference(url, id)),
  }));
  return { id: rec.id, entries, cves, vulnerabilities, cvss: recordCvss(rec, vulnIds, opts.feed) };
}

/**
 * The CVSS vectors (CVSS_V2/V3/V4) of a record, scored, for the one vulnerability it is about;
 * the scorer is the feed. A record naming several CVEs (an advisory) gets none: its vectors
 * would be the advisory's, not each CVE's. Invalid vectors are left out (the severity rule
 * reads them apart). Record-level and per-package vectors are both read; one per version.
 */
function recordCvss(rec: OsvRecord, vulnIds: readonly string[], feed: string): ConvertedRecord['cvss'] {
  if (vulnIds.length !== 1) return [];
  const out = new Map<string, CvssScore>();
  for (const list of [rec.severity, ...(rec.affected ?? []).map((a) => a.severity)]) {
    for (const s of list ?? []) {
      if (s.type === 'Ubuntu') continue;
      const score = cvssScore(s.score, feed);
      if (score && !out.has(score.version)) out.set(score.version, score);
    }
  }
  return [...out.values()].map((score) => ({ vulnId: vulnIds[0], score }));
}

/** Whether a reference of a several-CVE advisory belongs to CVE `id`: it names that CVE or none. */
function ownReference(url: string, id: string): boolean {
  const named = url.match(CVE_G);
  return named === null || named.includes(id);
}

/**
 * The aliases of one vulnerability a record names. A record about one vulnerability: every
 * other id it gives (its own, its aliases, its upstream). A record about several CVEs (an
 * advisory): the record's own id and the ids it gives that name no CVE; the other CVEs are
 * other vulnerabilities, not names of this one.
 */
function aliasesOf(rec: OsvRecord, cves: readonly string[], id: string): string[] {
  const all = [rec.id, ...cves, ...(rec.aliases ?? []), ...(rec.upstream ?? [])];
  const kept = cves.length <= 1 ? all : all.filter((x) => x === rec.id || cveOf(x) === null);
  return [...new Set(kept)].filter((x) => x !== id);
}
