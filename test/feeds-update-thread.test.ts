// The server's way of updating a feed: src/feeds/update.ts in a worker thread with a heap limit
// and a time limit (src/feeds/update-thread.ts). Real feeds, real downloads from loopback, a
// real worker thread; from the TypeScript sources and from the esbuild bundle.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { updateFeedInThread, type ThreadUpdateOptions } from '../src/feeds/update-thread.ts';
import type { FeedUpdateEvent } from '../src/feeds/update.ts';
import { REPO_ROOT, SHARED_DATA } from './support/paths.ts';
import { stallingFeedServer } from './support/stalling-feed-server.ts';
import { until } from './support/until.ts';

const DEBIAN = join(SHARED_DATA, 'feeds/debian/tracker-json-sample/debian.json');
const ALMA = join(SHARED_DATA, 'feeds/almalinux/osv');

function tmp(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'patchloop-feed-thread-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Options for one update, with the events it reported collected in `events`. */
function options(
  dataDir: string,
  extra: Partial<ThreadUpdateOptions> = {},
): ThreadUpdateOptions & { events: FeedUpdateEvent[] } {
  const events: FeedUpdateEvent[] = [];
  return { dataDir, timeoutMs: 120_000, heapLimitMb: 1024, onEvent: (e) => events.push(e), ...extra, events };
}

test(
  'a feed updated in a worker thread: the result is data; an unchanged download is up to date',
  { timeout: 120_000 },
  async (t) => {
    const dataDir = join(tmp(t), 'data');
    const from = [pathToFileURL(DEBIAN).href];
    const first = await updateFeedInThread('debian', options(dataDir, { from }));
    assert.equal(first.status, 'updated', first.message);
    assert.equal(first.feed, 'debian');
    assert.ok(
      first.imported && first.imported.entries > 0 && first.imported.vulnerabilities > 0,
      JSON.stringify(first),
    );
    assert.deepEqual(first.database?.distros, ['debian']);
    assert.equal(first.database?.entries, first.imported.entries);
    assert.match(
      first.message,
      new RegExp(
        `^${first.imported.entries} entries, ${first.imported.vulnerabilities} vulnerabilities, 0 support rows \\(debian\\) in `,
      ),
    );

    const again = await updateFeedInThread('debian', options(dataDir, { from }));
    assert.equal(again.status, 'up_to_date', again.message);
    assert.deepEqual(again.database, first.database);
    assert.equal(
      again.message,
      `up to date (updated ${first.database?.updated_at}, ${first.imported.entries} entries)`,
    );
  },
);

test(
  'an import that needs more than its heap fails alone: the previous database stays and the next update runs',
  { timeout: 180_000 },
  async (t) => {
    const dataDir = join(tmp(t), 'data');
    const small = await updateFeedInThread('almalinux', options(dataDir, { from: [join(ALMA, 'almalinux9')] }));
    assert.equal(small.status, 'updated', small.message);

    const starved = await updateFeedInThread('almalinux', options(dataDir, { from: [ALMA], heapLimitMb: 16 }));
    assert.equal(starved.status, 'failed');
    assert.equal(
      starved.message,
      `previous database kept (updated ${small.database?.updated_at}): the import needed more than its 16 MB heap`,
    );
    assert.deepEqual(starved.database, small.database);

    // The thread is gone and with it the lock: the whole feed imports with a normal heap.
    const whole = await updateFeedInThread('almalinux', options(dataDir, { from: [ALMA] }));
    assert.equal(whole.status, 'updated', whole.message);
    assert.ok(
      whole.imported!.entries > small.imported!.entries,
      `${whole.imported!.entries} > ${small.imported!.entries}`,
    );
    assert.deepEqual(
      readdirSync(join(dataDir, 'vulndb')).filter((f) => f.includes('.tmp-')),
      [],
    );
  },
);

test(
  'an update that overruns its time is terminated: the lock is free at once, the next update removes its partial download',
  { timeout: 120_000 },
  async (t) => {
    const dataDir = join(tmp(t), 'data');
    const feed = await stallingFeedServer(t, DEBIAN);
    const overrun = await updateFeedInThread('debian', options(dataDir, { from: [feed.url], timeoutMs: 1000 }));
    assert.equal(overrun.status, 'failed');
    assert.equal(overrun.message, 'there was no previous database of it: abandoned after 1 s');
    assert.equal(feed.requests(), 1);
    const cache = join(dataDir, 'cache', 'debian');
    const partial = readdirSync(cache).filter((f) => f.includes('.tmp-'));
    assert.equal(partial.length, 1, `the partial download: ${readdirSync(cache).join(' ')}`);

    const next = options(dataDir, { from: [DEBIAN] });
    const result = await updateFeedInThread('debian', next);
    assert.equal(result.status, 'updated', result.message);
    assert.deepEqual(
      next.events.filter((e) => e.kind === 'progress').map((e) => e.message),
      [`removed 1 file left by an interrupted update: ${join(cache, partial[0])}`],
    );
    assert.deepEqual(
      readdirSync(cache).filter((f) => f.includes('.tmp-')),
      [],
    );
  },
);

test('stopping terminates a running update; the result says so', { timeout: 120_000 }, async (t) => {
  const dataDir = join(tmp(t), 'data');
  const feed = await stallingFeedServer(t, DEBIAN);
  const stopping = new AbortController();
  const running = updateFeedInThread('debian', options(dataDir, { from: [feed.url], signal: stopping.signal }));
  await until(() => feed.requests() === 1, 'the update to download');
  stopping.abort();
  const result = await running;
  assert.equal(result.status, 'failed');
  assert.equal(result.message, 'there was no previous database of it: stopped: the server is shutting down');
});

test(
  'from the esbuild bundle: the server refreshes its feed through dist/feed-update-worker.js',
  { timeout: 180_000 },
  async (t) => {
    // A private build (scripts/build of a copy that links the sources), so the shared dist/ is left alone.
    const project = tmp(t);
    mkdirSync(join(project, 'scripts'));
    copyFileSync(join(REPO_ROOT, 'scripts/build'), join(project, 'scripts/build'));
    copyFileSync(join(REPO_ROOT, 'package.json'), join(project, 'package.json'));
    symlinkSync(join(REPO_ROOT, 'src'), join(project, 'src'));
    symlinkSync(join(REPO_ROOT, 'node_modules'), join(project, 'node_modules'));
    const build = spawn('sh', [join(project, 'scripts/build')], { stdio: ['ignore', 'ignore', 'pipe'] });
    let buildErrors = '';
    build.stderr.setEncoding('utf8').on('data', (c: string) => (buildErrors += c));
    assert.equal(await new Promise((resolve) => build.on('close', resolve)), 0, buildErrors);
    assert.ok(readdirSync(join(project, 'dist')).includes('feed-update-worker.js'));

    const config = join(project, 'server.yaml');
    writeFileSync(
      config,
      `data_dir: ${join(project, 'data')}\nfeeds:\n  refresh_interval: 1h\n  sources: [{ name: debian, from: [${DEBIAN}] }]\n`,
    );
    const server = spawn(
      process.execPath,
      [
        join(project, 'dist/patchloop.js'),
        'server',
        'run',
        '--config',
        config,
        '--listen',
        '127.0.0.1:0',
        '--log-level',
        'info',
      ],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    t.after(() => server.kill('SIGKILL'));
    let out = '';
    server.stdout.setEncoding('utf8').on('data', (c: string) => (out += c));
    server.stderr.resume();
    // The first scheduled refresh starts a few seconds after the server.
    const feedLine = (): Record<string, unknown> | undefined =>
      out
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as Record<string, unknown>)
        .find((l) => l.msg === 'feed updated' || l.msg === 'feed update failed; previous data kept');
    await until(() => feedLine() !== undefined || server.exitCode !== null, 'the first feed refresh');
    const line = feedLine();
    assert.deepEqual(
      { feed: line?.feed, status: line?.status, msg: line?.msg },
      { feed: 'debian', status: 'updated', msg: 'feed updated' },
      JSON.stringify(line),
    );
  },
);
