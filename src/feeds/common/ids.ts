// Vulnerability ids as publishers write them, brought to the one id a finding is named by.
//
// The rule (docs/scanning.md, "One identity for a vulnerability"):
// - A CVE id is the vulnerability's id wherever a record names one. An id that starts with a
//   CVE id and goes on (`CVE-2017-17434-1`, `CVE-2017-17434-2`, `CVE-2019-19451.patch` in
//   Alpine's secdb: one CVE fixed by several patches) names that CVE: one vulnerability, not
//   several made-up ones.
// - Other ids written beside it (`CVE-2019-17340 XSA-284`) are aliases of it, never dropped.
// - An entry that names no CVE keeps its own id (`XSA-295`, an advisory that lists no CVE).
import { cveOf, normaliseVulnId } from '../../core/vuln-id.ts';

/** What a publisher writes as one vulnerability id: letters, a dash, then no spaces. */
const VULN_ID = /^[A-Za-z][A-Za-z0-9]*-[A-Za-z0-9][A-Za-z0-9._:-]*$/;

export interface NamedIds {
  /** The id findings carry: the first CVE named, else the first id. */
  id: string;
  /** The other ids written with it, normalised, without repeats. */
  aliases: string[];
}

/**
 * The ids of one written item (`"CVE-2019-17340 XSA-284"`, `"CVE-2017-1000376 (not in musl)"`):
 * the words that are vulnerability ids (notes in words are passed over). Null when the item's
 * first word is not an id, so a malformed item is not read as something it does not say.
 */
export function idsOfItem(item: string): NamedIds | null {
  const words = item.trim().split(/\s+/);
  if (!VULN_ID.test(words[0] ?? '')) return null;
  const ids: string[] = [];
  for (const w of words) {
    const word = w.replace(/[,;]+$/, '');
    if (!VULN_ID.test(word)) continue;
    const id = normaliseVulnId(word);
    if (!ids.includes(id)) ids.push(id);
  }
  const id = ids.find((x) => cveOf(x) !== null) ?? ids[0];
  return { id, aliases: ids.filter((x) => x !== id) };
}
