// The exporter against a real OpenSearch 2.19 node (scripts/opensearch-node): templates,
// bulk indexing of real findings, idempotent upserts, events written once, dead letters,
// aggregations the dashboards will run, and state purging.
// Findings come from a real scan: an AlmaLinux 9.4 rpm database written by rpm, matched
// against the complete AlmaLinux 9 OSV database from the shared data.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SearchClient } from '../src/export/client.ts';
import { bulk } from '../src/export/bulk.ts';
import { exportNames, type ExportNames } from '../src/export/names.ts';
import { installTemplates } from '../src/export/install.ts';
import {
  findingDocument,
  findingId,
  findingItem,
  hostSummaryItem,
  patchRunItem,
  vulnerabilityEventId,
  vulnerabilityEventItem,
} from '../src/export/ecs.ts';
import type {
  FindingRecord,
  HostDaySummaryRecord,
  PatchRunRecord,
  VulnerabilityEventRecord,
} from '../src/export/records.ts';
import { readDeadLetters } from '../src/export/deadletter.ts';
import { purgeFindings, deleteHostFindings } from '../src/export/state.ts';
import { allDocs, countDocs, removeExport, testClusterUrl, uniquePrefix } from './support/opensearch.ts';
import { removeTemporaries } from './support/estate.ts';
import { almaFindingRecords } from './support/alma-findings.ts';

let client: SearchClient;
let names: ExportNames;
let records: FindingRecord[];
let work: string;
const deadLetterFile = () => join(work, 'dead-letters.ndjson');

before(async () => {
  const url = await testClusterUrl();
  work = mkdtempSync(join(tmpdir(), 'patchloop-export-'));
  // Small batches, so a few hundred findings take several `_bulk` requests.
  client = new SearchClient({
    url,
    bulk: { maxDocs: 100, maxBytes: 256 * 1024 },
    retry: { maxRetries: 3, baseDelayMs: 50, maxDelayMs: 500 },
    deadLetterFile: deadLetterFile(),
  });
  names = exportNames(uniquePrefix('export'));
  records = await almaFindingRecords();
});

after(async () => {
  if (client) {
    await removeExport(client, names);
    await client.close();
  }
  if (work) rmSync(work, { recursive: true, force: true });
  removeTemporaries();
});

test('the node is OpenSearch 2.19 and refuses the Elasticsearch media types the client sends to Elasticsearch only', async () => {
  const product = await client.info();
  assert.deepEqual(product, { kind: 'opensearch', version: '2.19.6', major: 2, serverless: false });
  // Why the client sends plain JSON to OpenSearch: the versioned type is Not Acceptable.
  const bulkRefused = await fetch(`${client.url}/_bulk`, {
    method: 'POST',
    headers: { 'content-type': 'application/vnd.elasticsearch+x-ndjson; compatible-with=8' },
    body: '{"index":{"_index":"unused"}}\n{}\n',
  });
  await bulkRefused.arrayBuffer();
  assert.equal(bulkRefused.status, 406);
});

test('templates: component and index templates, the state index and the data streams are installed; ISM absent is a warning', async () => {
  const first = await installTemplates(client, { names });
  assert.equal(first.lifecycle, 'skipped');
  assert.match(first.warnings.join('\n'), /no ISM plugin \(opensearch-index-management\)/);
  assert.deepEqual(
    first.created.sort(),
    [
      names.findings,
      names.hosts,
      names.vulnerabilityEvents,
      names.patchEvents,
      names.hostSummaries,
      names.audit,
    ].sort(),
  );

  const template = await client.request<{
    index_templates: { name: string; index_template: { composed_of: string[]; data_stream?: unknown } }[];
  }>({
    method: 'GET',
    path: `/_index_template/${names.templates.vulnerabilityEvents}`,
  });
  assert.deepEqual(template.body.index_templates[0].index_template.composed_of, [
    names.components.base,
    names.components.vulnerability,
    names.components.eventSettings,
  ]);
  assert.ok(template.body.index_templates[0].index_template.data_stream);

  const streams = await client.request<{ data_streams: { name: string; template: string }[] }>({
    method: 'GET',
    path: `/_data_stream/${names.vulnerabilityEvents},${names.patchEvents},${names.hostSummaries}`,
  });
  assert.deepEqual(
    streams.body.data_streams.map((s) => s.name).sort(),
    [names.hostSummaries, names.patchEvents, names.vulnerabilityEvents].sort(),
  );

  const mapping = await client.request<
    Record<
      string,
      { mappings: { dynamic: string; properties: Record<string, { properties: Record<string, { type: string }> }> } }
    >
  >({
    method: 'GET',
    path: `/${names.findings}/_mapping`,
  });
  const m = mapping.body[names.findings].mappings;
  assert.equal(m.dynamic, 'false');
  assert.equal(m.properties.package.properties.fixed_version.type, 'keyword');
  assert.equal(m.properties.patchloop.properties.first_seen.type, 'date');
  assert.equal(m.properties.vulnerability.properties.severity.type, 'keyword');

  // Installing again changes nothing and creates nothing.
  const second = await installTemplates(client, { names });
  assert.deepEqual(second.created, []);
  assert.deepEqual(second.indexTemplates, first.indexTemplates);
});

