// Where patchloop keeps its data (DESIGN.md): --data-dir, else $PATCHLOOP_HOME, else
// /var/lib/patchloop as root, else ~/.local/share/patchloop.
import { homedir } from 'node:os';
import { join } from 'node:path';

export function defaultDataDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.PATCHLOOP_HOME) return env.PATCHLOOP_HOME;
  if (process.getuid?.() === 0) return '/var/lib/patchloop';
  return join(env.XDG_DATA_HOME || join(homedir(), '.local', 'share'), 'patchloop');
}

export function vulnDbDir(dataDir: string): string {
  return join(dataDir, 'vulndb');
}

/** Feed names are file names: keep them to a safe alphabet. */
export function feedFile(dataDir: string, feed: string): string {
  if (!/^[a-z0-9][a-z0-9_-]{0,63}$/.test(feed)) throw new Error(`invalid feed name ${JSON.stringify(feed)}`);
  return join(vulnDbDir(dataDir), `${feed}.sqlite`);
}
