// Real findings for the export tests: an AlmaLinux 9.4 rpm database written by rpm
// (scripts/make-rpm-root), scanned against the complete AlmaLinux 9 OSV database from the
// shared data, turned into finding records the way a standalone scan exports them.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { findingRecordsFromScan, type ScanLike } from '../../src/export/scan-records.ts';
import type { FindingRecord } from '../../src/export/records.ts';
import { FEEDS, importFeed, rpmRoot, scanJson } from './estate.ts';

export const SCANNED_AT = '2026-03-02T06:00:00.000Z';

/** The scan's records for `hostId`; callers remove the temporaries (estate lib) afterwards. */
export async function almaFindingRecords(hostId = 'host-alma94'): Promise<FindingRecord[]> {
  const root = rpmRoot('almalinux-9.4.tsv', 'almalinux-9.4');
  const dataDir = await importFeed('almalinux', [join(FEEDS, 'almalinux/osv/almalinux9')]);
  const report = await scanJson(root, dataDir, ['--kernel', '5.14.0-427.13.1.el9_4.x86_64']);
  const scan = report as unknown as ScanLike;
  assert.equal(scan.host.os.id, 'almalinux');
  // 4,340 findings (each CVE of an ALSA advisory its own), 2,110 of them on installed kernels
  // that are not running; those share their identity with the running kernel's finding: one
  // state document each.
  assert.equal(scan.findings.length, 4340);
  assert.equal(scan.findings.filter((f) => f.kernel_not_running).length, 2110);
  return findingRecordsFromScan(
    { ...scan, scanned_at: SCANNED_AT, host: { ...scan.host, hostname: 'alma94.example.net' } },
    {
      hostId,
      agent: { id: hostId, version: '0.1.0' },
      format: 'rpm',
      slaDays: { high: 30, medium: 90 },
      scanId: 'scan-1',
    },
  );
}
