// A new user's first hour on the command line, through the real CLI as a subprocess: the
// documented policy read the way the server reads it, one-line usage errors, grammatical
// counts, `db status`, the agent's summary on a terminal, progress on a terminal only.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { formatBytes } from '../src/cli/terminal/bytes.ts';
import { runCli } from './support/cli.ts';
import { BOOKWORM_ROOT, trackerFeedV1 } from './support/fixtures.ts';
import { BIN, SHARED_DATA } from './support/paths.ts';
import { runOnTerminal } from './support/pty.ts';
import { docExample } from './support/doc-examples.ts';
import { api, startTestServer } from './support/server.ts';

const scratch = (): string => mkdtempSync(join(tmpdir(), 'patchloop-first-hour-'));

test('the documented policy: patch --explain reads it as PUT /api/v1/policies/NAME does', async (t) => {
  const example = docExample('docs/patching.md', 'policy');
  const file = join(scratch(), 'web.yaml');
  writeFileSync(file, example.text);
  const cli = await runCli(['patch', '--explain', '--policy', file, '--host', 'web-1', '--format', 'json']);
  assert.equal(cli.code, 0, cli.stderr);
  const outlook = JSON.parse(cli.stdout) as { policy: { name: string; version: number }; group: string };
  // The file names the policy and, with no earlier versions, it is version 1.
  assert.deepEqual([outlook.policy, outlook.group], [{ name: 'web', version: 1 }, 'web']);

  const s = await startTestServer(null);
  t.after(() => s.close());
  const { parseYaml } = await import('../src/config/load.ts');
  const put = await api(s.url, '/api/v1/policies/web', {
    method: 'PUT',
    token: s.adminToken,
    body: parseYaml(example.text, file).data,
  });
  assert.equal(put.status, 201, put.text);
  assert.deepEqual(
    [(put.body as { name: string }).name, (put.body as { version: number }).version],
    [outlook.policy.name, outlook.policy.version],
  );

  // A name in the document wins over the file name; a wrong one is reported on its line.
  writeFileSync(file, `name: frontend\n${example.text}`);
  const named = await runCli(['patch', '--explain', '--policy', file, '--format', 'json']);
  assert.equal((JSON.parse(named.stdout) as { policy: { name: string } }).policy.name, 'frontend');
  writeFileSync(file, `name: "front end"\n${example.text}`);
  const bad = await runCli(['patch', '--explain', '--policy', file]);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /name \(line 1\): expected letters, digits/);
});

test('a usage error is one line and where to read more, with the usage exit status', async () => {
  const cases: [string[], string, string][] = [
    [['scan', '--x'], "error: unknown option '--x'", "see 'patchloop scan --help'"],
    [['server', 'run', '--lissen', 'x'], "error: unknown option '--lissen'", "see 'patchloop server run --help'"],
    [
      ['scan', '--format', 'xml'],
      "error: option '--format <format>' argument 'xml' is invalid.",
      "see 'patchloop scan --help'",
    ],
    [['nonsense'], "error: unknown command 'nonsense'", "see 'patchloop --help'"],
  ];
  for (const [args, error, hint] of cases) {
    const r = await runCli(args);
    assert.equal(r.code, 2, args.join(' '));
    assert.equal(r.stdout, '');
    const lines = r.stderr.trimEnd().split('\n');
    assert.ok(lines[0].startsWith(error), r.stderr);
    assert.equal(lines.at(-1), hint);
    // Between them at most commander's guess at what was meant.
    assert.deepEqual(
      lines.slice(1, -1).filter((l) => !/^\(Did you mean --?[a-z-]+\?\)$/.test(l)),
      [],
    );
  }
});

test('counts are grammatical: one of a thing, any other number of things', async () => {
  const one = await runCli(['compare-versions', '--scheme', 'deb'], { input: '1.0\t2.0\nnot a pair\n' });
  assert.equal(one.code, 1);
  assert.match(one.stderr, /stdin: 1 line not of the form A<TAB>B \(line 2\)/);
  const two = await runCli(['compare-versions', '--scheme', 'deb'], { input: 'x\ny\n' });
  assert.match(two.stderr, /stdin: 2 lines not of the form/);

  const file = join(scratch(), 'db.yaml');
  writeFileSync(file, 'group: db\nreboot: { mode: when_required, max_concurrent: 1 }\n');
  const policy = await runCli(['patch', '--explain', '--policy', file, '--host', 'db-1']);
  assert.equal(policy.code, 0, policy.stderr);
  assert.match(policy.stdout, /at most 1 host of db at once/);
  assert.doesNotMatch(policy.stdout, /\(s\)/);
});

