// Open exposures by vulnerability, in memory: which hosts each vulnerability affects, and how
// many open and fixable exposures (the counting unit: one per host and source package) it has.
// Exposures an exception rule holds are still there (open = 1) but out of the open counts, as
// everywhere else: the index keeps them apart (`excepted`, and the hosts where every exposure of
// the vulnerability is held), and openCounts gives what is left open.
// Kept out of SQLite on purpose: an index on exposures by vulnerability costs a random page
// write per new exposure, which dominated the cost of a host's first report. It is derived
// data — rebuilt from the exposures at startup and updated only after the transactions that
// change them commit.
import type { Store } from './store.ts';

/** A set of host ids: a Set while small, a bitmap once a vulnerability spans many hosts. */
export class HostSet {
  private small: Set<number> | null = new Set();
  private bits: Uint32Array | null = null;
  size = 0;

  add(id: number): void {
    if (this.has(id)) return;
    this.size++;
    if (this.small) {
      this.small.add(id);
      if (this.small.size > 256) this.toBitmap();
      return;
    }
    this.ensure(id);
    this.bits![id >>> 5] |= 1 << (id & 31);
  }

  delete(id: number): void {
    if (!this.has(id)) return;
    this.size--;
    if (this.small) this.small.delete(id);
    else this.bits![id >>> 5] &= ~(1 << (id & 31));
  }

  has(id: number): boolean {
    if (this.small) return this.small.has(id);
    const w = id >>> 5;
    return w < this.bits!.length && (this.bits![w] & (1 << (id & 31))) !== 0;
  }

  /** Host ids in ascending order. */
  sorted(): number[] {
    if (this.small) return [...this.small].sort((a, b) => a - b);
    const out: number[] = [];
    const b = this.bits!;
    for (let w = 0; w < b.length; w++) {
      let word = b[w];
      while (word !== 0) {
        const bit = 31 - Math.clz32(word & -word);
        out.push(w * 32 + bit);
        word &= word - 1;
      }
    }
    return out;
  }

  private ensure(id: number): void {
    const need = (id >>> 5) + 1;
    if (this.bits!.length >= need) return;
    const grown = new Uint32Array(Math.max(need, this.bits!.length * 2));
    grown.set(this.bits!);
    this.bits = grown;
  }

  private toBitmap(): void {
    const ids = [...this.small!];
    this.bits = new Uint32Array((Math.max(...ids) >>> 5) + 1);
    for (const id of ids) this.bits[id >>> 5] |= 1 << (id & 31);
    this.small = null;
  }
}

export interface VulnStats {
  /** Open exposures (host × source package) of the vulnerability, those an exception holds included. */
  findings: number;
  fixable: number;
  /** The most severe rating among its open exposures (index into SEVERITIES). */
  severity: number;
  hosts: HostSet;
  /** Of `findings` and `fixable`, the exposures an exception rule holds. */
  excepted: number;
  exceptedFixable: number;
  /** Of `hosts`, those where a rule holds every open exposure of it. */
  exceptedHosts: HostSet;
}

/** A vulnerability's counts as the rest of the fleet's figures count: exposures a rule holds left out. */
export function openCounts(v: VulnStats): { findings: number; fixable: number; hosts: number; excepted: number } {
  return {
    findings: v.findings - v.excepted,
    fixable: v.fixable - v.exceptedFixable,
    hosts: v.hosts.size - v.exceptedHosts.size,
    excepted: v.excepted,
  };
}

const emptyStats = (): VulnStats => ({
  findings: 0,
  fixable: 0,
  severity: 99,
  hosts: new HostSet(),
  excepted: 0,
  exceptedFixable: 0,
  exceptedHosts: new HostSet(),
});

export interface VulnChange {
  vulnId: number;
  findings: number;
  fixable: number;
  /** Severity of findings that became open (99: none did). */
  severity: number;
  /** Hosts that now have, or no longer have, an open finding of it. */
  hostsAdded: number[];
  hostsRemoved: number[];
  /** Exposures a rule took (+) or gave back (-). */
  excepted: number;
  exceptedFixable: number;
  /** Per host: a rule now holds all of its exposures of it (+1), or no longer does (-1); 0: no change. */
  exceptedHosts: Map<number, number>;
}

export class VulnIndex {
  private readonly byVuln = new Map<number, VulnStats>();

  /** Built from the open exposures in the store. */
  static load(store: Store): VulnIndex {
    const index = new VulnIndex();
    let last = -1;
    let stats: VulnStats | undefined;
    // The previous (host, vulnerability): whether a rule holds all of its rows.
    let prev: { stats: VulnStats; host: number; allHeld: boolean } | undefined;
    const endGroup = (): void => {
      if (prev?.allHeld) prev.stats.exceptedHosts.add(prev.host);
    };
    // Per host, in primary-key order (host, vulnerability, source package): a host's rows for
    // one vulnerability are adjacent.
    for (const r of store.db
      .prepare('SELECT host_id, vuln_id, severity, fixable, exception_id FROM exposures WHERE +open = 1')
      .iterate() as Iterable<{
      host_id: number;
      vuln_id: number;
      severity: number;
      fixable: number;
      exception_id: number | null;
    }>) {
      stats = index.byVuln.get(r.vuln_id);
      if (!stats) {
        stats = emptyStats();
        index.byVuln.set(r.vuln_id, stats);
      }
      const held = r.exception_id !== null;
      stats.findings++;
      stats.fixable += r.fixable;
      if (held) {
        stats.excepted++;
        stats.exceptedFixable += r.fixable;
      }
      if (r.severity < stats.severity) stats.severity = r.severity;
      if (last !== r.host_id * 0x4000000 + r.vuln_id) {
        stats.hosts.add(r.host_id);
        endGroup();
        prev = { stats, host: r.host_id, allHeld: held };
      } else if (!held) prev!.allHeld = false;
      last = r.host_id * 0x4000000 + r.vuln_id;
    }
    endGroup();
    return index;
  }

  get(vulnId: number): VulnStats | undefined {
    return this.byVuln.get(vulnId);
  }

  entries(): IterableIterator<[number, VulnStats]> {
    return this.byVuln.entries();
  }

  apply(changes: Iterable<VulnChange>): void {
    for (const c of changes) {
      let s = this.byVuln.get(c.vulnId);
      if (!s) {
        s = emptyStats();
        this.byVuln.set(c.vulnId, s);
      }
      s.findings += c.findings;
      s.fixable += c.fixable;
      s.excepted += c.excepted;
      s.exceptedFixable += c.exceptedFixable;
      if (c.severity < s.severity) s.severity = c.severity;
      for (const h of c.hostsAdded) s.hosts.add(h);
      for (const h of c.hostsRemoved) s.hosts.delete(h);
      for (const [h, d] of c.exceptedHosts) {
        if (d > 0) s.exceptedHosts.add(h);
        else if (d < 0) s.exceptedHosts.delete(h);
      }
      if (s.findings <= 0) this.byVuln.delete(c.vulnId);
    }
  }
}
