// The apt repository's metadata: a Packages stanza per .deb (its control file plus where it is
// and its digest) and the Release file that lists every index with its size and SHA-256. The
// Release file's Origin and Label are what unattended-upgrades matches (PATCHLOOP_APT_ORIGIN).
import { PATCHLOOP_APT_ORIGIN } from '../../core/policy/self-update.ts';
import type { DebControl } from './deb-file.ts';

export const APT_SUITE = 'stable';
export const APT_COMPONENT = 'main';
/** Architectures always listed, so a host of either finds an index (empty when nothing is built for it). */
export const APT_ARCHITECTURES = ['amd64', 'arm64'] as const;

/** Fields the repository writes itself; a .deb's own copies are dropped. */
const REPOSITORY_FIELDS = new Set(['filename', 'size', 'md5sum', 'sha1', 'sha256', 'sha512']);

export function packagesStanza(control: DebControl, o: { filename: string; size: number; sha256: string }): string {
  const lines = control.fields.filter(([k]) => !REPOSITORY_FIELDS.has(k.toLowerCase())).map(([k, v]) => `${k}: ${v}`);
  lines.push(`Filename: ${o.filename}`, `Size: ${o.size}`, `SHA256: ${o.sha256}`);
  return `${lines.join('\n')}\n`;
}

/** The Packages index: stanzas separated by blank lines. */
export function packagesIndex(stanzas: readonly string[]): string {
  return stanzas.join('\n');
}

/** RFC 2822 date in UTC, as apt writes and reads it. */
export function releaseDate(ms: number): string {
  return new Date(ms).toUTCString().replace(/GMT$/, 'UTC');
}

export function releaseFile(o: {
  now: number;
  description: string;
  indexes: { path: string; size: number; sha256: string }[];
}): string {
  const width = Math.max(...o.indexes.map((i) => String(i.size).length), 1);
  return [
    `Origin: ${PATCHLOOP_APT_ORIGIN.origin}`,
    `Label: ${PATCHLOOP_APT_ORIGIN.label}`,
    `Suite: ${APT_SUITE}`,
    `Codename: ${APT_SUITE}`,
    `Date: ${releaseDate(o.now)}`,
    `Architectures: ${APT_ARCHITECTURES.join(' ')}`,
    `Components: ${APT_COMPONENT}`,
    `Description: ${o.description}`,
    'SHA256:',
    ...o.indexes.map((i) => ` ${i.sha256} ${String(i.size).padStart(width)} ${i.path}`),
    '',
  ].join('\n');
}
