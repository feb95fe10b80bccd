// The cluster goes away in the middle of an export and comes back: nothing is lost and
// nothing arrives twice. Runs its own OpenSearch node (scripts/opensearch-node with its own
// port and directory), since stopping the shared one would break other test files. That
// node also takes requests of at most 256 KiB, for the batch-splitting test.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SearchClient } from '../src/export/client.ts';
import { bulk } from '../src/export/bulk.ts';
import { readDeadLetters } from '../src/export/deadletter.ts';
import { exportNames } from '../src/export/names.ts';
import { installTemplates } from '../src/export/install.ts';
import { findingId, findingItem, vulnerabilityEventId, vulnerabilityEventItem } from '../src/export/ecs.ts';
import type { BulkItem } from '../src/export/bulk.ts';
import type { FindingRecord, VulnerabilityEventRecord } from '../src/export/records.ts';
import { Spool, ship, type ShipReport } from '../src/export/spool.ts';
import { allDocs, freePort, runNodeScript } from './support/opensearch.ts';
import { removeTemporaries } from './support/estate.ts';
import { almaFindingRecords } from './support/alma-findings.ts';

const HOSTS = 10;
const CHUNK = 400;

let dir = '';
let env: NodeJS.ProcessEnv = {};

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'patchloop-restart-'));
  env = {
    PATCHLOOP_TEST_OPENSEARCH_PORT: String(await freePort()),
    PATCHLOOP_TEST_OPENSEARCH_DIR: join(dir, 'node'),
    PATCHLOOP_TEST_OPENSEARCH_SETTINGS: 'http.max_content_length=256kb',
  };
  const started = await runNodeScript(['start'], env);
  assert.equal(started.code, 0, `the restart test's own node did not start:\n${started.stderr}`);
});

after(async () => {
  if (dir) {
    await runNodeScript(['stop'], env);
    rmSync(dir, { recursive: true, force: true });
  }
  removeTemporaries();
});

