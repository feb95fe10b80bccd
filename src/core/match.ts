// Matching: installed packages × advisory entries → findings. Pure: reads through AdvisoryLookup.
// (Placeholder signature; the implementation lands next.)
import type { AdvisoryLookup } from './lookup.ts';
import type { Finding, Inventory } from './types.ts';

export interface MatchOptions {
  /** Report `undetermined` / `under_investigation` entries (off by default). */
  includeUndetermined?: boolean;
  /** Ubuntu: the host is attached to Ubuntu Pro (esm-infra/esm-apps fixes are installable). */
  proAttached?: boolean;
}

export interface MatchResult {
  findings: Finding[];
  /** Problems that did not stop matching (unknown release, EOL release, mixed branches…). */
  warnings: string[];
  /** The distribution and release key the inventory was matched as. */
  distro: string;
  release: string;
}

export function matchInventory(_inventory: Inventory, _lookup: AdvisoryLookup, _options: MatchOptions = {}): MatchResult {
  throw new Error('not implemented');
}
