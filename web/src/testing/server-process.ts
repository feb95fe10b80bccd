// Runs `patchloop server` as its own process on a loopback port over a fleet's data, the way
// an installation runs it (the real CLI, a YAML config, the built dashboard at /).
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Fleet } from './fleet.ts';

const BIN = fileURLToPath(new URL('../../../bin/patchloop', import.meta.url));

export interface ServerProcess {
  url: string;
  stop(): Promise<void>;
}

export async function startServerProcess(fleet: Fleet): Promise<ServerProcess> {
  const configFile = join(fleet.dir, 'server.yaml');
  writeFileSync(
    configFile,
    [
      `data_dir: ${JSON.stringify(fleet.dataDir)}`,
      'admin:',
      '  username: admin',
      `  password_hash: ${JSON.stringify(fleet.passwordHash)}`,
      'feeds:',
      '  refresh_interval: 0',
      '  sources:',
      '    - name: debian',
      `      from: [${JSON.stringify(fleet.feedFile)}]`,
      'log_level: info',
      '',
    ].join('\n'),
  );
  const child = spawn(BIN, ['server', 'run', '--config', configFile, '--listen', '127.0.0.1:0'], { stdio: ['ignore', 'pipe', 'pipe'] });
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    let err = '';
    const timer = setTimeout(() => fail(new Error(`the server did not start in 60 s:\n${out}${err}`)), 60_000);
    const fail = (e: Error) => {
      clearTimeout(timer);
      child.kill('SIGTERM');
      reject(e);
    };
    child.stderr!.on('data', (c: Buffer) => (err += c.toString()));
    child.stdout!.on('data', (c: Buffer) => {
      out += c.toString();
      for (const line of out.split('\n')) {
        const m = /"address":"(http:\/\/[^"]+)"/.exec(line);
        if (m) {
          clearTimeout(timer);
          resolve(m[1]);
          return;
        }
      }
    });
    child.on('exit', (code) => fail(new Error(`the server exited (${code}) before listening:\n${out}${err}`)));
  });
  // Keep draining the logs so the server never blocks on a full pipe.
  child.stdout!.resume();
  return { url, stop: () => stop(child) };
}

function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}
