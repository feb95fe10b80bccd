// How the store names a finding: its host's package name+arch and its vulnerability, both
// interned ids. Matching produces findings in this shape; the history diff compares them.

/** One finding as the store keeps it: all ids. */
export interface StoredFinding {
  nameId: number;
  vulnId: number;
  pkgId: number;
  detailId: number;
  severity: number;
  status: number;
  fixable: boolean;
}

/** Ids stay below 2^26, so a name id and a vulnerability id fit together in one safe integer. */
const VULN_IDS = 67_108_864;

/** Package name+arch and vulnerability in one safe integer: a finding's key within its host. */
export function findingIdentity(nameId: number, vulnId: number): number {
  return nameId * VULN_IDS + vulnId;
}

export function splitIdentity(identity: number): { nameId: number; vulnId: number } {
  return { nameId: Math.floor(identity / VULN_IDS), vulnId: identity % VULN_IDS };
}
