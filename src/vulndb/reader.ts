// The read side of the vulnerability DB: opens every feed file read-only and answers the
// matcher's lookups. Files are opened once per process; statements are prepared once.
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseSync, type StatementSync } from 'node:sqlite';
import type { AdvisoryLookup, SupportNote } from '../core/lookup.ts';
import type {
  AdvisoryEntry,
  CvssScore,
  CvssVersion,
  Enrichment,
  EntryStatus,
  PackageKeyKind,
  Severity,
  VersionSchemeName,
  VulnerabilityInfo,
} from '../core/types.ts';
import { SCHEMA_VERSION } from './schema.ts';
import { vulnDbDir } from './paths.ts';
import { PatchloopError } from '../core/errors.ts';

export interface FeedInfo {
  feed: string;
  file: string;
  updated_at: string;
  distros: string[];
  entry_count: number;
  /** Everything else the importer recorded (source, etag, …). */
  meta: Record<string, string>;
}

interface EntryRow {
  distro: string;
  release: string;
  package: string;
  key_kind: string;
  scheme: string;
  vuln_id: string;
  status: string;
  raw_status: string;
  introduced: string | null;
  fixed_version: string | null;
  last_affected: string | null;
  severity: string;
  raw_severity: string;
  advisory_ids: string;
  module_stream: string | null;
  arches: string | null;
  pro_only: number;
  aliases: string | null;
}

interface KevRowRead {
  cve: string;
  date_added: string;
  due_date: string;
  ransomware: number | null;
}
interface EpssRowRead {
  cve: string;
  score: number;
  percentile: number;
}
interface CvssRowRead {
  vuln_id: string;
  source: string;
  version: string;
  score: number;
  vector: string;
}

/** Lookups of one enrichment table: one id, or many ids in one query (a JSON array of them). */
interface EnrichmentTable {
  one: StatementSync;
  many: StatementSync;
}

class FeedFile {
  readonly info: FeedInfo;
  /** Enrichment tables of this file that hold rows (a file written before they existed has none). */
  private readonly kevTable: EnrichmentTable | null;
  private readonly epssTable: EnrichmentTable | null;
  private readonly cvssTable: EnrichmentTable | null;
  /** The day the EPSS scores are of (meta score_date), for an epss file. */
  private readonly epssDate: string | undefined;
  private readonly db: DatabaseSync;
  private readonly byPackage: StatementSync;
  private readonly vuln: StatementSync;
  private readonly supportStmt: StatementSync;
  private readonly manyEntries: StatementSync;
  private readonly manySupport: StatementSync;

  constructor(file: string) {
    try {
      this.db = new DatabaseSync(file, { readOnly: true });
      const meta = Object.fromEntries(
        (this.db.prepare('SELECT key, value FROM meta').all() as { key: string; value: string }[]).map((r) => [
          r.key,
          r.value,
        ]),
      );
      if (Number(meta.schema_version) !== SCHEMA_VERSION) {
        throw new Error(
          `schema version ${meta.schema_version ?? '(none)'}, this patchloop reads ${SCHEMA_VERSION}; run \`patchloop db update\``,
        );
      }
      this.info = {
        feed: meta.feed,
        file,
        updated_at: meta.updated_at,
        distros: JSON.parse(meta.distros ?? '[]') as string[],
        entry_count: Number(meta.entry_count ?? 0),
        meta,
      };
      this.byPackage = this.db.prepare('SELECT * FROM entries WHERE distro = ? AND release = ? AND package = ?');
      this.vuln = this.db.prepare('SELECT * FROM vulnerabilities WHERE id = ?');
      this.supportStmt = this.db.prepare(
        'SELECT kind, note FROM support WHERE distro = ? AND release = ? AND package = ?',
      );
      this.manyEntries = this.db.prepare(
        'SELECT * FROM entries WHERE distro = ? AND release = ? AND package IN (SELECT value FROM json_each(?))',
      );
      this.manySupport = this.db.prepare(
        'SELECT package, kind, note FROM support WHERE distro = ? AND release = ? AND package IN (SELECT value FROM json_each(?))',
      );
      const filled = (table: string, key: string, columns: string): EnrichmentTable | null => {
        const exists = this.db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?").get(table);
        if (!exists || !this.db.prepare(`SELECT 1 FROM ${table} LIMIT 1`).get()) return null;
        return {
          one: this.db.prepare(`SELECT ${columns} FROM ${table} WHERE ${key} = ?`),
          many: this.db.prepare(`SELECT ${columns} FROM ${table} WHERE ${key} IN (SELECT value FROM json_each(?))`),
        };
      };
      this.kevTable = filled('kev', 'cve', 'cve, date_added, due_date, ransomware');
      this.epssTable = filled('epss', 'cve', 'cve, score, percentile');
      this.cvssTable = filled('cvss', 'vuln_id', 'vuln_id, source, version, score, vector');
      this.epssDate = meta.score_date ? meta.score_date.slice(0, 10) : undefined;
    } catch (err) {
      throw new PatchloopError(
        'PL_E_DB_CORRUPT',
        `cannot read vulnerability database ${file}: ${err instanceof Error ? err.message : String(err)}`,
      );
    }
  }

