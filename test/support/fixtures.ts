// Test inputs for the server and agent tests: a Debian tracker feed (the real schema) written
// for the real bookworm host in ../shared/data/pkgdb/dpkg/bookworm-host, and helpers to copy
// that root and upgrade a package in its dpkg status file.
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pkgdb } from './paths.ts';

export const BOOKWORM_ROOT = pkgdb('dpkg/bookworm-host');

interface TrackerRelease {
  status: 'resolved' | 'open' | 'undetermined';
  fixed_version?: string;
  urgency: string;
  nodsa_reason?: string;
  repositories: Record<string, string>;
}

const rel = (
  r: Omit<TrackerRelease, 'repositories'>,
): { releases: { bookworm: TrackerRelease }; description: string; scope: string } => ({
  description: 'patchloop server test entry',
  scope: 'local',
  releases: { bookworm: { ...r, repositories: { bookworm: 'x' } } },
});

/**
 * Generation 1 of the feed. On the bookworm host (openssl 3.0.19-1~deb12u2, zlib
 * 1:1.2.13.dfsg-1, curl 7.88.1-10+deb12u14, tar 1.34+dfsg-1.2+deb12u1) it gives:
 * CVE-2099-1001 fixed (high) on libssl3, openssl, libssl-dev; CVE-2099-1002 affected (medium)
 * on zlib1g, zlib1g-dev; CVE-2099-1005 will_not_fix (low) on curl's binaries; nothing for tar.
 */
export function trackerFeedV1(): Record<string, Record<string, unknown>> {
  return {
    openssl: { 'CVE-2099-1001': rel({ status: 'resolved', fixed_version: '3.0.19-1~deb12u3', urgency: 'high' }) },
    zlib: { 'CVE-2099-1002': rel({ status: 'open', urgency: 'medium' }) },
    tar: { 'CVE-2099-1004': rel({ status: 'resolved', fixed_version: '0', urgency: 'low' }) },
    curl: { 'CVE-2099-1005': rel({ status: 'open', urgency: 'low', nodsa_reason: 'ignored' }) },
  };
}

/** Generation 2: adds CVE-2099-1003, fixed in bash 5.2.15-3 (high), on top of generation 1. */
export function trackerFeedV2(): Record<string, Record<string, unknown>> {
  return {
    ...trackerFeedV1(),
    bash: { 'CVE-2099-1003': rel({ status: 'resolved', fixed_version: '5.2.15-3', urgency: 'high' }) },
  };
}

/** Generation 3: a fix published for zlib's CVE-2099-1002 (open until now), on top of generation 2. */
export function trackerFeedV3(): Record<string, Record<string, unknown>> {
  return {
    ...trackerFeedV2(),
    zlib: { 'CVE-2099-1002': rel({ status: 'resolved', fixed_version: '1:1.2.13.dfsg-2', urgency: 'medium' }) },
  };
}

export function writeFeedFile(dir: string, name: string, feed: unknown): string {
  const file = join(dir, name);
  writeFileSync(file, JSON.stringify(feed));
  return file;
}

/** A copy of the bookworm host root that a test may change. */
export function copyBookwormRoot(): string {
  const dir = mkdtempSync(join(tmpdir(), 'patchloop-root-'));
  cpSync(BOOKWORM_ROOT, dir, { recursive: true });
  return dir;
}

/**
 * Sets the version of every binary built from `source` in the root's dpkg status, the way an
 * upgrade of that source package would (Version:, and a `Source: name (version)` if any).
 */
export function upgradeSource(root: string, source: string, version: string): number {
  const file = join(root, 'var/lib/dpkg/status');
  let changed = 0;
  const stanzas = readFileSync(file, 'utf8')
    .split('\n\n')
    .map((stanza) => {
      const name = /^Package: (\S+)$/m.exec(stanza)?.[1];
      const src = /^Source: (\S+)/m.exec(stanza)?.[1] ?? name;
      if (src !== source) return stanza;
      changed++;
      // Without a version in Source:, the source version is the binary's own.
      return stanza
        .replace(/^Version: .*$/m, `Version: ${version}`)
        .replace(/^Source: (\S+) \([^)]*\)$/m, 'Source: $1');
    });
  writeFileSync(file, stanzas.join('\n\n'));
  return changed;
}
