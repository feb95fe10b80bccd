// Debian: import of a full-size tracker feed, whole `patchloop scan` processes for this machine
// and for a 3,000-package root, and the matching step alone.
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { generateTracker } from '../test/support/debian-tracker-generator.ts';
import { generateStatusRoot } from '../test/support/dpkg-status-generator.ts';
import { fmtMs, measure, measureMedian } from './lib/measure.ts';
import type { BenchContext, BenchRow, BenchSection } from './lib/context.ts';

const SCAN_RUNS = 7;

export const section: BenchSection = {
  async run(ctx: BenchContext): Promise<BenchRow[]> {
    const bookworm = join(ctx.repo, '../shared/data/pkgdb/dpkg/bookworm-host');
    const tracker = join(ctx.cacheDir, 'debian-tracker.json');
    const statusFiles = ['/var/lib/dpkg/status', join(bookworm, 'var/lib/dpkg/status')].filter(existsSync);
    if (ctx.fresh || !existsSync(tracker)) {
      const s = await generateTracker(tracker, { dpkgStatus: statusFiles });
      ctx.log(
        `generated ${tracker}: ${(s.bytes / 1e6).toFixed(1)} MB, ${s.ids} ids, ${s.releaseEntries} package/release entries, ${s.packages} source packages`,
      );
    } else {
      ctx.log(`using ${tracker} (delete it or pass --fresh to regenerate)`);
    }

    const root3000 = join(ctx.cacheDir, 'root-3000');
    rmSync(root3000, { recursive: true, force: true });
    const { readFileSync } = await import('node:fs');
    const sourceNames = Object.keys(JSON.parse(readFileSync(tracker, 'utf8')) as Record<string, unknown>);
    const generated = generateStatusRoot(root3000, {
      baseStatus: join(bookworm, 'var/lib/dpkg/status'),
      osRelease: join(bookworm, 'etc/os-release'),
      sourceNames,
      count: 3000,
    });
    ctx.log(
      `generated ${root3000}: ${generated.packages} packages (729 of a real bookworm host, the rest named after tracker packages)`,
    );

    const dataDir = join(ctx.cacheDir, 'data-debian');
    rmSync(dataDir, { recursive: true, force: true });
    const importArgs = ['db', 'update', '--source', 'debian', '--from', tracker, '--data-dir', dataDir];
    const imported = measure(ctx.bin, importArgs);
    if (imported.code !== 0) throw new Error(`import failed: ${imported.stderr}`);
    ctx.log(`$ ${imported.command}\n  ${imported.stdout.trim().split('\n').join('\n  ')}`);

    const rows: BenchRow[] = [
      {
        what: 'import full-size tracker JSON: wall time',
        figure: fmtMs(imported.wallMs),
        target: '≤ 15 s',
        ok: imported.wallMs <= 15000,
      },
      {
        what: 'import full-size tracker JSON: peak RSS',
        figure: `${imported.peakRssMb.toFixed(0)} MB`,
        target: '≤ 400 MB',
        ok: imported.peakRssMb <= 400,
      },
    ];

    const scans: [string, string, number, string[]][] = [];
    if (existsSync('/var/lib/dpkg/status')) scans.push(['this machine (/)', '/', 250, []]);
    scans.push(['3,000-package root', root3000, 400, ['--kernel', '6.1.0-40-amd64']]);
    for (const [label, root, targetMs, extra] of scans) {
      const args = ['scan', '--root', root, '--data-dir', dataDir, '--format', 'json', ...extra];
      const m = measureMedian(SCAN_RUNS, ctx.bin, args);
      const report = JSON.parse(m.stdout) as { host: { package_count: number }; findings: unknown[] };
      ctx.log(
        `$ ${m.command}\n  ${report.host.package_count} packages, ${report.findings.length} findings (median of ${SCAN_RUNS} runs)`,
      );
      rows.push(
        {
          what: `scan ${label}, whole process: wall time`,
          figure: fmtMs(m.wallMs),
          target: `≤ ${targetMs} ms`,
          ok: m.wallMs <= targetMs,
        },
        {
          what: `scan ${label}, whole process: peak RSS`,
          figure: `${m.peakRssMb.toFixed(0)} MB`,
          target: '≤ 100 MB',
          ok: m.peakRssMb <= 100,
        },
      );
    }

    rows.push(...(await matchingAlone(ctx, dataDir, root3000)));
    ctx.log('anchor: debsecan scans a host like this one against full-size data in about 0.27 s and 94 MB');
    return rows;
  },
};

/** The matching step alone, in this process, on an inventory already read. */
async function matchingAlone(ctx: BenchContext, dataDir: string, root3000: string): Promise<BenchRow[]> {
  const { readInventory } = await import('../src/inventory/index.ts');
  const { VulnDb } = await import('../src/vulndb/reader.ts');
  const { matchInventory } = await import('../src/core/match.ts');
  const rows: BenchRow[] = [];
  for (const [label, root, kernel] of [
    ['this machine', '/', undefined],
    ['3,000-package root', root3000, '6.1.0-40-amd64'],
  ] as const) {
    if (root === '/' && !existsSync('/var/lib/dpkg/status')) continue;
    const inventory = await readInventory(root, { kernel });
    const times: number[] = [];
    for (let i = 0; i < SCAN_RUNS; i++) {
      // A fresh DB handle each time, as a scan process has: statements are prepared anew.
      const started = performance.now();
      const db = VulnDb.open(dataDir);
      matchInventory(inventory, db, { today: new Date().toISOString().slice(0, 10) });
      db.close();
      times.push(performance.now() - started);
    }
    const first = times[0];
    const median = [...times].sort((a, b) => a - b)[Math.floor(times.length / 2)];
    ctx.log(
      `matching alone, ${label} (${inventory.packages.length} packages): first ${fmtMs(first)}, median ${fmtMs(median)}`,
    );
    rows.push({
      what: `matching alone, ${label} (first run in the process)`,
      figure: fmtMs(first),
      target: '≤ 100 ms',
      ok: first <= 100,
    });
  }
  return rows;
}
