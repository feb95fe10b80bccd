// Aggregates that fleet statistics read instead of scanning exposures (the counting unit, one
// per host, vulnerability and source package: every count here is of them). Changes are
// collected per unit of work and written once per distinct key; per-vulnerability counts go to
// the in-memory index once the transaction commits.
import { dayOf } from '../clock.ts';
import type { Store } from './store.ts';
import type { VulnChange } from './vuln-index.ts';

interface DailyDelta {
  detected: number;
  reopened: number;
  resolved: number;
  resolvedMs: number;
  inSla: number;
}

export class AggregateBatch {
  private readonly openAge = new Map<string, number>();
  private readonly daily = new Map<string, DailyDelta>();
  private vulns = new Map<number, VulnChange>();
  private readonly store: Store;

  constructor(store: Store) {
    this.store = store;
  }

  /** An exposure of this severity, opened on `openedAt`, became open (+1) or stopped being open (-1). */
  openAgeChange(grp: string, severity: number, openedAt: number, delta: number): void {
    const k = `${grp}\u0000${severity}\u0000${dayOf(openedAt)}`;
    this.openAge.set(k, (this.openAge.get(k) ?? 0) + delta);
  }

  private dailyRow(grp: string, severity: number, at: number): DailyDelta {
    const k = `${dayOf(at)}\u0000${grp}\u0000${severity}`;
    let d = this.daily.get(k);
    if (!d) {
      d = { detected: 0, reopened: 0, resolved: 0, resolvedMs: 0, inSla: 0 };
      this.daily.set(k, d);
    }
    return d;
  }

  detected(grp: string, severity: number, at: number): void {
    this.dailyRow(grp, severity, at).detected++;
  }

  reopened(grp: string, severity: number, at: number): void {
    this.dailyRow(grp, severity, at).reopened++;
  }

  resolved(grp: string, severity: number, at: number, openedAt: number): void {
    const d = this.dailyRow(grp, severity, at);
    const took = Math.max(0, at - openedAt);
    d.resolved++;
    d.resolvedMs += took;
    if (took <= this.store.slaMs(severity)) d.inSla++;
  }

  /**
   * Open exposures of a vulnerability changed; `host` gained (+1) or lost (-1) its last one. `excepted`:
   * exposures a rule took or gave back; `exceptedHost`: a rule now holds all of the host's (+1), or no longer (-1).
   */
  vuln(
    vulnId: number,
    change: {
      findings?: number;
      fixable?: number;
      severity?: number;
      host?: { id: number; delta: number };
      excepted?: number;
      exceptedFixable?: number;
      exceptedHost?: { id: number; delta: number };
    },
  ): void {
    let v = this.vulns.get(vulnId);
    if (!v) {
      v = {
        vulnId,
        findings: 0,
        fixable: 0,
        severity: 99,
        hostsAdded: [],
        hostsRemoved: [],
        excepted: 0,
        exceptedFixable: 0,
        exceptedHosts: new Map(),
      };
      this.vulns.set(vulnId, v);
    }
    v.findings += change.findings ?? 0;
    v.fixable += change.fixable ?? 0;
    v.excepted += change.excepted ?? 0;
    v.exceptedFixable += change.exceptedFixable ?? 0;
    if (change.exceptedHost) {
      const { id, delta } = change.exceptedHost;
      v.exceptedHosts.set(id, (v.exceptedHosts.get(id) ?? 0) + delta);
    }
    if (change.severity !== undefined) v.severity = Math.min(v.severity, change.severity);
    if (change.host) (change.host.delta > 0 ? v.hostsAdded : v.hostsRemoved).push(change.host.id);
  }

  flush(): void {
    const s = this.store;
    for (const [k, n] of this.openAge) {
      if (n === 0) continue;
      const [grp, sev, day] = k.split('\u0000');
      s.run(
        'INSERT INTO open_age (grp, severity, day, n) VALUES (?, ?, ?, ?) ON CONFLICT (grp, severity, day) DO UPDATE SET n = n + excluded.n',
        grp,
        Number(sev),
        Number(day),
        n,
      );
    }
    s.run('DELETE FROM open_age WHERE n = 0');
    for (const [k, d] of this.daily) {
      const [day, grp, sev] = k.split('\u0000');
      s.run(
        `INSERT INTO daily (day, grp, severity, detected, reopened, resolved, resolved_ms, resolved_in_sla) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (day, grp, severity) DO UPDATE SET detected = detected + excluded.detected, reopened = reopened + excluded.reopened,
           resolved = resolved + excluded.resolved, resolved_ms = resolved_ms + excluded.resolved_ms,
           resolved_in_sla = resolved_in_sla + excluded.resolved_in_sla`,
        Number(day),
        grp,
        Number(sev),
        d.detected,
        d.reopened,
        d.resolved,
        d.resolvedMs,
        d.inSla,
      );
    }
    if (this.vulns.size > 0) {
      const changes = [...this.vulns.values()];
      s.afterCommit(() => s.vulns.apply(changes));
    }
    this.openAge.clear();
    this.daily.clear();
    this.vulns = new Map();
  }
}
