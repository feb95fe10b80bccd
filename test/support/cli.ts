// Runs the real CLI as a child process: through ./bin/patchloop, the way a user or a script
// would, or from the sources with this process's Node.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { BIN, CLI, REPO_ROOT } from './paths.ts';

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function runCli(
  args: string[],
  options: { input?: string; env?: NodeJS.ProcessEnv; cwd?: string } = {},
): Promise<CliResult> {
  const child = spawn(BIN, args, {
    cwd: options.cwd ?? REPO_ROOT,
    env: { ...process.env, NO_COLOR: '1', ...options.env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  return finished(child, options.input);
}

/** `node src/cli/main.ts …`: the sources, whatever state the bundle is in. */
export function runCliFromSources(args: string[], input?: string): Promise<CliResult> {
  return finished(spawn(process.execPath, [CLI, ...args], { stdio: ['pipe', 'pipe', 'pipe'] }), input);
}

function finished(child: ChildProcessWithoutNullStreams, input: string | undefined): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(input ?? '');
  });
}
