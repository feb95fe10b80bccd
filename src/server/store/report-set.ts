// The package set a report leads to, worked out before anything is written: ids of packages
// already interned, keys of new ones, and the digest check. Linear in the report (sets, and a
// binary search in the stored sorted set), and fed in steps so that a large report can be
// resolved with the event loop free between steps.
import {
  EMPTY_DIGEST,
  keyHash,
  packageKey,
  toggleDigest,
  type Report,
  type ResendFull,
  type WirePackage,
} from '../../core/protocol.ts';
import { decodeIds, hasId } from './package-set.ts';
import type { Store } from './store.ts';
import { PatchloopError } from '../../core/errors.ts';

export class ReportError extends PatchloopError {
  constructor(message: string) {
    super('PL_E_REPORT_INVALID', message);
  }
}

export interface NewSet {
  /** Ids of packages already interned that are in the new set. */
  keep: number[];
  /** Package keys not interned yet (interned when the set is committed, or prepared). */
  fresh: string[];
  added: number;
  removed: number;
  /** Package names+arch touched by a delta (null for a full report: compare everything). */
  touched: Set<number> | null;
}

/** The host's stored set the report applies to (a delta's base; for a full report, what it replaces). */
export interface StoredSet {
  digest: string;
  /** Sorted package ids. */
  ids: Uint32Array;
}

/** The host's stored package set, or null when it has none yet. */
export function storedSet(store: Store, hostId: number): StoredSet | null {
  const row = store.get<{ digest: string; ids: Uint8Array }>(
    'SELECT digest, ids FROM host_packages WHERE host_id = ?',
    hostId,
  );
  return row ? { digest: row.digest, ids: decodeIds(row.ids) } : null;
}

export type Resend = { kind: 'resend'; body: ResendFull };

export const resend = (message: string, digest: string | null): Resend => ({
  kind: 'resend',
  body: { error: 'resend_full', message, digest },
});

/**
 * Works through a report's packages: step() takes a bounded number of them, finish() gives the
 * new set, a request for a full report (a delta that does not apply), or throws ReportError (a
 * full report whose digest is not that of its packages).
 */
export class SetResolver {
  private readonly store: Store;
  private readonly report: Report;
  private readonly stored: StoredSet | null;
  private readonly keep: number[] = [];
  private readonly fresh: string[] = [];
  private readonly freshKeys = new Set<string>();
  /** XOR of the hashes of every package toggled in or out so far. */
  private readonly acc = new Uint32Array(8);
  private readonly seen = new Set<number>();
  private readonly drop = new Set<number>();
  private readonly touched = new Set<number>();
  /** Position in the packages (full), or in removed then added (delta). */
  private pos = 0;
  private failed: Resend | null = null;
  /** Ids found interned so far (a preparing report holds them against collection). */
  readonly found: number[] = [];

  constructor(store: Store, report: Report, stored: StoredSet | null) {
    this.store = store;
    this.report = report;
    this.stored = stored;
  }

  get total(): number {
    return this.report.kind === 'full'
      ? this.report.packages.length
      : this.report.removed.length + this.report.added.length;
  }

  /** Handles up to `budget` more packages; true when all are done (or the delta failed). */
  step(budget: number): boolean {
    const end = Math.min(this.total, this.pos + budget);
    const r = this.report;
    for (; this.pos < end && !this.failed; this.pos++) {
      if (r.kind === 'full') this.addFull(r.packages[this.pos]);
      else if (this.pos < r.removed.length) this.removeDelta(r.removed[this.pos]);
      else this.addDelta(r.added[this.pos - r.removed.length]);
    }
    return this.failed !== null || this.pos >= this.total;
  }

  finish(): NewSet | Resend {
    if (this.failed) return this.failed;
    const r = this.report;
    if (r.kind === 'full') {
      const digest = toggleDigest(EMPTY_DIGEST, [this.acc]);
      if (digest !== r.digest) {
        throw new ReportError(
          `digest ${r.digest} does not match the ${this.keep.length + this.fresh.length} packages in the report (they give ${digest})`,
        );
      }
      return {
        keep: this.keep,
        fresh: this.fresh,
        added: this.keep.length + this.fresh.length,
        removed: 0,
        touched: null,
      };
    }
    const stored = this.stored!;
    if (toggleDigest(stored.digest, [this.acc]) !== r.digest)
      return resend("the package set after the delta differs from the agent's", stored.digest);
    // What stays of the stored set comes first, then the additions found interned.
    const keep: number[] = [];
    for (const id of stored.ids) if (!this.drop.has(id)) keep.push(id);
    for (const id of this.keep) keep.push(id);
    return { keep, fresh: this.fresh, added: r.added.length, removed: r.removed.length, touched: this.touched };
  }

  private toggle(hash: Uint32Array): void {
    for (let i = 0; i < 8; i++) this.acc[i] ^= hash[i];
  }

  private addFresh(p: WirePackage): void {
    const key = packageKey(p);
    if (this.freshKeys.has(key)) return;
    this.freshKeys.add(key);
    this.fresh.push(key);
    this.toggle(keyHash(key));
  }

  private addFull(p: WirePackage): void {
    // Known packages have their id and hash already; only new ones are keyed and hashed.
    const id = this.store.interner.find(p);
    if (id === undefined) return this.addFresh(p);
    if (this.seen.has(id)) return;
    this.seen.add(id);
    this.found.push(id);
    this.keep.push(id);
    this.toggle(this.store.interner.hash(id));
  }

  private removeDelta(p: WirePackage): void {
    const stored = this.stored!;
    const id = this.store.interner.find(p);
    if (id === undefined || !hasId(stored.ids, id) || this.drop.has(id)) {
      this.failed = resend(`removed package ${p.name} ${p.version} is not in the server's set`, stored.digest);
      return;
    }
    this.drop.add(id);
    const ip = this.store.interner.pkg(id);
    this.toggle(this.store.interner.hash(id));
    this.touched.add(ip.nameId);
  }

  private addDelta(p: WirePackage): void {
    const stored = this.stored!;
    const id = this.store.interner.find(p);
    if (id === undefined) return this.addFresh(p);
    if ((hasId(stored.ids, id) && !this.drop.has(id)) || this.seen.has(id)) {
      this.failed = resend(`added package ${p.name} ${p.version} is already in the server's set`, stored.digest);
      return;
    }
    this.seen.add(id);
    this.found.push(id);
    this.keep.push(id);
    const ip = this.store.interner.pkg(id);
    this.toggle(this.store.interner.hash(id));
    this.touched.add(ip.nameId);
  }
}

/** The whole set at once (reports small enough to take in one go, and the fallback). */
export function resolveSet(store: Store, report: Report, stored: StoredSet | null): NewSet | Resend {
  const r = new SetResolver(store, report, stored);
  r.step(Number.POSITIVE_INFINITY);
  return r.finish();
}
