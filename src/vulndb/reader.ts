// The read side of the vulnerability DB: opens every feed file read-only and answers the
// matcher's lookups. Files are opened once per process; statements are prepared once.
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseSync, type StatementSync } from 'node:sqlite';
import type { AdvisoryLookup, SupportNote } from '../core/lookup.ts';
import type {
  AdvisoryEntry,
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

class FeedFile {
  readonly info: FeedInfo;
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
