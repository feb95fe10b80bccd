// AlmaLinux: import of the complete AlmaLinux OSV database (AlmaLinux 8, 9 and 10), and the whole
// `patchloop scan` process on a 1,500-package AlmaLinux 9 root with a real rpmdb.sqlite.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { generateRpmRoot } from '../test/support/rpm-root-generator.ts';
import { fmtMs, measure, measureMedian } from './lib/measure.ts';
import type { BenchContext, BenchRow, BenchSection } from './lib/context.ts';

const SCAN_RUNS = 7;
const PACKAGES = 1500;

/**
 * Whether ./bin/patchloop runs the bundle (dist/) rather than the TypeScript sources: as the
 * shim decides, nothing under src/ (files or directories) nor package-lock.json is newer.
 */
function bundleIsCurrent(repo: string): boolean {
  const bundle = join(repo, 'dist/patchloop.js');
  if (!existsSync(bundle)) return false;
  const built = statSync(bundle).mtimeMs;
  const newer = (p: string): boolean => {
    const st = statSync(p);
    if (st.mtimeMs > built) return true;
    return st.isDirectory() && readdirSync(p).some((e) => newer(join(p, e)));
  };
  return !newer(join(repo, 'src')) && !newer(join(repo, 'package-lock.json'));
}

/** Figures of the bundled CLI, as installed: rebuilt when a source is newer than it. */
function ensureBundle(ctx: BenchContext): void {
  if (bundleIsCurrent(ctx.repo)) return;
  ctx.log('dist/ is older than src/: $ sh scripts/build');
  execFileSync('sh', [join(ctx.repo, 'scripts/build')], { stdio: 'inherit' });
}

export const section: BenchSection = {
  async run(ctx: BenchContext): Promise<BenchRow[]> {
    const osv = join(ctx.repo, '../shared/data/feeds/almalinux/osv');
    ensureBundle(ctx);
    const records = ['almalinux8', 'almalinux9', 'almalinux10']
      .map((d) => `${d} ${readdirSync(join(osv, d)).length}`)
      .join(', ');
    ctx.log(`data: ${osv} (AlmaLinux/osv-database; records: ${records})`);

    const dataDir = join(ctx.cacheDir, 'data-almalinux');
    rmSync(dataDir, { recursive: true, force: true });
    const imported = measure(ctx.bin, ['db', 'update', '--source', 'almalinux', '--from', osv, '--data-dir', dataDir]);
    if (imported.code !== 0) throw new Error(`import failed: ${imported.stderr}`);
    ctx.log(`$ ${imported.command}\n  ${imported.stdout.trim().split('\n').join('\n  ')}`);
    const rows: BenchRow[] = [
      {
        what: 'import the full AlmaLinux OSV database: wall time',
        figure: fmtMs(imported.wallMs),
        target: '≤ 10 s',
        ok: imported.wallMs <= 10000,
      },
      {
        what: 'import the full AlmaLinux OSV database: peak RSS',
        figure: `${imported.peakRssMb.toFixed(0)} MB`,
        target: '≤ 300 MB',
        ok: imported.peakRssMb <= 300,
      },
    ];

    const root = join(ctx.cacheDir, `root-almalinux-${PACKAGES}`);
    const generated = generateRpmRoot(root, {
      advisories: join(osv, 'almalinux9'),
      count: PACKAGES,
      listFile: join(ctx.cacheDir, `almalinux-${PACKAGES}.tsv`),
      repo: ctx.repo,
    });
    ctx.log(
      `generated ${root}: ${generated.packages} binary packages of ${generated.sources} source rpms drawn from the AlmaLinux 9 advisories ` +
        `(${generated.older} older than the latest fix, ${generated.equal} equal, ${generated.newer} newer; ${generated.modular} modular), ` +
        `rpmdb.sqlite written by rpm (scripts/make-rpm-root, cached in .cache/rpm-roots)`,
    );

    ensureBundle(ctx);
    const args = ['scan', '--root', root, '--data-dir', dataDir, '--format', 'json'];
    if (generated.kernel) args.push('--kernel', generated.kernel);
    const m = measureMedian(SCAN_RUNS, ctx.bin, args);
    const report = JSON.parse(m.stdout) as {
      host: { package_count: number };
      summary: { total: number; kernel_not_running: number };
    };
    ctx.log(
      `$ ${m.command}\n  ${report.host.package_count} packages, ${report.summary.total} findings ` +
        `(+${report.summary.kernel_not_running} for kernels installed but not running); median of ${SCAN_RUNS} runs`,
    );
    if (!bundleIsCurrent(ctx.repo))
      ctx.log('warning: a source changed while measuring: some runs used the TypeScript sources, not the bundle');
    rows.push(
      {
        what: `scan a ${PACKAGES.toLocaleString('en')}-package rpm root, whole process: wall time`,
        figure: fmtMs(m.wallMs),
        target: '≤ 600 ms',
        ok: m.wallMs <= 600,
      },
      {
        what: `scan a ${PACKAGES.toLocaleString('en')}-package rpm root, whole process: peak RSS`,
        figure: `${m.peakRssMb.toFixed(0)} MB`,
        target: '≤ 100 MB',
        ok: m.peakRssMb <= 100,
      },
    );
    return rows;
  },
};
