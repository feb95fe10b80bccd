// Where this installation's own files come from: the dashboard (web/dist), the systemd unit
// templates (deploy/systemd), the feed update worker (dist/feed-update-worker.js). Two kinds:
// - a directory: a checkout, or the bundle of the Alpine package; its root (where package.json,
//   bin/, deploy/ and web/dist live) is found by walking up from this module, which sits at
//   different depths in the sources (src/) and in the bundled build (dist/, dist/chunks/);
// - a single executable (Node's SEA, scripts/package): the same files are embedded as assets
//   named by the same relative paths, and there is no directory at all.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import sea from 'node:sea';

let cached: string | undefined;

/** True in the single executable (patchloop-linux-x64/-arm64), where files are embedded assets. */
export function isSingleExecutable(): boolean {
  return sea.isSea();
}

/** The installation directory. A single executable has none: use installedFile() there. */
export function projectRoot(): string {
  if (cached) return cached;
  if (isSingleExecutable())
    throw new Error('a single executable has no installation directory; its files are embedded');
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const manifest = join(dir, 'package.json');
    if (
      existsSync(manifest) &&
      (JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string }).name === 'patchloop'
    ) {
      cached = dir;
      return dir;
    }
    const parent = dirname(dir);
    if (parent === dir) throw new Error('cannot find the patchloop installation directory (package.json)');
    dir = parent;
  }
}

/**
 * One file of this installation by its path from the root ("web/dist/index.html"): the embedded
 * asset of a single executable, else the file below projectRoot(). null when there is none.
 */
export function installedFile(path: string): Buffer | null {
  if (isSingleExecutable()) {
    // getAsset copies (getRawAsset would hand out the executable's own read-only memory).
    return sea.getAssetKeys().includes(path) ? Buffer.from(sea.getAsset(path)) : null;
  }
  const file = join(projectRoot(), path);
  return existsSync(file) ? readFileSync(file) : null;
}

/** The files directly in one folder of the installation ("web/dist"), as paths from the root. */
export function installedFiles(folder: string): string[] {
  if (isSingleExecutable()) {
    const prefix = `${folder}/`;
    return sea
      .getAssetKeys()
      .filter((key) => key.startsWith(prefix) && !key.slice(prefix.length).includes('/'))
      .sort();
  }
  const dir = join(projectRoot(), folder);
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => `${folder}/${e.name}`)
    .sort();
}

/** The command that runs this installation: the executable itself, or the checkout's bin/patchloop. */
export function installedCommand(): string {
  return isSingleExecutable() ? process.execPath : join(projectRoot(), 'bin', 'patchloop');
}

/** Where the installation's documentation is, for systemd's Documentation= (a URI). */
export function installedDocumentation(): string {
  return isSingleExecutable() ? 'man:patchloop(1)' : `file://${join(projectRoot(), 'README.md')}`;
}
