// `patchloop server publish FILE...`: adds package files to the directory the server publishes.
// Each file is read first (a patchloop .deb, .rpm or .apk of a published architecture, or it is
// refused and nothing is copied), then copied under the name the repository serves it by,
// through a temporary file and a rename, so a running server never sees half a package; it
// rebuilds its metadata at the next request that finds the directory changed.
import { chmodSync, copyFileSync, existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, readPublishedPackage, type PublishedPackage } from './published-package.ts';

export interface Published {
  pkg: PublishedPackage;
  /** Where it now lies. */
  target: string;
  /** An identical file was there already. */
  unchanged: boolean;
}

export async function publishPackages(files: readonly string[], packagesDir: string): Promise<Published[]> {
  // Every file is checked before any is copied.
  const packages = [];
  for (const file of files) packages.push(await readPublishedPackage(file));
  mkdirSync(packagesDir, { recursive: true, mode: 0o755 });
  const out: Published[] = [];
  for (const pkg of packages) {
    const target = join(packagesDir, pkg.name);
    if (existsSync(target) && (await readPublishedPackage(target).catch(() => null))?.sha256 === pkg.sha256) {
      out.push({ pkg, target, unchanged: true });
      continue;
    }
    const tmp = join(packagesDir, `.${pkg.name}.${process.pid}.tmp`);
    try {
      copyFileSync(pkg.file, tmp);
      chmodSync(tmp, 0o644);
      renameSync(tmp, target);
    } finally {
      rmSync(tmp, { force: true });
    }
    out.push({ pkg, target, unchanged: false });
  }
  return out;
}

export function publishedLine(p: Published): string {
  return `${describe(p.pkg)} → ${p.target}${p.unchanged ? ' (already there)' : ''}`;
}
