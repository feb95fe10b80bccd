// Helpers shared by the inventory tests: where the shared real data lives, scratch roots, and
// dpkg-query (the reference implementation the dpkg reader is checked against).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** `/…/shared/data/pkgdb`, beside the repository clone. */
export const PKGDB = fileURLToPath(new URL('../../../shared/data/pkgdb/', import.meta.url));

export function pkgdb(rel: string): string {
  return path.join(PKGDB, rel);
}

/** A fresh scratch directory, removed when the test (or process) ends. */
export function scratchDir(t: { after(fn: () => void): void }): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'patchloop-inventory-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Whether dpkg-query can be run here (Debian and derivatives). */
export function haveDpkgQuery(): boolean {
  try {
    execFileSync('dpkg-query', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/**
 * What dpkg-query reports for an admin directory, as `name\tversion\tarch\tsource\tsource_version`
 * lines, sorted, keeping only packages whose files are on disk (state not `n`ot-installed or
 * `c`onfig-files; the second letter of `db:Status-Abbrev`).
 */
export function dpkgQueryInstalled(adminDir: string): string[] {
  const out = execFileSync(
    'dpkg-query',
    ['--admindir', adminDir, '-W', '-f', '${db:Status-Abbrev}\t${Package}\t${Version}\t${Architecture}\t${source:Package}\t${source:Version}\n'],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], maxBuffer: 64 << 20 },
  );
  return out
    .split('\n')
    .filter((l) => l !== '')
    .filter((l) => !'nc'.includes(l[1]))
    .map((l) => l.split('\t').slice(1).join('\t'))
    .sort();
}

/** The same lines for packages read by patchloop. */
export function packageLines(pkgs: { name: string; version: string; arch: string; source: string; source_version: string }[]): string[] {
  return pkgs.map((p) => [p.name, p.version, p.arch, p.source, p.source_version].join('\t')).sort();
}
