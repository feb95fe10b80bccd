// `patchloop elastic` as a user runs it (./bin/patchloop): setup against the real node with
// the dashboards import taken by a loopback stand-in for OpenSearch Dashboards (which does
// not run here), export and status against a running server's data directory, settings
// from the server configuration (its priority rule included), exit statuses, and no secret in
// any output.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import { connect, createServer as createTcpServer, type AddressInfo, type Socket } from 'node:net';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SearchClient } from '../src/export/client.ts';
import { exportNames, type ExportNames } from '../src/export/names.ts';
import { readInventory } from '../src/inventory/index.ts';
import { ManualClock } from '../src/server/clock.ts';
import { api, enrollTestHost, fullReportOf, startTestServer, type TestServer } from './support/server.ts';
import { BOOKWORM_ROOT, trackerFeedV1 } from './support/fixtures.ts';
import { REPO_ROOT } from './support/paths.ts';
import { runCli } from './support/cli.ts';
import { freePort, testClusterUrl, uniquePrefix } from './support/opensearch.ts';

let url: string;
let client: SearchClient;
let work: string;
let server: TestServer;
const prefixes: ExportNames[] = [];

function newNames(label: string): ExportNames {
  const n = exportNames(uniquePrefix(label));
  prefixes.push(n);
  return n;
}

before(async () => {
  url = await testClusterUrl();
  client = new SearchClient({ url });
  work = mkdtempSync(join(tmpdir(), 'patchloop-elastic-cli-'));
  // The server runs on today's time: `patchloop elastic export` runs in another process on
  // the system clock, and judges the host's last report by it (a host silent longer than
  // stale_after is stale, its findings leave the state index after retention.stale).
  server = await startTestServer(trackerFeedV1(), {}, { clock: new ManualClock(Date.now()) });
  const token = await enrollTestHost(server, 'bookworm-1', 'web');
  const inv = await readInventory(BOOKWORM_ROOT, { kernel: '6.1.0-40-amd64' });
  const r = await api(server.url, '/api/v1/reports', { token, body: fullReportOf(inv, 'bookworm-1') });
  assert.equal(r.status, 200, r.text);
});

after(async () => {
  await server?.close();
  if (client) {
    const accept = [404];
    for (const n of prefixes) {
      for (const s of [n.vulnerabilityEvents, n.patchEvents, n.hostSummaries, n.audit])
        await client.request({ method: 'DELETE', path: `/_data_stream/${s}`, accept });
      for (const i of [n.findings, n.hosts]) await client.request({ method: 'DELETE', path: `/${i}`, accept });
      for (const t of Object.values(n.templates))
        await client.request({ method: 'DELETE', path: `/_index_template/${t}`, accept });
      for (const t of Object.values(n.components))
        await client.request({ method: 'DELETE', path: `/_component_template/${t}`, accept });
    }
    await client.close();
  }
  if (work) rmSync(work, { recursive: true, force: true });
});

test('--help on every elastic command', async () => {
  for (const args of [
    ['elastic'],
    ['elastic', 'setup'],
    ['elastic', 'export'],
    ['elastic', 'status'],
    ['elastic', 'dashboards'],
  ]) {
    const r = await runCli([...args, '--help']);
    assert.equal(r.code, 0, args.join(' '));
    assert.match(r.stdout, /Usage: patchloop elastic/);
  }
  assert.match((await runCli(['elastic', 'setup', '--help'])).stdout, /--dashboards <url>[\s\S]*osd|--kibana <url>/);
});

