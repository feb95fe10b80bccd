// Runs a command as a separate process and measures what a user would see: wall time from
// start to exit, and the peak resident memory the kernel accounted to it (GNU time's %M).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface Measured {
  command: string;
  wallMs: number;
  peakRssMb: number;
  code: number | null;
  stdout: string;
  stderr: string;
}

export function measure(
  command: string,
  args: string[],
  options: { env?: NodeJS.ProcessEnv; cwd?: string } = {},
): Measured {
  const dir = mkdtempSync(join(tmpdir(), 'patchloop-bench-'));
  const out = join(dir, 'time');
  try {
    const started = process.hrtime.bigint();
    const r = spawnSync('/usr/bin/time', ['-f', '%M', '-o', out, command, ...args], {
      cwd: options.cwd,
      env: { ...process.env, ...options.env },
      encoding: 'utf8',
      maxBuffer: 1 << 30,
    });
    const wallMs = Number(process.hrtime.bigint() - started) / 1e6;
    const kb = Number.parseInt(readFileSync(out, 'utf8').trim().split('\n').pop() ?? '0', 10);
    return {
      command: [command, ...args].join(' '),
      wallMs,
      peakRssMb: kb / 1024,
      code: r.status,
      stdout: r.stdout,
      stderr: r.stderr,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Median of several runs of the same command (the first run also warms the page cache). */
export function measureMedian(
  runs: number,
  command: string,
  args: string[],
  options: { env?: NodeJS.ProcessEnv; cwd?: string } = {},
): Measured {
  const results: Measured[] = [];
  for (let i = 0; i < runs; i++) results.push(measure(command, args, options));
  const failed = results.find((r) => r.code !== 0);
  if (failed) throw new Error(`${failed.command} exited ${failed.code}: ${failed.stderr.slice(0, 2000)}`);
  results.sort((a, b) => a.wallMs - b.wallMs);
  const mid = results[Math.floor(results.length / 2)];
  return { ...mid, peakRssMb: Math.max(...results.map((r) => r.peakRssMb)) };
}

export function fmtMs(ms: number): string {
  return ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(0)} ms`;
}