test('bulk: every real finding lands once, in bounded batches, as the ECS document the mapping made', async () => {
  assert.equal(records.length, 2230);
  assert.ok(
    records.every((r) => !r.kernel_not_running),
    "the running kernel's findings were kept",
  );
  // One lead document per exposure (vulnerability and source package): the scan's summary total.
  assert.equal(records.filter((r) => r.exposure_lead).length, 763);
  const items = records.map((r) => findingItem(r, names));
  const report = await bulk(client, items);
  assert.equal(report.created, records.length);
  assert.deepEqual([report.rejected, report.pending, report.pendingReason], [[], [], null]);
  assert.ok(
    report.requests >= Math.ceil(records.length / 100),
    `${report.requests} requests for ${records.length} items`,
  );

  const stored = await allDocs(client, names.findings);
  assert.equal(stored.length, records.length);
  const byId = new Map(stored.map((d) => [d._id, d]));
  for (const record of records.slice(0, 50)) {
    const doc = byId.get(findingId(record.host.id, record.package.name, record.package.arch, record.vulnerability.id));
    assert.ok(doc, `${record.package.name} ${record.vulnerability.id} missing`);
    assert.deepEqual(doc._source, findingDocument(record));
    assert.equal(doc._version, Date.parse(record.updated_at));
  }
  const sample = byId.get(findingId('host-alma94', 'openssl', 'x86_64', 'CVE-2024-6119'));
  assert.ok(sample, 'openssl CVE-2024-6119 is one of the findings');
  const source = sample._source as {
    package: { fixed_version: string };
    event: { kind: string };
    host: { os: { platform: string } };
  };
  assert.equal(source.package.fixed_version, '1:3.0.7-28.el9_4');
  assert.equal(source.event.kind, 'state');
  assert.equal(source.host.os.platform, 'almalinux');
});

test('idempotent upserts: exporting the same set again changes no document, no count, no version', async () => {
  const earlier = await allDocs(client, names.findings);
  const report = await bulk(
    client,
    records.map((r) => findingItem(r, names)),
  );
  assert.equal(report.unchanged, records.length);
  assert.equal(report.created + report.updated, 0);
  const later = await allDocs(client, names.findings);
  assert.equal(later.length, earlier.length);
  assert.deepEqual(
    later.map((d) => [d._id, d._version, d._seq_no]),
    earlier.map((d) => [d._id, d._version, d._seq_no]),
  );
});

test('a newer record replaces the document, an older copy replayed afterwards does not', async () => {
  const original = records[0];
  const resolved: FindingRecord = {
    ...original,
    state: 'resolved',
    fixed_at: '2026-03-05T06:00:00.000Z',
    updated_at: '2026-03-05T06:00:00.000Z',
  };
  const report = await bulk(client, [findingItem(resolved, names)]);
  assert.equal(report.updated, 1);
  const replay = await bulk(client, [findingItem(original, names)]);
  assert.equal(replay.unchanged, 1);
  const id = findingId(original.host.id, original.package.name, original.package.arch, original.vulnerability.id);
  const doc = await client.request<{
    _source: { patchloop: { state: string; fixed_at: string }; vulnerability: { status: string } };
  }>({
    method: 'GET',
    path: `/${names.findings}/_doc/${id}`,
  });
  assert.equal(doc.body._source.patchloop.state, 'resolved');
  assert.equal(doc.body._source.vulnerability.status, 'fixed');
  assert.equal(doc.body._source.patchloop.fixed_at, '2026-03-05T06:00:00.000Z');
  assert.equal(await countDocs(client, names.findings), records.length);
});

