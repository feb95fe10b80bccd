// Aggregates that fleet statistics read instead of scanning findings. Changes are collected
// per transaction and written once per distinct key when it commits.
import { dayOf } from '../clock.ts';
import { BatchInsert } from './batch.ts';
import type { Store } from './store.ts';

interface DailyDelta {
  detected: number;
  reopened: number;
  resolved: number;
  resolvedMs: number;
  inSla: number;
}

interface VulnDelta {
  findings: number;
  hosts: number;
  fixable: number;
  severity: number;
}

export class AggregateBatch {
  private readonly openAge = new Map<string, number>();
  private readonly daily = new Map<string, DailyDelta>();
  private readonly vulns = new Map<number, VulnDelta>();
  private readonly store: Store;

  constructor(store: Store) {
    this.store = store;
  }

  /** A finding of this severity, opened on `openedAt`, became open (+1) or stopped being open (-1). */
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

  vuln(vulnId: number, change: { findings?: number; hosts?: number; fixable?: number; severity?: number }): void {
    let v = this.vulns.get(vulnId);
    if (!v) {
      v = { findings: 0, hosts: 0, fixable: 0, severity: 99 };
      this.vulns.set(vulnId, v);
    }
    v.findings += change.findings ?? 0;
    v.hosts += change.hosts ?? 0;
    v.fixable += change.fixable ?? 0;
    if (change.severity !== undefined) v.severity = Math.min(v.severity, change.severity);
  }

  flush(): void {
    const s = this.store;
    for (const [k, n] of this.openAge) {
      if (n === 0) continue;
      const [grp, sev, day] = k.split('\u0000');
      s.run(
        'INSERT INTO open_age (grp, severity, day, n) VALUES (?, ?, ?, ?) ON CONFLICT (grp, severity, day) DO UPDATE SET n = n + excluded.n',
        grp, Number(sev), Number(day), n,
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
        Number(day), grp, Number(sev), d.detected, d.reopened, d.resolved, d.resolvedMs, d.inSla,
      );
    }
    const vulns = new BatchInsert(
      s,
      'vuln_counts',
      ['vuln_id', 'severity', 'open_findings', 'open_hosts', 'fixable'],
      `ON CONFLICT (vuln_id) DO UPDATE SET
         severity = CASE WHEN vuln_counts.open_findings <= 0 THEN excluded.severity ELSE min(vuln_counts.severity, excluded.severity) END,
         open_findings = open_findings + excluded.open_findings, open_hosts = open_hosts + excluded.open_hosts,
         fixable = fixable + excluded.fixable`,
    );
    for (const [vulnId, v] of this.vulns) {
      if (v.findings === 0 && v.hosts === 0 && v.fixable === 0 && v.severity === 99) continue;
      vulns.add([vulnId, v.severity, v.findings, v.hosts, v.fixable]);
    }
    vulns.flush();
    this.openAge.clear();
    this.daily.clear();
    this.vulns.clear();
  }
}
