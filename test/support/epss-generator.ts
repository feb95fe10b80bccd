// Full-size EPSS files in the exact shape FIRST publishes (epss_scores-current.csv.gz; format in
// ../shared/data/README.md): a comment line, the header, then one row per CVE, gzip-compressed.
// Scores are skewed as the real ones are (most near 0, a few near 1) and percentiles follow
// the scores' rank. Seeded: a seed and a row count name one file.
import { writeFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { seededRandom } from './seeded-random.ts';

export interface EpssFileOptions {
  rows?: number;
  seed?: number;
  /** Rows to put first with these exact values (e.g. CVEs of a fixture's findings). */
  known?: { cve: string; score: number; percentile: number }[];
  model_version?: string;
  score_date?: string;
}

/** The file's text (uncompressed). */
export function epssCsv(options: EpssFileOptions = {}): string {
  const rows = options.rows ?? 300_000;
  const rand = seededRandom(options.seed ?? 1);
  const known = options.known ?? [];
  const knownIds = new Set(known.map((k) => k.cve));
  const scores: number[] = [];
  for (let i = 0; i < rows - known.length; i++) scores.push(Math.pow(rand(), 12));
  const sorted = [...scores].sort((a, b) => a - b);
  const percentileOf = (s: number): number => {
    let lo = 0;
    let hi = sorted.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (sorted[mid] <= s) lo = mid + 1;
      else hi = mid;
    }
    return lo / sorted.length;
  };
  const lines = [
    `#model_version:${options.model_version ?? 'v2025.03.14'},score_date:${options.score_date ?? '2026-11-01T12:55:00Z'}`,
    'cve,epss,percentile',
  ];
  for (const k of known) lines.push(`${k.cve},${k.score.toFixed(5)},${k.percentile.toFixed(5)}`);
  let n = 0;
  for (let year = 1999; n < scores.length; year++) {
    // About 25,000 CVEs a year, numbered from 1000 as CVE ids are.
    for (let seq = 1000; seq < 26_000 && n < scores.length; seq++) {
      const cve = `CVE-${year}-${String(seq).padStart(4, '0')}`;
      if (knownIds.has(cve)) continue;
      const s = scores[n++];
      lines.push(`${cve},${s.toFixed(5)},${percentileOf(s).toFixed(5)}`);
    }
  }
  return `${lines.join('\n')}\n`;
}

/** Writes the gzip file (`…/epss_scores-current.csv.gz`) and returns its path. */
export function writeEpssFile(path: string, options: EpssFileOptions = {}): string {
  writeFileSync(path, gzipSync(epssCsv(options)));
  return path;
}