test(
  'setup installs templates, indices and streams, and imports the dashboards with osd-xsrf',
  { timeout: 120_000 },
  async () => {
    const names = newNames('cli-setup');
    const received: { url: string; headers: IncomingHttpHeaders; body: Buffer }[] = [];
    const dashboards = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        received.push({ url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks) });
        res.writeHead(200, { 'content-type': 'application/json' });
        // As OpenSearch Dashboards answers: every object of the file imported.
        const objects = Buffer.concat(chunks)
          .toString('utf8')
          .split('\n')
          .filter((l) => l.startsWith('{') && l.includes('"attributes"')).length;
        res.end(JSON.stringify({ success: true, successCount: objects }));
      });
    });
    await new Promise<void>((resolve) => dashboards.listen(0, '127.0.0.1', resolve));
    try {
      const at = `http://127.0.0.1:${(dashboards.address() as AddressInfo).port}`;
      const r = await runCli(['elastic', 'setup', '--url', url, '--prefix', names.prefix, '--dashboards', at], {
        env: { PATCHLOOP_EXPORT_URL: '' },
      });
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /^cluster: opensearch 2\.19\.6 at http/m);
      assert.match(r.stdout, /^lifecycle: skipped/m);
      assert.match(r.stderr, /no ISM plugin/);
      // The objects shipped for OpenSearch Dashboards, every one sent.
      const shipped = readFileSync(join(REPO_ROOT, 'deploy/elastic/opensearch-dashboards.ndjson'), 'utf8')
        .trim()
        .split('\n').length;
      assert.match(r.stdout, new RegExp(`^dashboards: ${shipped} of ${shipped} saved objects imported`, 'm'));
      assert.equal(received.length, 1);
      assert.equal(received[0].url, '/api/saved_objects/_import?overwrite=true');
      assert.equal(received[0].headers['osd-xsrf'], 'true');
      // The objects imported read this prefix's indices.
      const body = received[0].body.toString('utf8');
      assert.ok(body.includes(`"title":"${names.findings}"`));
      for (const target of [names.findings, names.hosts])
        assert.equal((await client.request({ method: 'HEAD', path: `/${target}`, accept: [404] })).status, 200, target);
      assert.equal(
        (await client.request({ method: 'GET', path: `/_data_stream/${names.vulnerabilityEvents}`, accept: [404] }))
          .status,
        200,
      );
    } finally {
      await new Promise((resolve) => dashboards.close(resolve));
    }
    assert.equal(
      (await runCli(['elastic', 'setup', '--url', url, '--kibana', 'http://a', '--dashboards', 'http://b'])).code,
      2,
    );
    const none = await runCli(['elastic', 'setup'], { env: { PATCHLOOP_EXPORT_URL: '' } });
    assert.equal(none.code, 2);
    assert.match(none.stderr, /no cluster given: use --url/);
  },
);

test("export and status against a running server's data directory", { timeout: 180_000 }, async () => {
  const names = newNames('cli-export');
  const common = ['--data-dir', server.dataDir, '--url', url, '--prefix', names.prefix];
  const first = await runCli(['elastic', 'export', ...common]);
  assert.equal(first.code, 0, first.stderr);
  // A document per binary package's finding; an event per exposure (openssl, zlib, curl).
  assert.match(first.stdout, /^rebuilt: documents of 1 host, 9 findings, 3 events, 0 patch runs/m);
  const second = await runCli(['elastic', 'export', ...common]);
  assert.equal(second.code, 0, second.stderr);
  assert.match(second.stdout, /^exported: documents of 0 hosts, 0 findings, 0 events/m);
  await client.request({ method: 'POST', path: `/${names.findings},${names.hosts}/_refresh` });
  const status = await runCli(['elastic', 'status', ...common, '--json']);
  assert.equal(status.code, 0, status.stderr);
  const s = JSON.parse(status.stdout) as {
    configured: boolean;
    needs_rebuild: boolean;
    backlog: { finding_events: number };
    cluster: { documents: Record<string, number | null> };
  };
  assert.deepEqual([s.configured, s.needs_rebuild, s.backlog.finding_events], [true, false, 0]);
  assert.equal(s.cluster.documents[names.findings], 9);
  assert.equal(s.cluster.documents[names.hosts], 1);
  // Judged by the exporter's clock, the host reported just now.
  const hosts = await client.request<{ hits: { hits: { _source: { patchloop: { host: { state: string } } } }[] } }>({
    method: 'GET',
    path: `/${names.hosts}/_search`,
  });
  assert.deepEqual(
    hosts.body.hits.hits.map((h) => h._source.patchloop.host.state),
    ['reporting'],
  );
  const text = await runCli(['elastic', 'status', ...common]);
  // Everything exported: the cursor is where the store's logs end (the updates include the
  // re-ranking of every open finding with this data directory's vulnerability DB), nothing behind.
  assert.match(text.stdout, /^cursor: events \d+, updates \d+, patch runs 0$/m);
  assert.match(text.stdout, /^backlog: 0 finding events in 0 event rows, 0 in-place updates, 0 patch runs$/m);
  const bad = await runCli(['elastic', 'export', '--data-dir', join(work, 'nothing-here'), '--url', url]);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /no server store at .*nothing-here/);
});

