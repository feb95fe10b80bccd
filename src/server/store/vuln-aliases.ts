// The other names of the vulnerabilities findings carry: their aliases and the advisories that
// name them (ALSA-2024:10274 for each CVE it fixes), as the feeds gave them. Held in memory both
// ways (a name → the vulnerabilities it names, case folded; a vulnerability → its names) and in
// the store's vuln_aliases table. New names are written in the caller's transaction; rollback()
// forgets those of a unit that failed, as the interner does with its values.
import type { DatabaseSync, StatementSync } from 'node:sqlite';
import { Pending } from './pending.ts';

export class VulnAliases {
  private readonly byName = new Map<string, number[]>();
  private readonly byVuln = new Map<number, string[]>();
  private readonly insert: StatementSync;
  private readonly pending = new Pending<{ name: string; vulnId: number }>();

  constructor(db: DatabaseSync) {
    this.insert = db.prepare('INSERT OR IGNORE INTO vuln_aliases (alias, vuln_id) VALUES (?, ?)');
    for (const r of db.prepare('SELECT alias, vuln_id FROM vuln_aliases').iterate() as Iterable<{
      alias: string;
      vuln_id: number;
    }>) {
      this.remember(r.alias, r.vuln_id);
    }
  }

  /** Records names of a vulnerability not known yet (one map lookup each when all are known). */
  note(vulnId: number, names: readonly string[]): void {
    for (const name of names) {
      if (this.byVuln.get(vulnId)?.includes(name)) continue;
      this.insert.run(name, vulnId);
      this.remember(name, vulnId);
      this.pending.add({ name, vulnId });
    }
  }

  /** The vulnerabilities a name (an alias or advisory id, in any case) names. */
  named(name: string): readonly number[] {
    return this.byName.get(name.toUpperCase()) ?? [];
  }

  /** Every other name of a vulnerability. */
  of(vulnId: number): readonly string[] {
    return this.byVuln.get(vulnId) ?? [];
  }

  commit(): void {
    this.pending.commit();
  }

  get mark(): number {
    return this.pending.mark;
  }

  /** Forgets the names noted since `mark` (all uncommitted ones by default); how many. */
  rollback(mark = 0): number {
    return this.pending.rollback(({ name, vulnId }) => {
      const names = this.byVuln.get(vulnId);
      if (names)
        this.byVuln.set(
          vulnId,
          names.filter((n) => n !== name),
        );
      const key = name.toUpperCase();
      const ids = this.byName.get(key)?.filter((id) => id !== vulnId) ?? [];
      if (ids.length) this.byName.set(key, ids);
      else this.byName.delete(key);
    }, mark);
  }

  private remember(name: string, vulnId: number): void {
    const names = this.byVuln.get(vulnId);
    if (names) names.push(name);
    else this.byVuln.set(vulnId, [name]);
    const key = name.toUpperCase();
    const ids = this.byName.get(key);
    if (!ids) this.byName.set(key, [vulnId]);
    else if (!ids.includes(vulnId)) ids.push(vulnId);
  }
}
