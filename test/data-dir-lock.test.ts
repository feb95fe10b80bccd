// Locks between processes, with the real CLI: one server per data directory (a second one is
// refused at once, naming the directory and the first one's pid; a server killed with -9
// leaves nothing that stops the next one), and one update per feed, shared by `db update` by
// hand and the server's own feed refresh (the same update, in a worker thread of the server),
// whatever lock files an earlier crash or an earlier version left behind.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { api } from './support/server.ts';
import { runCliFromSources } from './support/cli.ts';
import { startServerProcess } from './support/server-process.ts';
import { Store } from '../src/server/store/store.ts';
import { systemClock } from '../src/server/clock.ts';
import { createApiToken } from '../src/server/store/credentials.ts';
import { CLI, SHARED_DATA } from './support/paths.ts';
import { stallingFeedServer } from './support/stalling-feed-server.ts';
import { until } from './support/until.ts';

const SAMPLE = join(SHARED_DATA, 'feeds/debian/tracker-json-sample/debian.json');

function tmp(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'patchloop-lock-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** `patchloop db update` started in the background; resolves with its exit. */
function startUpdate(args: string[]) {
  const child = spawn(process.execPath, [CLI, 'db', 'update', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
  child.stdout.resume();
  const done = new Promise<{ code: number | null; stderr: string }>((resolve) =>
    child.on('close', (code) => resolve({ code, stderr })),
  );
  return { pid: child.pid!, done };
}

test(
  'a second server on the same data directory is refused, naming the directory and the holder; a killed server leaves no stale lock',
  { timeout: 120_000 },
  async (t) => {
    const dataDir = join(tmp(t), 'data');
    const first = await startServerProcess(['--data-dir', dataDir]);
    t.after(() => first.stop('SIGKILL'));

    const second = await runCliFromSources(['server', 'run', '--data-dir', dataDir, '--listen', '127.0.0.1:0']);
    assert.equal(second.code, 1, second.stderr);
    assert.equal(
      second.stderr,
      `patchloop: the data directory ${dataDir} is in use by another patchloop server (pid ${first.child.pid}; lock ${join(dataDir, 'server.lock')}); ` +
        'stop that server first, or give this one its own data directory\n',
    );
    assert.equal((await api(first.url, '/api/v1/health')).status, 200, 'the first server is untouched');

    // Killed without a chance to clean up: the kernel drops the lock with the process.
    first.child.kill('SIGKILL');
    await first.stop('SIGKILL');
    const third = await startServerProcess(['--data-dir', dataDir]);
    t.after(() => third.stop('SIGKILL'));
    assert.equal((await api(third.url, '/api/v1/health')).status, 200);
    assert.equal(await third.stop(), 0);
  },
);

test(
  'db update: one update per feed, even over an empty or stale lock left behind; the second is refused naming the first',
  { timeout: 120_000 },
  async (t) => {
    const dataDir = join(tmp(t), 'data');
    // What crashes of this and of earlier versions leave: an empty pid-file lock, and a record
    // of a holder that is long gone.
    mkdirSync(join(dataDir, 'vulndb'), { recursive: true });
    writeFileSync(join(dataDir, 'vulndb', 'debian.sqlite.lock'), '');
    writeFileSync(join(dataDir, 'vulndb', 'debian.lock.pid'), '999999999\n');
    const feed = await stallingFeedServer(t, SAMPLE);

    const a = startUpdate(['--source', 'debian', '--from', feed.url, '--data-dir', dataDir]);
    await until(() => feed.requests() === 1, 'the first update to download');
    const b = await runCliFromSources([
      'db',
      'update',
      '--source',
      'debian',
      '--from',
      feed.url,
      '--data-dir',
      dataDir,
    ]);
    assert.equal(b.code, 1, b.stderr);
    assert.match(
      b.stderr,
      new RegExp(
        `update of feed debian failed, there was no previous database of it: another update of feed debian is running \\(pid ${a.pid}; lock `,
      ),
    );
    assert.equal(feed.requests(), 1, 'the refused update downloaded nothing');

    feed.release();
    const ra = await a.done;
    assert.equal(ra.code, 0, ra.stderr);
    const again = await runCliFromSources([
      'db',
      'update',
      '--source',
      'debian',
      '--from',
      SAMPLE,
      '--data-dir',
      dataDir,
    ]);
    assert.equal(again.code, 0, again.stderr);
  },
);

test(
  "the server's feed refresh and a db update by hand share the feed lock; db update runs beside a running server",
  { timeout: 120_000 },
  async (t) => {
    const dir = tmp(t);
    const dataDir = join(dir, 'data');
    const config = join(dir, 'server.yaml');
    writeFileSync(
      config,
      `data_dir: ${dataDir}\nfeeds:\n  refresh_interval: 0\n  sources: [{ name: debian, from: [${SAMPLE}] }]\n`,
    );
    const server = await startServerProcess(['--config', config]);
    t.after(() => server.stop('SIGKILL'));
    const store = Store.open(join(dataDir, 'server.sqlite'), systemClock);
    const token = createApiToken(store, 'lock test').token;
    store.close();

    const feed = await stallingFeedServer(t, SAMPLE);
    const manual = startUpdate(['--source', 'debian', '--from', feed.url, '--data-dir', dataDir]);
    await until(() => feed.requests() === 1, 'the manual update to download');
    assert.equal((await api(server.url, '/api/v1/feeds/refresh', { method: 'POST', token })).status, 202);
    type Feeds = { refreshing: boolean; recent: { outcome: string | null; message: string | null }[] };
    await until(async () => {
      const f = (await api(server.url, '/api/v1/feeds', { token })).body as Feeds;
      return !f.refreshing && f.recent.length > 0;
    }, 'the refresh to finish');
    const refresh = ((await api(server.url, '/api/v1/feeds', { token })).body as Feeds).recent[0];
    assert.equal(refresh.outcome, 'failed');
    assert.match(
      refresh.message ?? '',
      new RegExp(`debian: .*another update of feed debian is running \\(pid ${manual.pid}; lock `),
    );

    feed.release();
    const done = await manual.done;
    assert.equal(done.code, 0, done.stderr);
    assert.equal((await api(server.url, '/api/v1/feeds/refresh', { method: 'POST', token })).status, 202);
    await until(async () => {
      const f = (await api(server.url, '/api/v1/feeds', { token })).body as Feeds;
      return !f.refreshing && f.recent.length > 1;
    }, 'the second refresh to finish');
    const second = ((await api(server.url, '/api/v1/feeds', { token })).body as Feeds).recent[0];
    assert.ok(second.outcome === 'updated' || second.outcome === 'unchanged', JSON.stringify(second));
    assert.equal(await server.stop(), 0);
  },
);
