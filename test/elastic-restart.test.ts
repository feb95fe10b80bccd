// The cluster goes down in the middle of the server's export and comes back: the exporter
// stops without moving its cursor, the server keeps taking reports meanwhile, and the next
// runs catch up — every finding, host and event of the store in the indices, exactly once,
// the same documents a rebuild from scratch gives. Runs its own OpenSearch node
// (scripts/opensearch-node with its own port and directory): stopping the shared one would
// break other test files.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SearchClient } from '../src/export/client.ts';
import { exportNames } from '../src/export/names.ts';
import { StoreExporter, type ExportRunReport } from '../src/server/export/exporter.ts';
import { TestFleet } from './support/export-fleet.ts';
import { trackerFeedV1 } from './support/fixtures.ts';
import { runCli } from './support/cli.ts';
import { allDocs, freePort, runNodeScript, type StoredDoc } from './support/opensearch.ts';

const DAY = 86_400_000;
let dir = '';
let env: NodeJS.ProcessEnv = {};
let fleet: TestFleet;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'patchloop-elastic-restart-'));
  env = { PATCHLOOP_TEST_OPENSEARCH_PORT: String(await freePort()), PATCHLOOP_TEST_OPENSEARCH_DIR: join(dir, 'node') };
  const started = await runNodeScript(['start'], env);
  assert.equal(started.code, 0, `the restart test's own node did not start:\n${started.stderr}`);
  fleet = await TestFleet.start(trackerFeedV1());
});

after(async () => {
  if (dir) {
    await runNodeScript(['stop'], env);
    rmSync(dir, { recursive: true, force: true });
  }
  await fleet?.close();
});

const source = (d: StoredDoc) =>
  d._source as {
    host: { id: string; name: string };
    package: { name: string; architecture: string };
    vulnerability: { id: string };
  };

