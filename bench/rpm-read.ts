// Benchmark: reading an rpm database of N packages (default 1,548 = 12 x the 129 real
// CBL-Mariner headers) in each on-disk format. Prints what it measured, on what data, and
// how to reproduce it:
//   ./node_modules/.bin/node bench/rpm-read.ts [packages] [rounds]
// Berkeley DB needs db5.3_load (Debian package db5.3-util).
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { readRpmDatabase } from '../src/inventory/rpm/index.ts';
import {
  buildNdb,
  marinerHeaders,
  repeatHeaders,
  writeBdbWithDbLoad,
  writeSqliteRpmdb,
} from '../test/support/rpm-databases.ts';

export interface RpmReadMeasurement {
  format: string;
  packages: number;
  fileBytes: number;
  medianMs: number;
  minMs: number;
  rounds: number;
}

/** Median and best wall time of `rounds` full reads of each format's database of `count` packages. */
export async function benchRpmRead(count = 1548, rounds = 15): Promise<RpmReadMeasurement[]> {
  const records = repeatHeaders(marinerHeaders(), count);
  const dir = mkdtempSync(path.join(tmpdir(), 'patchloop-rpm-bench-'));
  try {
    const files = {
      sqlite: path.join(dir, 'rpmdb.sqlite'),
      ndb: path.join(dir, 'Packages.db'),
      bdb: path.join(dir, 'Packages'),
    };
    writeSqliteRpmdb(files.sqlite, records);
    writeFileSync(files.ndb, buildNdb(records));
    writeBdbWithDbLoad(files.bdb, records);
    const out: RpmReadMeasurement[] = [];
    for (const [format, file] of Object.entries(files)) {
      const times: number[] = [];
      let packages = 0;
      for (let i = 0; i < rounds + 2; i++) {
        const start = performance.now();
        const result = await readRpmDatabase(file);
        const elapsed = performance.now() - start;
        packages = result.packages.length;
        if (i >= 2) times.push(elapsed); // the first rounds warm the page cache and the JIT
      }
      times.sort((a, b) => a - b);
      out.push({
        format,
        packages,
        fileBytes: statSync(file).size,
        medianMs: times[Math.floor(times.length / 2)],
        minMs: times[0],
        rounds,
      });
    }
    return out;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.main) {
  const count = Number(process.argv[2] ?? 1548);
  const rounds = Number(process.argv[3] ?? 15);
  console.log(
    `rpm database read: ${count} packages (real CBL-Mariner 2.0 headers, repeated), ${rounds} rounds after 2 warm-up reads`,
  );
  for (const m of await benchRpmRead(count, rounds)) {
    console.log(
      `  ${m.format.padEnd(6)} ${String(m.packages).padStart(5)} packages  ${(m.fileBytes / 1048576).toFixed(1).padStart(6)} MiB  median ${m.medianMs.toFixed(1)} ms  best ${m.minMs.toFixed(1)} ms`,
    );
  }
  console.log(`reproduce: ./node_modules/.bin/node bench/rpm-read.ts ${count} ${rounds}`);
}
