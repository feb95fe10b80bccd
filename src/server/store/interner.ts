// Interned values held in memory and in the store: each distinct package, package name,
// vulnerability id and finding detail gets one integer id. New ids are written in the caller's
// transaction; if it rolls back, rollback() forgets them so memory and store stay in step.
//
// Packages are reference-counted so that memory follows the fleet, not every package ever
// reported: a package is held by each host whose current set has it (and, briefly, by a report
// being prepared); one named by a finding or an event is pinned (history names it forever).
// A package neither held nor pinned is garbage: package-gc.ts deletes it from store and memory.
import type { DatabaseSync, StatementSync } from 'node:sqlite';
import type { WirePackage } from '../../core/protocol.ts';
import type { FindingStatus, InstalledPackage, Severity } from '../../core/types.ts';
import { normaliseVulnId } from '../../core/vuln-id.ts';
import { decodeIds } from './package-set.ts';
import { PackageTable, type InternedPackage } from './package-table.ts';
import { Pending } from './pending.ts';
import { VulnAliases } from './vuln-aliases.ts';

export type { InternedPackage } from './package-table.ts';

export interface FindingDetail {
  status: FindingStatus;
  raw_status: string;
  fixed_version: string | null;
  severity: Severity;
  raw_severity: string;
  feed: string;
  advisory_ids: string[];
}

class Table<V> {
  readonly byKey = new Map<string, number>();
  readonly byId = new Map<number, V>();
  private readonly insert: StatementSync;
  private readonly insertArgs: (key: string) => (string | number)[];
  private readonly pending = new Pending<{ key: string; id: number }>();

  constructor(db: DatabaseSync, insertSql: string, insertArgs: (key: string) => (string | number)[]) {
    this.insert = db.prepare(insertSql);
    this.insertArgs = insertArgs;
  }

  load(key: string, id: number, value: V): void {
    this.byKey.set(key, id);
    this.byId.set(id, value);
  }

  id(key: string, make: (id: number) => V): number {
    const known = this.byKey.get(key);
    if (known !== undefined) return known;
    const id = Number(this.insert.run(...this.insertArgs(key)).lastInsertRowid);
    this.byKey.set(key, id);
    this.byId.set(id, make(id));
    this.pending.add({ key, id });
    return id;
  }

  commit(): void {
    this.pending.commit();
  }

  get mark(): number {
    return this.pending.mark;
  }

  /** Drops a value from memory (its row is deleted by the caller). */
  drop(key: string, id: number): void {
    this.byKey.delete(key);
    this.byId.delete(id);
  }

  /** Forgets what was interned since `mark` (everything by default); how many. */
  rollback(mark = 0): number {
    return this.pending.rollback(({ key, id }) => this.drop(key, id), mark);
  }
}

export class Interner {
  private readonly pkgs: PackageTable;
  private readonly names: Table<{ name: string; arch: string }>;
  private readonly vulns: Table<string>;
  private readonly details: Table<FindingDetail>;
  private readonly srcs: Table<string>;
  /** Other names of the vulnerabilities (aliases, advisory ids): what searches find them by. */
  readonly aliases: VulnAliases;
  /** Called when packages became garbage (the server schedules a collection). */
  onGarbage: () => void = () => {};

