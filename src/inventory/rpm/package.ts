// From decoded header fields to the inventory's InstalledPackage (contract in DESIGN.md):
// `version` is `[E:]V-R`, `source` and `source_version` come from the SOURCERPM file name.
import type { InstalledPackage } from '../../core/types.ts';
import type { RpmHeaderFields } from './header.ts';

/** Name of the pseudo packages that hold imported signing keys: not software, never reported. */
export const GPG_PUBKEY = 'gpg-pubkey';

export interface SourceRpmName {
  name: string;
  version: string;
  release: string;
}

const SOURCE_SUFFIX = /\.(?:no)?src\.rpm$/;

/**
 * Splits a source rpm file name (`name-version-release.src.rpm`, or `.nosrc.rpm`) into its
 * parts. rpm forbids `-` in version and release, so the last two `-` separate them and the
 * name keeps any hyphens of its own. Returns null for anything not of that shape.
 */
export function parseSourceRpm(fileName: string): SourceRpmName | null {
  const match = SOURCE_SUFFIX.exec(fileName);
  if (match === null) return null;
  const nvr = fileName.slice(0, match.index);
  const relDash = nvr.lastIndexOf('-');
  if (relDash <= 0) return null;
  const verDash = nvr.lastIndexOf('-', relDash - 1);
  if (verDash <= 0) return null;
  const name = nvr.slice(0, verDash);
  const version = nvr.slice(verDash + 1, relDash);
  const release = nvr.slice(relDash + 1);
  if (version === '' || release === '') return null;
  return { name, version, release };
}

/** `[E:]V-R`, with the epoch only when the header sets one (rpm's own %{EVR}). */
export function formatEvr(epoch: number | null, version: string, release: string): string {
  return `${epoch === null ? '' : `${epoch}:`}${version}-${release}`;
}

/**
 * The InstalledPackage for one header, or null for gpg-pubkey pseudo packages. `warn`
 * receives problems that do not stop the package from being reported.
 */
export function toInstalledPackage(fields: RpmHeaderFields, warn: (message: string) => void): InstalledPackage | null {
  if (fields.name === GPG_PUBKEY) return null;
  const version = formatEvr(fields.epoch, fields.version, fields.release);
  let source = fields.name;
  let sourceVersion = version;
  if (fields.sourceRpm !== null) {
    const parsed = parseSourceRpm(fields.sourceRpm);
    if (parsed === null) {
      warn(
        `${fields.name}: SOURCERPM "${fields.sourceRpm}" is not name-version-release.src.rpm; using the binary package's own name and version`,
      );
    } else {
      source = parsed.name;
      // A source rpm file name carries no epoch; the binary's epoch is the build's epoch.
      sourceVersion = formatEvr(fields.epoch, parsed.version, parsed.release);
    }
  }
  const pkg: InstalledPackage = {
    name: fields.name,
    version,
    arch: fields.arch ?? '',
    source,
    source_version: sourceVersion,
    format: 'rpm',
  };
  if (fields.epoch !== null) pkg.epoch = fields.epoch;
  if (fields.vendor !== null && fields.vendor !== '') pkg.vendor = fields.vendor;
  if (fields.modularityLabel !== null && fields.modularityLabel !== '') pkg.modularity_label = fields.modularityLabel;
  return pkg;
}
