// An agent's copy of the server's vulnerability DB (agent.yaml vulndb_sync) carries the feeds
// that cover every distribution — CISA's KEV catalogue, EPSS — beside its own distribution's, so
// a standalone `patchloop scan` on the host ranks findings as the server does. Real server on
// loopback, the agent's own sync code, the real CLI for the scan.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AgentHttpClient } from '../src/agent/http.ts';
import { syncVulnDb } from '../src/agent/vulndb-sync.ts';
import { feedFile } from '../src/vulndb/paths.ts';
import { BOOKWORM_ROOT, trackerFeedV1 } from './support/fixtures.ts';
import { CLI, SHARED_DATA } from './support/paths.ts';
import { enrollTestHost, startTestServer, type TestServer } from './support/server.ts';
import { importDebianFeed } from './support/vulndb.ts';

let s: TestServer | undefined;
const dirs: string[] = [];
after(async () => {
  await s?.close();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const silent = { info: () => {} };

test("an agent's vulnerability DB copy has the KEV catalogue, and its standalone scan names the known exploited finding", async () => {
  const serverDir = mkdtempSync(join(tmpdir(), 'patchloop-sync-server-'));
  const agentDir = mkdtempSync(join(tmpdir(), 'patchloop-sync-agent-'));
  dirs.push(serverDir, agentDir);
  importDebianFeed(serverDir, trackerFeedV1());
  // CISA's real catalogue, with one entry naming a vulnerability the bookworm fixture has.
  const real = JSON.parse(readFileSync(join(SHARED_DATA, 'feeds/kev/known_exploited_vulnerabilities.json'), 'utf8'));
  const catalogue = join(serverDir, 'kev.json');
  writeFileSync(
    catalogue,
    JSON.stringify({ ...real, count: 1, vulnerabilities: [{ ...real.vulnerabilities[0], cveID: 'CVE-2099-1002' }] }),
  );
  execFileSync(process.execPath, [
    CLI,
    'db',
    'update',
    '--source',
    'kev',
    '--from',
    catalogue,
    '--data-dir',
    serverDir,
  ]);
  s = await startTestServer(null, {}, { dataDir: serverDir });
  const token = await enrollTestHost(s, 'sync-1');
  const client = new AgentHttpClient({ server: s.url, token, timeoutMs: 10_000 });

  const first = await syncVulnDb(client, agentDir, 'debian', silent);
  assert.deepEqual(first.updated.sort(), ['debian', 'kev']);
  assert.ok(existsSync(feedFile(agentDir, 'kev')));
  // Another distribution's host gets the KEV catalogue but no Debian data.
  const otherDir = mkdtempSync(join(tmpdir(), 'patchloop-sync-other-'));
  dirs.push(otherDir);
  assert.deepEqual((await syncVulnDb(client, otherDir, 'alpine', silent)).updated, ['kev']);
  // Unchanged files are not fetched again.
  assert.deepEqual((await syncVulnDb(client, agentDir, 'debian', silent)).unchanged.sort(), ['debian', 'kev']);

  const out = execFileSync(
    process.execPath,
    [CLI, 'scan', '--root', BOOKWORM_ROOT, '--data-dir', agentDir, '--format', 'json'],
    { encoding: 'utf8' },
  );
  const report = JSON.parse(out) as {
    findings: { id: string; kev?: { date_added: string }; priority?: { level: string; reason: string } }[];
  };
  const exploited = report.findings.filter((f) => f.kev);
  assert.ok(exploited.length > 0);
  assert.ok(exploited.every((f) => f.id === 'CVE-2099-1002'));
  assert.equal(exploited[0].kev!.date_added, real.vulnerabilities[0].dateAdded);
  assert.equal(exploited[0].priority!.level, 'P1');
  assert.match(exploited[0].priority!.reason, /known exploited/);
});
