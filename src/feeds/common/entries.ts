// Collects advisory entries before they are written, folding together entries that say the
// same thing about one package.
//
// Several fixed builds for one vulnerability and package mean different things depending on
// where they sit:
// - on one upstream version line (the same rpm epoch and version: a z-stream fix and a rebuild
//   of it, or one module stream rebuilt for several minor releases) they mean "fixed from the
//   lowest of them on": the matcher reports an installed version below any entry, so only the
//   lowest fixed build of the line may stay, or a host with the z-stream fix (2.5.2-10) would
//   be reported against the later rebuild (2.5.2-11);
// - on two lines (rpm: a CVE fixed in 389-ds-base 2.5.2-9.el9_5 for 9.5 and in 2.6.1-8.el9_6
//   for 9.6) each line has its own fix. Folding them into the lowest would lose the newer line
//   (2.6.1-7 ≥ 2.5.2-9, so it would go unreported); keeping both as written would report the
//   older line's fixed builds (2.5.2-10 < 2.6.1-8). So the lowest line keeps the entry as
//   written, and every higher line gets an entry of its own that starts where that line starts.
//
// Builds whose upstream version lies between two lines (a 2.6.0 when the lines are 2.5.2 and
// 2.6.1) are taken as fixed: no advisory names a fix for them, and reporting them against the
// next line's fix would be the same guess as reporting 2.5.2-10.
//
// Lines are told apart for rpm only, where minor releases rebase packages while older minor
// releases keep getting z-stream fixes. deb and apk feeds give one fix per vulnerability and
// release; a second fixed version there is a re-listing, and the lowest one stays.
import type { AdvisoryEntry, Severity } from '../../core/types.ts';
import { SEVERITIES } from '../../core/types.ts';
import { getScheme } from '../../core/version/index.ts';
import { parseEvr } from '../../core/version/rpm.ts';
import type { VersionScheme } from '../../core/version/scheme.ts';
import type { FeedWriter } from '../../vulndb/writer.ts';

const SEP = '\u0000';

function keyOf(e: AdvisoryEntry): string {
  return [
    e.distro,
    e.release,
    e.package,
    e.key_kind,
    e.vuln_id,
    e.module_stream ?? '',
    e.status,
    e.introduced ?? '',
    e.last_affected ?? '',
    e.fixed_version === null ? 'open' : 'fixed',
    e.pro_only ? 'pro' : '',
  ].join(SEP);
}

function moreSevere(a: Severity, b: Severity): boolean {
  return SEVERITIES.indexOf(a) < SEVERITIES.indexOf(b);
}

/**
 * Where the version line of an rpm build starts: its epoch and version with no release
 * (`2.6.1-8.el9_6` → `2.6.1`, `1:1.5.1-3.el9_5` → `1:1.5.1`).
 *
 * Under rpm's ordering of full EVRs a missing release sorts before every release, even an
 * empty one or one that starts with a letter or `~`, and after every build of a lower version;
 * so `E:V` is the exact lower bound of the builds of that line, where a guessed lowest release
 * such as `-0` would not be (`2.6.1-0` > `2.6.1-alpha1` and `2.6.1-~rc1`). The epoch is the
 * fix's own: without it a line of epoch 1 would start at epoch 0 and take in every epoch-0
 * build of a higher version. The fix's versions have their zero epoch dropped already, so a
 * line starts with an epoch exactly when its fix carries one, and the matcher lends both the
 * same installed epoch when they carry none.
 */
export function rpmLineStart(fixed: string): string {
  const evr = parseEvr(fixed);
  return evr.epoch !== null && !/^0*$/.test(evr.epoch) ? `${evr.epoch}:${evr.version}` : evr.version;
}

/** Whether the entry's fixes are told apart by version line (see the module comment). */
function byLine(e: AdvisoryEntry): boolean {
  return e.scheme === 'rpm' && e.fixed_version !== null;
}

function copyOf(e: AdvisoryEntry): AdvisoryEntry {
  return { ...e, advisory_ids: [...e.advisory_ids], arches: e.arches ? [...e.arches] : [] };
}

/** Folds `e` into `old`, which says the same thing about the same package (and line). */
function fold(old: AdvisoryEntry, e: AdvisoryEntry, scheme: VersionScheme): void {
  if (old.fixed_version !== null && e.fixed_version !== null && old.fixed_version !== e.fixed_version) {
    if (scheme.compare(e.fixed_version, old.fixed_version) < 0) old.fixed_version = e.fixed_version;
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

export class EntryBuffer {
  /** Per key, one entry; or, for rpm fixes, one entry per version line in the order first met. */
  private readonly entries = new Map<string, AdvisoryEntry[]>();
  private count = 0;

  get size(): number {
    return this.count;
  }

  add(e: AdvisoryEntry): void {
    const key = keyOf(e);
    const lines = this.entries.get(key);
    if (!lines) {
      this.entries.set(key, [copyOf(e)]);
      this.count++;
      return;
    }
    const scheme = getScheme(e.scheme);
    if (!byLine(e)) {
      fold(lines[0], e, scheme);
      return;
    }
    const start = rpmLineStart(e.fixed_version as string);
    const same = lines.find((l) => scheme.compare(rpmLineStart(l.fixed_version as string), start) === 0);
    if (same) {
      fold(same, e, scheme);
      return;
    }
    lines.push(copyOf(e));
    this.count++;
  }

  /** Writes every collected entry and empties the buffer; returns how many were written. */
  flush(writer: FeedWriter): number {
    let n = 0;
    for (const e of this.values()) {
      writer.entry(e);
      n++;
    }
    this.entries.clear();
    this.count = 0;
    return n;
  }

  /** The collected entries, each higher version line starting where its line starts. */
  *values(): IterableIterator<AdvisoryEntry> {
    for (const lines of this.entries.values()) {
      if (lines.length === 1) {
        yield lines[0];
        continue;
      }
      const scheme = getScheme(lines[0].scheme);
      const sorted = [...lines].sort((a, b) => scheme.compare(a.fixed_version as string, b.fixed_version as string));
      yield sorted[0];
      for (const line of sorted.slice(1)) {
        const start = rpmLineStart(line.fixed_version as string);
        // A range that was written with a later start keeps it.
        const introduced =
          line.introduced !== null && scheme.compare(line.introduced, start) > 0 ? line.introduced : start;
        yield { ...line, introduced };
      }
    }
  }
}
