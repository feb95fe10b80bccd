// A full disk, for real: a small tmpfs mounted for the test holds the server's data directory
// and its log (stdout redirected to a file there), and is filled to the last byte while the
// server runs. The server must go on answering: writes are refused with 507 and a message,
// reads work, the log waits (and drops, counting) instead of killing the process, and once
// space is back the same writes succeed and the log says what it lost, without a restart.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { readInventory } from '../src/inventory/index.ts';
import { LogStream } from '../src/server/log-stream.ts';
import { api, fullReportOf } from './support/server.ts';
import { BOOKWORM_ROOT, trackerFeedV1 } from './support/fixtures.ts';
import { CLI } from './support/paths.ts';
import { runCliFromSources } from './support/cli.ts';
import { importDebianFeed } from './support/vulndb.ts';
import { Store } from '../src/server/store/store.ts';
import { systemClock } from '../src/server/clock.ts';
import { createApiToken } from '../src/server/store/credentials.ts';
import { fillUp, mountTmpfs } from './support/tmpfs.ts';

/** Waits until `ready()` holds (the work happens in other processes or in the background). */
async function until(ready: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (!ready()) {
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

function jsonLines(file: string): Record<string, unknown>[] {
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

test('a log on a full disk: lines wait in a bounded buffer, the excess is dropped and counted, writing resumes with whole lines', async (t) => {
  const mnt = mountTmpfs(t, '2m');
  if (!mnt) return;
  const logFile = join(mnt, 'server.log');
  const fd = openSync(logFile, 'a');
  t.after(() => closeSync(fd));
  const stream = new LogStream({ fd, maxBuffered: 64 * 1024, retryMs: 20, maxRetryMs: 50 });
  const line = (i: number): string => `${JSON.stringify({ i, msg: 'x'.repeat(100) })}\n`;
  // A burst far larger than the buffer, on a disk with room: every line is written, at once.
  const burst = 5000;
  for (let i = 0; i < burst; i++) stream.write(line(i));
  assert.deepEqual(stream.state(), { dropped: 0, failing: null, buffered: 0 });

  // The log file's last page still takes a few lines, then one is cut mid-way by ENOSPC.
  fillUp(join(mnt, 'filler'));
  // Drops are reported at the next write that works (with the error when writes had failed).
  const notices: { dropped: number; error: string | null }[] = [];
  stream.onRecovered = (dropped, error) => notices.push({ dropped, error });
  for (let i = burst; i < burst + 1000; i++) stream.write(line(i));
  await until(() => stream.state().failing === 'ENOSPC', 'a write to fail');
  const during = stream.state();
  assert.ok(during.dropped > 0, 'lines beyond the buffer are dropped');
  assert.ok(during.buffered > 0 && during.buffered <= 64 * 1024, 'the buffer holds what it may, no more');

  rmSync(join(mnt, 'filler'));
  await until(() => notices.some((n) => n.error === 'ENOSPC') && stream.state().buffered === 0, 'writing to resume');
  assert.equal(
    notices.reduce((sum, n) => sum + n.dropped, 0),
    during.dropped,
  );
  assert.deepEqual(stream.state(), { dropped: during.dropped, failing: null, buffered: 0 });
  // Every line in the file is whole; the ones kept are the first ones, in order.
  const kept = jsonLines(logFile).map((l) => l.i);
  assert.deepEqual(
    kept,
    Array.from({ length: burst + 1000 - during.dropped }, (_, i) => i),
  );
});

test(
  'a server whose disk fills up keeps serving: 507 for writes, reads answered, the log survives, all recovers without a restart',
  { timeout: 180_000 },
  async (t) => {
    const mnt = mountTmpfs(t, '24m');
    if (!mnt) return;
    const dataDir = join(mnt, 'data');
    importDebianFeed(dataDir, trackerFeedV1());
    const work = mkdtempSync(join(tmpdir(), 'patchloop-full-'));
    t.after(() => rmSync(work, { recursive: true, force: true }));
    const config = join(work, 'server.yaml');
    writeFileSync(config, `data_dir: ${dataDir}\nfeeds:\n  refresh_interval: 0\nlog_level: info\n`);

    // The server's stdout and stderr are files on the tmpfs, as under a service manager that
    // writes them to /var/log on the same disk.
    const logFile = join(mnt, 'server.log');
    const out = openSync(logFile, 'a');
    const err = openSync(join(mnt, 'server.err'), 'a');
    const child = spawn(process.execPath, [CLI, 'server', 'run', '--config', config, '--listen', '127.0.0.1:0'], {
      stdio: ['ignore', out, err],
    });
    closeSync(out);
    closeSync(err);
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    t.after(() => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    });
    let url = '';
    await until(() => {
      const m = /"address":"(http[^"]+)".*"msg":"patchloop server listening"/.exec(readFileSync(logFile, 'utf8'));
      url = m?.[1] ?? '';
      assert.equal(child.exitCode, null, readFileSync(join(mnt, 'server.err'), 'utf8'));
      return url !== '';
    }, 'the server to listen');

    const tok = await runCliFromSources([
      'server',
      'enrollment-token',
      '--config',
      config,
      '--unlimited',
      '--ttl',
      '1h',
    ]);
    assert.equal(tok.code, 0, tok.stderr);
    const hostTokens: string[] = [];
    for (const hostname of ['full-1', 'full-2']) {
      const e = await api(url, '/api/v1/enroll', { body: { token: tok.stdout.trim(), hostname } });
      assert.equal(e.status, 201, e.text);
      hostTokens.push((e.body as { host_token: string }).host_token);
    }
    const store = Store.open(join(dataDir, 'server.sqlite'), systemClock);
    const adminToken = createApiToken(store, 'disk-full test').token;
    store.close();

    // A first report large enough that it cannot fit in space SQLite already holds (the WAL).
    const inv = await readInventory(BOOKWORM_ROOT, { kernel: '6.1.0-40-amd64' });
    const extra = Array.from({ length: 20_000 }, (_, i) => ({
      ...inv.packages[0],
      name: `filler-package-${i}`,
      source: `filler-source-${i}`,
      version: `1.${i}-1`,
      source_version: `1.${i}-1`,
    }));
    const report = fullReportOf({ ...inv, packages: [...inv.packages, ...extra] }, 'full-1');

    fillUp(join(mnt, 'filler'));
    const refused = await api(url, '/api/v1/reports', { token: hostTokens[0], body: report, gzip: true });
    assert.equal(refused.status, 507, refused.text);
    assert.equal((refused.body as { error: string }).error, 'insufficient_storage');
    assert.match((refused.body as { message: string }).message, /disk is full: nothing was stored/);
    assert.equal(refused.headers.get('retry-after'), '60');

    // Requests keep coming (each one logs a line the disk cannot take); reads are answered.
    for (let i = 0; i < 200; i++) assert.equal((await api(url, `/api/v1/no-such-route-${i}`)).status, 404);
    const hosts = await api(url, '/api/v1/hosts', { token: adminToken });
    assert.equal(hosts.status, 200, hosts.text);
    assert.deepEqual((hosts.body as { items: { hostname: string }[] }).items.map((h) => h.hostname).sort(), [
      'full-1',
      'full-2',
    ]);
    assert.equal((await api(url, '/api/v1/health')).status, 200);
    assert.equal(child.exitCode, null, 'the server is still running');

    // Space is back: the same report is taken, the log says what happened, no restart.
    rmSync(join(mnt, 'filler'));
    const taken = await api(url, '/api/v1/reports', { token: hostTokens[0], body: report, gzip: true });
    assert.equal(taken.status, 200, taken.text);
    await until(
      () => jsonLines(logFile).some((l) => l.msg === 'the log could not be written for a while; writing again'),
      'the log to resume',
    );
    const notice = jsonLines(logFile).find((l) => l.msg === 'the log could not be written for a while; writing again')!;
    assert.equal(notice.error, 'ENOSPC');
    assert.equal(typeof notice.dropped_lines, 'number');
    const refusals = jsonLines(logFile).filter((l) => l.msg === 'write refused: the disk is full');
    assert.ok(refusals.length >= 1, 'the refused writes are in the log once it can be written again');

    child.kill('SIGTERM');
    assert.equal(await exited, 0);
    const db = new DatabaseSync(join(dataDir, 'server.sqlite'), { readOnly: true });
    try {
      assert.equal((db.prepare('PRAGMA integrity_check').get() as { integrity_check: string }).integrity_check, 'ok');
      assert.equal(
        (db.prepare('SELECT count(*) AS n FROM scans WHERE report_id = ?').get(report.report_id) as { n: number }).n,
        1,
      );
    } finally {
      db.close();
    }
  },
);
