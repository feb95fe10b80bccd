import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import type { FeedWriter } from '../../vulndb/writer.ts';
import { importEpss } from './index.ts';

/** The rows and meta an import hands the writer. */
async function imported(name: string, data: Uint8Array): Promise<{ rows: unknown[][]; meta: Record<string, string> }> {
  const file = join(mkdtempSync(join(tmpdir(), 'epss-unit-')), name);
  writeFileSync(file, data);
  const rows: unknown[][] = [];
  const meta: Record<string, string> = {};
  const writer = {
    epss: (cve: string, score: number, percentile: number) => rows.push([cve, score, percentile]),
    meta: (k: string, v: string) => (meta[k] = v),
  } as unknown as FeedWriter;
  await importEpss([file], { writer, warn: () => assert.fail('no warnings expected') });
  return { rows, meta };
}

test('CRLF lines, a byte-order mark, exponent notation and a blank last line are read as published', async () => {
  const text =
    '\ufeff#model_version:v2025.03.14,score_date:2026-11-01T12:55:00Z\r\ncve,epss,percentile\r\n' +
    'CVE-2024-1234,0.97231,0.99821\r\nCVE-1999-0001,1e-05,0.00012\r\n\r\n';
  for (const [name, data] of [
    ['epss_scores-current.csv.gz', gzipSync(text)],
    ['epss_scores-current.csv', Buffer.from(text)],
  ] as const) {
    const got = await imported(name, data);
    assert.deepEqual(got.rows, [
      ['CVE-2024-1234', 0.97231, 0.99821],
      ['CVE-1999-0001', 0.00001, 0.00012],
    ]);
    assert.deepEqual(got.meta, { model_version: 'v2025.03.14', score_date: '2026-11-01T12:55:00Z' });
  }
});

test('a score above 1 or a negative one is refused with the line', async () => {
  const head = '#model_version:v1,score_date:2026-11-01\ncve,epss,percentile\n';
  await assert.rejects(
    imported('a.csv', Buffer.from(`${head}CVE-2024-1234,1.2,0.9\n`)),
    /a\.csv:3: malformed EPSS row/,
  );
  await assert.rejects(
    imported('b.csv', Buffer.from(`${head}CVE-2024-1234,-0.1,0.9\n`)),
    /b\.csv:3: malformed EPSS row/,
  );
  await assert.rejects(imported('c.csv', Buffer.from(`${head}CVE-2024-1234,0.1,0.9,extra\n`)), /c\.csv:3:/);
});
