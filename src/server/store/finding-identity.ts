// How the store names a finding and an exposure, both by interned ids. A finding is its host's
// package name+arch and a vulnerability; an exposure (the counting unit, core/exposure.ts) is a
// source package and a vulnerability. Matching produces findings in this shape; the history
// diff compares them, and groups them into exposures.

/** One finding as the store keeps it: all ids. */
export interface StoredFinding {
  nameId: number;
  vulnId: number;
  /** The source package of the installed package: the finding's exposure with vulnId. */
  srcId: number;
  pkgId: number;
  detailId: number;
  severity: number;
  status: number;
  fixable: boolean;
}

/** When a stored finding or exposure was open: the lifecycle columns both tables have. */
export interface LifecycleColumns {
  first_seen: number;
  opened_at: number;
  last_seen: number | null;
  resolved_at: number | null;
  resolved_scan: number | null;
  resolved_cause: string | null;
  reopened: number;
}

/** Ids stay below 2^26, so a name (or source) id and a vulnerability id fit together in one safe integer. */
const VULN_IDS = 67_108_864;

/** Package name+arch and vulnerability in one safe integer: a finding's key within its host. */
export function findingIdentity(nameId: number, vulnId: number): number {
  return nameId * VULN_IDS + vulnId;
}

export function splitIdentity(identity: number): { nameId: number; vulnId: number } {
  return { nameId: Math.floor(identity / VULN_IDS), vulnId: identity % VULN_IDS };
}

/** Source package and vulnerability in one safe integer: an exposure's key within its host. */
export function exposureIdentity(srcId: number, vulnId: number): number {
  return srcId * VULN_IDS + vulnId;
}

export function splitExposure(identity: number): { srcId: number; vulnId: number } {
  return { srcId: Math.floor(identity / VULN_IDS), vulnId: identity % VULN_IDS };
}
