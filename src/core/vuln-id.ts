// Vulnerability ids as findings carry them: the rule feeds/common/ids.ts applies to what
// publishers write, also used to read the ids users type (scan --vuln, the server's filters).
// Pure: no I/O.

/** A CVE id at the start of an id, in any case, with whatever suffix follows it. */
const CVE_LEAD = /^CVE-(\d{4})-(\d{4,})(?=$|[^0-9])/i;

/** The characters of one id: a suffix made of others (a space, a NUL) is no part of it. */
const ID = /^[A-Za-z0-9][A-Za-z0-9._:+-]*$/;

/** The CVE an id names (`CVE-2017-17434-1` → `CVE-2017-17434`), or null when it names none. */
export function cveOf(id: string): string | null {
  const m = ID.test(id) ? CVE_LEAD.exec(id) : null;
  return m ? `CVE-${m[1]}-${m[2]}` : null;
}

/** An id as findings carry it: the CVE it names, else the id as written (nothing trimmed). */
export function normaliseVulnId(id: string): string {
  return cveOf(id) ?? id;
}

/** Whether `id` (as a user types it) names `name`: the same id in any case, or the CVE a suffixed id names. */
export function sameVulnId(id: string, name: string): boolean {
  return normaliseVulnId(id).toUpperCase() === name.toUpperCase();
}