  constructor(db: DatabaseSync) {
    this.names = new Table(
      db,
      'INSERT INTO pkg_names (name, arch) VALUES (?, ?)',
      (k) => JSON.parse(k) as [string, string],
    );
    this.pkgs = new PackageTable(db, (name, arch) => this.nameId(name, arch));
    this.vulns = new Table(db, 'INSERT INTO vulns (name) VALUES (?)', (k) => [k]);
    this.details = new Table(db, 'INSERT INTO details (key) VALUES (?)', (k) => [k]);
    this.srcs = new Table(db, 'INSERT INTO srcs (name) VALUES (?)', (k) => [k]);
    this.aliases = new VulnAliases(db);
    for (const r of db.prepare('SELECT id, name, arch FROM pkg_names').iterate() as Iterable<{
      id: number;
      name: string;
      arch: string;
    }>) {
      this.names.load(JSON.stringify([r.name, r.arch]), r.id, { name: r.name, arch: r.arch });
    }
    for (const r of db.prepare('SELECT id, key, pinned FROM pkgs').iterate() as Iterable<{
      id: number;
      key: string;
      pinned: number;
    }>) {
      this.pkgs.load(r.id, r.key, r.pinned === 1);
    }
    for (const r of db.prepare('SELECT ids FROM host_packages').iterate() as Iterable<{ ids: Uint8Array }>) {
      for (const id of decodeIds(r.ids)) this.pkg(id).holders++;
    }
    for (const ip of this.pkgs.byId.values()) if (ip.holders === 0 && !ip.pinned) this.pkgs.unheld.add(ip.id);
    for (const r of db.prepare('SELECT id, name FROM vulns').iterate() as Iterable<{ id: number; name: string }>) {
      this.vulns.load(r.name, r.id, r.name);
    }
    for (const r of db.prepare('SELECT id, key FROM details').iterate() as Iterable<{ id: number; key: string }>) {
      this.details.load(r.key, r.id, parseDetailKey(r.key));
    }
    for (const r of db.prepare('SELECT id, name FROM srcs').iterate() as Iterable<{ id: number; name: string }>) {
      this.srcs.load(r.name, r.id, r.name);
    }
  }

  /** The id of a package already interned with exactly these fields, or undefined. */
  find(p: InstalledPackage | WirePackage): number | undefined {
    return this.pkgs.find(p)?.id;
  }

  packageId(pkg: InstalledPackage): number {
    return this.pkgs.idFor(pkg);
  }

  /** The id for a protocol packageKey(), interning it when new (unheld until a set holds it). */
  packageIdForKey(key: string): number {
    return this.pkgs.idForKey(key);
  }

  pkg(id: number): InternedPackage {
    const p = this.pkgs.byId.get(id);
    if (!p) throw new Error(`store inconsistency: unknown package id ${id}`);
    return p;
  }

  /** sha256 of the package's key: its share of the package-set digest (a view: use it at once). */
  hash(id: number): Uint32Array {
    return this.pkgs.hash(this.pkg(id));
  }

  /** A host set (or a report in preparation) now has these packages. */
  hold(ids: Iterable<number>): void {
    for (const id of ids) {
      const ip = this.pkg(id);
      if (ip.holders++ === 0) this.pkgs.unheld.delete(id);
    }
  }

  /** A host set (or a report in preparation) no longer has these packages. */
  release(ids: Iterable<number>): void {
    let garbage = false;
    for (const id of ids) {
      const ip = this.pkg(id);
      if (ip.holders <= 0) throw new Error(`store inconsistency: package ${id} released more often than held`);
      if (--ip.holders === 0 && !ip.pinned) {
        this.pkgs.unheld.add(id);
        garbage = true;
      }
    }
    if (garbage) this.onGarbage();
  }

  /** Packages now named by committed findings or events (their rows are marked pinned). */
  markPinned(ids: Iterable<number>): void {
    for (const id of ids) {
      const ip = this.pkgs.byId.get(id);
      if (!ip) continue;
      ip.pinned = true;
      this.pkgs.unheld.delete(id);
    }
  }

  /** Up to `limit` packages that nothing holds or pins. */
  garbage(limit: number): number[] {
    const out: number[] = [];
    for (const id of this.pkgs.unheld) {
      if (out.length >= limit) break;
      out.push(id);
    }
    return out;
  }

  get garbageCount(): number {
    return this.pkgs.unheld.size;
  }

  /** Forgets collected packages (their rows were deleted in the committed transaction). */
  forget(ids: Iterable<number>): void {
    for (const id of ids) {
      const ip = this.pkgs.byId.get(id);
      if (ip) this.pkgs.drop(ip);
    }
  }