  /**
   * Runs a read of this file. A damaged page only shows when a query reaches it: the error
   * then names the file, as one found at open does.
   */
  private read<T>(fn: () => T): T {
    try {
      return fn();
    } catch (err) {
      throw new PatchloopError(
        'PL_E_DB_CORRUPT',
        `cannot read vulnerability database ${this.info.file}: ${err instanceof Error ? err.message : String(err)}`,
      );
    }
  }

  /** Entries and support notes of many keys in two queries. */
  prefetch(
    distro: string,
    release: string,
    keysJson: string,
  ): { entries: AdvisoryEntry[]; support: Map<string, SupportNote> } {
    return this.read(() => {
      const entries = (this.manyEntries.all(distro, release, keysJson) as unknown as EntryRow[]).map((r) =>
        toEntry(r, this.info.feed),
      );
      const support = new Map<string, SupportNote>();
      for (const r of this.manySupport.all(distro, release, keysJson) as {
        package: string;
        kind: 'ended' | 'limited';
        note: string;
      }[]) {
        support.set(r.package, { kind: r.kind, note: r.note });
      }
      return { entries, support };
    });
  }

  /** Whether this file holds KEV, EPSS or CVSS rows. */
  get enriches(): boolean {
    return this.kevTable !== null || this.epssTable !== null || this.cvssTable !== null;
  }

  /**
   * Adds what this file knows of `ids` (given as a JSON array, or one id) to `out`. The first
   * file to give a vulnerability's KEV or EPSS entry wins; CVSS scores are gathered from all.
   */
  enrich(ids: { json: string } | { id: string }, out: Map<string, Enrichment>): void {
    const rows = <T>(t: EnrichmentTable | null): T[] =>
      t ? (this.read(() => ('json' in ids ? t.many.all(ids.json) : t.one.all(ids.id))) as unknown as T[]) : [];
    const of = (id: string): Enrichment => {
      let e = out.get(id);
      if (!e) out.set(id, (e = {}));
      return e;
    };
    for (const r of rows<KevRowRead>(this.kevTable)) {
      const e = of(r.cve);
      e.kev ??= {
        date_added: r.date_added,
        due_date: r.due_date,
        ransomware: r.ransomware === null ? null : r.ransomware === 1,
      };
    }
    for (const r of rows<EpssRowRead>(this.epssTable)) {
      const e = of(r.cve);
      e.epss ??= {
        score: r.score,
        percentile: r.percentile,
        ...(this.epssDate ? { date: this.epssDate } : {}),
      };
    }
    for (const r of rows<CvssRowRead>(this.cvssTable)) {
      const e = of(r.vuln_id);
      const c: CvssScore = { version: r.version as CvssVersion, score: r.score, vector: r.vector, source: r.source };
      (e.cvss ??= []).push(c);
    }
  }

