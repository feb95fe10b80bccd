// Parser for `apt-cache policy PKG…`, used to tell a phased update (Ubuntu rolls updates out
// to a growing share of machines; apt marks the candidate "(phased N%)") from other reasons a
// package was kept back, which unattended-upgrades logs all alike.

export interface AptPolicyEntry {
  installed: string | null;
  candidate: string | null;
  /** Phased-Update-Percentage of the candidate version, when apt shows one. */
  candidate_phased_percent: number | null;
}

export function parseAptPolicy(text: string, file = 'apt-cache policy'): Map<string, AptPolicyEntry> {
  const out = new Map<string, AptPolicyEntry>();
  let cur: AptPolicyEntry | null = null;
  text.split('\n').forEach((line, i) => {
    let m: RegExpExecArray | null;
    if ((m = /^(\S+):$/.exec(line))) {
      cur = { installed: null, candidate: null, candidate_phased_percent: null };
      out.set(m[1], cur);
    } else if (line.trim() === '') {
      return;
    } else if (!cur) {
      throw new Error(`${file}:${i + 1}: expected a "package:" line, got ${JSON.stringify(line.slice(0, 80))}`);
    } else if ((m = /^ {2}(Installed|Candidate): (.*)$/.exec(line))) {
      const v = m[2] === '(none)' ? null : m[2];
      if (m[1] === 'Installed') cur.installed = v;
      else cur.candidate = v;
    } else if ((m = /^ (?:\*\*\*| {3}) (\S+) (-?\d+)(?: \(phased (\d+)%\))?$/.exec(line))) {
      if (m[1] === cur.candidate && m[3] !== undefined) cur.candidate_phased_percent = Number(m[3]);
    }
  });
  return out;
}
