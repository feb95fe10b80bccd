// The server killed (SIGKILL) in the middle of ingesting reports: every report it
// acknowledged is in the store afterwards, the store passes its integrity check, and the
// counters agree with the findings (no half-written report). A restarted server answers a
// resent acknowledged report as a duplicate.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { gzipSync } from 'node:zlib';
import { packageDigest, REPORT_SCHEMA, toWirePackage, type WirePackage } from '../src/core/protocol.ts';
import { SEVERITIES } from '../src/core/types.ts';
import { readInventory } from '../src/inventory/index.ts';
import { BOOKWORM_ROOT, trackerFeedV1 } from './support/fixtures.ts';
import { runCliFromSources } from './support/cli.ts';
import { startServerProcess } from './support/server-process.ts';
import { importDebianFeed } from './support/vulndb.ts';
import { Store } from '../src/server/store/store.ts';
import { systemClock } from '../src/server/clock.ts';
import { createApiToken } from '../src/server/store/credentials.ts';

test(
  'a server killed mid-ingest loses nothing it acknowledged and corrupts nothing',
  { timeout: 120_000 },
  async (t) => {
    const dataDir = mkdtempSync(join(tmpdir(), 'patchloop-crash-'));
    importDebianFeed(dataDir, trackerFeedV1());
    const config = join(dataDir, 'server.yaml');
    writeFileSync(config, `data_dir: ${dataDir}\nfeeds:\n  refresh_interval: 0\nlog_level: warn\n`);
    const inv = await readInventory(BOOKWORM_ROOT, { kernel: '6.1.0-40-amd64' });
    const base = inv.packages.map(toWirePackage);

    let srv = await startServerProcess(['--config', config]);
    t.after(() => srv.stop('SIGKILL'));
    const tok = await runCliFromSources([
      'server',
      'enrollment-token',
      '--config',
      config,
      '--unlimited',
      '--ttl',
      '1h',
    ]);
    assert.equal(tok.code, 0, tok.stderr);
    const enrolmentToken = tok.stdout.trim();
    const hosts: string[] = [];
    for (let i = 0; i < 8; i++) {
      const r = await fetch(`${srv.url}/api/v1/enroll`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ token: enrolmentToken, hostname: `crash-${i}` }),
      });
      hosts.push(((await r.json()) as { host_token: string }).host_token);
    }

    // Each report is a full inventory with a varying subset of packages and versions, so every
    // ingest writes findings, events and aggregates.
    const variant = (n: number): WirePackage[] =>
      base
        .filter((_, i) => (i + n) % 7 !== 0)
        .map((p, i) =>
          p.source === 'openssl' && n % 2 === 1
            ? { ...p, version: '3.0.19-1~deb12u3', source_version: '3.0.19-1~deb12u3' }
            : (i + n) % 11 === 0
              ? { ...p, version: `${p.version}+r${n}` }
              : p,
        );
    const acked: { report_id: string; body: Buffer; token: string }[] = [];
    let stop = false;
    const sender = async (token: string, k: number): Promise<void> => {
      for (let n = k; !stop; n += 8) {
        const packages = variant(n);
        const report = {
          schema: REPORT_SCHEMA,
          report_id: randomUUID(),
          kind: 'full',
          collected_at: new Date().toISOString(),
          agent: { version: 'crash-test' },
          host: { hostname: `crash-${k}`, os: inv.os, kernel: inv.kernel, reboot_required: false },
          digest: packageDigest(packages),
          packages,
        };
        const body = gzipSync(JSON.stringify(report));
        try {
          const r = await fetch(`${srv.url}/api/v1/reports`, {
            method: 'POST',
            headers: {
              authorization: `Bearer ${token}`,
              'content-type': 'application/json',
              'content-encoding': 'gzip',
            },
            body,
          });
          if (r.status === 200) acked.push({ report_id: report.report_id, body, token });
          else await r.text();
        } catch {
          return; // the server is gone
        }
      }
    };
    let running = hosts.length;
    const senders = hosts.map((token, k) => sender(token, k).finally(() => running--));
    const deadline = Date.now() + 60_000;
    while (acked.length < 40 && running > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    assert.ok(acked.length >= 40, `only ${acked.length} reports were acknowledged before the kill`);
    srv.child.kill('SIGKILL');
    await srv.stop('SIGKILL');
    stop = true;
    await Promise.all(senders);

    const db = new DatabaseSync(join(dataDir, 'server.sqlite'));
    try {
      assert.equal((db.prepare('PRAGMA integrity_check').get() as { integrity_check: string }).integrity_check, 'ok');
      const have = new Set(
        (db.prepare('SELECT report_id FROM scans').all() as { report_id: string }[]).map((r) => r.report_id),
      );
      const lost = acked.filter((a) => !have.has(a.report_id));
      assert.deepEqual(lost, [], 'every acknowledged report is stored');
      // No half-written report: per-host counters match the exposures, and those the finding rows.
      const openSum = SEVERITIES.map((s) => `h.open_${s}`).join(' + ');
      const mismatched = db
        .prepare(
          `SELECT h.id, ${openSum} AS counted, (SELECT count(*) FROM exposures e WHERE e.host_id = h.id AND e.open = 1) AS rows,
           (SELECT count(*) FROM (SELECT DISTINCT vuln_id, src_id FROM findings f WHERE f.host_id = h.id AND f.open = 1)) AS made FROM hosts h`,
        )
        .all() as { counted: number; rows: number; made: number }[];
      for (const m of mismatched) assert.deepEqual([m.counted, m.rows], [m.made, m.made]);
      const lastScanMismatch = db
        .prepare(
          'SELECT h.id FROM hosts h JOIN host_packages p ON p.host_id = h.id JOIN scans s ON s.id = h.last_scan_id WHERE s.digest != p.digest',
        )
        .all();
      assert.deepEqual(lastScanMismatch, [], "each host's package set is the one of its last scan");
    } finally {
      db.close();
    }

    srv = await startServerProcess(['--config', config]);
    const again = acked[acked.length - 1];
    const r = await fetch(`${srv.url}/api/v1/reports`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${again.token}`,
        'content-type': 'application/json',
        'content-encoding': 'gzip',
      },
      body: new Uint8Array(again.body),
    });
    assert.equal(r.status, 200);
    assert.equal(((await r.json()) as { status: string }).status, 'duplicate');
    // The per-vulnerability counts the restarted server derives agree with the rows (exposures: one per source
    // package).
    const check = new DatabaseSync(join(dataDir, 'server.sqlite'), { readOnly: true });
    const expected = Object.fromEntries(
      (
        check
          .prepare(
            'SELECT v.name, count(*) AS n, count(DISTINCT f.host_id) AS h FROM (SELECT DISTINCT host_id, vuln_id, src_id FROM findings WHERE open = 1) f JOIN vulns v ON v.id = f.vuln_id GROUP BY v.name',
          )
          .all() as { name: string; n: number; h: number }[]
      ).map((x) => [x.name, [x.n, x.h]]),
    );
    check.close();
    const store = Store.open(join(dataDir, 'server.sqlite'), systemClock);
    const token = createApiToken(store, 'crash-test').token;
    store.close();
    const vulns = (await (
      await fetch(`${srv.url}/api/v1/vulnerabilities?per_page=500`, { headers: { authorization: `Bearer ${token}` } })
    ).json()) as {
      items: { id: string; open_findings: number; open_hosts: number }[];
    };
    assert.deepEqual(Object.fromEntries(vulns.items.map((v) => [v.id, [v.open_findings, v.open_hosts]])), expected);
    assert.equal(await srv.stop('SIGTERM'), 0);
  },
);
