// The registry of version schemes: one entry per scheme name, each implementing VersionScheme.
import type { VersionSchemeName } from '../types.ts';
import type { VersionScheme } from './scheme.ts';
import { deb } from './deb.ts';
import { rpm } from './rpm.ts';
import { apk } from './apk.ts';

export { InvalidVersionError, type VersionScheme } from './scheme.ts';

const SCHEMES: Readonly<Record<VersionSchemeName, VersionScheme>> = { deb, rpm, apk };

/** Every scheme name, in a stable order. */
export const SCHEME_NAMES: readonly VersionSchemeName[] = ['deb', 'rpm', 'apk'];

export function isVersionSchemeName(s: string): s is VersionSchemeName {
  return Object.hasOwn(SCHEMES, s);
}

export function getScheme(name: VersionSchemeName): VersionScheme {
  const scheme = isVersionSchemeName(name) ? SCHEMES[name] : undefined;
  if (scheme === undefined)
    throw new Error(`unknown version scheme ${JSON.stringify(name)} (known: ${SCHEME_NAMES.join(', ')})`);
  return scheme;
}

/** -1, 0 or 1 as `a` sorts before, with or after `b`; throws InvalidVersionError for an invalid one. */
export function compareVersions(scheme: VersionSchemeName | VersionScheme, a: string, b: string): -1 | 0 | 1 {
  return (typeof scheme === 'string' ? getScheme(scheme) : scheme).compare(a, b);
}
