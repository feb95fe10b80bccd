// The security tracker's advisory lists (`data/DSA/list`, `data/DLA/list`, `data/DTSA/list`):
// which advisory fixed which CVEs, in which release, with which source version.
//
//   [31 Jul 2025] DSA-5970-1 sope - security update
//           {CVE-2025-53603}
//           [bookworm] - sope 5.8.0-1+deb12u1
//           NOTE: ...
//
// A fix line may carry notes in parentheses, or a pseudo-version such as `<not-affected>`
// instead of a version; those carry no fix and are skipped.

export interface AdvisoryFix {
  advisory: string;
  release: string;
  package: string;
  version: string;
  cves: readonly string[];
}

const HEADER = /^\[([^\]]+)\]\s+((?:DSA|DLA|DTSA)-\d+(?:-\d+)?)\s*(.*)$/;
const CVES = /^\s+\{([^}]*)\}\s*$/;
const FIX = /^\s+\[([a-z][a-z0-9-]*)\]\s+-\s+([a-z0-9][a-z0-9+.-]*)\s+(\S+)(?:\s+\(.*\))?\s*$/;
const ID = /^(?:CVE-\d{4}-\d+|TEMP-\d+-[0-9A-Fa-f]+)$/;

/** Parses one list. Lines it cannot read are reported through `warn` (naming file and line) and skipped. */
export function parseAdvisoryList(text: string, file: string, warn: (message: string) => void): AdvisoryFix[] {
  const fixes: AdvisoryFix[] = [];
  let current: { id: string; cves: string[]; fixes: { release: string; package: string; version: string }[] } | null =
    null;
  // After a header that cannot be read, its body lines are skipped without further warnings.
  let skipping = false;
  const flush = () => {
    if (current) for (const f of current.fixes) fixes.push({ advisory: current.id, ...f, cves: current.cves });
    current = null;
  };
  const lines = text.split('\n');
  for (let n = 0; n < lines.length; n++) {
    const line = lines[n].replace(/\r$/, '');
    if (line.trim() === '') continue;
    const where = `${file}:${n + 1}`;
    if (!/^\s/.test(line)) {
      flush();
      const h = HEADER.exec(line);
      skipping = !h;
      if (h) current = { id: h[2], cves: [], fixes: [] };
      else warn(`${where}: not an advisory header, skipped with its lines: ${clip(line)}`);
      continue;
    }
    if (skipping) continue;
    if (!current) {
      warn(`${where}: line outside any advisory, skipped: ${clip(line)}`);
      continue;
    }
    const c = CVES.exec(line);
    if (c) {
      for (const id of c[1].trim().split(/\s+/).filter(Boolean)) {
        if (ID.test(id)) current.cves.push(id);
        else warn(`${where}: ${current.id}: not a CVE id: ${clip(id)}`);
      }
      continue;
    }
    if (/^\s+\[/.test(line)) {
      const f = FIX.exec(line);
      if (!f) warn(`${where}: ${current.id}: unreadable fix line, skipped: ${clip(line.trim())}`);
      else if (!f[3].startsWith('<')) current.fixes.push({ release: f[1], package: f[2], version: f[3] });
    }
    // NOTE: lines and other annotations carry nothing the importer uses.
  }
  flush();
  return fixes;
}

/** Finds the advisories that shipped a given fix: same release, source package, CVE and version. */
export class AdvisoryIndex {
  private readonly byKey = new Map<string, Map<string, string[]>>();
  lists = 0;
  fixes = 0;

  add(fixes: readonly AdvisoryFix[]): void {
    this.lists++;
    for (const f of fixes) {
      for (const cve of f.cves) {
        const key = `${f.release}\0${f.package}\0${cve}`;
        let byVersion = this.byKey.get(key);
        if (!byVersion) this.byKey.set(key, (byVersion = new Map()));
        const ids = byVersion.get(f.version);
        if (!ids) byVersion.set(f.version, [f.advisory]);
        else if (!ids.includes(f.advisory)) ids.push(f.advisory);
      }
      this.fixes++;
    }
  }

  /** Advisory ids, sorted; empty when no advisory shipped exactly this version. */
  lookup(release: string, pkg: string, vulnId: string, fixedVersion: string): string[] {
    const ids = this.byKey.get(`${release}\0${pkg}\0${vulnId}`)?.get(fixedVersion);
    return ids ? [...ids].sort() : [];
  }
}

function clip(s: string): string {
  return s.length > 80 ? `${s.slice(0, 77)}...` : s;
}
