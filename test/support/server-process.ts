// The server as its own process for end-to-end tests and benchmarks: `patchloop server run`,
// exactly as an operator runs it (agents and other commands: cli.ts).
import { spawn, type ChildProcess } from 'node:child_process';
import { BIN, CLI } from './paths.ts';

export interface ServerProcess {
  url: string;
  child: ChildProcess;
  /** Everything the server wrote on stderr so far. */
  stderr(): string;
  /** Structured log lines (stdout) so far. */
  logs(): Record<string, unknown>[];
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/**
 * Starts the server from the sources; with `bin` through ./bin/patchloop as an installation
 * runs it (the bundle, when current); with `executable`, that file (a single executable).
 * `listen` defaults to a free loopback port (pass the old one to restart).
 */
export function startServerProcess(
  args: string[],
  listen = '127.0.0.1:0',
  env: NodeJS.ProcessEnv = {},
  o: { bin?: boolean; executable?: string } = {},
): Promise<ServerProcess> {
  // The address is read from the "listening" log line, which needs log level info.
  const command = ['server', 'run', '--listen', listen, '--log-level', 'info', ...args];
  const child = spawn(
    o.executable ?? (o.bin ? BIN : process.execPath),
    o.executable || o.bin ? command : [CLI, ...command],
    {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let out = '';
  let err = '';
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`server did not start within 60 s:\n${err}\n${out}`));
    }, 60_000);
    child.stderr!.setEncoding('utf8').on('data', (c: string) => (err += c));
    child.stdout!.setEncoding('utf8').on('data', (c: string) => {
      out += c;
      const m = /"address":"(http[^"]+)".*"msg":"patchloop server listening"/.exec(out);
      if (m && timer) {
        clearTimeout(timer);
        resolve({
          url: m[1],
          child,
          stderr: () => err,
          logs: () =>
            out
              .split('\n')
              .filter(Boolean)
              .map((l) => JSON.parse(l) as Record<string, unknown>),
          stop: async (signal = 'SIGTERM') => {
            if (child.exitCode === null && child.signalCode === null) child.kill(signal);
            return exited;
          },
        });
      }
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`server exited (${code}) before listening:\n${err}\n${out}`));
    });
  });
}
