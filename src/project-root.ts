// The installed project's root directory (where package.json, bin/, deploy/ and web/dist live),
// found by walking up from this module: it sits at different depths in the sources (src/) and
// in the bundled build (dist/, dist/chunks/).
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

let cached: string | undefined;

export function projectRoot(): string {
  if (cached) return cached;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest) && (JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string }).name === 'patchloop') {
      cached = dir;
      return dir;
    }
    const parent = dirname(dir);
    if (parent === dir) throw new Error('cannot find the patchloop installation directory (package.json)');
    dir = parent;
  }
}