/** A TCP forwarder to the node: the cluster as the exporter sees it, until it is closed. */
async function forwarder(target: string): Promise<{ url: string; close(): Promise<void> }> {
  const to = new URL(target);
  const sockets = new Set<Socket>();
  const server = createTcpServer((inbound) => {
    const outbound = connect(Number(to.port), to.hostname);
    for (const s of [inbound, outbound]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => (s === inbound ? outbound : inbound).destroy());
    }
    inbound.pipe(outbound).pipe(inbound);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => {
      for (const s of sockets) s.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

test(
  'the cluster gone: export says it is unreachable, prints no summary, exits 75, and leaves cursor and target',
  { timeout: 180_000 },
  async () => {
    const names = newNames('cli-away');
    const node = await forwarder(url);
    const common = ['--data-dir', server.dataDir, '--url', node.url, '--prefix', names.prefix];
    const first = await runCli(['elastic', 'export', ...common]);
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stdout, /^rebuilt: documents of 1 host, 9 findings/m);
    const status = async () =>
      JSON.parse((await runCli(['elastic', 'status', ...common, '--json'])).stdout) as {
        target: string;
        cursor: unknown;
        needs_rebuild: boolean;
      };
    const before = await status();
    assert.equal(before.target, `${node.url}|${names.prefix}`);

    // The cluster goes away (its port refuses connections). Nothing changed in the store
    // since the last run, so there is nothing to send: the run must still not pass for one.
    await node.close();
    const away = await runCli(['elastic', 'export', ...common]);
    assert.equal(away.code, 75, away.stderr);
    assert.equal(away.stdout, '');
    assert.match(
      away.stderr,
      /^patchloop: export not done, cluster unavailable: GET http:\/\/127\.0\.0\.1:\d+\/: cannot reach the cluster \(ECONNREFUSED/m,
    );
    assert.match(away.stderr, /^patchloop: nothing is lost: the next run continues from here$/m);

    // A URL nothing listens on (a typo): the run does not rebuild, nor point the store at it
    // (the next run to the real cluster would otherwise rebuild everything).
    const typo = await runCli([
      'elastic',
      'export',
      '--data-dir',
      server.dataDir,
      '--url',
      `http://127.0.0.1:${await freePort()}`,
      '--prefix',
      names.prefix,
      '--json',
    ]);
    assert.equal(typo.code, 75, typo.stderr);
    const report = JSON.parse(typo.stdout) as {
      rebuilt: boolean;
      unavailable: string | null;
      sent: Record<string, number>;
    };
    assert.equal(report.rebuilt, false);
    assert.match(report.unavailable ?? '', /cannot reach the cluster \(ECONNREFUSED/);
    assert.deepEqual(Object.values(report.sent), [0, 0, 0, 0, 0, 0, 0, 0]);
    const after = await status();
    assert.deepEqual([after.target, after.cursor, after.needs_rebuild], [before.target, before.cursor, false]);
  },
);

test(
  'settings from the server configuration; a cluster away exits 75; secrets appear nowhere',
  { timeout: 180_000 },
  async () => {
    const names = newNames('cli-config');
    const password = 'hunter2-never-printed';
    writeFileSync(join(work, 'password'), `${password}\n`);
    const config = join(work, 'server.yaml');
    const yaml = (target: string) =>
      `data_dir: ${server.dataDir}\nexport:\n  url: ${target}\n  prefix: ${names.prefix}\n  username: patchloop\n  password_file: ${join(work, 'password')}\n  request_timeout: 5s\n`;
    writeFileSync(config, yaml(url));
    const ok = await runCli(['elastic', 'export', '--config', config]);
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, /^rebuilt: documents of 1 host/m);

    writeFileSync(config, yaml('http://127.0.0.1:1'));
    const away = await runCli(['elastic', 'export', '--config', config]);
    assert.equal(away.code, 75, away.stderr);
    assert.equal(away.stdout, '');
    assert.match(away.stderr, /export not done, cluster unavailable: .*cannot reach the cluster/);
    const status = await runCli(['elastic', 'status', '--config', config]);
    assert.match(status.stdout, /^cluster: http:\/\/127\.0\.0\.1:1: .*cannot reach the cluster/m);
    for (const out of [ok.stdout, ok.stderr, away.stdout, away.stderr, status.stdout, status.stderr])
      assert.ok(!out.includes(password));

    writeFileSync(config, `data_dir: ${server.dataDir}\nexport:\n  url: ftp://search.example\n`);
    const invalid = await runCli(['elastic', 'export', '--config', config]);
    assert.equal(invalid.code, 2);
    assert.match(invalid.stderr, /server\.yaml:3: export\.url: Invalid URL/);
  },
);

test('dashboards prints the shipped saved objects', async () => {
  const r = await runCli(['elastic', 'dashboards', '--flavor', 'opensearch-dashboards']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, readFileSync(join(REPO_ROOT, 'deploy/elastic/opensearch-dashboards.ndjson'), 'utf8'));
  assert.equal((await runCli(['elastic', 'dashboards', '--prefix', 'Bad Prefix'])).code, 2);
});

/** Exports the store to a new prefix (with these extra arguments): the priorities of one vulnerability's documents. */
async function exportedLevels(label: string, vuln: string, extra: string[]): Promise<string[]> {
  const names = newNames(label);
  const common = ['--data-dir', server.dataDir, '--url', url, '--prefix', names.prefix];
  const r = await runCli(['elastic', 'export', ...common, ...extra]);
  assert.equal(r.code, 0, r.stderr);
  await client.request({ method: 'POST', path: `/${names.findings}/_refresh` });
  const found = await client.request<{
    hits: { hits: { _source: { vulnerability: { id: string }; patchloop: { priority: { level: string } | null } } }[] };
  }>({ method: 'GET', path: `/${names.findings}/_search?size=100` });
  const levels = found.body.hits.hits
    .filter((h) => h._source.vulnerability.id === vuln)
    .map((h) => h._source.patchloop.priority?.level ?? 'none');
  assert.ok(levels.length > 0, `documents of ${vuln}`);
  return [...new Set(levels)];
}

test("export given the server's configuration ranks with its priority rule", { timeout: 180_000 }, async () => {
  // CVE-2099-1002, a medium without a fix: P4 by the default rule, the server's.
  const vuln = 'CVE-2099-1002';
  const listed = await api(server.url, `/api/v1/findings?vulnerability=${vuln}`, { token: server.adminToken });
  assert.equal(listed.status, 200, listed.text);
  const levels = (listed.body as { items: { priority: { level: string } }[] }).items.map((f) => f.priority.level);
  assert.deepEqual([...new Set(levels)], ['P4']);

  // A rule that makes mediums P1, a missing fix not lowering them.
  const config = join(work, 'server-priority.yaml');
  writeFileSync(
    config,
    `data_dir: ${server.dataDir}\npriority:\n  no_fix_lowers: false\n  severity:\n    medium: P1\n`,
  );
  assert.deepEqual(await exportedLevels('cli-prio-config', vuln, ['--config', config]), ['P1']);
  // With no configuration, the default rule: the server's levels.
  assert.deepEqual(await exportedLevels('cli-prio-default', vuln, []), ['P4']);
});
