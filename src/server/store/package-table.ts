// The interned packages in memory, kept lean because a host may report 100,000 of them: one
// object per package (its fields parsed once), a lookup by name (then version and the other
// fields), and the digest hashes in one typed array. About 350 bytes per package, against
// about 850 with a key string, a typed array per hash and a map per name and version.
//
// Reference counts live here too: `holders` (host sets, reports in preparation) and `pinned`
// (named by history). A package with neither is garbage, listed for the collector.
import type { DatabaseSync, StatementSync } from 'node:sqlite';
import { kernelRole } from '../../core/kernel.ts';
import { keyHash, packageKey, type WirePackage } from '../../core/protocol.ts';
import type { InstalledPackage, PackageFormat } from '../../core/types.ts';
import { Pending } from './pending.ts';

export interface InternedPackage {
  id: number;
  pkg: InstalledPackage;
  nameId: number;
  /** A kernel image: its findings depend on the running kernel. */
  kernelImage: boolean;
  /** Host package sets that have it, plus reports in preparation that hold it. */
  holders: number;
  /** Named by a finding or an event: never collected. */
  pinned: boolean;
  /** Its hash's place in the hash slab. */
  slot: number;
}

/** sha256 of each package key (its share of a set's digest), 8 words per slot; freed slots are reused. */
class HashSlab {
  private words = new Uint32Array(8 * 1024);
  private next = 0;
  private readonly free: number[] = [];

  put(hash: Uint32Array): number {
    const slot = this.free.pop() ?? this.next++;
    if ((slot + 1) * 8 > this.words.length) {
      const grown = new Uint32Array(this.words.length * 2);
      grown.set(this.words);
      this.words = grown;
    }
    this.words.set(hash, slot * 8);
    return slot;
  }

  /** A view of the slot (valid while its package is held: a freed slot is reused). */
  get(slot: number): Uint32Array {
    return this.words.subarray(slot * 8, slot * 8 + 8);
  }

  release(slot: number): void {
    this.free.push(slot);
  }
}

export function fromKey(key: string): InstalledPackage {
  const [name, version, arch, source, source_version, format, vendor, modularity_label, epoch] = JSON.parse(key) as [
    string,
    string,
    string,
    string,
    string,
    PackageFormat,
    string | null,
    string | null,
    number | null,
  ];
  const p: InstalledPackage = { name, version, arch, source, source_version, format };
  if (vendor !== null) p.vendor = vendor;
  if (modularity_label !== null) p.modularity_label = modularity_label;
  if (epoch !== null) p.epoch = epoch;
  return p;
}

function samePackage(q: InstalledPackage, p: InstalledPackage | WirePackage): boolean {
  return (
    q.version === p.version &&
    q.arch === p.arch &&
    q.source === p.source &&
    q.source_version === p.source_version &&
    q.format === p.format &&
    q.vendor === p.vendor &&
    q.modularity_label === p.modularity_label &&
    q.epoch === p.epoch
  );
}

export class PackageTable {
  readonly byId = new Map<number, InternedPackage>();
  /** name → the package, or the packages, of that name (versions, arches: a handful). */
  private readonly byName = new Map<string, InternedPackage | InternedPackage[]>();
  private readonly hashes = new HashSlab();
  private readonly insert: StatementSync;
  private readonly pending = new Pending<number>();
  /** Packages neither held nor pinned: what the collector may delete. */
  readonly unheld = new Set<number>();
  /** Interned packages per package name id (a name goes when its last package goes). */
  private readonly nameUse = new Map<number, number>();
  private readonly nameIdOf: (name: string, arch: string) => number;

  constructor(db: DatabaseSync, nameIdOf: (name: string, arch: string) => number) {
    this.insert = db.prepare('INSERT INTO pkgs (key) VALUES (?)');
    this.nameIdOf = nameIdOf;
  }

  /** Loads a stored package (at startup). */
  load(id: number, key: string, pinned: boolean): void {
    this.add(id, fromKey(key), keyHash(key)).pinned = pinned;
  }

  private add(id: number, pkg: InstalledPackage, hash: Uint32Array): InternedPackage {
    const ip: InternedPackage = {
      id,
      pkg,
      nameId: this.nameIdOf(pkg.name, pkg.arch),
      kernelImage: kernelRole(pkg, pkg.format, null).kind === 'image',
      holders: 0,
      pinned: false,
      slot: this.hashes.put(hash),
    };
    this.byId.set(id, ip);
    const same = this.byName.get(pkg.name);
    if (same === undefined) this.byName.set(pkg.name, ip);
    else if (Array.isArray(same)) same.push(ip);
    else this.byName.set(pkg.name, [same, ip]);
    this.nameUse.set(ip.nameId, (this.nameUse.get(ip.nameId) ?? 0) + 1);
    return ip;
  }

  /** Drops a package from memory: lookups, hash slot, garbage list, its name's use count. */
  drop(ip: InternedPackage): void {
    this.byId.delete(ip.id);
    const same = this.byName.get(ip.pkg.name);
    if (Array.isArray(same)) {
      const rest = same.filter((x) => x !== ip);
      this.byName.set(ip.pkg.name, rest.length === 1 ? rest[0] : rest);
    } else if (same === ip) {
      this.byName.delete(ip.pkg.name);
    }
    this.hashes.release(ip.slot);
    this.unheld.delete(ip.id);
    const left = (this.nameUse.get(ip.nameId) ?? 1) - 1;
    if (left > 0) this.nameUse.set(ip.nameId, left);
    else this.nameUse.delete(ip.nameId);
  }

  find(p: InstalledPackage | WirePackage): InternedPackage | undefined {
    const same = this.byName.get(p.name);
    if (same === undefined) return undefined;
    if (!Array.isArray(same)) return samePackage(same.pkg, p) ? same : undefined;
    for (const ip of same) if (samePackage(ip.pkg, p)) return ip;
    return undefined;
  }

  /** The id for a protocol packageKey(), interning it (unheld until a set holds it) when new. */
  idForKey(key: string): number {
    const pkg = fromKey(key);
    const known = this.find(pkg);
    if (known) return known.id;
    const id = Number(this.insert.run(key).lastInsertRowid);
    this.add(id, pkg, keyHash(key));
    this.unheld.add(id);
    this.pending.add(id);
    return id;
  }

  idFor(pkg: InstalledPackage): number {
    return this.find(pkg)?.id ?? this.idForKey(packageKey(pkg));
  }

  hash(ip: InternedPackage): Uint32Array {
    return this.hashes.get(ip.slot);
  }

  nameUses(nameId: number): number {
    return this.nameUse.get(nameId) ?? 0;
  }

  commit(): void {
    this.pending.commit();
  }

  get mark(): number {
    return this.pending.mark;
  }

  /** Forgets packages interned since `mark`; how many. */
  rollback(mark = 0): number {
    return this.pending.rollback((id) => this.drop(this.byId.get(id)!), mark);
  }
}
