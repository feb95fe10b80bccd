// Restart and reboot state of a root after patching: /run/reboot-required(.pkgs), the kernels
// installed against the running one, and needrestart's batch output (`needrestart -b`).
// On Debian only kernel packages (and a few others' postinst scripts) create the reboot flag,
// so the kernel comparison and needrestart complete the picture.
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { compareVersions } from '../core/version/index.ts';
import { readOptional } from './root-files.ts';
import type { KernelState } from './types.ts';

export interface NeedrestartBatch {
  version: string | null;
  kernel_current: string | null;
  kernel_expected: string | null;
  /** 0 unknown, 1 current, 2 ABI-compatible upgrade pending, 3 version upgrade pending. */
  kernel_status: number | null;
  microcode_status: number | null;
  services: string[];
  containers: string[];
  sessions: string[];
}

/**
 * `needrestart -b` prints `NEEDRESTART-KEY: value` lines (apt-dater protocol). Unknown keys
 * are ignored (newer needrestart versions add some); a line of another shape is an error.
 */
export function parseNeedrestartBatch(text: string, file = 'needrestart -b'): NeedrestartBatch {
  const out: NeedrestartBatch = {
    version: null,
    kernel_current: null,
    kernel_expected: null,
    kernel_status: null,
    microcode_status: null,
    services: [],
    containers: [],
    sessions: [],
  };
  const num = (v: string, key: string, line: number): number => {
    if (!/^\d+$/.test(v)) throw new Error(`${file}:${line}: ${key} is not a number: ${JSON.stringify(v)}`);
    return Number(v);
  };
  text.split('\n').forEach((raw, i) => {
    const line = raw.trimEnd();
    if (line === '') return;
    const m = /^NEEDRESTART-([A-Z]+):(?: (.*))?$/.exec(line);
    if (!m) throw new Error(`${file}:${i + 1}: not needrestart batch output: ${JSON.stringify(line.slice(0, 80))}`);
    const value = (m[2] ?? '').trim();
    switch (m[1]) {
      case 'VER':
        out.version = value;
        break;
      case 'KCUR':
        out.kernel_current = value || null;
        break;
      case 'KEXP':
        out.kernel_expected = value || null;
        break;
      case 'KSTA':
        out.kernel_status = num(value, 'KSTA', i + 1);
        break;
      case 'UCSTA':
        out.microcode_status = num(value, 'UCSTA', i + 1);
        break;
      case 'SVC':
        if (value) out.services.push(value);
        break;
      case 'CONT':
        if (value) out.containers.push(value);
        break;
      case 'SESS':
        if (value) out.sessions.push(value);
        break;
    }
  });
  return out;
}

export interface RebootFlag {
  required: boolean;
  packages: string[];
}

/** /run/reboot-required and its .pkgs list (one package per line, duplicates dropped). */
export async function readRebootFlag(root: string): Promise<RebootFlag> {
  const flag = path.join(root, 'run/reboot-required');
  const pkgs = await readOptional(`${flag}.pkgs`);
  return {
    required: (await readOptional(flag)) !== null,
    packages: [
      ...new Set(
        (pkgs ?? '')
          .split('\n')
          .map((l) => l.trim())
          .filter((l) => l !== ''),
      ),
    ],
  };
}

/**
 * Compares kernel releases (`6.1.0-56-amd64`) the way installed kernels sort: by the version
 * part, with Debian's ordering (which handles `6.1.0-9` < `6.1.0-10`).
 */
export function compareKernelReleases(a: string, b: string): number {
  try {
    return compareVersions('deb', a, b);
  } catch {
    return a < b ? -1 : a > b ? 1 : 0;
  }
}

/** Kernel releases installed in the root, from /boot/vmlinuz-* (or /lib/modules when /boot is empty). */
export async function installedKernels(root: string): Promise<string[]> {
  const list = async (dir: string, prefix: string): Promise<string[]> => {
    try {
      return (await readdir(path.join(root, dir)))
        .filter((f) => f.startsWith(prefix))
        .map((f) => f.slice(prefix.length));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
  };
  let kernels = await list('boot', 'vmlinuz-');
  if (kernels.length === 0) kernels = await list('usr/lib/modules', '');
  if (kernels.length === 0) kernels = await list('lib/modules', '');
  return kernels.filter((k) => k !== '').sort(compareKernelReleases);
}

/** Running versus installed kernel; `running` is null for a root that is not this system. */
export function kernelState(
  running: string | null,
  installed: readonly string[],
  needrestart: NeedrestartBatch | null,
): KernelState {
  const newest = installed.at(-1) ?? null;
  return {
    running,
    newest_installed: newest,
    installed: [...installed],
    // needrestart's view of the kernel is only about this system's running kernel
    needrestart_status: running === null ? null : (needrestart?.kernel_status ?? null),
    // a running kernel that is not among the installed ones (custom build, container host)
    // says nothing about whether a reboot would change it
    reboot_needed: running === null || newest === null || !installed.includes(running) ? null : running !== newest,
  };
}
