// Where things are, for tests and benchmarks: the repository, its CLI (as users run it and from
// the sources), and the shared real data beside the clone (../shared/data).
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const SHARED_DATA = fileURLToPath(new URL('../../../shared/data/', import.meta.url));
/** ./bin/patchloop: the bundle when it is current, else the sources (the way users run it). */
export const BIN = join(REPO_ROOT, 'bin/patchloop');
/** The CLI's entry in the sources, run with this process's Node. */
export const CLI = join(REPO_ROOT, 'src/cli/main.ts');
/** The real package databases of the shared data (`…/shared/data/pkgdb/`). */
export const PKGDB = join(SHARED_DATA, 'pkgdb/');

export function pkgdb(rel: string): string {
  return join(PKGDB, rel);
}
