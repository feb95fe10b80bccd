// Scheduled feed refresh. Each feed is updated by the real `patchloop db update` in a child
// process: the importers run with their own memory and CPU, the server keeps answering, and a
// failed update leaves the previous feed in place (the writer's atomic swap). When any feed
// file changed, the caller re-matches the fleet.
import { spawn, type ChildProcess } from 'node:child_process';
import type { Logger } from 'pino';
import { cliPath } from '../project-root.ts';

export interface FeedSourceConfig {
  name: string;
  from?: string[];
}

export interface RefreshOutcome {
  feeds: { name: string; ok: boolean; message: string }[];
  changed: boolean;
}

export interface FeedRefresherOptions {
  dataDir: string;
  sources: FeedSourceConfig[];
  timeoutMs: number;
  log: Logger;
  /** Identifies the feed files on disk; a different value afterwards means new data. */
  fingerprint: () => string;
}

export class FeedRefresher {
  private readonly o: FeedRefresherOptions;
  private child: ChildProcess | null = null;
  private stopped = false;

  constructor(options: FeedRefresherOptions) {
    this.o = options;
  }

  /** Updates every configured feed, one after the other. Never throws for a failed feed. */
  async refresh(): Promise<RefreshOutcome> {
    const before = this.o.fingerprint();
    const feeds: RefreshOutcome['feeds'] = [];
    for (const source of this.o.sources) {
      if (this.stopped) break;
      const args = ['db', 'update', '--source', source.name, '--data-dir', this.o.dataDir];
      if (source.from?.length) args.push('--from', ...source.from);
      const r = await this.run(args);
      const message = r.output.trim().split('\n').slice(-5).join('\n');
      feeds.push({ name: source.name, ok: r.code === 0, message });
      if (r.code === 0) this.o.log.info({ feed: source.name }, 'feed updated');
      else this.o.log.error({ feed: source.name, code: r.code, message }, 'feed update failed; previous data kept');
    }
    return { feeds, changed: this.o.fingerprint() !== before };
  }

  private run(args: string[]): Promise<{ code: number | null; output: string }> {
    return new Promise((resolve) => {
      // The installation's own CLI (bundle or sources, whichever bin/patchloop picks).
      const child = spawn(cliPath(), args, { stdio: ['ignore', 'pipe', 'pipe'] });
      this.child = child;
      let output = '';
      const keep = (c: Buffer): void => {
        output = (output + c.toString('utf8')).slice(-16_384);
      };
      child.stdout!.on('data', keep);
      child.stderr!.on('data', keep);
      const timer = setTimeout(() => {
        output += `\nabandoned after ${Math.round(this.o.timeoutMs / 1000)} s`;
        child.kill('SIGTERM');
      }, this.o.timeoutMs);
      child.on('error', (err) => {
        clearTimeout(timer);
        this.child = null;
        resolve({ code: null, output: `${output}\n${err.message}` });
      });
      child.on('close', (code) => {
        clearTimeout(timer);
        this.child = null;
        resolve({ code, output });
      });
    });
  }

  stop(): void {
    this.stopped = true;
    this.child?.kill('SIGTERM');
  }
}
