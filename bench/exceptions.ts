// Exception rules over a fleet's store: a copy of the store of a fleet built through the real API
// (test/support/dashboard-fleet.ts: 200 hosts, 30 days of weekly reports, feed refreshes and patch
// runs; cached in .cache/bench/exceptions-fleet, rebuilt with --fresh). Figures: the step every
// ingest and re-match of a host now takes (held exposures counted back in, the rules applied
// again) with no rule and with 21 rules in force; making a rule for the most widespread
// vulnerability of the fleet and 20 rules for the commonest source packages of a group; revoking
// them (their findings reopen); the overview query with rules in force.
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { systemClock } from '../src/server/clock.ts';
import { overview } from '../src/server/queries/stats.ts';
import { createException } from '../src/server/routes/exceptions.ts';
import {
  endDueExceptions,
  exceptedSummary,
  hostsHeldBy,
  reconcileHosts,
} from '../src/server/store/exceptions-apply.ts';
import { markRevoked, type ExceptionRule, type NewException } from '../src/server/store/exceptions.ts';
import { Store } from '../src/server/store/store.ts';
import { buildFleet, type Fleet } from '../test/support/dashboard-fleet.ts';
import type { BenchContext, BenchRow, BenchSection } from './lib/context.ts';

const HOSTS = 200;

async function fleetOf(ctx: BenchContext): Promise<Fleet> {
  const dir = join(ctx.cacheDir, 'exceptions-fleet');
  const saved = join(dir, 'fleet.json');
  if (!ctx.fresh && existsSync(saved)) return JSON.parse(readFileSync(saved, 'utf8')) as Fleet;
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const started = performance.now();
  const fleet = await buildFleet(dir, { hosts: HOSTS, days: 30, cves: 600, reportEvery: 7, feedUpdates: 3 });
  writeFileSync(saved, JSON.stringify(fleet));
  ctx.log(`fleet of ${HOSTS} hosts built through the API in ${((performance.now() - started) / 1000).toFixed(0)} s`);
  return fleet;
}

const fmtMs = (ms: number): string => (ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(2)} ms`);

/** Milliseconds `fn` takes. */
function timed(fn: () => void): number {
  const t = performance.now();
  fn();
  return performance.now() - t;
}

/** Per-host time of the exception step over every host, the median of three passes. */
function perHost(store: Store, hosts: number[]): number {
  const passes = [0, 1, 2].map(() => timed(() => reconcileHosts(store, hosts)) / hosts.length);
  return passes.sort((a, b) => a - b)[1];
}

const rule = (scope: NewException['scope']): NewException => ({
  scope,
  kind: 'mitigated',
  justification: 'benchmark',
  owner: null,
  cover_escalation: false,
  expires_at: null,
  origin: 'api',
});

export const section: BenchSection = {
  async run(ctx: BenchContext): Promise<BenchRow[]> {
    const fleet = await fleetOf(ctx);
    const work = mkdtempSync(join(tmpdir(), 'patchloop-bench-exceptions-'));
    const file = join(work, 'server.sqlite');
    copyFileSync(join(fleet.dataDir, 'server.sqlite'), file);
    const store = Store.open(file, systemClock);
    try {
      const hosts = store.all<{ id: number }>('SELECT id FROM hosts ORDER BY id').map((h) => h.id);
      const open = store.get<{ n: number }>('SELECT count(*) AS n FROM exposures WHERE open = 1')!.n;
      const idle = perHost(store, hosts);

      // The most widespread vulnerability, fleet-wide.
      const widest = store.get<{ name: string; n: number }>(
        'SELECT v.name, count(DISTINCT e.host_id) AS n FROM exposures e JOIN vulns v ON v.id = e.vuln_id WHERE e.open = 1 GROUP BY e.vuln_id ORDER BY n DESC LIMIT 1',
      )!;
      const made: ExceptionRule[] = [];
      const widestMs = timed(() => made.push(createException(store, rule({ vulnerability: widest.name }), 'bench')));
      // The 20 commonest source packages of the largest group.
      const group = store.get<{ grp: string }>(
        "SELECT grp FROM hosts WHERE grp != '' GROUP BY grp ORDER BY count(*) DESC LIMIT 1",
      )!.grp;
      const sources = store
        .all<{ name: string }>(
          `SELECT s.name FROM exposures e JOIN srcs s ON s.id = e.src_id JOIN hosts h ON h.id = e.host_id
           WHERE e.open = 1 AND h.grp = ? GROUP BY e.src_id ORDER BY count(*) DESC LIMIT 20`,
          group,
        )
        .map((r) => r.name);
      const packagesMs = timed(() => {
        for (const name of sources) made.push(createException(store, rule({ package: name, group }), 'bench'));
      });
      const summary = exceptedSummary(store);
      const busy = perHost(store, hosts);
      const overviewMs = [0, 1, 2].map(() => timed(() => overview(store, undefined, []))).sort((a, b) => a - b)[1];

      // Revoked one by one, as people do: each reopens what it held.
      const revokeMs = timed(() => {
        for (const r of made) {
          store.tx(() => {
            const held = hostsHeldBy(store, r.id);
            markRevoked(store, r.id, 'bench', null);
            reconcileHosts(store, held);
          });
        }
        endDueExceptions(store);
      });
      const after = exceptedSummary(store);

      ctx.log(
        `data: ${hosts.length} hosts, ${open} open exposures; rules: ${widest.name} on ${widest.n} hosts, ` +
          `and ${sources.length} source packages of group ${group}; ${summary.excepted} exposures excepted, ${after.excepted} after revoking`,
      );
      ctx.log(
        'command: npm run bench -- exceptions   (fleet cached in .cache/bench/exceptions-fleet; --fresh rebuilds it)',
      );
      return [
        {
          what: 'exception step per host ingest, no rule',
          figure: fmtMs(idle),
          target: '≤ 2 ms',
          ok: idle <= 2,
        },
        {
          what: `exception step per host ingest, ${made.length} rules in force`,
          figure: fmtMs(busy),
          target: '≤ 20 ms',
          ok: busy <= 20,
        },
        {
          what: `make a fleet-wide rule (${widest.n} hosts)`,
          figure: fmtMs(widestMs),
          target: '≤ 2 s',
          ok: widestMs <= 2000,
        },
        {
          what: `make ${sources.length} package rules for group ${group}`,
          figure: fmtMs(packagesMs),
          target: '≤ 10 s',
          ok: packagesMs <= 10_000,
        },
        {
          what: `revoke ${made.length} rules (${summary.excepted} exposures reopen)`,
          figure: fmtMs(revokeMs),
          target: '≤ 10 s',
          ok: revokeMs <= 10_000,
        },
        {
          what: 'overview with rules in force',
          figure: fmtMs(overviewMs),
          target: '≤ 100 ms',
          ok: overviewMs <= 100,
        },
      ];
    } finally {
      store.close();
      rmSync(work, { recursive: true, force: true });
    }
  },
};
