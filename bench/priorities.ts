// What to fix first over a fleet-sized store: the remediation roll-up, the overview's known
// exploited and per-priority counts, the vulnerabilities list by priority and the findings pages
// filtered by priority and KEV, through the server's own query functions. The store is written
// directly in the server's schema (10,000 hosts × 580 open exposures by default, six releases,
// 60 % fixable; cached in .cache/bench/priorities, rebuilt with --fresh); its vulnerability DB
// holds CISA's real KEV catalogue (300 of its CVEs are among the fleet's) and a generated EPSS file.
// `npm run bench -- priorities [--hosts=N]`
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_PRIORITY_CONFIG } from '../src/core/priority.ts';
import { FINDING_STATUSES, SEVERITIES } from '../src/core/types.ts';
import { ManualClock } from '../src/server/clock.ts';
import { enrichmentOf } from '../src/server/enrichment.ts';
import { queryFindings } from '../src/server/queries/findings.ts';
import { exploitOverview } from '../src/server/queries/priorities.ts';
import { hostRemediation, listRemediation } from '../src/server/queries/remediation.ts';
import { listVulns } from '../src/server/queries/vulns.ts';
import { Store } from '../src/server/store/store.ts';
import { VulnDbHolder } from '../src/server/vulndb-holder.ts';
import { writeEpssFile } from '../test/support/epss-generator.ts';
import { seededRandom } from '../test/support/seeded-random.ts';
import { fmtMs, measure } from './lib/measure.ts';
import type { BenchContext, BenchRow, BenchSection } from './lib/context.ts';

const RELEASES = [
  ['debian', 'bookworm'],
  ['debian', 'bullseye'],
  ['ubuntu', '22.04'],
  ['ubuntu', '24.04'],
  ['almalinux', '9'],
  ['alpine', '3.20'],
] as const;
const SOURCES = 1500;
const VULNS = 20_000;
const PER_HOST = 580;
const KEV_IN_FLEET = 300;

/** `--name=N` on the command line (the runner takes words without a dash for section names). */
function argValue(name: string, fallback: number): number {
  const arg = process.argv.find((a) => a.startsWith(`${name}=`));
  return arg ? Number(arg.slice(name.length + 1)) : fallback;
}

/** Writes the fleet's store in the server's schema: interned names, hosts, open exposures. */
function buildStore(file: string, hosts: number, kevIds: string[]): void {
  const store = Store.open(file, new ManualClock('2026-11-01T00:00:00Z'));
  const db = store.db;
  const rand = seededRandom(42);
  const now = Date.parse('2026-11-01T00:00:00Z');
  db.exec('BEGIN');
  const vuln = db.prepare('INSERT INTO vulns (id, name) VALUES (?, ?)');
  for (let v = 1; v <= VULNS; v++)
    vuln.run(v, v <= KEV_IN_FLEET ? kevIds[v - 1] : `CVE-2031-${String(10_000 + v).padStart(5, '0')}`);
  const src = db.prepare('INSERT INTO srcs (id, name) VALUES (?, ?)');
  const name = db.prepare('INSERT INTO pkg_names (id, name, arch) VALUES (?, ?, ?)');
  const pkg = db.prepare('INSERT INTO pkgs (id, key, pinned) VALUES (?, ?, 1)');
  for (let s = 1; s <= SOURCES; s++) {
    src.run(s, `src${s}`);
    name.run(s, `src${s}`, 'amd64');
    // One installed version per release.
    RELEASES.forEach((_, r) =>
      pkg.run(
        s * 8 + r,
        JSON.stringify([`src${s}`, `1.${s}-${r}`, 'amd64', `src${s}`, `1.${s}-${r}`, 'deb', null, null, null]),
      ),
    );
  }
  // Details: per source, release and fix level (the fleet's fixed versions), and no fix.
  const detail = db.prepare('INSERT INTO details (id, key) VALUES (?, ?)');
  const detailId = (s: number, r: number, level: number, sev: number): number => ((s * 8 + r) * 4 + level) * 8 + sev;
  for (let s = 1; s <= SOURCES; s++)
    for (let r = 0; r < RELEASES.length; r++)
      for (let level = 0; level < 4; level++)
        for (let sev = 0; sev < SEVERITIES.length; sev++) {
          const fixed = level === 0 ? null : `1.${s}-${r}+fix${level}`;
          const status = fixed ? 'fixed' : 'affected';
          const raw = `${status} src${s} ${RELEASES[r].join(' ')}`;
          detail.run(
            detailId(s, r, level, sev),
            JSON.stringify([status, raw, fixed, SEVERITIES[sev], '', 'bench', []]),
          );
        }
  const host = db.prepare(
    'INSERT INTO hosts (id, hostname, grp, enrolled_at, last_seen, distro, release) VALUES (?, ?, ?, ?, ?, ?, ?)',
  );
  const exposure = db.prepare(
    `INSERT OR IGNORE INTO exposures (host_id, vuln_id, src_id, lead_name_id, lead_pkg_id, detail_id, severity, status, fixable,
       binaries, open, first_seen, opened_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 1, 1, ?, ?)`,
  );
  for (let h = 1; h <= hosts; h++) {
    const r = h % RELEASES.length;
    host.run(h, `host-${h}`, `g${h % 10}`, now, now, RELEASES[r][0], RELEASES[r][1]);
    for (let i = 0; i < PER_HOST; i++) {
      // Skewed: the commonest vulnerabilities and sources are on most hosts.
      const v = 1 + Math.floor(Math.pow(rand(), 2) * VULNS);
      const s = 1 + (v % SOURCES);
      const sev = Math.floor(rand() * 4);
      const fixable = rand() < 0.6;
      const level = fixable ? 1 + (v % 3) : 0;
      const status = FINDING_STATUSES.indexOf(fixable ? 'fixed' : 'affected');
      exposure.run(h, v, s, s, s * 8 + r, detailId(s, r, level, sev), sev, status, fixable ? 1 : 0, now, now);
    }
    if (h % 1000 === 0) {
      db.exec('COMMIT');
      db.exec('BEGIN');
    }
  }
  db.exec('COMMIT');
  store.close();
}

