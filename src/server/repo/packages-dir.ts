// Where the packages the server publishes come from, when repo.packages_dir does not say: the
// packages next to the installation (a checkout's dist/, where `npm run package` writes them
// with packages.json), else `packages/` in the data directory, which `patchloop server publish`
// fills (an installed server: its executable carries no packages of its own).
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { isSingleExecutable, projectRoot } from '../../project-root.ts';

export function defaultPackagesDir(dataDir: string): string {
  if (!isSingleExecutable()) {
    try {
      const dist = join(projectRoot(), 'dist');
      if (existsSync(join(dist, 'packages.json'))) return dist;
    } catch {
      // no installation directory found: the data directory's
    }
  }
  return join(dataDir, 'packages');
}
