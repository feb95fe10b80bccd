// What the matcher needs from a vulnerability database. Implemented by src/vulndb (SQLite
// files on disk) and by in-memory tables in tests; core itself performs no I/O.
import type { AdvisoryEntry, VulnerabilityInfo } from './types.ts';

/** A distribution's own statement that a package is out of (or limited in) security support. */
export interface SupportNote {
  kind: 'ended' | 'limited';
  /** The publisher's explanation (e.g. "see README.Debian.security", an end date or version). */
  note: string;
}

export interface AdvisoryLookup {
  /** Every entry for one package key (source or binary name) in one release of one distribution. */
  entries(distro: string, release: string, packageKey: string): AdvisoryEntry[];
  vulnerability(id: string): VulnerabilityInfo | null;
  support(distro: string, release: string, packageKey: string): SupportNote | null;
  /**
   * Optional: fetch the entries and support notes of many keys at once, so the calls above
   * that follow are served from memory (one query instead of thousands for a large host).
   */
  prefetch?(distro: string, release: string, packageKeys: readonly string[]): void;
}