test('vulnerability events: detected and resolved are created once in the data stream, resending creates nothing', async () => {
  const finding = records[0];
  const events: VulnerabilityEventRecord[] = [
    { action: 'detected', at: finding.first_seen, finding },
    {
      action: 'resolved',
      at: '2026-03-05T06:00:00Z',
      finding: { ...finding, state: 'resolved', fixed_at: '2026-03-05T06:00:00Z' },
    },
    ...records
      .slice(1, 40)
      .map((f): VulnerabilityEventRecord => ({ action: 'detected', at: f.first_seen, finding: f })),
  ];
  const items = events.map((e) => vulnerabilityEventItem(e, names));
  assert.ok(items.every((i) => i.action === 'create'));
  const first = await bulk(client, items);
  assert.equal(first.created, events.length);
  const again = await bulk(client, items);
  assert.equal(again.unchanged, events.length, 'a resent event is a duplicate, not a new document');
  assert.equal(again.created, 0);

  const stored = await allDocs(client, names.vulnerabilityEvents);
  assert.equal(stored.length, events.length);
  const resolved = stored.find((d) => d._id === vulnerabilityEventId(events[1]));
  assert.ok(resolved);
  const source = resolved._source as {
    event: { action: string; duration: number; kind: string };
    patchloop: { sla_missed: boolean };
  };
  assert.equal(source.event.kind, 'event');
  assert.equal(source.event.action, 'vulnerability-resolved');
  assert.equal(source.event.duration, 3 * 86_400 * 1e9, 'open from 2 to 5 March');
  // Backing indices of a data stream: the documents live in .ds-<name>-000001.
  const hit = await client.request<{ hits: { hits: { _index: string }[] } }>({
    method: 'POST',
    path: `/${names.vulnerabilityEvents}/_search`,
    body: { size: 1, query: { term: { 'event.action': 'vulnerability-resolved' } } },
  });
  assert.match(hit.body.hits.hits[0]._index, new RegExp(`^\\.ds-${names.vulnerabilityEvents}-\\d+$`));
});

test('dead letters: a document the mapping rejects goes to the dead-letter file, its batch neighbours are indexed', async () => {
  const good = records
    .slice(0, 3)
    .map((r) => ({ ...r, host: { ...r.host, id: 'host-dl' }, updated_at: '2026-03-02T06:00:00Z' }));
  const items = good.map((r) => findingItem(r, names));
  const bad = findingItem({ ...good[0], package: { ...good[0].package, name: 'broken-package' } }, names);
  // A date field that is not a date: the cluster refuses it with mapper_parsing_exception.
  (bad.doc as { patchloop: Record<string, unknown> }).patchloop.first_seen = 'last Tuesday';
  const report = await bulk(client, [items[0], bad, items[1], items[2]]);
  assert.equal(report.created, 3);
  assert.equal(report.rejected.length, 1);
  assert.equal(report.rejected[0].type, 'mapper_parsing_exception');
  const letters = await readDeadLetters(deadLetterFile());
  const letter = letters.find((l) => l.id === bad.id);
  assert.ok(letter, 'the rejected document is in the dead-letter file');
  assert.equal(letter.status, 400);
  assert.match(letter.error.reason, /patchloop\.first_seen/);
  assert.deepEqual(letter.item, bad);
  assert.ok(
    !readFileSync(deadLetterFile(), 'utf8').includes(items[1].id as string),
    'accepted documents are not dead letters',
  );
});

