// Test support: run a backend's record generator to the end, keeping records and problems.
import type { HeaderRecord, RecordProblems } from '../../src/inventory/rpm/records.ts';

export interface Collected {
  records: HeaderRecord[];
  /** `id: message`, with `; skipped` after problems that lost their record. */
  problems: string[];
}

export function collectRecords(read: (problems: RecordProblems) => Iterable<HeaderRecord>): Collected {
  const problems: string[] = [];
  const records = [
    ...read({
      warn: (id, m) => problems.push(`${id ?? '-'}: ${m}`),
      skip: (id, m) => problems.push(`${id ?? '-'}: ${m}; skipped`),
    }),
  ];
  return { records, problems };
}
