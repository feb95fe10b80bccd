// The store's upgrade to schema 4 (exposures) on real data: a store that ingested the real
// bookworm host's reports (the first one, then an openssl upgrade that resolves a finding on
// three binaries) is taken back to schema 3 as that schema held it — finding rows without a
// source, per-binary counters and open ages, its indexes — and opened again: the upgrade must
// rebuild the exposures, counters and open ages that live ingest wrote, and mark the host for
// a re-match.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SEVERITIES } from '../src/core/types.ts';
import { readInventory } from '../src/inventory/index.ts';
import { ManualClock, DAY_MS } from '../src/server/clock.ts';
import { FleetMatcher } from '../src/server/fleet-matcher.ts';
import { createEnrollmentToken, enrollHost } from '../src/server/store/credentials.ts';
import { ingestReport } from '../src/server/store/ingest.ts';
import { STORE_SCHEMA_VERSION } from '../src/server/store/schema.ts';
import { Store } from '../src/server/store/store.ts';
import { VulnIndex } from '../src/server/store/vuln-index.ts';
import { VulnDb } from '../src/vulndb/reader.ts';
import { BOOKWORM_ROOT, copyBookwormRoot, trackerFeedV1, upgradeSource } from './support/fixtures.ts';
import { storedReportOf } from './support/server.ts';
import { backToSchema3 } from './support/store-schema.ts';
import { importDebianFeed } from './support/vulndb.ts';

const KERNEL = '6.1.0-40-amd64';

/** What the upgrade must rebuild, read by names (ids are the store's own). */
function snapshot(store: Store) {
  const exposures = store
    .all<Record<string, number | string | null>>(
      `SELECT host_id, vuln_id, src_id, lead_name_id, lead_pkg_id, detail_id, severity, status, fixable, binaries, open, first_seen, opened_at,
         last_seen, resolved_at, resolved_scan, resolved_cause, reopened FROM exposures ORDER BY host_id, vuln_id, src_id`,
    )
    .map((e): Record<string, number | string | null> => ({
      ...e,
      vuln_id: store.interner.vuln(e.vuln_id as number),
      src_id: store.interner.source(e.src_id as number),
      lead_name_id: store.interner.name(e.lead_name_id as number).name,
    }));
  const counters = store
    .all<Record<string, number>>(
      `SELECT id, ${SEVERITIES.map((s) => `open_${s}, fix_${s}`).join(', ')} FROM hosts ORDER BY id`,
    )
    .map((r) => ({ ...r }));
  const openAge = store
    .all<Record<string, number | string>>('SELECT grp, severity, day, n FROM open_age ORDER BY grp, severity, day')
    .map((r) => ({ ...r }));
  const index = Object.fromEntries(
    [...store.vulns.entries()].map(([id, v]) => [store.interner.vuln(id), [v.findings, v.fixable, v.hosts.sorted()]]),
  );
  return { exposures, counters, openAge, index };
}

test('a schema 3 store is upgraded to exposures equal to those live ingest writes', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'patchloop-upgrade-'));
  importDebianFeed(dir, trackerFeedV1());
  const clock = new ManualClock('2026-11-01T00:00:00Z');
  const file = join(dir, 'server.sqlite');
  const store = Store.open(file, clock);
  const db = VulnDb.open(dir);
  const matcher = new FleetMatcher(db, store.interner, store.matchGeneration(), { today: () => '2026-11-01' });
  const enrol = (hostname: string, group: string) => {
    const { token } = createEnrollmentToken(store, { name: 't', uses: 1, ttlMs: null, grp: group });
    return enrollHost(store, { token, hostname })!.host_id;
  };
  const before = await readInventory(BOOKWORM_ROOT, { kernel: KERNEL });
  const web = enrol('web-1', 'web');
  const other = enrol('db-1', 'db');
  ingestReport(store, matcher, web, storedReportOf(before, 'web-1'));
  clock.advance(DAY_MS);
  ingestReport(store, matcher, other, storedReportOf(before, 'db-1'));
  // web-1 upgrades openssl: CVE-2099-1001 resolves on libssl3, openssl and libssl-dev.
  const root = copyBookwormRoot();
  upgradeSource(root, 'openssl', '3.0.19-1~deb12u3');
  clock.advance(2 * DAY_MS);
  ingestReport(store, matcher, web, storedReportOf(await readInventory(root, { kernel: KERNEL }), 'web-1'));
  const live = snapshot(store);
  assert.ok(
    live.exposures.some((e) => e.open === 0 && e.vuln_id === 'CVE-2099-1001' && e.src_id === 'openssl'),
    'a resolved exposure',
  );
  assert.ok(
    live.exposures.some((e) => (e.binaries as number) > 1),
    'exposures of several binaries',
  );
  store.close();
  db.close();

  // Back to schema 3 as it was: what schema 4 added goes, counts and open ages per binary finding.
  const old = Store.open(file, clock).db;
  backToSchema3(old);
  old.close();

  const upgraded = Store.open(file, clock);
  assert.equal(upgraded.meta('schema_version'), String(STORE_SCHEMA_VERSION));
  assert.deepEqual(snapshot(upgraded), live);
  // The in-memory index, loaded from the upgraded rows, is the one live ingest kept.
  assert.deepEqual(
    Object.fromEntries(
      [...VulnIndex.load(upgraded).entries()].map(([id, v]) => [
        upgraded.interner.vuln(id),
        [v.findings, v.fixable, v.hosts.sorted()],
      ]),
    ),
    live.index,
  );
  // Every host is re-matched next (kernels not running, the vulnerabilities' other names).
  assert.deepEqual(
    upgraded.all<{ match_gen: number }>('SELECT match_gen FROM hosts').map((h) => h.match_gen),
    [0, 0],
  );
  const srcless = upgraded.get<{ n: number }>(
    'SELECT count(*) AS n FROM findings f LEFT JOIN srcs s ON s.id = f.src_id WHERE s.id IS NULL',
  )!.n;
  assert.equal(srcless, 0, 'every finding row names its source package');
  upgraded.close();
});
