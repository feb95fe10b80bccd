// Runs a command for a root: directly for the running system (`/`), else inside the root with
// chroot, in a PID namespace of its own (so needrestart and friends see only the root's
// processes) and a private mount namespace that holds /proc, /dev and /sys only for the
// command's lifetime. Nothing stays mounted afterwards, so deleting the root can never reach
// the host's /dev (the mounts do not propagate out and vanish with the namespace).
import { spawn } from 'node:child_process';
import { isHostRoot } from '../inventory/rootfs.ts';

export interface ExecResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

/** A directory mounted over another for the command only (inside its private mount namespace). */
export interface Bind {
  /** Host path. */
  source: string;
  /** Path as the command sees it (inside the root). */
  target: string;
}

export interface ExecOptions {
  env?: Record<string, string>;
  binds?: readonly Bind[];
  timeoutMs?: number;
  /** Bytes of output kept per stream (the tail), so a chatty command cannot exhaust memory. */
  maxOutput?: number;
}

// $0: the root ('' for the running system), $1: the number of binds, then source/target
// pairs, then the command.
const SCRIPT = [
  'root=$0; n=$1; shift',
  'if [ -n "$root" ]; then mount --rbind /dev "$root/dev" && mount -t sysfs sysfs "$root/sys" || exit 125; fi',
  'while [ "$n" -gt 0 ]; do mount --bind "$1" "$root$2" || exit 125; shift 2; n=$((n - 1)); done',
  'if [ -n "$root" ]; then exec chroot "$root" "$@"; else exec "$@"; fi',
].join('\n');

/** The argv that runs `argv` for `root`, with `binds` mounted for it alone. */
export function rootArgv(root: string, argv: readonly string[], binds: readonly Bind[] = []): string[] {
  const pairs = binds.flatMap((b) => [b.source, b.target]);
  if (isHostRoot(root)) {
    if (binds.length === 0) return [...argv];
    return [
      'unshare',
      '--mount',
      '--propagation',
      'private',
      'sh',
      '-c',
      SCRIPT,
      '',
      String(binds.length),
      ...pairs,
      ...argv,
    ];
  }
  return [
    'unshare',
    '--fork',
    '--kill-child=SIGTERM',
    '--pid',
    '--mount',
    '--propagation',
    'private',
    `--mount-proc=${root}/proc`,
    'sh',
    '-c',
    SCRIPT,
    root,
    String(binds.length),
    ...pairs,
    ...argv,
  ];
}

export function execInRoot(root: string, argv: readonly string[], opts: ExecOptions = {}): Promise<ExecResult> {
  const full = rootArgv(root, argv, opts.binds);
  const wrapped = !isHostRoot(root);
  const max = opts.maxOutput ?? 4 * 1024 * 1024;
  return new Promise((resolve, reject) => {
    const child = spawn(full[0], full.slice(1), {
      env: { PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', LC_ALL: 'C.UTF-8', ...opts.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let outLen = 0;
    let errLen = 0;
    const keep = (bufs: Buffer[], chunk: Buffer, len: number): number => {
      bufs.push(chunk);
      len += chunk.length;
      while (len > max && bufs.length > 1) len -= (bufs.shift() as Buffer).length;
      return len;
    };
    child.stdout.on('data', (c: Buffer) => (outLen = keep(out, c, outLen)));
    child.stderr.on('data', (c: Buffer) => (errLen = keep(err, c, errLen)));
    let timedOut = false;
    const timer = opts.timeoutMs
      ? setTimeout(() => {
          timedOut = true;
          // The command should stop cleanly (unattended-upgrade does between MinimalSteps sets
          // on SIGTERM). Inside a root, unshare ignores SIGTERM while it waits; killing it makes
          // it hand SIGTERM to the command (--kill-child=SIGTERM).
          if (wrapped) child.kill('SIGKILL');
          else {
            child.kill('SIGTERM');
            setTimeout(() => child.kill('SIGKILL'), 60_000).unref();
          }
        }, opts.timeoutMs)
      : null;
    child.on('error', (e) => {
      if (timer) clearTimeout(timer);
      reject(new Error(`cannot run ${full[0]}: ${e.message}`));
    });
    child.on('close', (code, signal) => {
      if (timer) clearTimeout(timer);
      resolve({
        code,
        signal,
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
        timedOut,
      });
    });
  });
}

/** Runs and throws (naming the command and its stderr) unless it exits 0. */
export async function execChecked(root: string, argv: readonly string[], opts: ExecOptions = {}): Promise<ExecResult> {
  const r = await execInRoot(root, argv, opts);
  if (r.code !== 0) {
    const why = r.timedOut ? 'timed out' : r.signal ? `killed by ${r.signal}` : `exited ${r.code}`;
    throw new Error(
      `${argv.join(' ')} ${why}${r.stderr.trim() ? `: ${r.stderr.trim().split('\n').slice(-5).join(' | ')}` : ''}`,
    );
  }
  return r;
}
