// The interface every version-ordering scheme implements, and the error it throws.
import type { VersionSchemeName } from '../types.ts';
import { PatchloopError } from '../errors.ts';

/** Thrown for a version string the scheme rejects; never ordered silently. */
export class InvalidVersionError extends PatchloopError {
  readonly scheme: VersionSchemeName;
  readonly version: string;
  constructor(scheme: VersionSchemeName, version: string, why: string) {
    super('PL_E_INVALID_VERSION', `invalid ${scheme} version ${JSON.stringify(version)}: ${why}`);
    this.scheme = scheme;
    this.version = version;
  }
}

export interface VersionScheme {
  readonly name: VersionSchemeName;
  /** -1 when a < b, 0 when equal, 1 when a > b. Throws InvalidVersionError for an invalid input. */
  compare(a: string, b: string): -1 | 0 | 1;
  /** null when valid, else the reason it is rejected. */
  validate(v: string): string | null;
}