  /** Forgets package names that no package has any more (their rows were deleted). */
  forgetNames(ids: Iterable<number>): void {
    for (const id of ids) {
      const n = this.names.byId.get(id);
      if (n && this.pkgs.nameUses(id) === 0) this.names.drop(JSON.stringify([n.name, n.arch]), id);
    }
  }

  /** How many interned packages have this name id. */
  nameUses(id: number): number {
    return this.pkgs.nameUses(id);
  }

  nameId(name: string, arch: string): number {
    return this.names.id(JSON.stringify([name, arch]), () => ({ name, arch }));
  }

  name(id: number): { name: string; arch: string } {
    const n = this.names.byId.get(id);
    if (!n) throw new Error(`store inconsistency: unknown package name id ${id}`);
    return n;
  }

  vulnId(name: string): number {
    return this.vulns.id(name, () => name);
  }

  knownVuln(name: string): number | undefined {
    return this.vulns.byKey.get(name);
  }

  /**
   * The vulnerabilities `text` (as a user types it) names: the one of that id (in any case; a
   * suffixed CVE id names its CVE) and those it is an alias or an advisory of.
   */
  vulnsNamed(text: string): number[] {
    const id = normaliseVulnId(text);
    const out = new Set<number>();
    const direct = this.knownVuln(id) ?? this.knownVuln(id.toUpperCase());
    if (direct !== undefined) out.add(direct);
    for (const v of this.aliases.named(id)) out.add(v);
    return [...out];
  }

  /** The id of a source package name, interning it when new. */
  srcId(name: string): number {
    return this.srcs.id(name, () => name);
  }

  knownSrc(name: string): number | undefined {
    return this.srcs.byKey.get(name);
  }

  source(id: number): string {
    const s = this.srcs.byId.get(id);
    if (s === undefined) throw new Error(`store inconsistency: unknown source package id ${id}`);
    return s;
  }

  vuln(id: number): string {
    const v = this.vulns.byId.get(id);
    if (v === undefined) throw new Error(`store inconsistency: unknown vulnerability id ${id}`);
    return v;
  }

  detailId(d: FindingDetail): number {
    const key = JSON.stringify([
      d.status,
      d.raw_status,
      d.fixed_version,
      d.severity,
      d.raw_severity,
      d.feed,
      d.advisory_ids,
    ]);
    return this.details.id(key, () => d);
  }

  detail(id: number): FindingDetail {
    const d = this.details.byId.get(id);
    if (!d) throw new Error(`store inconsistency: unknown detail id ${id}`);
    return d;
  }

  get packageCount(): number {
    return this.pkgs.byId.size;
  }

  private get tables(): Table<unknown>[] {
    return [this.names, this.vulns, this.details, this.srcs] as Table<unknown>[];
  }

  commit(): void {
    this.pkgs.commit();
    for (const t of this.tables) t.commit();
    this.aliases.commit();
  }

  /** Where the pending (uncommitted) values stand now, to roll back to. */
  mark(): number[] {
    return [this.pkgs.mark, ...this.tables.map((t) => t.mark), this.aliases.mark];
  }

  /** Forgets values interned since `mark` (all uncommitted ones by default); true if any were. */
  rollback(mark?: number[]): boolean {
    // Packages first: dropping one updates its name's use count before the name goes.
    let dropped = this.pkgs.rollback(mark?.[0] ?? 0);
    const tables = this.tables;
    tables.forEach((t, i) => (dropped += t.rollback(mark?.[i + 1] ?? 0)));
    // Names dropped here name nothing a cache holds: they do not count as dropped ids.
    this.aliases.rollback(mark?.[tables.length + 1] ?? 0);
    return dropped > 0;
  }
}

/** The detail JSON keys are positional: this reads them back. */
export function parseDetailKey(key: string): FindingDetail {
  const [status, raw_status, fixed_version, severity, raw_severity, feed, advisory_ids] = JSON.parse(key) as [
    FindingStatus,
    string,
    string | null,
    Severity,
    string,
    string,
    string[],
  ];
  return { status, raw_status, fixed_version, severity, raw_severity, feed, advisory_ids };
}
