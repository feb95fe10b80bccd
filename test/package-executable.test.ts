// The single executables of `npm run package` (dist/patchloop-linux-x64, -arm64), run as a user
// would on a host without Node.js: copied alone into an empty directory, with a PATH that holds
// no node or npm and no node_modules anywhere near. Every command works from the x64 one: db
// update, inventory, scan, the server with its dashboard (served from the embedded assets) and
// its feed refresh (the update worker from the embedded asset), an agent enrolling and
// reporting to it, agent install, patch and elastic. The arm64 one runs under qemu-user-static.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import { readInventory } from '../src/inventory/index.ts';
import { hashPassword } from '../src/server/store/credentials.ts';
import { BOOKWORM_ROOT, trackerFeedV1, trackerFeedV2, writeFeedFile } from './support/fixtures.ts';
import { arm64Argv, builtFile, runWithoutNode as runWith, VERSION, type Run } from './support/packages.ts';
import { REPO_ROOT } from './support/paths.ts';
import { runCli } from './support/cli.ts';
import { until } from './support/until.ts';

interface ScanReport {
  findings: { id: string; status: string; package: { name: string } }[];
}

/** A directory holding only the executable (and the files a test writes there). */
function runWithoutNode(argv: string[], o: { cwd: string; timeoutMs?: number }): Promise<Run> {
  return runWith(argv, { ...o, env: { PATH: NO_NODE_PATH } });
}

function lonelyCopy(kind: 'x64' | 'arm64'): { dir: string; exe: string } {
  const dir = mkdtempSync(join(tmpdir(), `patchloop-sea-${kind}-`));
  const exe = join(dir, 'patchloop');
  copyFileSync(builtFile('executable', kind), exe);
  spawnSync('chmod', ['0755', exe]);
  return { dir, exe };
}

/** A PATH with nothing on it (this machine has a node of its own in /usr/bin). */
const NO_NODE_PATH = '/nonexistent';

const findingKeys = (r: ScanReport): string[] => r.findings.map((f) => `${f.id} ${f.package.name} ${f.status}`).sort();

test(
  'the x64 executable: version, db update, inventory and scan with no Node.js on the host, as the bundle does',
  { timeout: 300_000 },
  async (t) => {
    const { dir, exe } = lonelyCopy('x64');
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const run = (args: string[]): Promise<Run> => runWithoutNode([exe, ...args], { cwd: dir });
    assert.notEqual(
      spawnSync('/bin/sh', ['-c', 'command -v node || command -v npm'], { env: { PATH: NO_NODE_PATH } }).status,
      0,
      'the PATH the executable runs with has no node or npm',
    );

    const version = await run(['--version']);
    assert.equal(version.code, 0, version.stderr);
    assert.equal(version.stdout.trim(), VERSION);

    const feed = writeFeedFile(dir, 'debian.json', trackerFeedV1());
    const update = await run(['db', 'update', '--source', 'debian', '--from', feed, '--data-dir', join(dir, 'data')]);
    assert.equal(update.code, 0, update.stderr);

    const inventory = await run(['inventory', '--root', BOOKWORM_ROOT, '--format', 'json']);
    assert.equal(inventory.code, 0, inventory.stderr);
    const expected = await readInventory(BOOKWORM_ROOT);
    const got = JSON.parse(inventory.stdout) as typeof expected;
    assert.deepEqual(got.os, expected.os);
    assert.equal(got.packages.length, expected.packages.length);

    const scan = await run(['scan', '--root', BOOKWORM_ROOT, '--data-dir', join(dir, 'data'), '--format', 'json']);
    assert.equal(scan.code, 0, scan.stderr);
    const report = JSON.parse(scan.stdout) as ScanReport;
    assert.ok(findingKeys(report).includes('CVE-2099-1001 libssl3 fixed'), scan.stdout.slice(0, 500));
    const bundle = await runCli(['scan', '--root', BOOKWORM_ROOT, '--data-dir', join(dir, 'data'), '--format', 'json']);
    assert.equal(bundle.code, 0, bundle.stderr);
    assert.deepEqual(
      findingKeys(report),
      findingKeys(JSON.parse(bundle.stdout) as ScanReport),
      'the same findings as ./bin/patchloop',
    );

    const failOn = await run([
      'scan',
      '--root',
      BOOKWORM_ROOT,
      '--data-dir',
      join(dir, 'data'),
      '--fail-on',
      'high',
      '--format',
      'json',
    ]);
    assert.equal(failOn.code, 1, 'exit codes as documented');
    const patch = await run(['patch', '--root', BOOKWORM_ROOT, '--dry-run']);
    assert.equal(patch.code, 3);
    assert.match(patch.stderr, /unattended-upgrades is not installed/);

    // agent install from the executable: the units run the executable itself, documented by the man page.
    const units = join(dir, 'units');
    const install = await run([
      'agent',
      'install',
      '--unit-dir',
      units,
      '--config',
      join(dir, 'agent.yaml'),
      '--state-dir',
      join(dir, 'agent'),
      '--no-enable',
    ]);
    assert.equal(install.code, 0, install.stderr);
    const service = readFileSync(join(units, 'patchloop-agent.service'), 'utf8');
    assert.match(service, new RegExp(`^ExecStart=${exe} agent run --config ${join(dir, 'agent.yaml')}$`, 'm'));
    assert.match(service, /^Documentation=man:patchloop\(1\)$/m);
    assert.deepEqual(readdirSync(units).sort(), [
      'patchloop-agent-flush.service',
      'patchloop-agent-flush.timer',
      'patchloop-agent.service',
      'patchloop-agent.timer',
    ]);
  },
);

