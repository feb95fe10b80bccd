// Collects advisory entries before they are written, folding together entries that say the
// same thing about one package. Several fixed builds for one vulnerability and package (the
// same CVE fixed by a z-stream and again by the next minor release, or one module stream
// rebuilt for several minor releases) mean "fixed from the lowest of them on": the matcher
// reports an installed version below any entry, so only the lowest fixed version may stay.
import type { AdvisoryEntry, Severity } from '../../core/types.ts';
import { SEVERITIES } from '../../core/types.ts';
import { getScheme } from '../../core/version/index.ts';
import type { FeedWriter } from '../../vulndb/writer.ts';

const SEP = '\u0000';

function keyOf(e: AdvisoryEntry): string {
  return [
    e.distro, e.release, e.package, e.key_kind, e.vuln_id, e.module_stream ?? '', e.status,
    e.introduced ?? '', e.last_affected ?? '', e.fixed_version === null ? 'open' : 'fixed', e.pro_only ? 'pro' : '',
  ].join(SEP);
}

function moreSevere(a: Severity, b: Severity): boolean {
  return SEVERITIES.indexOf(a) < SEVERITIES.indexOf(b);
}

export class EntryBuffer {
  private readonly entries = new Map<string, AdvisoryEntry>();

  get size(): number {
    return this.entries.size;
  }

  add(e: AdvisoryEntry): void {
    const key = keyOf(e);
    const old = this.entries.get(key);
    if (!old) {
      this.entries.set(key, { ...e, advisory_ids: [...e.advisory_ids], arches: e.arches ? [...e.arches] : [] });
      return;
    }
    if (old.fixed_version !== null && e.fixed_version !== null && old.fixed_version !== e.fixed_version) {
      if (getScheme(e.scheme).compare(e.fixed_version, old.fixed_version) < 0) old.fixed_version = e.fixed_version;
    }
    for (const id of e.advisory_ids) if (!old.advisory_ids.includes(id)) old.advisory_ids.push(id);
    // An entry without arches applies to every arch; so does the merge of it with any other.
    if (!old.arches?.length || !e.arches?.length) old.arches = [];
    else old.arches = [...new Set([...old.arches, ...e.arches])].sort();
    if (moreSevere(e.severity, old.severity)) {
      old.severity = e.severity;
      old.raw_severity = e.raw_severity;
    }
  }

  /** Writes every collected entry and empties the buffer; returns how many were written. */
  flush(writer: FeedWriter): number {
    let n = 0;
    for (const e of this.entries.values()) {
      writer.entry(e);
      n++;
    }
    this.entries.clear();
    return n;
  }

  values(): IterableIterator<AdvisoryEntry> {
    return this.entries.values();
  }
}
