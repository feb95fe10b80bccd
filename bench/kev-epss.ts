// KEV and EPSS: import of a full-size EPSS daily file (300,000 rows, FIRST's exact shape) and of
// CISA's real KEV catalogue, and a whole `patchloop scan` of this machine against a full-size
// Debian feed without and with KEV + EPSS loaded (the enrichment's cost to a scan).
import { cpSync, existsSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { generateTracker } from '../test/support/debian-tracker-generator.ts';
import { writeEpssFile } from '../test/support/epss-generator.ts';
import { seededRandom } from '../test/support/seeded-random.ts';
import { fmtMs, measure, measureMedian } from './lib/measure.ts';
import type { BenchContext, BenchRow, BenchSection } from './lib/context.ts';

const SCAN_RUNS = 9;
const EPSS_ROWS = 300_000;

export const section: BenchSection = {
  async run(ctx: BenchContext): Promise<BenchRow[]> {
    const bookworm = join(ctx.repo, '../shared/data/pkgdb/dpkg/bookworm-host');
    const kevFile = join(ctx.repo, '../shared/data/feeds/kev/known_exploited_vulnerabilities.json');
    const tracker = join(ctx.cacheDir, 'debian-tracker.json');
    const statusFiles = ['/var/lib/dpkg/status', join(bookworm, 'var/lib/dpkg/status')].filter(existsSync);
    if (ctx.fresh || !existsSync(tracker)) {
      const s = await generateTracker(tracker, { dpkgStatus: statusFiles });
      ctx.log(`generated ${tracker}: ${(s.bytes / 1e6).toFixed(1)} MB, ${s.ids} ids`);
    } else {
      ctx.log(`using ${tracker} (delete it or pass --fresh to regenerate)`);
    }
    const plain = join(ctx.cacheDir, 'data-kev-epss-without');
    const enriched = join(ctx.cacheDir, 'data-kev-epss-with');
    for (const d of [plain, enriched]) rmSync(d, { recursive: true, force: true });
    const imported = measure(ctx.bin, ['db', 'update', '--source', 'debian', '--from', tracker, '--data-dir', plain]);
    if (imported.code !== 0) throw new Error(`debian import failed: ${imported.stderr}`);
    mkdirSync(join(enriched, 'vulndb'), { recursive: true });
    cpSync(join(plain, 'vulndb/debian.sqlite'), join(enriched, 'vulndb/debian.sqlite'));

    const root = existsSync('/var/lib/dpkg/status') ? '/' : bookworm;
    const scanArgs = (dataDir: string): string[] => [
      'scan',
      '--root',
      root,
      '--data-dir',
      dataDir,
      '--format',
      'json',
      ...(root === '/' ? [] : ['--kernel', '6.1.0-40-amd64']),
    ];
    // The EPSS file scores every CVE this host's findings name (as the real file would), the
    // rest of its 300,000 rows other CVEs.
    const first = measure(ctx.bin, scanArgs(plain));
    const ids = [
      ...new Set((JSON.parse(first.stdout) as { findings: { id: string }[] }).findings.map((f) => f.id)),
    ].filter((id) => /^CVE-\d{4}-\d{4,}$/.test(id));
    const rand = seededRandom(5);
    const epssFile = writeEpssFile(join(ctx.cacheDir, 'epss_scores-current.csv.gz'), {
      rows: EPSS_ROWS,
      known: ids.map((cve) => ({ cve, score: Math.pow(rand(), 8), percentile: rand() })),
    });
    ctx.log(`generated ${epssFile}: ${EPSS_ROWS.toLocaleString('en-US')} rows, ${ids.length} of them this host's CVEs`);

    const epss = measure(ctx.bin, ['db', 'update', '--source', 'epss', '--from', epssFile, '--data-dir', enriched]);
    if (epss.code !== 0) throw new Error(`epss import failed: ${epss.stderr}`);
    ctx.log(`$ ${epss.command}\n  ${epss.stdout.trim()}`);
    const kev = measure(ctx.bin, ['db', 'update', '--source', 'kev', '--from', kevFile, '--data-dir', enriched]);
    if (kev.code !== 0) throw new Error(`kev import failed: ${kev.stderr}`);
    ctx.log(`$ ${kev.command}\n  ${kev.stdout.trim()}`);

    // Alternating runs, so both settle on the same page cache and machine load.
    const without: number[] = [];
    const withData: number[] = [];
    let findings = 0;
    let packages = 0;
    for (let i = 0; i < SCAN_RUNS; i++) {
      without.push(measureMedian(1, ctx.bin, scanArgs(plain)).wallMs);
      const m = measureMedian(1, ctx.bin, scanArgs(enriched));
      withData.push(m.wallMs);
      const report = JSON.parse(m.stdout) as { host: { package_count: number }; findings: { epss?: unknown }[] };
      findings = report.findings.length;
      packages = report.host.package_count;
    }
    const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
    const a = median(without);
    const b = median(withData);
    ctx.log(
      `$ ${ctx.bin} ${scanArgs('DATA').join(' ')}\n  ${packages} packages, ${findings} findings; median of ${SCAN_RUNS} alternating runs: ${fmtMs(a)} without, ${fmtMs(b)} with KEV + EPSS`,
    );
    return [
      {
        what: `import full-size EPSS (${EPSS_ROWS.toLocaleString('en-US')} rows): wall time`,
        figure: fmtMs(epss.wallMs),
        target: '≤ 5 s',
        ok: epss.wallMs <= 5000,
      },
      {
        what: 'import full-size EPSS: peak RSS',
        figure: `${epss.peakRssMb.toFixed(0)} MB`,
        target: '≤ 200 MB',
        ok: epss.peakRssMb <= 200,
      },
      {
        what: 'import KEV catalogue (1,404 entries): wall time',
        figure: fmtMs(kev.wallMs),
        target: '≤ 2 s',
        ok: kev.wallMs <= 2000,
      },
      {
        what: `scan ${root === '/' ? 'this machine (/)' : 'bookworm root'} without KEV + EPSS`,
        figure: fmtMs(a),
        target: '-',
        ok: true,
      },
      {
        what: `scan ${root === '/' ? 'this machine (/)' : 'bookworm root'} with KEV + EPSS`,
        figure: `${fmtMs(b)} (${b >= a ? '+' : ''}${(((b - a) / a) * 100).toFixed(1)} %)`,
        target: '≤ +10 %',
        ok: b <= a * 1.1,
      },
    ];
  },
};
