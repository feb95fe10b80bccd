// Runs a command on a pseudo-terminal, the way a person at a terminal runs it: util-linux
// `script` gives the command a terminal for stdin, stdout and stderr and copies what it writes.
import { spawn } from 'node:child_process';

export interface PtyResult {
  code: number | null;
  /** Everything the command wrote to the terminal (stdout and stderr together), with \n line ends. */
  output: string;
}

const quote = (a: string): string => `'${a.replace(/'/g, `'\\''`)}'`;

export function runOnTerminal(argv: string[], env: NodeJS.ProcessEnv = {}): Promise<PtyResult> {
  const child = spawn('script', ['--quiet', '--return', '--command', argv.map(quote).join(' '), '/dev/null'], {
    env: { ...process.env, NO_COLOR: '1', TERM: 'dumb', ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  return new Promise((resolve, reject) => {
    let output = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (output += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (output += c));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, output: output.replace(/\r\n/g, '\n') }));
    child.stdin.end();
  });
}
