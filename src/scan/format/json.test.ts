import { test } from 'node:test';
import assert from 'node:assert/strict';
import { jsonReportChunks } from './json.ts';
import { summarise, type ScanReport } from '../report.ts';
import type { Finding } from '../../core/types.ts';

const finding = (id: string): Finding => ({
  id,
  aliases: [],
  package: { name: 'a', version: '1', arch: 'amd64', source: 'a', source_version: '1' },
  status: 'fixed',
  raw_status: 'resolved',
  fixed_version: '2',
  severity: 'high',
  raw_severity: 'high',
  feed: 'debian',
  advisory_ids: ['DSA-1'],
  reason: 'r',
});

function report(findings: Finding[]): ScanReport {
  return {
    schema: 'patchloop.scan/v1',
    scanned_at: '2026-01-01T00:00:00.000Z',
    host: {
      hostname: null,
      root: '/r',
      os: { id: 'debian', version_id: '12', codename: 'bookworm', pretty_name: 'D' },
      kernel: null,
      distro: 'debian',
      release: 'bookworm',
      package_count: 1,
    },
    db: [],
    summary: summarise(findings),
    kernel: { running: null, images: [], newer_installed: false },
    support: { state: 'unknown' },
    unsupported_packages: [],
    warnings: [],
    findings,
  };
}

test('the streamed report is one JSON document equal to the report, for 0, 1 and many findings', () => {
  for (const n of [0, 1, 501, 1200]) {
    const r = report(Array.from({ length: n }, (_, i) => finding(`CVE-${i}`)));
    const text = [...jsonReportChunks(r)].join('');
    assert.deepEqual(JSON.parse(text), r);
    assert.equal(text.split('\n').filter((l) => l.startsWith('    {"id"')).length, n, 'one finding per line');
  }
});
