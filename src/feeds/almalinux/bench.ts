// What the benchmark runner calls to measure a feed import (AlmaLinux by default): the whole
// `db update` path minus downloading: read, validate, convert, write the SQLite file, swap.
import { loadFeed } from '../registry.ts';
import { replaceFeed } from '../../vulndb/writer.ts';

export interface ImportMeasurement {
  feed: string;
  inputs: readonly string[];
  seconds: number;
  entries: number;
  vulnerabilities: number;
  warnings: number;
  /** Resident set size of this process after the import (MiB); the peak is what `/usr/bin/time -v` reports. */
  rssMiB: number;
  command: string;
}

export async function measureFeedImport(dataDir: string, inputs: readonly string[], feed = 'almalinux'): Promise<ImportMeasurement> {
  const source = await loadFeed(feed);
  let warnings = 0;
  const t0 = performance.now();
  const summary = await replaceFeed(dataDir, feed, async (writer) => {
    await source.import(inputs, { writer, warn: () => warnings++ });
  });
  const seconds = (performance.now() - t0) / 1000;
  return {
    feed,
    inputs,
    seconds,
    entries: summary.entries,
    vulnerabilities: summary.vulnerabilities,
    warnings,
    rssMiB: Math.round(process.memoryUsage().rss / 2 ** 20),
    command: `/usr/bin/time -v ./bin/patchloop db update --source ${feed} ${inputs.map((i) => `--from ${i}`).join(' ')} --data-dir ${dataDir}`,
  };
}
