// Parser for `dpkg --audit`: packages left in a broken state (half-configured after a failed
// postinst, half-installed after a failed unpack, triggers pending, …). Each group starts
// with dpkg's explanation; its packages follow as ` name   short description` lines.

export interface AuditEntry {
  package: string;
  /** dpkg's explanation, shortened to its first sentence: "is only half configured". */
  state: string;
}

export function parseDpkgAudit(text: string): AuditEntry[] {
  const out: AuditEntry[] = [];
  let explanation = '';
  let inList = false;
  for (const line of text.split('\n')) {
    if (line.trim() === '') {
      explanation = '';
      inList = false;
      continue;
    }
    const m = /^ (\S+)(?:\s|$)/.exec(line);
    if (m && explanation) {
      inList = true;
      out.push({ package: m[1].replace(/:[a-z0-9-]+$/, ''), state: summarise(explanation) });
    } else if (!inList) {
      explanation = explanation ? `${explanation} ${line.trim()}` : line.trim();
    }
  }
  return out;
}

function summarise(explanation: string): string {
  const m = /^The following packages? (?:are|is|have|has) (.*?)[,.:]/.exec(explanation);
  return m ? `is ${m[1]}`.replace(/^is (been|not)/, 'has $1') : explanation;
}
