// `db update` cleans up after itself: an update killed with -9 in the middle of an import or
// of a download leaves its temporary files, and the next update of that feed removes them
// (saying so); an update that fails (here: the disk fills up, on a real small tmpfs) removes
// its own at once and keeps the previous data.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCliFromSources } from './support/cli.ts';
import { CLI, SHARED_DATA } from './support/paths.ts';
import { mountTmpfs } from './support/tmpfs.ts';
import { until } from './support/until.ts';

const ALMA = join(SHARED_DATA, 'feeds/almalinux/osv');
const DEBIAN = join(SHARED_DATA, 'feeds/debian/tracker-json-sample/debian.json');

function tmp(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'patchloop-leftovers-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Starts `db update`, and kills it with SIGKILL as soon as `when()` holds. */
async function killedUpdate(args: string[], when: (pid: number) => boolean): Promise<number> {
  const child = spawn(process.execPath, [CLI, 'db', 'update', ...args], { stdio: 'ignore' });
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  const pid = child.pid!;
  await until(() => when(pid) || child.exitCode !== null, 'the moment to kill the update', 5);
  assert.equal(child.exitCode, null, 'the update was still running when killed');
  child.kill('SIGKILL');
  await exited;
  return pid;
}

test(
  'an update killed in the middle of an import: the next one removes the half-built database and its journal',
  { timeout: 120_000 },
  async (t) => {
    const dataDir = join(tmp(t), 'data');
    const vulndb = join(dataDir, 'vulndb');
    const pid = await killedUpdate(['--source', 'almalinux', '--from', ALMA, '--data-dir', dataDir], (p) => {
      const file = join(vulndb, `almalinux.sqlite.tmp-${p}`);
      return existsSync(`${file}-journal`) && statSync(file).size > 512 * 1024;
    });
    const left = readdirSync(vulndb).sort();
    assert.ok(
      left.includes(`almalinux.sqlite.tmp-${pid}`) && left.includes(`almalinux.sqlite.tmp-${pid}-journal`),
      left.join(' '),
    );

    const next = await runCliFromSources([
      'db',
      'update',
      '--source',
      'almalinux',
      '--from',
      ALMA,
      '--data-dir',
      dataDir,
    ]);
    assert.equal(next.code, 0, next.stderr);
    assert.ok(
      next.stderr.includes(
        `patchloop: almalinux: removed 2 files left by an interrupted update: ${join(vulndb, `almalinux.sqlite.tmp-${pid}`)}, ${join(vulndb, `almalinux.sqlite.tmp-${pid}-journal`)}\n`,
      ),
      next.stderr,
    );
    assert.deepEqual(readdirSync(vulndb).sort(), ['almalinux.lock', 'almalinux.sqlite']);
  },
);

test(
  'an update killed in the middle of a download: the next one removes the partial download from the cache',
  { timeout: 120_000 },
  async (t) => {
    const dataDir = join(tmp(t), 'data');
    const body = readFileSync(DEBIAN);
    let requests = 0;
    const server = createServer((_req, res) => {
      requests++;
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(body.length) });
      res.write(body.subarray(0, 200)); // and never the rest
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    t.after(() => {
      server.closeAllConnections();
      server.close();
    });
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/debian.json`;
    const cache = join(dataDir, 'cache', 'debian');
    const partial = (pid: number): string[] =>
      existsSync(cache) ? readdirSync(cache).filter((f) => f.includes(`.tmp-${pid}-`)) : [];
    const pid = await killedUpdate(
      ['--source', 'debian', '--from', url, '--data-dir', dataDir],
      (p) => requests === 1 && partial(p).length === 1,
    );
    const [leftover] = partial(pid);

    const next = await runCliFromSources([
      'db',
      'update',
      '--source',
      'debian',
      '--from',
      DEBIAN,
      '--data-dir',
      dataDir,
    ]);
    assert.equal(next.code, 0, next.stderr);
    assert.ok(
      next.stderr.includes(`removed 1 file left by an interrupted update: ${join(cache, leftover)}\n`),
      next.stderr,
    );
    assert.deepEqual(readdirSync(cache), []);
  },
);

test(
  'an update that fails on a full disk removes its temporary files at once and keeps the other feeds',
  { timeout: 120_000 },
  async (t) => {
    const mnt = mountTmpfs(t, '3m');
    if (!mnt) return;
    const dataDir = join(mnt, 'data');
    const first = await runCliFromSources([
      'db',
      'update',
      '--source',
      'debian',
      '--from',
      DEBIAN,
      '--data-dir',
      dataDir,
    ]);
    assert.equal(first.code, 0, first.stderr);
    const full = await runCliFromSources([
      'db',
      'update',
      '--source',
      'almalinux',
      '--from',
      ALMA,
      '--data-dir',
      dataDir,
    ]);
    assert.equal(full.code, 1, full.stderr);
    assert.match(
      full.stderr,
      /update of feed almalinux failed, there was no previous database of it: .*(database or disk is full|ENOSPC)/,
    );
    assert.deepEqual(readdirSync(join(dataDir, 'vulndb')).sort(), ['almalinux.lock', 'debian.lock', 'debian.sqlite']);
    const status = await runCliFromSources(['db', 'status', '--data-dir', dataDir, '--format', 'json']);
    // almalinux has no database; its failed update is shown (the temporary file gone, there is room for that).
    const feeds = (JSON.parse(status.stdout) as { feeds: { feed: string; entries: number | null }[] }).feeds;
    assert.deepEqual(
      feeds.map((f) => [f.feed, f.entries]),
      [
        ['almalinux', null],
        ['debian', 21],
      ],
    );
    assert.match(
      (feeds[0] as { last_failure?: { message: string } }).last_failure?.message ?? '',
      /database or disk is full|ENOSPC/,
    );
  },
);