export const section: BenchSection = {
  async run(ctx: BenchContext): Promise<BenchRow[]> {
    const hosts = argValue('--hosts', 10_000);
    const dir = join(ctx.cacheDir, `priorities-${hosts}`);
    const file = join(dir, 'server.sqlite');
    const kevFile = join(ctx.repo, '../shared/data/feeds/kev/known_exploited_vulnerabilities.json');
    const { readFileSync } = await import('node:fs');
    const kevIds = (
      JSON.parse(readFileSync(kevFile, 'utf8')) as { vulnerabilities: { cveID: string }[] }
    ).vulnerabilities
      .map((v) => v.cveID)
      .slice(0, KEV_IN_FLEET);
    if (ctx.fresh || !existsSync(file)) {
      rmSync(dir, { recursive: true, force: true });
      mkdirSync(dir, { recursive: true });
      const t = performance.now();
      buildStore(file, hosts, kevIds);
      const epss = writeEpssFile(join(dir, 'epss.csv.gz'), {
        rows: 300_000,
        known: Array.from({ length: 2000 }, (_, i) => ({
          cve: `CVE-2031-${String(10_001 + i * 7).padStart(5, '0')}`,
          score: (i % 10) / 10,
          percentile: 0.9,
        })),
      });
      for (const [source, from] of [
        ['kev', kevFile],
        ['epss', epss],
      ]) {
        const r = measure(ctx.bin, ['db', 'update', '--source', source, '--from', from, '--data-dir', dir]);
        if (r.code !== 0) throw new Error(`${source} import failed: ${r.stderr}`);
      }
      ctx.log(`store of ${hosts} hosts × ${PER_HOST} exposures written in ${fmtMs(performance.now() - t)} (${dir})`);
    } else ctx.log(`using ${dir} (--fresh rebuilds it)`);

    const store = Store.open(file, new ManualClock('2026-11-01T00:00:00Z'));
    const vulndb = new VulnDbHolder(dir);
    const x = enrichmentOf({ store, vulndb, config: { priority: DEFAULT_PRIORITY_CONFIG } });
    const open = store.get<{ n: number }>('SELECT count(*) AS n FROM exposures WHERE +open = 1')!.n;
    ctx.log(
      `${open.toLocaleString('en-US')} open exposures, ${[...store.vulns.entries()].length} vulnerabilities with open exposures`,
    );
    const rows: BenchRow[] = [];
    const time = async (what: string, targetMs: number, fn: () => unknown): Promise<void> => {
      const t = performance.now();
      await fn();
      const ms = performance.now() - t;
      rows.push({ what, figure: fmtMs(ms), target: `≤ ${fmtMs(targetMs)}`, ok: ms <= targetMs });
    };
    const page = { page: 1, per_page: 50 } as const;
    await time('remediation roll-up, first (reads every open exposure)', 10_000, () =>
      listRemediation(store, x, { ...page, sort: 'impact' }),
    );
    await time('remediation roll-up, again (store unchanged)', 100, () =>
      listRemediation(store, x, { ...page, sort: 'impact' }),
    );
    await time('remediation roll-up of one group', 10_000, () =>
      listRemediation(store, x, { ...page, sort: 'impact', group: 'g3' }),
    );
    await time("one host's remediation", 100, () => hostRemediation(store, x, 17));
    await time('overview: known exploited and priorities, first', 10_000, () => exploitOverview(store, x));
    await time('overview: known exploited and priorities, again', 200, () => exploitOverview(store, x));
    await time('vulnerabilities by priority, page 1', 500, () => listVulns(store, x, { ...page, sort: 'priority' }));
    const findings = { ...page, state: 'open', sort: 'severity' } as const;
    await time('findings, known exploited, page 1 (counted to 10,000)', 1000, () =>
      queryFindings(store, x, { ...findings, kev: true }),
    );
    await time('findings, P1, page 1 (counted to 10,000)', 1000, () =>
      queryFindings(store, x, { ...findings, priority: ['P1'] }),
    );
    await time('findings sorted by priority, page 1', 30_000, () =>
      queryFindings(store, x, { ...findings, sort: 'priority' }),
    );
    // A report changes the store: a slow derivation is served while it is derived again.
    const changeStore = (): void => void store.run('UPDATE hosts SET last_seen = last_seen + 1 WHERE id = 1');
    changeStore();
    await time('overview right after a report (the previous counts, derived again meanwhile)', 200, () =>
      exploitOverview(store, x),
    );
    changeStore();
    await time('remediation right after a report (the previous lines, derived again meanwhile)', 200, () =>
      listRemediation(store, x, { ...page, sort: 'impact' }),
    );
    const o = await exploitOverview(store, x);
    ctx.log(
      `known exploited open: ${o.known_exploited.open} on ${o.known_exploited.hosts} hosts; P1 ${o.priority.P1}, P2 ${o.priority.P2}, P3 ${o.priority.P3}, P4 ${o.priority.P4}`,
    );
    vulndb.close();
    store.close();
    return rows;
  },
};
