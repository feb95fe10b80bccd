// ECS documents for one scan, as NDJSON (one finding-state document per line) for Filebeat /
// Logstash, or to send with _bulk. Uses the exporter's mapping, so a standalone scan and the
// server's exporter write documents of the same shape (and the same deterministic ids:
// `patchloop.finding_id`).
import { findingDocument, findingRecordsFromScan } from '../../export/index.ts';
import { distroProfile } from '../../core/distros.ts';
import type { ScanReport } from '../report.ts';

/** Days to fix per severity: the same defaults as the server's SLA targets. */
const DEFAULT_SLA_DAYS = { critical: 7, high: 30, medium: 90, low: 180 } as const;

export function renderEcsNdjson(report: ScanReport): string {
  const records = findingRecordsFromScan(report, {
    // A scanned root other than this host has no host name: its path identifies it.
    hostId: report.host.hostname ?? `root:${report.host.root}`,
    format: distroProfile(report.host.distro)?.format,
    slaDays: DEFAULT_SLA_DAYS,
  });
  return records.map((r) => `${JSON.stringify(findingDocument(r))}\n`).join('');
}
