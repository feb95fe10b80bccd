// Builds a real vulnerability DB for tests with the real `patchloop db update` command.
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { CLI } from './paths.ts';
import { writeFeedFile } from './fixtures.ts';

/** Imports a Debian tracker feed (tracker JSON schema) into `dataDir` with `db update`. */
export function importDebianFeed(dataDir: string, feed: unknown, name = 'debian.json'): void {
  const dir = join(dataDir, 'inputs');
  mkdirSync(dir, { recursive: true });
  const file = writeFeedFile(dir, name, feed);
  execFileSync(process.execPath, [CLI, 'db', 'update', '--source', 'debian', '--from', file, '--data-dir', dataDir], {
    stdio: 'pipe',
  });
}
