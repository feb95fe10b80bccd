// Interned values held in memory and in the store: each distinct package, package name,
// vulnerability id and finding detail gets one integer id. New ids are written in the caller's
// transaction; if it rolls back, rollback() forgets them so memory and store stay in step.
import type { DatabaseSync, StatementSync } from 'node:sqlite';
import { kernelRole } from '../../core/kernel.ts';
import { keyHash, packageKey, type WirePackage } from '../../core/protocol.ts';
import type { FindingStatus, InstalledPackage, PackageFormat, Severity } from '../../core/types.ts';

export interface InternedPackage {
  id: number;
  key: string;
  pkg: InstalledPackage;
  /** sha256 of the key: its share of the package-set digest. */
  hash: Uint32Array;
  nameId: number;
  /** A kernel image: its findings depend on the running kernel. */
  kernelImage: boolean;
}

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
  private pending: { key: string; id: number }[] = [];

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
    this.pending.push({ key, id });
    return id;
  }

  commit(): void {
    this.pending = [];
  }

  get mark(): number {
    return this.pending.length;
  }

  /** Forgets what was interned since `mark` (everything by default); returns what it forgot. */
  rollback(mark = 0): V[] {
    const dropped = this.pending.splice(mark);
    const values: V[] = [];
    for (const { key, id } of dropped) {
      values.push(this.byId.get(id)!);
      this.byKey.delete(key);
      this.byId.delete(id);
    }
    return values;
  }
}

export class Interner {
  private readonly pkgs: Table<InternedPackage>;
  /** name → version → packages: finds a reported package without building its key. */
  private readonly byNameVersion = new Map<string, Map<string, InternedPackage[]>>();
  private readonly names: Table<{ name: string; arch: string }>;
  private readonly vulns: Table<string>;
  private readonly details: Table<FindingDetail>;

  constructor(db: DatabaseSync) {
    this.pkgs = new Table(db, 'INSERT INTO pkgs (key) VALUES (?)', (k) => [k]);
    this.names = new Table(db, 'INSERT INTO pkg_names (name, arch) VALUES (?, ?)', (k) => JSON.parse(k) as [string, string]);
    this.vulns = new Table(db, 'INSERT INTO vulns (name) VALUES (?)', (k) => [k]);
    this.details = new Table(db, 'INSERT INTO details (key) VALUES (?)', (k) => [k]);
    for (const r of db.prepare('SELECT id, name, arch FROM pkg_names').iterate() as Iterable<{ id: number; name: string; arch: string }>) {
      this.names.load(JSON.stringify([r.name, r.arch]), r.id, { name: r.name, arch: r.arch });
    }
    for (const r of db.prepare('SELECT id, key FROM pkgs').iterate() as Iterable<{ id: number; key: string }>) {
      this.pkgs.load(r.key, r.id, this.makePackage(r.id, r.key, fromKey(r.key)));
    }
    for (const r of db.prepare('SELECT id, name FROM vulns').iterate() as Iterable<{ id: number; name: string }>) {
      this.vulns.load(r.name, r.id, r.name);
    }
    for (const r of db.prepare('SELECT id, key FROM details').iterate() as Iterable<{ id: number; key: string }>) {
      this.details.load(r.key, r.id, parseDetailKey(r.key));
    }
  }

  private makePackage(id: number, key: string, pkg: InstalledPackage): InternedPackage {
    const ip: InternedPackage = {
      id,
      key,
      pkg,
      hash: keyHash(key),
      nameId: this.nameId(pkg.name, pkg.arch),
      kernelImage: kernelRole(pkg, pkg.format as PackageFormat, null).kind === 'image',
    };
    let versions = this.byNameVersion.get(pkg.name);
    if (!versions) {
      versions = new Map();
      this.byNameVersion.set(pkg.name, versions);
    }
    const list = versions.get(pkg.version);
    if (list) list.push(ip);
    else versions.set(pkg.version, [ip]);
    return ip;
  }

  /** The id of a package already interned with exactly these fields, or undefined. */
  find(p: InstalledPackage | WirePackage): number | undefined {
    const list = this.byNameVersion.get(p.name)?.get(p.version);
    if (!list) return undefined;
    for (const ip of list) {
      const q = ip.pkg;
      if (
        q.arch === p.arch && q.source === p.source && q.source_version === p.source_version && q.format === p.format &&
        q.vendor === p.vendor && q.modularity_label === p.modularity_label && q.epoch === p.epoch
      ) {
        return ip.id;
      }
    }
    return undefined;
  }

  packageId(pkg: InstalledPackage): number {
    return this.packageIdForKey(packageKey(pkg));
  }

  /** The id for a protocol packageKey(), interning it when new. */
  packageIdForKey(key: string): number {
    return this.pkgs.id(key, (id) => this.makePackage(id, key, fromKey(key)));
  }

  /** The id of an already known package key, or undefined. */
  knownPackage(key: string): number | undefined {
    return this.pkgs.byKey.get(key);
  }

  pkg(id: number): InternedPackage {
    const p = this.pkgs.byId.get(id);
    if (!p) throw new Error(`store inconsistency: unknown package id ${id}`);
    return p;
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

  vuln(id: number): string {
    const v = this.vulns.byId.get(id);
    if (v === undefined) throw new Error(`store inconsistency: unknown vulnerability id ${id}`);
    return v;
  }

  detailId(d: FindingDetail): number {
    const key = JSON.stringify([d.status, d.raw_status, d.fixed_version, d.severity, d.raw_severity, d.feed, d.advisory_ids]);
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

  commit(): void {
    for (const t of [this.pkgs, this.names, this.vulns, this.details] as Table<unknown>[]) t.commit();
  }

  /** Where the pending (uncommitted) values stand now, to roll back to. */
  mark(): number[] {
    return ([this.pkgs, this.names, this.vulns, this.details] as Table<unknown>[]).map((t) => t.mark);
  }

  /** Forgets values interned since `mark` (all uncommitted ones by default); true if any were. */
  rollback(mark?: number[]): boolean {
    const pkgs = this.pkgs.rollback(mark?.[0] ?? 0);
    for (const ip of pkgs) {
      const versions = this.byNameVersion.get(ip.pkg.name);
      const list = versions?.get(ip.pkg.version)?.filter((x) => x !== ip);
      if (list?.length) versions!.set(ip.pkg.version, list);
      else versions?.delete(ip.pkg.version);
    }
    let dropped = pkgs.length;
    ([this.names, this.vulns, this.details] as Table<unknown>[]).forEach((t, i) => (dropped += t.rollback(mark?.[i + 1] ?? 0).length));
    return dropped > 0;
  }
}

function fromKey(key: string): InstalledPackage {
  const [name, version, arch, source, source_version, format, vendor, modularity_label, epoch] = JSON.parse(key) as [
    string, string, string, string, string, PackageFormat, string | null, string | null, number | null,
  ];
  const p: InstalledPackage = { name, version, arch, source, source_version, format };
  if (vendor !== null) p.vendor = vendor;
  if (modularity_label !== null) p.modularity_label = modularity_label;
  if (epoch !== null) p.epoch = epoch;
  return p;
}

/** The detail JSON keys are positional: this reads them back. */
export function parseDetailKey(key: string): FindingDetail {
  const [status, raw_status, fixed_version, severity, raw_severity, feed, advisory_ids] = JSON.parse(key) as [
    FindingStatus, string, string | null, Severity, string, string, string[],
  ];
  return { status, raw_status, fixed_version, severity, raw_severity, feed, advisory_ids };
}