  covers(distro: string): boolean {
    return this.info.distros.includes(distro);
  }

  entries(distro: string, release: string, pkg: string): AdvisoryEntry[] {
    return this.read(() =>
      (this.byPackage.all(distro, release, pkg) as unknown as EntryRow[]).map((r) => toEntry(r, this.info.feed)),
    );
  }

  vulnerability(id: string): VulnerabilityInfo | null {
    const r = this.read(() => this.vuln.get(id)) as
      | {
          id: string;
          aliases: string;
          description: string;
          published: string | null;
          modified: string | null;
          refs: string;
        }
      | undefined;
    if (!r) return null;
    return {
      id: r.id,
      aliases: JSON.parse(r.aliases) as string[],
      description: r.description,
      published: r.published,
      modified: r.modified,
      references: JSON.parse(r.refs) as string[],
    };
  }

  support(distro: string, release: string, pkg: string): SupportNote | null {
    const r = this.read(() => this.supportStmt.get(distro, release, pkg)) as
      { kind: 'ended' | 'limited'; note: string } | undefined;
    return r ? { kind: r.kind, note: r.note } : null;
  }

  /** Every entry of one distribution release (server-side bulk matching). */
  *allEntries(distro: string, release: string): Iterable<AdvisoryEntry> {
    const rows = this.read(() =>
      this.db.prepare('SELECT * FROM entries WHERE distro = ? AND release = ?').iterate(distro, release),
    ) as Iterator<EntryRow>;
    for (;;) {
      const next = this.read(() => rows.next());
      if (next.done) return;
      yield toEntry(next.value, this.info.feed);
    }
  }

  close(): void {
    this.db.close();
  }
}

function toEntry(r: EntryRow, feed: string): AdvisoryEntry {
  return {
    feed,
    distro: r.distro,
    release: r.release,
    package: r.package,
    key_kind: r.key_kind as PackageKeyKind,
    scheme: r.scheme as VersionSchemeName,
    vuln_id: r.vuln_id,
    status: r.status as EntryStatus,
    raw_status: r.raw_status,
    introduced: r.introduced,
    fixed_version: r.fixed_version,
    last_affected: r.last_affected,
    severity: r.severity as Severity,
    raw_severity: r.raw_severity,
    advisory_ids: parseList(r.advisory_ids),
    module_stream: r.module_stream,
    arches: r.arches ? parseList(r.arches) : [],
    pro_only: r.pro_only === 1,
    ...(r.aliases !== null ? { aliases: parseList(r.aliases) } : {}),
  };
}

/** JSON string arrays; most are empty, and a scan reads thousands of them. */
function parseList(json: string): string[] {
  return json === '[]' ? [] : (JSON.parse(json) as string[]);
}

/** An open vulnerability DB: every feed file present under the data directory. */
export class VulnDb implements AdvisoryLookup {
  private readonly files: FeedFile[];
  /** Filled by prefetch(): `${distro}\0${release}` → key → entries / support notes. */
  private prefetched: {
    scope: string;
    entries: Map<string, AdvisoryEntry[]>;
    support: Map<string, SupportNote>;
  } | null = null;

  private constructor(files: FeedFile[]) {
    this.files = files;
  }

  prefetch(distro: string, release: string, packageKeys: readonly string[]): void {
    const keysJson = JSON.stringify([...new Set(packageKeys)]);
    const entries = new Map<string, AdvisoryEntry[]>();
    const support = new Map<string, SupportNote>();
    for (const k of packageKeys) entries.set(k, []);
    for (const f of this.files) {
      if (!f.covers(distro)) continue;
      const got = f.prefetch(distro, release, keysJson);
      for (const e of got.entries) entries.get(e.package)?.push(e);
      for (const [k, note] of got.support) if (!support.has(k)) support.set(k, note);
    }
    this.prefetched = { scope: `${distro}\0${release}`, entries, support };
  }