test(
  'the x64 executable as server: the embedded dashboard, a feed refresh in its worker, an agent reporting',
  { timeout: 300_000 },
  async (t) => {
    const { dir, exe } = lonelyCopy('x64');
    const feedV1 = writeFeedFile(dir, 'debian-v1.json', trackerFeedV1());
    const data = join(dir, 'server');
    const password = 'executable test password';
    writeFileSync(
      join(dir, 'server.yaml'),
      JSON.stringify({
        data_dir: data,
        admin: { username: 'admin', password_hash: await hashPassword(password) },
        feeds: { refresh_interval: 0, sources: [{ name: 'debian', from: [join(dir, 'debian.json')] }] },
      }),
    );
    writeFileSync(join(dir, 'debian.json'), readFileSync(feedV1));
    const initial = await runWithoutNode(
      [exe, 'db', 'update', '--source', 'debian', '--from', feedV1, '--data-dir', data],
      { cwd: dir },
    );
    assert.equal(initial.code, 0, initial.stderr);

    const server = spawn(
      exe,
      ['server', 'run', '--config', join(dir, 'server.yaml'), '--listen', '127.0.0.1:0', '--log-level', 'info'],
      {
        cwd: dir,
        env: { PATH: NO_NODE_PATH, HOME: dir },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    t.after(async () => {
      if (server.exitCode === null) {
        server.kill('SIGTERM');
        await once(server, 'exit');
      }
      rmSync(dir, { recursive: true, force: true });
    });
    let out = '';
    let err = '';
    server.stdout.setEncoding('utf8').on('data', (c: string) => (out += c));
    server.stderr.setEncoding('utf8').on('data', (c: string) => (err += c));
    await until(
      () => /"msg":"patchloop server listening"/.test(out) || server.exitCode !== null,
      'the server listening',
    );
    const url = /"address":"(http[^"]+)"/.exec(out)?.[1];
    assert.ok(url, `no address in the server log:\n${out}\n${err}`);

    // The dashboard, from the assets embedded in the executable: the same bytes as web/dist.
    for (const [path, file] of [
      ['/', 'index.html'],
      ['/app.js', 'app.js'],
      ['/app.css', 'app.css'],
      ['/hosts', 'index.html'],
    ]) {
      const res: Response = await fetch(`${url}${path}`);
      assert.equal(res.status, 200, path);
      assert.deepEqual(Buffer.from(await res.arrayBuffer()), readFileSync(join(REPO_ROOT, 'web/dist', file)), path);
      if (path === '/app.js') {
        assert.match(res.headers.get('content-type') ?? '', /^text\/javascript/);
        const again: Response = await fetch(`${url}${path}`, {
          headers: { 'if-none-match': res.headers.get('etag')! },
        });
        assert.equal(again.status, 304);
      }
    }
    assert.equal((await fetch(`${url}/nothing-here.js`)).status, 404);

    // A feed refresh runs the update in the worker thread the executable embeds.
    const login = await fetch(`${url}/api/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'admin', password }),
    });
    assert.equal(login.status, 200);
    const session = {
      cookie: login.headers
        .getSetCookie()
        .map((c) => c.split(';')[0])
        .join('; '),
      'x-csrf-token': ((await login.json()) as { csrf_token: string }).csrf_token,
    };
    writeFileSync(join(dir, 'debian.json'), JSON.stringify(trackerFeedV2()));
    const refresh = await fetch(`${url}/api/v1/feeds/refresh`, { method: 'POST', headers: session });
    assert.equal(refresh.status, 202, await refresh.text());
    type Feeds = {
      refreshing: boolean;
      recent: { outcome: string | null; message: string | null }[];
      feeds: { feed: string; entry_count: number }[];
    };
    let feeds: Feeds | undefined;
    await until(async () => {
      feeds = (await (await fetch(`${url}/api/v1/feeds`, { headers: session })).json()) as Feeds;
      return !feeds.refreshing && feeds.recent.length > 0 && feeds.recent[0].outcome !== null;
    }, 'the refresh to finish');
    assert.equal(feeds!.recent[0].outcome, 'updated', `${feeds!.recent[0].message}\n${err}`);

    // An agent (the same executable) enrols and reports the bookworm host.
    const token = await runWithoutNode(
      [exe, 'server', 'enrollment-token', '--config', join(dir, 'server.yaml'), '--name', 'sea', '--group', 'sea'],
      { cwd: dir },
    );
    assert.equal(token.code, 0, token.stderr);
    const agentConfig = join(dir, 'agent.yaml');
    writeFileSync(
      agentConfig,
      `root: ${BOOKWORM_ROOT}\nstate_dir: ${join(dir, 'agent')}\ndata_dir: ${join(dir, 'agent-data')}\nhostname: sea-host\nkernel: 6.1.0-40-amd64\nretry: { attempts: 1 }\n`,
    );
    const enroll = await runWithoutNode(
      [exe, 'agent', 'enroll', '--config', agentConfig, '--server', url, '--token', token.stdout.trim()],
      { cwd: dir },
    );
    assert.equal(enroll.code, 0, enroll.stderr);
    const agent = await runWithoutNode([exe, 'agent', 'run', '--config', agentConfig], { cwd: dir });
    assert.equal(agent.code, 0, agent.stderr);
    const hosts = (await (await fetch(`${url}/api/v1/hosts?search=sea-host`, { headers: session })).json()) as {
      items: { id: number; hostname: string }[];
    };
    assert.equal(hosts.items.length, 1);
    const findings = await (
      await fetch(`${url}/api/v1/findings?host=${hosts.items[0].id}`, { headers: session })
    ).text();
    assert.match(findings, /CVE-2099-1003/, 'matched against the refreshed feed (bash, new in generation 2)');

    // elastic: the exporter's status of this server's store, with a cluster that does not answer.
    const elastic = await runWithoutNode(
      [exe, 'elastic', 'status', '--config', join(dir, 'server.yaml'), '--url', 'http://127.0.0.1:9'],
      { cwd: dir },
    );
    assert.equal(elastic.code, 0, elastic.stderr);
    assert.match(elastic.stdout + elastic.stderr, /127\.0\.0\.1:9/);
  },
);

const noQemu =
  spawnSync('sh', ['-c', 'command -v qemu-aarch64-static']).status !== 0
    ? 'qemu-user-static is not installed (scripts/test-debian-packages)'
    : false;

test(
  'the arm64 executable under qemu-user-static: version, db update, inventory, scan',
  { skip: noQemu, timeout: 600_000 },
  async (t) => {
    const { dir, exe } = lonelyCopy('arm64');
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const file = spawnSync('file', ['-b', exe], { encoding: 'utf8' }).stdout;
    assert.match(file, /ARM aarch64/);
    const run = (args: string[]): Promise<Run> =>
      runWithoutNode(arm64Argv(exe, args), { cwd: dir, timeoutMs: 300_000 });

    const version = await run(['--version']);
    assert.equal(version.code, 0, version.stderr);
    assert.equal(version.stdout.trim(), VERSION);
    const arch = await run(['inventory', '--root', BOOKWORM_ROOT, '--format', 'json']);
    assert.equal(arch.code, 0, arch.stderr);
    assert.equal(
      (JSON.parse(arch.stdout) as { packages: unknown[] }).packages.length,
      (await readInventory(BOOKWORM_ROOT)).packages.length,
    );

    const feed = writeFeedFile(dir, 'debian.json', trackerFeedV1());
    const update = await run(['db', 'update', '--source', 'debian', '--from', feed, '--data-dir', join(dir, 'data')]);
    assert.equal(update.code, 0, update.stderr);
    const scan = await run(['scan', '--root', BOOKWORM_ROOT, '--data-dir', join(dir, 'data'), '--format', 'json']);
    assert.equal(scan.code, 0, scan.stderr);
    const bundle = await runCli(['scan', '--root', BOOKWORM_ROOT, '--data-dir', join(dir, 'data'), '--format', 'json']);
    assert.deepEqual(
      findingKeys(JSON.parse(scan.stdout) as ScanReport),
      findingKeys(JSON.parse(bundle.stdout) as ScanReport),
    );
    assert.ok(findingKeys(JSON.parse(scan.stdout) as ScanReport).includes('CVE-2099-1001 libssl3 fixed'));
  },
);
