// The single executable (dist/patchloop-linux-x64, `npm run package`) against the bundle
// (./bin/patchloop): start-up (--version) and a whole `patchloop scan` of the real bookworm host
// (729 packages) with the fixture tracker feed, medians of several runs; the executable must
// stay within 1.2× of the bundle. The arm64 executable's figures under qemu-user-static are
// printed for information (emulated: no target).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fmtMs, measure, measureMedian, type Measured } from './lib/measure.ts';
import type { BenchContext, BenchRow, BenchSection } from './lib/context.ts';

const RUNS = 15;

export const section: BenchSection = {
  async run(ctx: BenchContext): Promise<BenchRow[]> {
    const x64 = join(ctx.repo, 'dist/patchloop-linux-x64');
    const arm64 = join(ctx.repo, 'dist/patchloop-linux-arm64');
    if (!existsSync(x64)) throw new Error('dist/patchloop-linux-x64 is missing: run `npm run package` first');
    const host = join(ctx.repo, '../shared/data/pkgdb/dpkg/bookworm-host');
    const feed = join(ctx.repo, 'test/fixtures/debian/bookworm-host-tracker.json');
    // ./bin/patchloop runs the sources when one is newer than the bundle: compare with a current bundle.
    if (spawnSync('sh', ['scripts/build'], { cwd: ctx.repo }).status !== 0) throw new Error('scripts/build failed');
    const work = mkdtempSync(join(tmpdir(), 'patchloop-bench-sea-'));
    try {
      // Each its own DB (written by itself): the executable may be of an older build than the checkout.
      for (const [bin, dir] of [
        [ctx.bin, 'bundle'],
        [x64, 'executable'],
      ]) {
        const imported = measure(bin, [
          'db',
          'update',
          '--source',
          'debian',
          '--from',
          feed,
          '--data-dir',
          join(work, dir),
        ]);
        if (imported.code !== 0) throw new Error(`import failed: ${imported.stderr}`);
      }
      ctx.log(
        `sizes: ${x64} ${(statSync(x64).size / 2 ** 20).toFixed(1)} MiB` +
          (existsSync(arm64) ? `, ${arm64} ${(statSync(arm64).size / 2 ** 20).toFixed(1)} MiB` : ''),
      );
      const scan = (dir: string) => ['scan', '--root', host, '--data-dir', join(work, dir), '--format', 'json'];
      const rows: BenchRow[] = [];
      for (const [label, bundleArgs, seaArgs] of [
        ['--version', ['--version'], ['--version']],
        ['scan of the bookworm host (729 packages)', scan('bundle'), scan('executable')],
      ] as const) {
        const bundle = measureMedian(RUNS, ctx.bin, [...bundleArgs]);
        const sea = measureMedian(RUNS, x64, [...seaArgs]);
        const report = (m: Measured) => `${fmtMs(m.wallMs)}, peak RSS ${m.peakRssMb.toFixed(0)} MB`;
        ctx.log(
          `$ ${bundle.command}\n  ${report(bundle)} (median of ${RUNS})\n$ ${sea.command}\n  ${report(sea)} (median of ${RUNS})`,
        );
        const ratio = sea.wallMs / bundle.wallMs;
        rows.push(
          { what: `${label}: bundle, wall time`, figure: fmtMs(bundle.wallMs), target: '-', ok: true },
          { what: `${label}: executable, wall time`, figure: fmtMs(sea.wallMs), target: '-', ok: true },
          { what: `${label}: executable / bundle`, figure: `${ratio.toFixed(2)}×`, target: '≤ 1.2×', ok: ratio <= 1.2 },
          { what: `${label}: bundle, peak RSS`, figure: `${bundle.peakRssMb.toFixed(0)} MB`, target: '-', ok: true },
          { what: `${label}: executable, peak RSS`, figure: `${sea.peakRssMb.toFixed(0)} MB`, target: '-', ok: true },
        );
        if (existsSync(arm64) && existsSync('/usr/bin/qemu-aarch64-static')) {
          const emulated = measureMedian(3, '/usr/bin/qemu-aarch64-static', [
            '-L',
            '/usr/aarch64-linux-gnu',
            arm64,
            ...seaArgs,
          ]);
          ctx.log(`$ ${emulated.command}\n  ${fmtMs(emulated.wallMs)} (median of 3, emulated)`);
          rows.push({
            what: `${label}: arm64 executable under qemu (emulated)`,
            figure: fmtMs(emulated.wallMs),
            target: '-',
            ok: true,
          });
        }
      }
      return rows;
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  },
};
