// The Filebeat input and Logstash pipeline in deploy/elastic against what they carry: the
// NDJSON the real `patchloop scan --format ecs` writes for the real bookworm host. Logstash
// and Filebeat do not run here; what the pipeline's output does (index each document under
// patchloop.finding_id, the scan time as external version) is done against the real node
// with the templates `patchloop elastic setup` installs, and the pipeline must name exactly
// the fields the documents have.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { bulk } from '../src/export/bulk.ts';
import { SearchClient } from '../src/export/client.ts';
import { installTemplates } from '../src/export/install.ts';
import type { BulkItem } from '../src/export/items.ts';
import { exportNames, type ExportNames } from '../src/export/names.ts';
import { BOOKWORM_ROOT, trackerFeedV1 } from './support/fixtures.ts';
import { REPO_ROOT } from './support/paths.ts';
import { importDebianFeed } from './support/vulndb.ts';
import { runCli } from './support/cli.ts';
import { countDocs, testClusterUrl, uniquePrefix } from './support/opensearch.ts';

const PIPELINE = readFileSync(join(REPO_ROOT, 'deploy/elastic/logstash/patchloop.conf'), 'utf8');
const FILEBEAT = readFileSync(join(REPO_ROOT, 'deploy/elastic/filebeat/patchloop.yml'), 'utf8');

let work: string;
let client: SearchClient;
let names: ExportNames;
let lines: Record<string, unknown>[];

before(async () => {
  work = mkdtempSync(join(tmpdir(), 'patchloop-deploy-'));
  importDebianFeed(work, trackerFeedV1());
  const r = await runCli([
    'scan',
    '--root',
    BOOKWORM_ROOT,
    '--data-dir',
    work,
    '--format',
    'ecs',
    '--kernel',
    '6.1.0-40-amd64',
  ]);
  assert.equal(r.code, 0, r.stderr);
  lines = r.stdout
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
  client = new SearchClient({ url: await testClusterUrl() });
  names = exportNames(uniquePrefix('deploy'));
});

after(async () => {
  if (client) {
    const accept = [404];
    for (const s of [names.vulnerabilityEvents, names.patchEvents, names.hostSummaries, names.audit])
      await client.request({ method: 'DELETE', path: `/_data_stream/${s}`, accept });
    for (const i of [names.findings, names.hosts]) await client.request({ method: 'DELETE', path: `/${i}`, accept });
    for (const t of Object.values(names.templates))
      await client.request({ method: 'DELETE', path: `/_index_template/${t}`, accept });
    for (const t of Object.values(names.components))
      await client.request({ method: 'DELETE', path: `/_component_template/${t}`, accept });
    await client.close();
  }
  if (work) rmSync(work, { recursive: true, force: true });
});

const field = (doc: Record<string, unknown>, path: string): unknown =>
  path.split('.').reduce<unknown>((v, k) => (v as Record<string, unknown> | undefined)?.[k], doc);

test('the pipeline names the fields the scan documents carry, and Filebeat hands it the document where it looks', () => {
  assert.ok(lines.length >= 7);
  for (const doc of lines) {
    assert.match(String(field(doc, 'patchloop.finding_id')), /^[0-9a-f]{64}$/);
    assert.ok(Number.isFinite(Date.parse(String(field(doc, 'patchloop.updated_at')))));
    assert.ok(typeof doc['@timestamp'] === 'string');
  }
  for (const ref of [
    '[patchloop][finding_id]',
    '[patchloop][updated_at]',
    '"patchloop-findings"',
    'version_type => "external"',
  ]) {
    assert.ok(PIPELINE.includes(ref), `the pipeline uses ${ref}`);
  }
  const beat = parseYaml(FILEBEAT) as {
    'filebeat.inputs': { type: string; paths: string[]; parsers: { ndjson: { target: string } }[] }[];
  };
  const input = beat['filebeat.inputs'][0];
  assert.equal(input.type, 'filestream');
  const target = input.parsers[0].ndjson.target;
  assert.ok(PIPELINE.includes(`[${target}]`), 'the pipeline reads the document where Filebeat puts it');
  assert.match(input.paths[0], /scan-\*\.ndjson$/);
  assert.ok(FILEBEAT.includes('/var/lib/patchloop/ecs/scan-$('), 'the timer example writes the files the input reads');
});

test('indexed as the pipeline indexes them, scan documents fit the state index, and a replay changes nothing', async () => {
  await installTemplates(client, { names });
  const items: BulkItem[] = lines.map((doc) => ({
    action: 'index',
    index: names.findings,
    id: String(field(doc, 'patchloop.finding_id')),
    version: Math.round(Date.parse(String(field(doc, 'patchloop.updated_at')))),
    doc,
  }));
  const first = await bulk(client, items, { refresh: true });
  assert.deepEqual([first.created, first.rejected.length], [new Set(items.map((i) => i.id)).size, 0]);
  const again = await bulk(client, items, { refresh: true });
  assert.deepEqual([again.unchanged, again.created, again.updated], [items.length, 0, 0]);
  assert.equal(await countDocs(client, names.findings), first.created);
});
