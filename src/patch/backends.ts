// The backend registry: one patch backend per package format. Which one a host gets follows
// from the distribution table (core/distros.ts): the package format of its profile.
import { distroProfile, SUPPORTED_DISTROS } from '../core/distros.ts';
import type { OsInfo, PackageFormat } from '../core/types.ts';
import { apkBackend } from './apk/index.ts';
import { aptBackend } from './apt/index.ts';
import type { PatchBackend } from './backend.ts';
import { dnfBackend } from './dnf/index.ts';

/** Every patch backend, one per package format. */
export const patchBackends: readonly PatchBackend[] = [aptBackend, dnfBackend, apkBackend];

export function backendForFormat(format: PackageFormat): PatchBackend | null {
  return patchBackends.find((b) => b.format === format) ?? null;
}

/**
 * The package format of a host's distribution: its os-release ID in the distribution table,
 * or else the first ID_LIKE the table knows (a derivative such as Raspbian or Linux Mint
 * patches like the distribution it derives from). null when the table knows none of them.
 */
export function packageFormatOf(os: OsInfo): PackageFormat | null {
  for (const id of [os.id, ...(os.id_like ?? [])]) {
    const profile = distroProfile(id);
    if (profile) return profile.format;
  }
  return null;
}

/** The backend for a host's distribution; null when none fits. */
export function backendFor(os: OsInfo): PatchBackend | null {
  const format = packageFormatOf(os);
  return format ? backendForFormat(format) : null;
}

/** The distributions of the table that a backend patches, by name (for messages). */
export function patchableDistributions(): string[] {
  return SUPPORTED_DISTROS.flatMap((id) => {
    const profile = distroProfile(id);
    return profile && backendForFormat(profile.format) ? [profile.name] : [];
  });
}
