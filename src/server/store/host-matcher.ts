// What the store needs from matching, declared here so that the store depends on no matcher:
// ingest, re-match, report preparation and package collection take a HostMatcher, and the
// server passes its FleetMatcher (fleet-matcher.ts), which implements it.
import type { SupportState } from '../../core/distros.ts';
import type { OsInfo } from '../../core/types.ts';
import type { StoredFinding } from './finding-identity.ts';

export interface HostMatchInput {
  os: OsInfo;
  kernel: string | null;
  /** Release key the agent determined (Alpine branch), else from os-release. */
  releaseHint?: string | null;
  proAttached: boolean;
  pkgIds: ArrayLike<number>;
  /**
   * Only these package names (name+arch ids) need findings (a delta's scope). Kernel, support
   * and dormant-count facts still cover the whole host.
   */
  onlyNames?: Set<number>;
}

export interface HostMatch {
  distro: string;
  release: string;
  /** Exposure findings by identity (see findingIdentity). */
  findings: Map<number, StoredFinding>;
  /**
   * Exposures (source package, vulnerability) found only on kernel images installed but not running: reported, not
   * exposure.
   */
  dormant: number;
  kernelNewer: boolean;
  /** Every package's result is what it was with the previous vulnerability data. */
  sameAsBefore: boolean;
  support: SupportState;
  unsupported: { source: string; kind: 'ended' | 'limited'; note: string }[];
  warnings: string[];
}

export interface HostMatcher {
  /** Generation of the vulnerability data results come from; a host matched with another one is behind. */
  readonly generation: number;
  /** The generation sameAsBefore compares with: only hosts matched with it can skip the diff. */
  readonly previousGeneration: number | null;
  /**
   * Throws UnsupportedDistroError for a host whose release cannot be matched (recorded on the host, not an ingest
   * failure).
   */
  matchHost(input: HostMatchInput): HostMatch;
  /** Matches packages ahead of matchHost (a large report, piece by piece); same results. */
  warm(input: Omit<HostMatchInput, 'pkgIds' | 'onlyNames'>, ids: ArrayLike<number>): void;
  /** Drops what is remembered about packages the store has collected. */
  forgetPackages(ids: readonly number[]): void;
  /** The fleet is re-matched: results of the previous data are no longer needed. */
  forgetPrevious(): void;
}
