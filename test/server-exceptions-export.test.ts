// Exceptions in the Elasticsearch / OpenSearch export, against the real OpenSearch node: the
// real bookworm host behind a real server; a rule makes the state documents of the findings it
// holds `excepted` with the rule's id (the dashboards' open counts leave them out), and its
// revocation gives them back their open state with a reopened event. Exporting again writes
// nothing new.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SearchClient } from '../src/export/client.ts';
import { panelRequest, panelRows } from '../src/export/dashboards/request.ts';
import type { SavedObject } from '../src/export/dashboards/saved-objects.ts';
import { exportNames, type ExportNames } from '../src/export/names.ts';
import { StoreExporter } from '../src/server/export/exporter.ts';
import { TestFleet } from './support/export-fleet.ts';
import { trackerFeedV1 } from './support/fixtures.ts';
import { REPO_ROOT } from './support/paths.ts';
import { allDocs, testClusterUrl, uniquePrefix } from './support/opensearch.ts';
import { api } from './support/server.ts';

const DAY = 86_400_000;
let fleet: TestFleet;
let client: SearchClient;
let names: ExportNames;
let exporter: StoreExporter;

before(async () => {
  const url = await testClusterUrl();
  fleet = await TestFleet.start(trackerFeedV1());
  client = new SearchClient({ url, retry: { maxRetries: 2, baseDelayMs: 50, maxDelayMs: 200 } });
  names = exportNames(uniquePrefix('exceptions'));
  exporter = new StoreExporter(fleet.store, client, {
    names,
    target: `${client.url}|${names.prefix}`,
    retention: { resolved: 30 * DAY, stale: 30 * DAY },
    batch: 500,
    hostsPerStep: 10,
    refresh: true,
  });
  await fleet.enroll('deb-1', 'web', fleet.bookworm);
  await fleet.report('deb-1');
});

after(async () => {
  if (client) {
    const accept = [404];
    for (const stream of [names.vulnerabilityEvents, names.patchEvents, names.hostSummaries, names.audit])
      await client.request({ method: 'DELETE', path: `/_data_stream/${stream}`, accept });
    for (const index of [names.findings, names.hosts])
      await client.request({ method: 'DELETE', path: `/${index}`, accept });
    for (const t of Object.values(names.templates))
      await client.request({ method: 'DELETE', path: `/_index_template/${t}`, accept });
    for (const t of Object.values(names.components))
      await client.request({ method: 'DELETE', path: `/_component_template/${t}`, accept });
    await client.close();
  }
  await fleet?.close();
});

/** Package → [state, exception id] of the state documents of one vulnerability. */
async function states(vuln: string): Promise<Record<string, [string, number | null]>> {
  const out: Record<string, [string, number | null]> = {};
  for (const d of await allDocs(client, names.findings)) {
    const s = d._source as {
      package: { name: string };
      vulnerability: { id: string };
      patchloop: { state: string; exception_id?: number | null };
    };
    if (s.vulnerability.id === vuln) out[s.package.name] = [s.patchloop.state, s.patchloop.exception_id ?? null];
  }
  return out;
}

/** The shipped dashboard's "Excepted findings" panel run on this test's indices: rule id → findings. */
async function exceptedPanel(): Promise<Record<string, unknown>> {
  const objects = readFileSync(join(REPO_ROOT, 'deploy/elastic/opensearch-dashboards.ndjson'), 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as SavedObject);
  const vis = objects.find((o) => o.id === 'patchloop-excepted')!;
  const pattern = objects.find((o) => o.id === vis.references[0].id)!;
  const retitled = {
    ...pattern,
    attributes: {
      ...pattern.attributes,
      title: String(pattern.attributes.title).replace(/^patchloop-/, `${names.prefix}-`),
    },
  };
  const request = panelRequest(vis, retitled, {
    now: new Date(fleet.server.clock.now()).toISOString(),
    timeZone: 'UTC',
  });
  const response = await client.request<Record<string, unknown>>({
    method: 'POST',
    path: `/${encodeURIComponent(request.index)}/_search`,
    body: request.body,
  });
  return Object.fromEntries(panelRows(request, response.body).map((r) => [r.keys[0], r.values['1']]));
}

test('the state documents carry the exception: excepted with the rule id, open again once it is revoked', async () => {
  await exporter.runOnce();
  assert.deepEqual(await states('CVE-2099-1002'), { zlib1g: ['open', null], 'zlib1g-dev': ['open', null] });

  const made = await api(fleet.server.url, '/api/v1/exceptions', {
    token: fleet.server.adminToken,
    body: { scope: { vulnerability: 'CVE-2099-1002' }, kind: 'mitigated', justification: 'zlib reads trusted input' },
  });
  assert.equal(made.status, 201, made.text);
  const id = (made.body as { id: number }).id;
  await exporter.runOnce();
  assert.deepEqual(await states('CVE-2099-1002'), { zlib1g: ['excepted', id], 'zlib1g-dev': ['excepted', id] });
  // The dashboard counts the exposure once (its lead document), under its rule.
  assert.deepEqual(await exceptedPanel(), { [String(id)]: 1 });
  // The others are untouched.
  assert.deepEqual(await states('CVE-2099-1001'), {
    libssl3: ['open', null],
    'libssl-dev': ['open', null],
    openssl: ['open', null],
  });
  const before = await allDocs(client, names.findings);
  await exporter.runOnce();
  assert.deepEqual(
    (await allDocs(client, names.findings)).map((d) => [d._id, d._seq_no]),
    before.map((d) => [d._id, d._seq_no]),
    'a second export writes nothing',
  );

  const revoked = await api(fleet.server.url, `/api/v1/exceptions/${id}/revoke`, {
    token: fleet.server.adminToken,
    body: {},
  });
  assert.equal(revoked.status, 200, revoked.text);
  await exporter.runOnce();
  assert.deepEqual(await states('CVE-2099-1002'), { zlib1g: ['open', null], 'zlib1g-dev': ['open', null] });
  assert.deepEqual(await exceptedPanel(), {});
  const events = (await allDocs(client, names.vulnerabilityEvents)).map(
    (d) => d._source as { event: { action: string }; vulnerability: { id: string } },
  );
  assert.deepEqual(
    events
      .filter((e) => e.vulnerability.id === 'CVE-2099-1002')
      .map((e) => e.event.action)
      .sort(),
    ['vulnerability-detected', 'vulnerability-reopened'],
  );
});
