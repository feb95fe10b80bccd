// The command line when something is wrong, as a user meets it (./bin/patchloop as a child
// process): a server that cannot listen exits at once, non-zero, without touching its data
// directory; admin tasks refuse a data directory without a store; scan keeps exit 1 for
// --fail-on and names the file it could not read or write; agent URLs are checked with a clear
// message; configuration errors name the file and line. Exit codes as the README documents.
import { makeCertificate } from './support/tls.ts';
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, openSync, readdirSync, rmSync, writeFileSync, closeSync, writeSync } from 'node:fs';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { FEED_NAMES } from '../src/feeds/registry.ts';
import { BOOKWORM_ROOT, trackerFeedV1 } from './support/fixtures.ts';
import { startServerProcess } from './support/server-process.ts';
import { importDebianFeed } from './support/vulndb.ts';
import { runCli } from './support/cli.ts';
import { fillUp, mountTmpfs } from './support/tmpfs.ts';

function tmp(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'patchloop-faults-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

const SCAN = ['scan', '--root', BOOKWORM_ROOT, '--kernel', '6.1.0-40-amd64'];

test(
  'server run that cannot listen exits 1 at once, before it creates a data directory, a store or an admin account',
  { timeout: 120_000 },
  async (t) => {
    const dir = tmp(t);
    const taken = createServer();
    await new Promise<void>((r) => taken.listen(0, '127.0.0.1', r));
    t.after(() => taken.close());
    const port = (taken.address() as AddressInfo).port;

    const inUse = await runCli(['server', 'run', '--data-dir', join(dir, 'a'), '--listen', `127.0.0.1:${port}`]);
    assert.equal(inUse.code, 1);
    assert.equal(
      inUse.stderr,
      `patchloop: cannot listen on 127.0.0.1:${port}: the address is already in use (another server on that port?)\n`,
    );
    assert.equal(existsSync(join(dir, 'a')), false);

    const noCert = await runCli([
      'server',
      'run',
      '--data-dir',
      join(dir, 'b'),
      '--listen',
      '127.0.0.1:0',
      '--tls-cert',
      join(dir, 'missing.pem'),
      '--tls-key',
      join(dir, 'missing.key'),
    ]);
    assert.equal(noCert.code, 1);
    assert.equal(noCert.stderr, `patchloop: cannot read the TLS certificate ${join(dir, 'missing.pem')}: ENOENT\n`);
    assert.equal(existsSync(join(dir, 'b')), false);

    // A certificate given as its own key: readable, but not a pair.
    const { cert } = makeCertificate(dir);
    const notAPair = await runCli([
      'server',
      'run',
      '--data-dir',
      join(dir, 'c'),
      '--listen',
      '127.0.0.1:0',
      '--tls-cert',
      cert,
      '--tls-key',
      cert,
    ]);
    assert.equal(notAPair.code, 1);
    assert.match(
      notAPair.stderr,
      new RegExp(`^patchloop: the TLS certificate ${cert} and key ${cert} cannot be used: `),
    );
    assert.equal(existsSync(join(dir, 'c')), false);
  },
);

test(
  "enrollment-token and set-admin-password refuse a data directory without a store (a typo), and work on a server's",
  { timeout: 120_000 },
  async (t) => {
    const dir = tmp(t);
    const typo = join(dir, 'dtaa');
    const token = await runCli(['server', 'enrollment-token', '--data-dir', typo]);
    assert.equal(token.code, 2);
    assert.equal(token.stdout, '', 'no token printed');
    assert.match(
      token.stderr,
      new RegExp(
        `^patchloop: no server store at ${join(typo, 'server.sqlite')}: is the data directory \\(${typo}\\) right\\?`,
      ),
    );
    const password = await runCli(['server', 'set-admin-password', '--data-dir', typo], {
      input: 'a long enough password\n',
    });
    assert.equal(password.code, 2);
    assert.equal(existsSync(typo), false, 'nothing was created');

    const data = join(dir, 'data');
    const server = await startServerProcess(['--data-dir', data]);
    assert.equal(await server.stop(), 0);
    const real = await runCli(['server', 'enrollment-token', '--data-dir', data]);
    assert.equal(real.code, 0, real.stderr);
    assert.match(real.stdout, /^\S{20,}\n$/);
  },
);

test('scan: a damaged vulnerability DB page exits 3 naming the file (not 1, which means --fail-on met)', async (t) => {
  const dataDir = join(tmp(t), 'data');
  importDebianFeed(dataDir, trackerFeedV1());
  const ok = await runCli([...SCAN, '--data-dir', dataDir, '--fail-on', 'high', '--format', 'json']);
  assert.equal(ok.code, 1, 'a high finding is there: --fail-on is met');

  // The header and schema stay readable (the file opens); the entries table's pages do not.
  const file = join(dataDir, 'vulndb', 'debian.sqlite');
  const db = new DatabaseSync(file, { readOnly: true });
  const pages = (
    db.prepare("SELECT rootpage FROM sqlite_master WHERE tbl_name = 'entries' AND rootpage > 1").all() as {
      rootpage: number;
    }[]
  ).map((r) => r.rootpage);
  const pageSize = (db.prepare('PRAGMA page_size').get() as { page_size: number }).page_size;
  db.close();
  const fd = openSync(file, 'r+');
  for (const p of pages) writeSync(fd, Buffer.alloc(pageSize, 0x5a), 0, pageSize, (p - 1) * pageSize);
  closeSync(fd);

  const damaged = await runCli([...SCAN, '--data-dir', dataDir, '--fail-on', 'high', '--format', 'json']);
  assert.equal(damaged.code, 3);
  assert.equal(damaged.stdout, '');
  assert.equal(
    damaged.stderr,
    `patchloop: cannot scan: cannot read vulnerability database ${file}: database disk image is malformed\n`,
  );
});

test(
  'scan -o: a missing directory is a usage error (2) found before scanning; a full disk while writing is 3; both name the file',
  { timeout: 120_000 },
  async (t) => {
    const dataDir = join(tmp(t), 'data');
    importDebianFeed(dataDir, trackerFeedV1());
    const missing = await runCli([...SCAN, '--data-dir', dataDir, '-o', '/missing/dir/x.json', '--format', 'json']);
    assert.equal(missing.code, 2);
    assert.equal(
      missing.stderr,
      'patchloop: -o /missing/dir/x.json: cannot write the report there: the directory /missing/dir does not exist\n',
    );

    const mnt = mountTmpfs(t, '64k');
    if (!mnt) return;
    fillUp(join(mnt, 'filler'));
    const out = join(mnt, 'report.json');
    const full = await runCli([...SCAN, '--data-dir', dataDir, '-o', out, '--format', 'json']);
    assert.equal(full.code, 3);
    assert.ok(
      full.stderr.endsWith(`\npatchloop: cannot scan: cannot write the report to ${out}: ENOSPC\n`),
      full.stderr,
    );
  },
);

test('agent URL mistakes are named, with exit 2, and no credential is written', { timeout: 120_000 }, async (t) => {
  const dir = tmp(t);
  const server = await startServerProcess(['--data-dir', join(dir, 'data')]);
  t.after(() => server.stop('SIGKILL'));
  const port = new URL(server.url).port;
  const state = join(dir, 'state');
  const enrol = (url: string) =>
    runCli(['agent', 'enroll', '--server', url, '--token', 'pl-enrol-not-checked', '--state-dir', state]);
  const cases: [string, string][] = [
    [
      'htp:/',
      'patchloop: server URL "htp:/": it must start with http:// or https:// (e.g. https://patchloop.example.org:8080)\n',
    ],
    [
      `127.0.0.1:${port}`,
      `patchloop: server URL "127.0.0.1:${port}" is not a URL (e.g. https://patchloop.example.org:8080)\n`,
    ],
    [
      `https://127.0.0.1:${port}`,
      `patchloop: https://127.0.0.1:${port} does not speak HTTPS (it answered the TLS handshake in plain HTTP): use http://127.0.0.1:${port}, or give the server a TLS certificate\n`,
    ],
    [
      `http://127.0.0.1:${port}/api`,
      `patchloop: server URL "http://127.0.0.1:${port}/api" is the path of the API; give the server's address: http://127.0.0.1:${port}\n`,
    ],
    [
      `http://127.0.0.1:${port}/api/v1/`,
      `patchloop: server URL "http://127.0.0.1:${port}/api/v1/" is the path of the API; give the server's address: http://127.0.0.1:${port}\n`,
    ],
    [
      `http://127.0.0.1:${port}/patchloop`,
      `patchloop: no patchloop server at http://127.0.0.1:${port}/patchloop: GET http://127.0.0.1:${port}/patchloop/api/v1/health answered HTTP 404; give the server's address, e.g. http://central:8080 (the port it listens on, no path)\n`,
    ],
  ];
  for (const [url, message] of cases) {
    const r = await enrol(url);
    assert.equal(r.stderr, message, url);
    assert.equal(r.code, 2, url);
  }
  assert.equal(existsSync(join(state, 'credentials.json')), false);

  // The same check for the server named in agent.yaml.
  const config = join(dir, 'agent.yaml');
  writeFileSync(config, 'server: htp:/central\n');
  const run = await runCli(['agent', 'run', '--config', config, '--state-dir', state]);
  assert.equal(run.code, 2);
  assert.equal(
    run.stderr,
    `patchloop: ${config} is invalid:\n  ${config}:1: server: server URL "htp:/central": it must start with http:// or https:// (e.g. https://patchloop.example.org:8080)\n`,
  );
});

test(
  'plain http:// against a TLS server is named (exit 2), not taken for an outage',
  { timeout: 120_000 },
  async (t) => {
    const dir = tmp(t);
    const { cert, key } = makeCertificate(dir);
    const server = await startServerProcess(['--data-dir', join(dir, 'data'), '--tls-cert', cert, '--tls-key', key]);
    t.after(() => server.stop('SIGKILL'));
    const { host } = new URL(server.url);
    const r = await runCli([
      'agent',
      'enroll',
      '--server',
      `http://${host}`,
      '--token',
      'pl-enrol-not-checked',
      '--state-dir',
      join(dir, 'state'),
    ]);
    assert.equal(r.stderr, `patchloop: http://${host} speaks HTTPS, not plain HTTP: use https://${host}\n`);
    assert.equal(r.code, 2);
  },
);

test('server configuration errors name the file and the line; flags on top have no line', async (t) => {
  const dir = tmp(t);
  const config = join(dir, 'server.yaml');
  writeFileSync(
    config,
    [
      'listen:',
      '  host: 127.0.0.1',
      '  port: 99999',
      'feeds:',
      '  refresh_interval: 1h',
      '  sources:',
      '    - name: debain',
      '  bogus: true',
      'log_level: loud',
      '',
    ].join('\n'),
  );
  const r = await runCli(['server', 'run', '--config', config, '--data-dir', join(dir, 'data')]);
  assert.equal(r.code, 2);
  assert.equal(
    r.stderr,
    `patchloop: ${config} is invalid:\n` +
      `  ${config}:3: listen.port: Too big: expected number to be <=65535\n` +
      `  ${config}:7: feeds.sources.0.name: unknown feed (known: ${FEED_NAMES.join(', ')})\n` +
      `  ${config}:8: feeds: Unrecognized key: "bogus"\n` +
      `  ${config}:9: log_level: Invalid option: expected one of "fatal"|"error"|"warn"|"info"|"debug"|"trace"|"silent"\n`,
  );
  const withFlag = await runCli([
    'server',
    'run',
    '--config',
    config,
    '--listen',
    '127.0.0.1:70000',
    '--log-level',
    'info',
  ]);
  assert.equal(withFlag.code, 2);
  assert.match(withFlag.stderr, /\n {2}listen\.port: Too big/);

  writeFileSync(config, 'listen: { host: 127.0.0.1 }\nlisten: { port: 8080 }\n');
  const dup = await runCli(['server', 'run', '--config', config]);
  assert.equal(dup.code, 2);
  assert.equal(dup.stderr, `patchloop: ${config}:2:1: Map keys must be unique\n`);
  assert.equal(existsSync(join(dir, 'data')), false);
  assert.deepEqual(readdirSync(dir), ['server.yaml']);
});
