// What `npm run package` built (dist/packages.json), for the tests that run and install it, and
// the ways they run it: the arm64 executable under qemu-user-static, commands inside a copy of
// the cached Debian bookworm root (scripts/build-test-root).
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from './paths.ts';
import type { PackageManifest } from '../../scripts/packaging/manifest.ts';

export const DIST = join(REPO_ROOT, 'dist');
export const VERSION = (JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string })
  .version;

/** The manifest of the packages built from this checkout's version; throws (naming the command) when there is none. */
export function packageManifest(): PackageManifest {
  const file = join(DIST, 'packages.json');
  if (!existsSync(file)) throw new Error('dist/packages.json is missing: run `npm run package` first');
  const manifest = JSON.parse(readFileSync(file, 'utf8')) as PackageManifest;
  if (manifest.version !== VERSION)
    throw new Error(
      `dist/ holds packages of version ${manifest.version}, package.json says ${VERSION}: run \`npm run package\``,
    );
  return manifest;
}

/** The path of one built file, by kind and Node.js architecture. */
export function builtFile(kind: PackageManifest['files'][number]['kind'], nodeArch: 'x64' | 'arm64'): string {
  const entry = packageManifest().files.find((f) => f.kind === kind && f.node_arch === nodeArch);
  if (!entry) throw new Error(`dist/packages.json lists no ${kind} for ${nodeArch}: run \`npm run package\``);
  return join(DIST, entry.file);
}

/** The arm64 C libraries of Debian's *-arm64-cross packages, which qemu-aarch64-static loads. */
export const ARM64_SYSROOT = '/usr/aarch64-linux-gnu';

/** argv that runs an arm64 executable here: under qemu-aarch64-static with the arm64 libraries. */
export function arm64Argv(executable: string, args: string[]): string[] {
  return ['/usr/bin/qemu-aarch64-static', '-L', ARM64_SYSROOT, executable, ...args];
}

export interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs argv with a PATH that holds no Node.js or npm (only the system's directories), from `cwd`. */
export function runWithoutNode(
  argv: string[],
  o: { cwd: string; env?: NodeJS.ProcessEnv; input?: string; timeoutMs?: number },
): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0], argv.slice(1), {
      cwd: o.cwd,
      env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', HOME: o.cwd, LANG: 'C.UTF-8', NO_COLOR: '1', ...o.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), o.timeoutMs ?? 120_000);
    child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.end(o.input ?? '');
  });
}

const BUILD_TEST_ROOT = join(REPO_ROOT, 'scripts/build-test-root');

/** Tools the Debian root tests need, missing here (empty when all are present). */
export function missingRootTools(): string[] {
  return ['mmdebstrap', 'zstd', 'unshare', 'dpkg-deb', 'rpm', 'rpmbuild'].filter(
    (t) => spawnSync('sh', ['-c', `command -v ${t}`]).status !== 0,
  );
}

/**
 * A fresh copy of the cached bookworm base root (scripts/build-test-root cache: built once by
 * mmdebstrap, then reused) unpacked into `dir`: no other setup, no network.
 */
export function unpackBookwormRoot(dir: string): void {
  const cache = spawnSync(BUILD_TEST_ROOT, ['cache'], { encoding: 'utf8', timeout: 20 * 60_000 });
  if (cache.status !== 0) throw new Error(`build-test-root cache failed:\n${cache.stderr}`);
  const tarball = cache.stdout.trim();
  const unpack = spawnSync(
    'sh',
    ['-c', 'mkdir -p "$1" && zstd -dc -T0 "$0" | tar --numeric-owner --xattrs --acls -C "$1" -xf -', tarball, dir],
    { encoding: 'utf8' },
  );
  if (unpack.status !== 0) throw new Error(`unpacking ${tarball} failed:\n${unpack.stderr}`);
}

/**
 * Runs a command inside the root (chroot in its own PID and mount namespace; the network is the host's, so loopback
 * reaches a test server).
 */
export function inRoot(root: string, argv: string[], o: { input?: string; env?: Record<string, string> } = {}): Run {
  const env = Object.entries({
    PATH: '/usr/sbin:/usr/bin:/sbin:/bin',
    LANG: 'C.UTF-8',
    DEBIAN_FRONTEND: 'noninteractive',
    ...o.env,
  }).map(([k, v]) => `${k}=${v}`);
  const r = spawnSync(BUILD_TEST_ROOT, ['run', root, 'env', '-i', ...env, ...argv], {
    encoding: 'utf8',
    input: o.input ?? '',
    timeout: 10 * 60_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Mount points below `dir` (none may be left before the root is deleted). */
export function mountsBelow(dir: string): string[] {
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((l) => l.split(' ')[4])
    .filter((m) => m && (m === dir || m.startsWith(`${dir}/`)));
}