  private fromPrefetch(distro: string, release: string): VulnDb['prefetched'] {
    return this.prefetched?.scope === `${distro}\0${release}` ? this.prefetched : null;
  }

  /** Opens the feed files present; `feeds` restricts to those names. Missing DB: empty list of feeds. */
  static open(dataDir: string, feeds?: string[]): VulnDb {
    const dir = vulnDbDir(dataDir);
    const names = existsSync(dir)
      ? readdirSync(dir)
          .filter((f) => f.endsWith('.sqlite'))
          .sort()
      : [];
    const wanted = feeds ? names.filter((n) => feeds.includes(n.slice(0, -'.sqlite'.length))) : names;
    return new VulnDb(wanted.map((n) => new FeedFile(join(dir, n))));
  }

  feeds(): FeedInfo[] {
    return this.files.map((f) => f.info);
  }

  /** Feeds that carry data for this distribution. */
  feedsFor(distro: string): FeedInfo[] {
    return this.files.filter((f) => f.covers(distro)).map((f) => f.info);
  }

  entries(distro: string, release: string, packageKey: string): AdvisoryEntry[] {
    const cached = this.fromPrefetch(distro, release)?.entries.get(packageKey);
    if (cached) return cached;
    const out: AdvisoryEntry[] = [];
    for (const f of this.files) if (f.covers(distro)) out.push(...f.entries(distro, release, packageKey));
    return out;
  }

  *allEntries(distro: string, release: string): Iterable<AdvisoryEntry> {
    for (const f of this.files) if (f.covers(distro)) yield* f.allEntries(distro, release);
  }

  vulnerability(id: string): VulnerabilityInfo | null {
    for (const f of this.files) {
      const v = f.vulnerability(id);
      if (v) return v;
    }
    return null;
  }

  /** Whether any feed file holds KEV, EPSS or CVSS data (else enrichment is always empty). */
  hasEnrichment(): boolean {
    return this.files.some((f) => f.enriches);
  }

  /**
   * KEV, EPSS and CVSS of one vulnerability id (a CVE; other ids have no KEV or EPSS): an
   * indexed lookup per feed file that has such data. Null when nothing is known.
   */
  enrichment(id: string): Enrichment | null {
    const out = new Map<string, Enrichment>();
    for (const f of this.files) if (f.enriches) f.enrich({ id }, out);
    const e = out.get(id);
    if (e?.cvss) e.cvss.sort(compareCvss);
    return e ?? null;
  }

  /**
   * KEV, EPSS and CVSS of many vulnerability ids: one query per table and feed file, whatever
   * their number (a scan's few thousand, or a fleet's). Ids nothing is known of are absent.
   */
  enrichMany(ids: Iterable<string>): Map<string, Enrichment> {
    const out = new Map<string, Enrichment>();
    const enriching = this.files.filter((f) => f.enriches);
    if (enriching.length === 0) return out;
    const json = JSON.stringify([...new Set(ids)]);
    for (const f of enriching) f.enrich({ json }, out);
    for (const e of out.values()) if (e.cvss) e.cvss.sort(compareCvss);
    return out;
  }

  support(distro: string, release: string, packageKey: string): SupportNote | null {
    const cached = this.fromPrefetch(distro, release);
    if (cached?.entries.has(packageKey)) return cached.support.get(packageKey) ?? null;
    for (const f of this.files) {
      if (!f.covers(distro)) continue;
      const s = f.support(distro, release, packageKey);
      if (s) return s;
    }
    return null;
  }

  close(): void {
    for (const f of this.files) f.close();
  }
}

/** CVSS scores newest version first, then by scorer: the first is the one to show. */
function compareCvss(a: CvssScore, b: CvssScore): number {
  return Number(b.version) - Number(a.version) || (a.source < b.source ? -1 : a.source > b.source ? 1 : 0);
}