test('agent run on a terminal: a summary for a person; piped: JSON log lines', async (t) => {
  const s = await startTestServer(trackerFeedV1());
  let up = true;
  t.after(() => up && s.close());
  const dir = scratch();
  const config = join(dir, 'agent.yaml');
  writeFileSync(config, 'retry: { attempts: 1, base_delay: 1s, max_delay: 1s }\ntimeout: 10s\n');
  const host = ['--config', config, '--state-dir', join(dir, 'state'), '--root', BOOKWORM_ROOT];
  const token = await api(s.url, '/api/v1/enrollment-tokens', { token: s.adminToken, body: { name: 't' } });
  const enrolled = await runCli([
    'agent',
    'enroll',
    '--server',
    s.url,
    '--token',
    (token.body as { token: string }).token,
    '--hostname',
    'first-hour',
    ...host,
  ]);
  assert.equal(enrolled.code, 0, enrolled.stderr);
  const run = [BIN, 'agent', 'run', ...host, '--kernel', '6.1.0-40-amd64', '--hostname', 'first-hour'];

  const first = await runOnTerminal(run);
  assert.equal(first.code, 0, first.output);
  assert.equal(
    first.output,
    `Sent the inventory of 729 packages to ${s.url}.\n` +
      'The server found 3 new vulnerabilities, 0 resolved, 0 reopened; 3 open on this host.\n' +
      'Next run: none scheduled (`patchloop agent install` sets up a daily run).\n',
  );

  // Piped, the same run writes the JSON log lines (stderr) and nothing for a person.
  const piped = await runCli(run.slice(1));
  assert.equal(piped.code, 0, piped.stderr);
  assert.equal(piped.stdout, '');
  const logs = piped.stderr
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { msg: string; changes?: unknown });
  assert.ok(logs.some((l) => l.msg === 'report sent' && l.changes));
  // On a terminal, --log-format json asks for them too.
  const json = await runOnTerminal([...run, '--log-format', 'json']);
  assert.match(json.output, /^\{"level":30,/);
  assert.doesNotMatch(json.output, /^Sent /m);

  // The server gone: the summary says the report waits in the spool; exit status 75.
  await s.close();
  up = false;
  const down = await runOnTerminal(run);
  assert.equal(down.code, 75, down.output);
  assert.match(
    down.output,
    /^patchloop: warning: server unreachable; report stays spooled\nNot sent: the server is unreachable \(POST .*ECONNREFUSED.*\)\.\n1 report kept in the spool \(the inventory of 729 packages\); the next run or `patchloop agent flush` sends it\.\n/,
  );
  assert.doesNotMatch(down.output, /"level"/);
});

test('db status shows size, entries, age, source, and the last failed update until a good one', async () => {
  const dataDir = scratch();
  const tracker = join(SHARED_DATA, 'feeds/debian/tracker-json-sample/debian.json');
  const update = (from: string) =>
    runCli(['db', 'update', '--data-dir', dataDir, '--source', 'debian', '--from', from]);
  const status = async () => {
    const r = await runCli(['db', 'status', '--data-dir', dataDir, '--format', 'json']);
    assert.equal(r.code, 0, r.stderr);
    return (JSON.parse(r.stdout) as { feeds: Record<string, unknown>[] }).feeds;
  };
  assert.equal((await update(tracker)).code, 0);
  const [good] = await status();
  assert.equal(good.feed, 'debian');
  assert.equal(good.source, tracker);
  assert.equal(good.size_bytes, statSync(join(dataDir, 'vulndb/debian.sqlite')).size);
  assert.ok((good.entries as number) > 0);
  assert.equal(good.last_failure, null);

  // A failed update keeps the database and is shown until the next good one.
  const missing = join(dataDir, 'missing.json');
  assert.equal((await update(missing)).code, 1);
  const [failed] = await status();
  assert.equal(failed.entries, good.entries);
  assert.match((failed.last_failure as { message: string }).message, /missing\.json/);
  const table = await runCli(['db', 'status', '--data-dir', dataDir]);
  assert.match(table.stdout, /^FEED +UPDATED +AGE +ENTRIES +SIZE +DISTROS +SOURCE$/m);
  assert.match(table.stdout, /^debian .* \d+(\.\d)? KiB +debian +\S+debian\.json$/m);
  assert.match(
    table.stdout,
    /^Last failed update:\n {2}debian: \S+ \(\d+ s ago, the database above was kept\): .*missing\.json/m,
  );
  assert.equal((await update(tracker)).code, 0);
  assert.equal((await status())[0].last_failure, null);
});

test('db update shows its progress on a terminal, and nothing of it when piped', async (t) => {
  const tracker = readFileSync(join(SHARED_DATA, 'feeds/debian/tracker-json-sample/debian.json'));
  const server = http.createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(tracker.length) });
    res.end(tracker);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => server.close());
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/debian.json`;
  const size = formatBytes(tracker.length);
  const update = ['db', 'update', '--source', 'debian', '--from', url];

  const onTerminal = await runOnTerminal([BIN, ...update, '--data-dir', scratch()]);
  assert.equal(onTerminal.code, 0, onTerminal.output);
  // The line is rewritten in place: each state starts with a carriage return and a line erase.
  const states = onTerminal.output.split('\r\x1b[2K').map((s) => s.trim());
  assert.ok(states.includes(`debian: downloading ${url}: ${size} of ${size}`), onTerminal.output);
  assert.ok(states.includes('debian: importing: 21 entries, done'), onTerminal.output);
  assert.match(states.at(-1)!, /^debian: 21 entries, /);

  const piped = await runCli([...update, '--data-dir', scratch()]);
  assert.equal(piped.code, 0, piped.stderr);
  assert.equal(piped.stderr, '');
  assert.match(piped.stdout, /^debian: 21 entries, .*\n$/);
  assert.ok(!piped.stdout.includes('\r') && !piped.stdout.includes('\x1b'), 'no terminal control in a pipe');
});
