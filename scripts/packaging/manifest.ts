// dist/packages.json: what `npm run package` built, for the tools that publish it (the server's
// package repositories): each file with its kind, architecture in the format's own naming, the
// Node.js architecture, size and SHA-256.
// Run: node scripts/packaging/manifest.ts DIR VERSION > DIR/packages.json
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

export interface PackageFile {
  file: string;
  kind: 'executable' | 'deb' | 'rpm' | 'apk';
  /** The format's own architecture name: amd64/arm64 (deb), x86_64/aarch64 (rpm, apk), x64/arm64 (executable). */
  arch: string;
  /** The same architecture as Node.js names it: x64 or arm64. */
  node_arch: 'x64' | 'arm64';
  size: number;
  sha256: string;
}

export interface PackageManifest {
  schema: 'patchloop.packages/v1';
  name: 'patchloop';
  version: string;
  files: PackageFile[];
}

const KINDS: { kind: PackageFile['kind']; re: RegExp }[] = [
  { kind: 'executable', re: /^patchloop-linux-(x64|arm64)$/ },
  { kind: 'deb', re: /^patchloop_[^_]+_(amd64|arm64)\.deb$/ },
  { kind: 'rpm', re: /^patchloop-.+-1\.(x86_64|aarch64)\.rpm$/ },
  { kind: 'apk', re: /^patchloop-.+-r1\.(x86_64|aarch64)\.apk$/ },
];

export function packageManifest(dir: string, version: string): PackageManifest {
  const files: PackageFile[] = [];
  for (const file of readdirSync(dir).sort()) {
    for (const { kind, re } of KINDS) {
      const m = re.exec(file);
      if (!m) continue;
      const data = readFileSync(join(dir, file));
      files.push({
        file,
        kind,
        arch: m[1],
        node_arch: ['x64', 'amd64', 'x86_64'].includes(m[1]) ? 'x64' : 'arm64',
        size: statSync(join(dir, file)).size,
        sha256: createHash('sha256').update(data).digest('hex'),
      });
    }
  }
  return { schema: 'patchloop.packages/v1', name: 'patchloop', version, files };
}

if (import.meta.main) {
  const [dir, version] = process.argv.slice(2);
  if (!dir || !version) throw new Error('usage: node scripts/packaging/manifest.ts DIR VERSION');
  process.stdout.write(`${JSON.stringify(packageManifest(dir, version), null, 2)}\n`);
}
