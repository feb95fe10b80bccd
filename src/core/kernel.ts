// Kernel awareness: kernel CVEs apply to the image of the running kernel. Other installed
// images are reported as "installed, not running"; headers, linux-libc-dev and build tooling
// built from the kernel source are not reported for kernel CVEs at all.
import type { InstalledPackage, PackageFormat } from './types.ts';

export type KernelRole =
  /** Not a kernel package: matched like any other. */
  | { kind: 'none' }
  /** A kernel image: matched, flagged when it is not the running kernel. */
  | { kind: 'image'; running: boolean; key: string; version: string }
  /** Built from the kernel source but not the kernel (headers, libc-dev, tools): no kernel findings. */
  | { kind: 'excluded' };

// Source packages that build Linux kernels: `linux`, Debian's `linux-signed-amd64` and
// `linux-5.10`, Ubuntu's flavours (`linux-aws`, `linux-hwe-6.8`, `linux-signed-hwe-6.8`).
// `linux-base`, `linux-firmware`, `linux-atm` and similar are userland and do not match.
const KERNEL_FLAVOURS = new Set([
  'hwe',
  'aws',
  'azure',
  'gcp',
  'gke',
  'gkeop',
  'oracle',
  'ibm',
  'kvm',
  'lowlatency',
  'oem',
  'nvidia',
  'intel',
  'raspi',
  'realtime',
  'riscv',
  'bluefield',
  'xilinx',
  'fips',
  'starfive',
  'allwinner',
  'mtk',
  'laptop',
  'lts',
]);
const DEB_ARCHES = /-(?:amd64|arm64|armhf|armel|i386|ppc64el|s390x|mips64el|mipsel|riscv64|loong64)$/;

function debKernelKey(source: string): string | null {
  if (source === 'linux' || source === 'linux-signed') return 'linux';
  if (!source.startsWith('linux-')) return null;
  const unsigned = source.replace(/^linux-signed-/, 'linux-').replace(DEB_ARCHES, '');
  if (unsigned === 'linux') return 'linux';
  const first = unsigned.slice('linux-'.length).split('-')[0];
  return KERNEL_FLAVOURS.has(first) || /^\d+\.\d+$/.test(first) ? unsigned : null;
}

// A real kernel image carries its ABI in the name; meta packages (linux-image-amd64,
// linux-image-generic-hwe-22.04) only pull one in.
const DEB_IMAGE = /^linux-image-(?:unsigned-)?(\d+\.\d+[\w.+~-]*)$/;

// Amazon Linux 2023 names its newer kernel lines by version: `kernel6.12` beside `kernel` (6.1).
const RPM_KERNEL_SOURCE = /^kernel(?:-rt|-uek|-64k|\d+\.\d+)?$/;
// The kernel itself in its variants (rt, 64k pages, debug build, s390x dump kernel, a versioned
// line) and the pieces an installed kernel is made of: image, modules, the unified kernel image.
const RPM_IMAGE =
  /^kernel(?:-rt|-uek|-64k|-zfcpdump|\d+\.\d+)?(-debug)?(?:-core|-modules|-modules-core|-modules-extra|-uki-virt)?$/;

const APK_IMAGE = /^linux-(lts|virt|edge|rpi|rpi4)$/;

export function kernelRole(pkg: InstalledPackage, format: PackageFormat, runningKernel: string | null): KernelRole {
  switch (format) {
    case 'deb':
      return debRole(pkg, runningKernel);
    case 'rpm':
      return rpmRole(pkg, runningKernel);
    case 'apk':
      return apkRole(pkg, runningKernel);
  }
}

function debRole(pkg: InstalledPackage, running: string | null): KernelRole {
  const key = debKernelKey(pkg.source);
  if (!key) return { kind: 'none' };
  const image = DEB_IMAGE.exec(pkg.name);
  if (!image) return { kind: 'excluded' };
  const abi = image[1].replace(/-unsigned$/, '');
  // Signed images are rebuilt from the unsigned source with a version of their own
  // (linux-signed-amd64 6.1.119+1 for linux 6.1.119-1); the binary's version is the kernel's.
  return { kind: 'image', running: running === null || running === abi, key, version: pkg.version };
}

