// dpkg-query, the reference implementation the dpkg reader is checked against, and the same
// package lines for what patchloop read.
import { execFileSync } from 'node:child_process';

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
    [
      '--admindir',
      adminDir,
      '-W',
      '-f',
      '${db:Status-Abbrev}\t${Package}\t${Version}\t${Architecture}\t${source:Package}\t${source:Version}\n',
    ],
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
export function packageLines(
  pkgs: { name: string; version: string; arch: string; source: string; source_version: string }[],
): string[] {
  return pkgs.map((p) => [p.name, p.version, p.arch, p.source, p.source_version].join('\t')).sort();
}
