// Generates a Debian root with a dpkg status file of N installed packages: the real packages
// of a bookworm host first, then synthetic ones named after source packages of a tracker feed
// (so the scan has real matching work), deterministic for a given seed.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pick, seededRandom } from './seeded-random.ts';

export interface StatusRootOptions {
  /** A real dpkg status file to start from. */
  baseStatus: string;
  /** An os-release to copy. */
  osRelease: string;
  /** Source package names to draw synthetic packages from. */
  sourceNames: readonly string[];
  count: number;
  seed?: number;
}

export function generateStatusRoot(root: string, o: StatusRootOptions): { packages: number } {
  const base = readFileSync(o.baseStatus, 'utf8').trim().split(/\n\n+/);
  const stanzas = base.slice(0, o.count);
  const taken = new Set(stanzas.map((s) => /^Package: (.+)$/m.exec(s)?.[1]));
  const rand = seededRandom(o.seed ?? 42);
  for (let i = 0; stanzas.length < o.count; i++) {
    const source = pick(rand, o.sourceNames);
    const name = taken.has(source) ? `${source}-bin${i}` : source;
    if (taken.has(name)) continue;
    taken.add(name);
    const version = `${1 + Math.floor(rand() * 5)}.${Math.floor(rand() * 20)}.${Math.floor(rand() * 10)}-${1 + Math.floor(rand() * 3)}`;
    stanzas.push(
      [
        `Package: ${name}`,
        'Status: install ok installed',
        'Priority: optional',
        'Section: misc',
        'Installed-Size: 100',
        'Maintainer: Bench <bench@example.invalid>',
        'Architecture: amd64',
        ...(name !== source ? [`Source: ${source} (${version})`] : []),
        `Version: ${version}`,
        'Description: synthetic package for benchmarks',
      ].join('\n'),
    );
  }
  mkdirSync(join(root, 'var/lib/dpkg'), { recursive: true });
  mkdirSync(join(root, 'etc'), { recursive: true });
  writeFileSync(join(root, 'var/lib/dpkg/status'), `${stanzas.join('\n\n')}\n`);
  writeFileSync(join(root, 'etc/os-release'), readFileSync(o.osRelease));
  return { packages: stanzas.length };
}