function rpmRole(pkg: InstalledPackage, running: string | null): KernelRole {
  if (!RPM_KERNEL_SOURCE.test(pkg.source)) return { kind: 'none' };
  // Everything else the kernel source builds (headers, devel, tools, perf, bpftool, docs) is
  // not the kernel: kernel CVEs are not its findings, as for Debian's linux source.
  const image = RPM_IMAGE.exec(pkg.name);
  if (!image) return { kind: 'excluded' };
  const vr = pkg.version.replace(/^\d+:/, '');
  // `uname -r` of a variant carries a suffix after the arch (`…x86_64+debug`, `…aarch64+64k`);
  // a debug image runs only as a debug kernel, and the plain image never as one.
  const debug = image[1] !== undefined;
  const base = `${vr}.${pkg.arch}`;
  const isRunning =
    running === null ||
    (debug
      ? running.startsWith(`${base}+`) && running.includes('debug')
      : running === base || (running.startsWith(`${base}+`) && !running.includes('debug')));
  return { kind: 'image', running: isRunning, key: pkg.name, version: pkg.version };
}

function apkRole(pkg: InstalledPackage, running: string | null): KernelRole {
  if (pkg.name === 'linux-headers') return { kind: 'excluded' };
  const flavour = APK_IMAGE.exec(pkg.name);
  if (!flavour) return { kind: 'none' };
  // linux-lts 6.6.31-r0 runs as 6.6.31-0-lts
  const m = /^(.+)-r(\d+)$/.exec(pkg.version);
  const release = m ? `${m[1]}-${m[2]}-${flavour[1]}` : null;
  return {
    kind: 'image',
    running: running === null || running === release,
    key: pkg.source,
    version: pkg.source_version,
  };
}

/** The release (`uname -r`) a kernel image package runs as, or null for a package that is not one. */
export function imageRelease(pkg: InstalledPackage, format: PackageFormat): string | null {
  if (kernelRole(pkg, format, null).kind !== 'image') return null;
  switch (format) {
    case 'deb':
      return DEB_IMAGE.exec(pkg.name)![1].replace(/-unsigned$/, '');
    case 'rpm': {
      const variant = /-(rt|64k)(?:-|$)/.exec(pkg.name)?.[1];
      const debug = /-debug(?:-|$)/.test(pkg.name);
      const suffix = [variant, debug ? 'debug' : undefined].filter(Boolean).join('+');
      return `${pkg.version.replace(/^\d+:/, '')}.${pkg.arch}${suffix ? `+${suffix}` : ''}`;
    }
    case 'apk': {
      const m = /^(.+)-r(\d+)$/.exec(pkg.version);
      return m ? `${m[1]}-${m[2]}-${APK_IMAGE.exec(pkg.name)![1]}` : pkg.version;
    }
  }
}

/**
 * A kernel release given for a root (`--kernel`) that matches none of its installed kernel
 * images: a typing error, or the image of the running kernel removed since boot. Every image is
 * then reported as installed but not running, so the caller is told which releases there are.
 * Null when the release matches one, or when there is no kernel image at all.
 */
export function unmatchedKernel(packages: readonly InstalledPackage[], running: string | null): string | null {
  if (running === null) return null;
  const releases = new Set<string>();
  for (const p of packages) {
    const role = kernelRole(p, p.format, running);
    if (role.kind !== 'image') continue;
    if (role.running) return null;
    releases.add(imageRelease(p, p.format) ?? p.version);
  }
  if (releases.size === 0) return null;
  return `kernel ${running} matches no installed kernel image (installed: ${[...releases].sort().join(', ')}): every kernel image is treated as installed but not running`;
}