test(
  'a node stopped mid-export and restarted: the exporter catches up, nothing lost, nothing twice',
  { timeout: 900_000 },
  async () => {
    const url = `http://127.0.0.1:${env.PATCHLOOP_TEST_OPENSEARCH_PORT}`;
    const client = new SearchClient({
      url,
      bulk: { maxDocs: 150 },
      retry: { maxRetries: 1, baseDelayMs: 100, maxDelayMs: 300 },
      requestTimeoutMs: 15_000,
    });
    const names = exportNames('restart');
    const exporter = new StoreExporter(fleet.store, client, {
      names,
      target: `${client.url}|${names.prefix}`,
      retention: { resolved: 30 * DAY, stale: 30 * DAY },
      batch: 200,
      hostsPerStep: 1,
      refresh: true,
    });

    // A first export of two hosts, with the node up.
    await fleet.enroll('alma-0', 'db', fleet.alma);
    await fleet.enroll('bookworm-0', 'web', fleet.bookworm);
    await fleet.report('alma-0');
    await fleet.report('bookworm-0');
    const first = await exporter.runOnce();
    assert.equal(first.unavailable, null);

    // Six more AlmaLinux hosts: hundreds of findings each, exported one host per step.
    for (let i = 1; i <= 6; i++) {
      await fleet.enroll(`alma-${i}`, i % 2 ? 'db' : 'web', fleet.alma);
      await fleet.report(`alma-${i}`);
    }
    const reports: ExportRunReport[] = [];
    for (let i = 0; i < 2; i++) reports.push(await exporter.runOnce({ maxSteps: 1 }));
    assert.ok(
      reports.every((r) => r.unavailable === null && !r.caughtUp),
      'two steps taken, more to go',
    );
    // The node goes away with the export half done; the next step cannot be delivered.
    const stopped = await runNodeScript(['stop'], env);
    assert.equal(stopped.code, 0, stopped.stderr);
    const before = exporter.state.cursor();
    const failed = await exporter.runOnce();
    assert.ok(failed.unavailable, 'the run found the cluster down');
    assert.deepEqual(exporter.state.cursor(), before, 'a step the cluster did not take leaves the cursor');

    // The cluster being down does not hold up the server: reports keep being taken.
    fleet.advance(0.5);
    await fleet.enroll('alma-7', 'web', fleet.alma);
    await fleet.report('alma-7');
    const down = await exporter.runOnce();
    assert.ok(down.unavailable);
    assert.equal(down.sent.hosts + down.sent.findings + down.sent.events, 0);
    // `patchloop elastic export` on the server's data directory says so too: no summary of a
    // run that did not happen, exit 75.
    const cli = await runCli([
      'elastic',
      'export',
      '--data-dir',
      fleet.server.dataDir,
      '--url',
      url,
      '--prefix',
      names.prefix,
    ]);
    assert.equal(cli.code, 75, cli.stderr);
    assert.equal(cli.stdout, '');
    assert.match(
      cli.stderr,
      /^patchloop: export not done, cluster unavailable: .*cannot reach the cluster \(ECONNREFUSED/m,
    );
    assert.deepEqual(exporter.state.cursor(), before, 'the cursor stays where the cluster stopped taking documents');

    const restarted = await runNodeScript(['start'], env);
    assert.equal(restarted.code, 0, restarted.stderr);
    const caughtUp = await exporter.runOnce();
    assert.equal(caughtUp.unavailable, null);
    assert.equal(caughtUp.caughtUp, true);

    // Everything the store holds, once.
    const store = fleet.store;
    const expected = store
      .all<{ host_id: number; name_id: number; vuln_id: number }>('SELECT host_id, name_id, vuln_id FROM findings')
      .map(
        (r) =>
          `${r.host_id}|${store.interner.name(r.name_id).name}|${store.interner.name(r.name_id).arch}|${store.interner.vuln(r.vuln_id)}`,
      )
      .sort();
    assert.ok(expected.length > 2000, `${expected.length} findings`);
    const findings = await allDocs(client, names.findings);
    assert.deepEqual(
      findings
        .map((d) => {
          const s = source(d);
          return `${s.host.id}|${s.package.name}|${s.package.architecture}|${s.vulnerability.id}`;
        })
        .sort(),
      expected,
    );
    assert.equal((await allDocs(client, names.hosts)).length, 9);
    const events = await allDocs(client, names.vulnerabilityEvents);
    const storeEvents = store.get<{ n: number }>(
      "SELECT sum(count) AS n FROM events WHERE type IN ('detected', 'reopened', 'resolved')",
    )!.n;
    assert.equal(events.length, storeEvents);
    assert.equal(new Set(events.map((d) => d._id)).size, events.length);

    // The same documents a rebuild from scratch writes into another prefix.
    const fresh = exportNames('restart-fresh');
    const rebuilder = new StoreExporter(store, client, {
      names: fresh,
      target: `${client.url}|${fresh.prefix}`,
      retention: { resolved: 30 * DAY, stale: 30 * DAY },
      refresh: true,
    });
    assert.equal((await rebuilder.rebuild()).unavailable, null);
    const strip = (docs: StoredDoc[]) => docs.map((d) => [d._id, d._source]);
    assert.deepEqual(strip(await allDocs(client, fresh.findings)), strip(findings));
    assert.deepEqual(strip(await allDocs(client, fresh.hosts)), strip(await allDocs(client, names.hosts)));
    assert.deepEqual(
      (await allDocs(client, fresh.vulnerabilityEvents)).map((d) => d._id).sort(),
      events.map((d) => d._id).sort(),
    );
    await client.close();
  },
);

/**
 * An HTTP forwarder to the node that goes dark after a number of `_bulk` requests (every
 * connection reset, as when the node dies) until told to come back.
 */
async function cutOff(
  target: string,
): Promise<{ url: string; cutAfterBulks(n: number): void; restore(): void; close(): Promise<void> }> {
  const to = new URL(target);
  let bulks = 0;
  let limit = Number.POSITIVE_INFINITY;
  let down = false;
  const sockets = new Set<Socket>();
  const server: Server = createServer((req, res) => {
    if (!down && req.url?.startsWith('/_bulk') && ++bulks > limit) {
      down = true;
      for (const s of sockets) s.destroy();
    }
    if (down) {
      req.socket.destroy();
      return;
    }
    const up = httpRequest(
      { host: to.hostname, port: to.port, path: req.url, method: req.method, headers: req.headers },
      (r) => {
        res.writeHead(r.statusCode ?? 502, r.headers);
        r.pipe(res);
      },
    );
    up.on('error', () => res.destroy());
    req.pipe(up);
  });
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    cutAfterBulks(n) {
      bulks = 0;
      limit = n;
    },
    restore() {
      down = false;
      limit = Number.POSITIVE_INFINITY;
    },
    close: () => {
      for (const s of sockets) s.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

test(
  'the cluster gone in the middle of a rebuild: the next run rebuilds again, with the same result',
  { timeout: 600_000 },
  async () => {
    const direct = new SearchClient({ url: `http://127.0.0.1:${env.PATCHLOOP_TEST_OPENSEARCH_PORT}` });
    const proxy = await cutOff(direct.url);
    const client = new SearchClient({
      url: proxy.url,
      bulk: { maxDocs: 200 },
      retry: { maxRetries: 1, baseDelayMs: 50, maxDelayMs: 100 },
    });
    const names = exportNames('restart-cut');
    const exporter = new StoreExporter(fleet.store, client, {
      names,
      target: `${direct.url}|${names.prefix}`,
      retention: { resolved: 30 * DAY, stale: 30 * DAY },
      refresh: true,
    });
    try {
      proxy.cutAfterBulks(5);
      const cut = await exporter.rebuild();
      assert.ok(cut.unavailable, 'the rebuild was cut short');
      assert.ok(cut.sent.findings > 0, 'documents had been sent when the cluster went away');
      assert.equal(exporter.state.get('needs_rebuild'), '1');
      proxy.restore();
      const again = await exporter.runOnce();
      assert.equal(again.rebuilt, true);
      assert.equal(again.unavailable, null);
      assert.equal(exporter.state.get('needs_rebuild'), '0');
      // The same documents as the rebuild of the first test, which ran without interruption.
      const strip = (docs: StoredDoc[]) => docs.map((d) => [d._id, d._source]);
      const fresh = exportNames('restart-fresh');
      assert.deepEqual(strip(await allDocs(direct, names.findings)), strip(await allDocs(direct, fresh.findings)));
      assert.deepEqual(
        (await allDocs(direct, names.vulnerabilityEvents)).map((d) => d._id).sort(),
        (await allDocs(direct, fresh.vulnerabilityEvents)).map((d) => d._id).sort(),
      );
    } finally {
      await client.close();
      await direct.close();
      await proxy.close();
    }
  },
);
