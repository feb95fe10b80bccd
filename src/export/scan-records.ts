// Finding records from one standalone scan (`patchloop scan`, no server): every finding is
// open and first seen now. The server's exporter builds records from its store instead,
// where first_seen / fixed_at carry the finding's history.
import { groupExposures } from '../core/exposure.ts';
import { leadingCvss } from '../core/severity.ts';
import type { Finding, OsInfo, Severity } from '../core/types.ts';
import type { AgentRecord, FindingRecord, HostRecord } from './records.ts';

/** The parts of a scan report this needs (`patchloop.scan/v1`). */
export interface ScanLike {
  scanned_at: string;
  host: { hostname: string | null; os: OsInfo; kernel: string | null };
  findings: Finding[];
}

export interface ScanRecordOptions {
  /** Stable host id; defaults to the host name. */
  hostId?: string;
  agent?: AgentRecord;
  group?: string | null;
  tags?: string[];
  arch?: string | null;
  /** Scan run id (ECS vulnerability.report_id). */
  scanId?: string;
  /** Days to fix per severity; severities without an entry get no due date. */
  slaDays?: Partial<Record<Severity, number>>;
  /** Package format of the host's database (deb, rpm, apk). */
  format?: 'deb' | 'rpm' | 'apk';
}

/**
 * One record per finding identity (host, package name, arch, vulnerability). A scan can
 * report one identity twice: several installed versions of a package, typically kernels.
 * The exposed one (the running kernel) is kept over one installed but not running.
 */
export function findingRecordsFromScan(scan: ScanLike, options: ScanRecordOptions = {}): FindingRecord[] {
  const hostId = options.hostId ?? scan.host.hostname;
  if (!hostId) throw new Error('scan report has no host name; pass a host id for the exported findings');
  const at = Date.parse(scan.scanned_at);
  if (!Number.isFinite(at)) throw new Error(`scan report: scanned_at "${scan.scanned_at}" is not a timestamp`);
  const when = new Date(at).toISOString();
  const host: HostRecord = {
    id: hostId,
    name: scan.host.hostname ?? hostId,
    os: scan.host.os,
    kernel: scan.host.kernel,
    arch: options.arch ?? null,
    group: options.group ?? null,
    tags: options.tags ?? [],
  };
  // The lead finding of each exposure the scan counts (core/exposure.ts): one document per exposure is counted.
  const leads = new Set(
    groupExposures(scan.findings)
      .filter((e) => !e.dormant)
      .map((e) => e.lead),
  );
  const chosen = new Map<string, Finding>();
  for (const finding of scan.findings) {
    const key = JSON.stringify([finding.package.name, finding.package.arch, finding.id]);
    const held = chosen.get(key);
    if (!held || (held.kernel_not_running && !finding.kernel_not_running)) chosen.set(key, finding);
  }
  return [...chosen.values()].map((finding): FindingRecord => {
    const days = options.slaDays?.[finding.severity];
    const cvss = leadingCvss(finding.cvss);
    return {
      host,
      agent: options.agent ?? null,
      package: { ...finding.package, format: options.format },
      vulnerability: {
        id: finding.id,
        aliases: finding.aliases,
        severity: finding.severity,
        raw_severity: finding.raw_severity || null,
        ...(cvss ? { score: { base: cvss.score, version: cvss.version }, score_vector: cvss.vector } : {}),
      },
      status: finding.status,
      raw_status: finding.raw_status || null,
      fixed_version: finding.fixed_version,
      feed: finding.feed,
      advisory_ids: finding.advisory_ids,
      state: 'open',
      first_seen: when,
      last_seen: when,
      fixed_at: null,
      sla_due: days === undefined ? null : new Date(at + days * 86_400_000).toISOString(),
      updated_at: when,
      scan_id: options.scanId ?? null,
      kernel_not_running: finding.kernel_not_running,
      exposure_lead: leads.has(finding),
      // Present when the scan had them (a scan's finding has a priority; KEV and EPSS when known).
      ...(finding.priority ? { kev: finding.kev ?? null, priority: finding.priority } : {}),
      ...(finding.epss ? { epss: finding.epss } : {}),
    };
  });
}
