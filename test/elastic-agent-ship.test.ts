// Shipping straight from a host, without the server: the real bookworm host scanned by the
// real `patchloop scan` against the Debian test feed, shipped to the real node; an upgrade,
// a rollback and an unreachable cluster later, the state documents and events tell the
// finding history, and nothing was lost while the cluster was away.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { nextScanState, patchRunRecord, shipScanResults } from '../src/export/agent-ship.ts';
import { SearchClient } from '../src/export/client.ts';
import { installTemplates } from '../src/export/install.ts';
import { exportNames, type ExportNames } from '../src/export/names.ts';
import type { ScanLike } from '../src/export/scan-records.ts';
import { Spool } from '../src/export/spool.ts';
import { PATCH_RUN_SCHEMA, PatchRunSchema } from '../src/patch/types.ts';
import { copyBookwormRoot, trackerFeedV1, upgradeSource } from './support/fixtures.ts';
import { importDebianFeed } from './support/vulndb.ts';
import { runCli } from './support/cli.ts';
import { allDocs, testClusterUrl, uniquePrefix, type StoredDoc } from './support/opensearch.ts';

let work: string;
let dataDir: string;
let client: SearchClient;
let names: ExportNames;

before(async () => {
  work = mkdtempSync(join(tmpdir(), 'patchloop-agent-ship-'));
  dataDir = join(work, 'data');
  importDebianFeed(dataDir, trackerFeedV1());
  client = new SearchClient({
    url: await testClusterUrl(),
    retry: { maxRetries: 1, baseDelayMs: 50, maxDelayMs: 100 },
  });
  names = exportNames(uniquePrefix('agent'));
  await installTemplates(client, { names });
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

async function scan(root: string, at: string): Promise<ScanLike> {
  const r = await runCli([
    'scan',
    '--root',
    root,
    '--data-dir',
    dataDir,
    '--format',
    'json',
    '--kernel',
    '6.1.0-40-amd64',
  ]);
  assert.equal(r.code, 0, r.stderr);
  const report = JSON.parse(r.stdout) as ScanLike;
  return { ...report, scanned_at: at, host: { ...report.host, hostname: 'bookworm-agent' } };
}

const states = (docs: StoredDoc[]) =>
  Object.fromEntries(
    docs
      .map(
        (d) =>
          d._source as {
            package: { name: string };
            vulnerability: { id: string };
            patchloop: { state: string; first_seen: string; opened_at: string };
          },
      )
      .map((s) => [
        `${s.package.name} ${s.vulnerability.id}`,
        `${s.patchloop.state} ${s.patchloop.first_seen.slice(0, 10)} ${s.patchloop.opened_at.slice(0, 10)}`,
      ]),
  );

test(
  "scans shipped one after another keep each finding's history; a down cluster delays, never loses",
  { timeout: 300_000 },
  async () => {
    const root = copyBookwormRoot();
    const stateFile = join(work, 'ship-state.json');
    const spool = new Spool(join(work, 'spool'));
    const options = { stateFile, hostId: 'bookworm-agent', format: 'deb' as const, slaDays: { high: 30 } };
    await client.request({ method: 'POST', path: '/_refresh' });

    const first = await shipScanResults(client, spool, names, await scan(root, '2026-11-01T06:00:00.000Z'), options);
    assert.equal(first.detected, first.open);
    assert.ok(first.open >= 7);
    assert.equal(first.spoolRemaining, 0);

    // openssl upgraded: its three findings resolved (state and events).
    upgradeSource(root, 'openssl', '3.0.19-1~deb12u3');
    const second = await shipScanResults(client, spool, names, await scan(root, '2026-11-02T06:00:00.000Z'), options);
    assert.deepEqual([second.detected, second.resolved, second.open], [0, 3, first.open - 3]);

    // Rolled back while the cluster is unreachable: the documents wait in the spool...
    const offline = new SearchClient({ url: 'http://127.0.0.1:1', retry: { maxRetries: 0 } });
    upgradeSource(root, 'openssl', '3.0.19-1~deb12u2');
    const third = await shipScanResults(offline, spool, names, await scan(root, '2026-11-03T06:00:00.000Z'), options);
    await offline.close();
    assert.equal(third.reopened, 3);
    assert.ok(third.spooled > 0 && third.spoolRemaining === third.spooled);
    // ... and go out, first, with the next scan.
    const fourth = await shipScanResults(client, spool, names, await scan(root, '2026-11-04T06:00:00.000Z'), options);
    assert.equal(fourth.spoolRemaining, 0);
    assert.equal(await spool.size(), 0);

    await client.request({ method: 'POST', path: `/${names.findings},${names.vulnerabilityEvents}/_refresh` });
    const docs = states(await allDocs(client, names.findings));
    assert.equal(docs['libssl3 CVE-2099-1001'], 'reopened 2026-11-01 2026-11-03');
    assert.equal(docs['zlib1g CVE-2099-1002'], 'open 2026-11-01 2026-11-01');
    const events = (await allDocs(client, names.vulnerabilityEvents)).map((d) => {
      const s = d._source as { event: { action: string }; package: { name: string }; '@timestamp': string };
      return `${s['@timestamp'].slice(0, 10)} ${s.event.action} ${s.package.name}`;
    });
    assert.deepEqual(events.filter((e) => e.includes('libssl3')).sort(), [
      '2026-11-01 vulnerability-detected libssl3',
      '2026-11-02 vulnerability-resolved libssl3',
      '2026-11-03 vulnerability-reopened libssl3',
    ]);
    assert.equal(events.length, first.open + 3 + 3);
  },
);

test('the next state: kept first_seen, reopened after a fix, resolved when gone, resolved ones dropped after retention', () => {
  const finding = (id: string, name: string) => ({
    id,
    aliases: [],
    package: { name, version: '1', arch: 'amd64', source: name, source_version: '1' },
    status: 'fixed' as const,
    raw_status: 'resolved',
    fixed_version: '2',
    severity: 'high' as const,
    raw_severity: 'high',
    feed: 'debian',
    advisory_ids: [],
    reason: 'test',
  });
  const host = {
    hostname: 'h',
    os: { id: 'debian', version_id: '12', codename: 'bookworm', pretty_name: 'Debian' },
    kernel: null,
  };
  const s1 = nextScanState(
    [],
    { scanned_at: '2026-01-01T00:00:00Z', host, findings: [finding('CVE-1', 'a'), finding('CVE-2', 'b')] },
    { slaDays: { high: 10 } },
  );
  assert.deepEqual(
    s1.events.map((e) => e.action),
    ['detected', 'detected'],
  );
  const s2 = nextScanState(
    s1.records,
    { scanned_at: '2026-01-05T00:00:00Z', host, findings: [finding('CVE-1', 'a')] },
    { slaDays: { high: 10 } },
  );
  assert.deepEqual(
    s2.events.map((e) => `${e.action} ${e.finding.vulnerability.id}`),
    ['resolved CVE-2'],
  );
  const kept = s2.records.find((r) => r.vulnerability.id === 'CVE-1')!;
  assert.deepEqual(
    [kept.first_seen, kept.state, kept.sla_due],
    ['2026-01-01T00:00:00.000Z', 'open', '2026-01-11T00:00:00.000Z'],
  );
  const s3 = nextScanState(
    s2.records,
    { scanned_at: '2026-01-07T00:00:00Z', host, findings: [finding('CVE-1', 'a'), finding('CVE-2', 'b')] },
    { slaDays: { high: 10 } },
  );
  const back = s3.records.find((r) => r.vulnerability.id === 'CVE-2')!;
  assert.deepEqual(
    [back.state, back.first_seen, back.opened_at],
    ['reopened', '2026-01-01T00:00:00.000Z', '2026-01-07T00:00:00.000Z'],
  );
  const s4 = nextScanState(s3.records, { scanned_at: '2026-01-08T00:00:00Z', host, findings: [] }, {}, 86_400_000);
  assert.equal(s4.records.filter((r) => r.state === 'resolved').length, 2);
  const s5 = nextScanState(s4.records, { scanned_at: '2026-01-10T00:00:00Z', host, findings: [] }, {}, 86_400_000);
  assert.equal(s5.records.length, 0, 'resolved findings past retention are forgotten');
});

test('a patch run record: outcome read for the dashboards, package actions, errors', () => {
  const run = PatchRunSchema.parse({
    schema: PATCH_RUN_SCHEMA,
    id: 'r1',
    host: { hostname: 'h', machine_id: null, root: '/', os: { id: 'debian', version_id: '12', codename: 'bookworm' } },
    policy: { name: 'p', version: 1, group: 'web' },
    backend: 'unattended-upgrades',
    mode: 'run',
    started_at: '2026-11-01T02:00:00Z',
    finished_at: '2026-11-01T02:03:00Z',
    outcome: 'partial',
    skip_reason: null,
    exit_code: 1,
    changes: [
      { name: 'libssl3', arch: 'amd64', action: 'upgrade', from: '1', to: '2', ok: true },
      { name: 'old', arch: 'amd64', action: 'purge', from: '1', to: null, ok: true },
    ],
    held_back: [],
    errors: [{ kind: 'dpkg', where: 'log:3', package: 'nginx', message: 'postinst failed' }],
    reboot: {
      required: true,
      because: ['reboot-required'],
      packages: ['libssl3'],
      kernel: { running: null, newest_installed: null, installed: [], needrestart_status: null, reboot_needed: null },
      status: 'pending_window',
    },
    restarts: { needed: [], restarted: [], failed: [], skipped: [] },
    cves_closed: null,
    findings_before: null,
    findings_after: null,
    warnings: [],
  });
  const r = patchRunRecord(run, {
    id: 'h',
    name: 'h',
    os: { id: 'debian', version_id: '12', codename: 'bookworm', pretty_name: '' },
    kernel: null,
  });
  assert.deepEqual(
    [r.outcome, r.result, r.trigger, r.reboot_required, r.error],
    ['failure', 'partial', 'manual', true, 'dpkg nginx: postinst failed'],
  );
  assert.deepEqual(
    r.packages.map((p) => p.action),
    ['upgrade', 'remove'],
  );
});