test('a node stopped mid-export and restarted: every document arrives exactly once', { timeout: 600_000 }, async () => {
  const url = `http://127.0.0.1:${env.PATCHLOOP_TEST_OPENSEARCH_PORT}`;
  const client = new SearchClient({
    url,
    bulk: { maxDocs: 200, maxBytes: 200 * 1024 },
    retry: { maxRetries: 2, baseDelayMs: 100, maxDelayMs: 400 },
    requestTimeoutMs: 15_000,
    deadLetterFile: join(dir, 'dead-letters.ndjson'),
  });
  const names = exportNames('restart');
  await installTemplates(client, { names });

  // The real scan's findings on 10 hosts, each with its detected event: 6,060 documents.
  const scanned = await almaFindingRecords();
  const findings: FindingRecord[] = [];
  for (let h = 0; h < HOSTS; h++) {
    const host = { ...scanned[0].host, id: `host-${String(h).padStart(2, '0')}`, name: `alma${h}.example.net` };
    for (const r of scanned) findings.push({ ...r, host, agent: { id: host.id, version: '0.1.0' } });
  }
  const events: VulnerabilityEventRecord[] = findings.map((finding) => ({
    action: 'detected',
    at: finding.first_seen,
    finding,
  }));
  const items: BulkItem[] = [];
  findings.forEach((finding, i) => items.push(findingItem(finding, names), vulnerabilityEventItem(events[i], names)));

  const spool = new Spool(join(dir, 'spool'));
  const chunks: BulkItem[][] = [];
  for (let i = 0; i < items.length; i += CHUNK) chunks.push(items.slice(i, i + CHUNK));
  const reports: ShipReport[] = [];

  // Export chunk by chunk, as an exporter following its store would. After the third
  // chunk the node is told to stop while the export carries on; the last two chunks are
  // shipped only once it is surely down.
  let stopping: ReturnType<typeof runNodeScript> | null = null;
  for (let i = 0; i < chunks.length - 2; i++) {
    if (i === 3) stopping = runNodeScript(['stop'], env);
    reports.push(await ship(client, spool, chunks[i]));
  }
  assert.ok(stopping);
  assert.equal((await stopping).code, 0);
  for (const chunk of chunks.slice(-2)) {
    const report = await ship(client, spool, chunk);
    assert.equal(report.spooled, chunk.length, 'with the node down, a shipped chunk goes to the spool');
    reports.push(report);
  }
  const delivered = reports.reduce((n, r) => n + r.created, 0);
  const spooled = await spool.size();
  assert.ok(
    reports.slice(0, 3).every((r) => r.created === CHUNK),
    'the first chunks arrived before the stop',
  );
  assert.ok(spooled >= 2 * CHUNK, `${spooled} items waiting in the spool`);
  assert.ok(delivered < items.length);
  assert.deepEqual(
    reports.flatMap((r) => r.rejected),
    [],
    'nothing was dead-lettered for being unreachable',
  );
  const restarted = await runNodeScript(['start'], env);
  assert.equal(restarted.code, 0, restarted.stderr);
  let replay = await ship(client, spool, []);
  for (let round = 0; replay.spoolRemaining > 0 && round < 5; round++) replay = await ship(client, spool, []);
  assert.equal(replay.spoolRemaining, 0, 'the spool drained after the restart');
  assert.equal(await spool.size(), 0);

  // Exactly once: every expected id, no other, findings at the version of their record.
  const storedFindings = await allDocs(client, names.findings);
  const expectedFindingIds = findings
    .map((f) => findingId(f.host.id, f.package.name, f.package.arch, f.vulnerability.id))
    .sort();
  assert.equal(new Set(expectedFindingIds).size, findings.length);
  assert.deepEqual(
    storedFindings.map((d) => d._id),
    expectedFindingIds,
  );
  assert.ok(storedFindings.every((d) => d._version === Date.parse(findings[0].updated_at)));
  const storedEvents = await allDocs(client, names.vulnerabilityEvents);
  assert.deepEqual(
    storedEvents.map((d) => d._id),
    events.map(vulnerabilityEventId).sort(),
  );
  await client.close();
});

test(
  'batches larger than the cluster accepts are split; a document that alone is too large is dead-lettered',
  { timeout: 300_000 },
  async () => {
    const url = `http://127.0.0.1:${env.PATCHLOOP_TEST_OPENSEARCH_PORT}`;
    const deadLetters = join(dir, 'too-large.ndjson');
    // Default byte limit (5 MiB): far above the node's 256 KiB.
    const client = new SearchClient({
      url,
      bulk: { maxDocs: 1_000 },
      retry: { maxRetries: 1, baseDelayMs: 10 },
      deadLetterFile: deadLetters,
    });
    const names = exportNames('split');
    await installTemplates(client, { names });
    const scanned = await almaFindingRecords();
    const items = [...scanned, ...scanned.map((r) => ({ ...r, host: { ...r.host, id: 'second-host' } }))].map((r) =>
      findingItem(r, names),
    );
    const huge = findingItem(
      {
        ...scanned[0],
        host: { ...scanned[0].host, id: 'huge' },
        vulnerability: { ...scanned[0].vulnerability, description: 'x'.repeat(300 * 1024) },
      },
      names,
    );
    const report = await bulk(client, [...items, huge]);
    assert.equal(report.created, items.length);
    assert.ok(report.requests > 3, `${report.requests} requests: the batch was halved until it fitted`);
    assert.deepEqual(
      report.rejected.map((r) => [r.item.id, r.status]),
      [[huge.id, 413]],
    );
    assert.deepEqual(
      (await readDeadLetters(deadLetters)).map((l) => l.id),
      [huge.id],
    );
    assert.equal((await allDocs(client, names.findings)).length, items.length);
    await client.close();
  },
);