test('patch runs and day summaries are indexed and aggregate the way dashboards will ask', async () => {
  const host = records[0].host;
  const runs: PatchRunRecord[] = [
    {
      id: 'run-1',
      host,
      tool: 'dnf-automatic',
      started_at: '2026-03-03T02:00:00Z',
      ended_at: '2026-03-03T02:03:30Z',
      outcome: 'success',
      trigger: 'scheduled',
      packages: [
        {
          name: 'openssl',
          arch: 'x86_64',
          from_version: '1:3.0.7-27.el9',
          to_version: '1:3.0.7-28.el9_4',
          action: 'upgrade',
        },
      ],
      reboot_required: false,
    },
    {
      id: 'run-2',
      host,
      tool: 'dnf-automatic',
      started_at: '2026-03-04T02:00:00Z',
      ended_at: '2026-03-04T02:00:09Z',
      outcome: 'failure',
      packages: [],
      reboot_required: false,
      error: 'dnf lock held',
    },
  ];
  const summaries: HostDaySummaryRecord[] = ['2026-03-02', '2026-03-03', '2026-03-04'].map((date, i) => ({
    host,
    date,
    at: `${date}T23:50:00Z`,
    open: { critical: 0, high: 147 - i * 10, medium: 151, low: 5, negligible: 0, unknown: 0 },
    fixable: 303 - i * 10,
    sla_breached: 0,
    detected: i === 0 ? 303 : 0,
    resolved: i === 0 ? 0 : 10,
    reboot_required: i === 1,
    last_scan_at: `${date}T06:00:00Z`,
  }));
  const report = await bulk(client, [
    ...runs.map((r) => patchRunItem(r, names)),
    ...summaries.map((s) => hostSummaryItem(s, names)),
  ]);
  assert.equal(report.created, 5);
  await client.request({ method: 'POST', path: `/${names.patchEvents},${names.hostSummaries}/_refresh` });

  const outcomes = await client.request<{
    aggregations: { outcome: { buckets: { key: string; doc_count: number }[] } };
  }>({
    method: 'POST',
    path: `/${names.patchEvents}/_search`,
    body: {
      size: 0,
      query: { term: { 'event.category': 'package' } },
      aggs: { outcome: { terms: { field: 'event.outcome' } } },
    },
  });
  assert.deepEqual(outcomes.body.aggregations.outcome.buckets.map((b) => [b.key, b.doc_count]).sort(), [
    ['failure', 1],
    ['success', 1],
  ]);

  const trend = await client.request<{
    aggregations: { day: { buckets: { key_as_string: string; high: { value: number } }[] } };
  }>({
    method: 'POST',
    path: `/${names.hostSummaries}/_search`,
    body: {
      size: 0,
      aggs: {
        day: {
          date_histogram: { field: '@timestamp', calendar_interval: 'day', format: 'yyyy-MM-dd' },
          aggs: { high: { sum: { field: 'patchloop.summary.open.high' } } },
        },
      },
    },
  });
  assert.deepEqual(
    trend.body.aggregations.day.buckets.map((b) => [b.key_as_string, b.high.value]),
    [
      ['2026-03-02', 147],
      ['2026-03-03', 137],
      ['2026-03-04', 127],
    ],
  );

  const bySeverity = await client.request<{
    aggregations: { severity: { buckets: { key: string; doc_count: number }[] } };
  }>({
    method: 'POST',
    path: `/${names.findings}/_search`,
    body: {
      size: 0,
      query: {
        bool: {
          filter: [{ term: { 'host.id': 'host-alma94' } }, { terms: { 'patchloop.state': ['open', 'reopened'] } }],
        },
      },
      aggs: { severity: { terms: { field: 'vulnerability.severity' } } },
    },
  });
  const expected = new Map<string, number>();
  for (const r of records.slice(1))
    expected.set(r.vulnerability.severity, (expected.get(r.vulnerability.severity) ?? 0) + 1);
  assert.deepEqual(
    bySeverity.body.aggregations.severity.buckets.map((b) => [b.key, b.doc_count]).sort(),
    [...expected].sort(),
    'records[0] was resolved above; every other finding is open',
  );
});

test('state upkeep: resolved findings past retention and stale hosts are purged, open ones stay', async () => {
  const base = records.slice(0, 4).map((r) => ({ ...r, host: { ...r.host, id: 'host-purge' } }));
  const oldResolved = {
    ...base[0],
    state: 'resolved' as const,
    fixed_at: '2025-01-01T00:00:00Z',
    updated_at: '2025-01-01T00:00:00Z',
  };
  const recentResolved = {
    ...base[1],
    state: 'resolved' as const,
    fixed_at: '2026-03-01T00:00:00Z',
    updated_at: '2026-03-01T00:00:00Z',
  };
  const stale = {
    ...base[2],
    state: 'stale' as const,
    last_seen: '2025-06-01T00:00:00Z',
    updated_at: '2025-07-01T00:00:00Z',
  };
  const open = base[3];
  const report = await bulk(
    client,
    [oldResolved, recentResolved, stale, open].map((r) => findingItem(r, names)),
    { refresh: true },
  );
  assert.equal(report.created, 4);
  const purged = await purgeFindings(client, names, {
    resolvedBefore: '2026-01-01T00:00:00Z',
    staleBefore: '2026-01-01T00:00:00Z',
    refresh: true,
  });
  assert.equal(purged.deleted, 2);
  const left = await client.request<{ hits: { hits: { _source: { patchloop: { state: string } } }[] } }>({
    method: 'POST',
    path: `/${names.findings}/_search`,
    body: { query: { term: { 'host.id': 'host-purge' } } },
  });
  assert.deepEqual(left.body.hits.hits.map((h) => h._source.patchloop.state).sort(), ['open', 'resolved']);
  const removed = await deleteHostFindings(client, names, 'host-purge', true);
  assert.equal(removed.deleted, 2);
});
