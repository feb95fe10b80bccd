// ECS documents from patchloop records, and the bulk items that carry them. ECS fields
// where ECS has them (vulnerability.*, package.*, host.*, agent.*, event.*); patchloop's
// own under `patchloop.*` (and `package.fixed_version`, as Elastic's own CNVM does).
import { createHash } from 'node:crypto';
import type { Severity } from '../core/types.ts';
import type { BulkItem } from './bulk.ts';
import type { ExportNames } from './names.ts';
import type {
  AgentRecord,
  FindingLifecycle,
  FindingRecord,
  HostDaySummaryRecord,
  HostRecord,
  HostStateRecord,
  PatchRunRecord,
  SeverityCounts,
  VulnerabilityEventRecord,
} from './records.ts';

export const ECS_VERSION = '8.11.0';
const MODULE = 'patchloop';

type Doc = Record<string, unknown>;

/**
 * The state document id: a hash of the finding's stable identity only (host, package,
 * architecture, vulnerability), so every later export of the same finding overwrites the
 * same document, whatever else changed.
 */
export function findingId(hostId: string, packageName: string, arch: string, vulnerabilityId: string): string {
  return digest(['finding', hostId, packageName, arch, vulnerabilityId]);
}

/**
 * The exposure a finding belongs to (its host, source package and vulnerability): the same id on
 * every binary package of it, in the state index and the event stream.
 */
export function exposureId(hostId: string, source: string, vulnerabilityId: string): string {
  return digest(['exposure', hostId, source, vulnerabilityId]);
}

/** Event ids are deterministic too: a resent event is a 409 duplicate, never a second copy. */
export function vulnerabilityEventId(event: VulnerabilityEventRecord): string {
  const f = event.finding;
  return digest([
    'vulnerability-event',
    event.action,
    f.host.id,
    f.package.name,
    f.package.arch,
    f.vulnerability.id,
    instant(event.at),
  ]);
}

export function patchRunId(run: PatchRunRecord): string {
  return digest(['patch-run', run.host.id, run.id]);
}

export function hostSummaryId(summary: HostDaySummaryRecord): string {
  return digest(['host-summary', summary.host.id, summary.date]);
}

/** The host state document id: one document per host id. */
export function hostStateId(hostId: string): string {
  return digest(['host', hostId]);
}

const SEVERITY_RANK: Record<Severity, number> = { critical: 5, high: 4, medium: 3, low: 2, negligible: 1, unknown: 0 };

/** ECS `vulnerability.status` (beta) for a lifecycle state: open, fixed, reopened, unknown. */
export function ecsVulnerabilityStatus(state: FindingLifecycle): string {
  switch (state) {
    case 'open':
      return 'open';
    case 'reopened':
      return 'reopened';
    case 'resolved':
      return 'fixed';
    case 'stale':
      return 'unknown';
    case 'excepted':
      return 'excepted';
  }
}

/** Identifier scheme of a vulnerability id: CVE, GHSA, DSA, USN, ALSA, ... */
export function enumeration(id: string): string {
  const match = /^([A-Za-z]+)-/.exec(id);
  return match ? match[1].toUpperCase() : 'OTHER';
}

/** The state document for a finding (state index). */
export function findingDocument(record: FindingRecord): Doc {
  const id = findingId(record.host.id, record.package.name, record.package.arch, record.vulnerability.id);
  const when = record.state === 'resolved' && record.fixed_at ? record.fixed_at : record.last_seen;
  return compact({
    '@timestamp': when,
    ecs: { version: ECS_VERSION },
    event: {
      kind: 'state',
      category: ['vulnerability'],
      type: ['info'],
      dataset: `${MODULE}.finding`,
      module: MODULE,
      created: record.updated_at,
    },
    ...findingFields(record),
    patchloop: {
      ...findingPatchloopFields(record, id),
      state: record.state,
      exception_id: record.exception_id ?? null,
      first_seen: record.first_seen,
      opened_at: record.opened_at ?? record.first_seen,
      last_seen: record.last_seen,
      fixed_at: record.fixed_at,
      sla_due: record.sla_due,
      updated_at: record.updated_at,
    },
  });
}

/** A detected / resolved / reopened event (vulnerability event stream). */
export function vulnerabilityEventDocument(event: VulnerabilityEventRecord): Doc {
  const record = event.finding;
  const id = findingId(record.host.id, record.package.name, record.package.arch, record.vulnerability.id);
  const openedAt = record.opened_at ?? record.first_seen;
  // Time the finding stayed open (this open period), for MTTR: ECS event.duration is in nanoseconds.
  const openFor = event.action === 'resolved' ? Date.parse(event.at) - Date.parse(openedAt) : null;
  const fields = findingFields(record);
  const own = findingPatchloopFields(record, id);
  if (event.detail_unknown) {
    // Nothing about the advisory at that time is known: leave it out rather than guess.
    delete (fields.package as Doc).fixed_version;
    for (const key of ['status', 'raw_status', 'fix_available', 'feed', 'advisory_ids']) delete own[key];
  }
  return compact({
    '@timestamp': event.at,
    ecs: { version: ECS_VERSION },
    event: {
      kind: 'event',
      category: ['vulnerability'],
      type: ['info'],
      action: `vulnerability-${event.action}`,
      dataset: `${MODULE}.vulnerability`,
      module: MODULE,
      id: vulnerabilityEventId(event),
      duration: openFor !== null && openFor >= 0 ? openFor * 1_000_000 : null,
    },
    ...fields,
    patchloop: {
      ...own,
      state: record.state,
      first_seen: record.first_seen,
      opened_at: openedAt,
      last_seen: record.last_seen,
      fixed_at: record.fixed_at,
      sla_due: record.sla_due,
      // Resolved after the due date: the SLA was missed.
      sla_missed:
        event.action === 'resolved' && record.sla_due ? Date.parse(event.at) > Date.parse(record.sla_due) : null,
    },
  });
}

/** A patch run (patch event stream): ECS `event.category: package`, with the outcome. */
export function patchRunDocument(run: PatchRunRecord): Doc {
  const types = new Set<string>();
  for (const p of run.packages)
    types.add(p.action === 'install' ? 'installation' : p.action === 'remove' ? 'deletion' : 'change');
  if (types.size === 0) types.add('change');
  const duration = run.ended_at ? Date.parse(run.ended_at) - Date.parse(run.started_at) : null;
  return compact({
    '@timestamp': run.ended_at ?? run.started_at,
    ecs: { version: ECS_VERSION },
    event: {
      kind: 'event',
      category: ['package'],
      type: [...types].sort(),
      action: 'patch-run',
      outcome: run.outcome,
      start: run.started_at,
      end: run.ended_at,
      duration: duration !== null && duration >= 0 ? duration * 1_000_000 : null,
      dataset: `${MODULE}.patch`,
      module: MODULE,
      id: patchRunId(run),
    },
    host: hostFields(run.host),
    agent: agentFields(run.agent),
    package: { name: [...new Set(run.packages.map((p) => p.name))].sort() },
    error: run.error ? { message: run.error } : null,
    patchloop: {
      host: patchloopHostFields(run.host),
      patch: {
        run_id: run.id,
        tool: run.tool,
        result: run.result ?? null,
        trigger: run.trigger ?? null,
        reboot_required: run.reboot_required,
        package_count: run.packages.length,
        packages: run.packages.map((p) => ({
          name: p.name,
          arch: p.arch ?? null,
          from_version: p.from_version,
          to_version: p.to_version,
          action: p.action,
        })),
      },
    },
  });
}

/**
 * One host's day (summary stream). `@timestamp` is the start of the UTC day, so a daily
 * date histogram puts each summary in its own bucket; `event.created` says when it was made.
 */
export function hostSummaryDocument(summary: HostDaySummaryRecord): Doc {
  const openTotal = Object.values(summary.open).reduce((a, b) => a + b, 0);
  return compact({
    '@timestamp': `${summary.date}T00:00:00.000Z`,
    ecs: { version: ECS_VERSION },
    event: {
      kind: 'metric',
      category: ['host'],
      type: ['info'],
      dataset: `${MODULE}.summary`,
      module: MODULE,
      created: summary.at,
      id: hostSummaryId(summary),
    },
    host: hostFields(summary.host),
    agent: agentFields(summary.agent),
    patchloop: {
      host: patchloopHostFields(summary.host),
      summary: {
        date: summary.date,
        open: { ...summary.open, total: openTotal },
        fixable: summary.fixable,
        sla_breached: summary.sla_breached,
        detected: summary.detected,
        resolved: summary.resolved,
        // Compliant: nothing open that could be fixed by patching.
        compliant: summary.fixable === 0,
        reboot_required: summary.reboot_required,
        pending_updates: summary.pending_updates ?? null,
        security_updates: summary.security_updates ?? null,
        last_scan_at: summary.last_scan_at,
      },
    },
  });
}

/**
 * A host as the server knows it now (host state index): whether it reports, reboot
 * pending, open and fixable counts. `@timestamp` is its last report (or its enrolment).
 */
export function hostStateDocument(record: HostStateRecord): Doc {
  const total = (counts: SeverityCounts) => Object.values(counts).reduce((a, b) => a + b, 0);
  return compact({
    '@timestamp': record.last_seen ?? record.enrolled_at,
    ecs: { version: ECS_VERSION },
    event: { kind: 'state', category: ['host'], type: ['info'], dataset: `${MODULE}.host`, module: MODULE },
    host: hostFields(record.host),
    agent: agentFields(record.agent),
    patchloop: {
      host: {
        ...patchloopHostFields(record.host),
        state: record.state,
        enrolled_at: record.enrolled_at,
        last_seen: record.last_seen,
        distro: record.distro,
        release: record.release,
        reboot_required: record.reboot_required,
        kernel_newer: record.kernel_newer,
        // What "reboot pending" means on the server's dashboard: either reason.
        reboot_pending: record.reboot_required || record.kernel_newer,
        package_count: record.package_count,
        open: { ...record.open, total: total(record.open) },
        fixable: { ...record.fixable, total: total(record.fixable) },
        match_error: record.match_error,
      },
    },
  });
}

/**
 * Bulk item for a finding: `index` with an external version, so an older copy never
 * overwrites a newer one. The version is the record's `updated_at` unless the caller
 * gives one (an exporter that numbers its writes itself).
 */
export function findingItem(record: FindingRecord, names: ExportNames, version?: number): BulkItem {
  if (version === undefined) {
    version = Date.parse(record.updated_at);
    if (!Number.isFinite(version) || version < 0) {
      throw new Error(
        `finding ${record.host.id}/${record.package.name}/${record.vulnerability.id}: updated_at "${record.updated_at}" is not a timestamp after 1970`,
      );
    }
  } else if (!Number.isInteger(version) || version < 0) {
    throw new Error(
      `finding ${record.host.id}/${record.package.name}/${record.vulnerability.id}: version ${version} is not a non-negative integer`,
    );
  }
  return {
    action: 'index',
    index: names.findings,
    id: findingId(record.host.id, record.package.name, record.package.arch, record.vulnerability.id),
    version,
    doc: findingDocument(record),
  };
}

/** Bulk items for events are `create` (data streams take nothing else). */
export function vulnerabilityEventItem(event: VulnerabilityEventRecord, names: ExportNames): BulkItem {
  return {
    action: 'create',
    index: names.vulnerabilityEvents,
    id: vulnerabilityEventId(event),
    doc: vulnerabilityEventDocument(event),
  };
}

export function patchRunItem(run: PatchRunRecord, names: ExportNames): BulkItem {
  return { action: 'create', index: names.patchEvents, id: patchRunId(run), doc: patchRunDocument(run) };
}

/** First summary of a host's day wins; send it when the day's numbers are final. */
export function hostSummaryItem(summary: HostDaySummaryRecord, names: ExportNames): BulkItem {
  return {
    action: 'create',
    index: names.hostSummaries,
    id: hostSummaryId(summary),
    doc: hostSummaryDocument(summary),
  };
}

/** Bulk item for a host state document: `index` with the caller's external version. */
export function hostStateItem(record: HostStateRecord, names: ExportNames, version: number): BulkItem {
  if (!Number.isInteger(version) || version < 0)
    throw new Error(`host ${record.host.id}: version ${version} is not a non-negative integer`);
  return {
    action: 'index',
    index: names.hosts,
    id: hostStateId(record.host.id),
    version,
    doc: hostStateDocument(record),
  };
}

/** Delete of a host's state document (the host was removed). */
export function hostStateDeleteItem(hostId: string, names: ExportNames): BulkItem {
  return { action: 'delete', index: names.hosts, id: hostStateId(hostId) };
}

/** Delete of a finding's state document (after the retention period). */
export function findingDeleteItem(
  record: Pick<FindingRecord, 'host' | 'package' | 'vulnerability'>,
  names: ExportNames,
): BulkItem {
  return {
    action: 'delete',
    index: names.findings,
    id: findingId(record.host.id, record.package.name, record.package.arch, record.vulnerability.id),
  };
}

function findingFields(record: FindingRecord): Doc {
  const v = record.vulnerability;
  return {
    host: hostFields(record.host),
    agent: agentFields(record.agent),
    package: {
      name: record.package.name,
      version: record.package.version,
      architecture: record.package.arch,
      type: record.package.format ?? null,
      fixed_version: record.fixed_version,
    },
    vulnerability: {
      id: v.id,
      enumeration: enumeration(v.id),
      severity: v.severity,
      description: v.description ?? null,
      reference: v.references && v.references.length > 0 ? v.references : null,
      category: ['Packages'],
      classification: v.score ? 'CVSS' : null,
      score: v.score ? { base: v.score.base, version: v.score.version } : null,
      scanner: { vendor: 'patchloop' },
      report_id: record.scan_id ?? null,
      status: ecsVulnerabilityStatus(record.state),
    },
  };
}

function findingPatchloopFields(record: FindingRecord, id: string): Doc {
  return {
    finding_id: id,
    status: record.status,
    raw_status: record.raw_status ?? null,
    severity_rank: SEVERITY_RANK[record.vulnerability.severity],
    raw_severity: record.vulnerability.raw_severity ?? null,
    fix_available: record.fixed_version !== null,
    feed: record.feed,
    advisory_ids: record.advisory_ids,
    aliases: record.vulnerability.aliases,
    published: record.vulnerability.published ?? null,
    kernel_not_running: record.kernel_not_running ?? null,
    // Counts are of exposures: dashboards count the documents whose lead is not false.
    exposure: {
      id: exposureId(record.host.id, record.package.source || record.package.name, record.vulnerability.id),
      lead: record.exposure_lead ?? null,
    },
    package: { source: record.package.source, source_version: record.package.source_version },
    host: patchloopHostFields(record.host),
    // Exploitation and priority: no ECS field holds them (ECS vulnerability.* has the CVSS score).
    known_exploited: record.kev === undefined ? null : record.kev !== null,
    kev: record.kev ?? null,
    epss: record.epss ?? null,
    cvss_vector: record.vulnerability.score_vector ?? null,
    priority: record.priority
      ? { level: record.priority.level, rank: Number(record.priority.level.slice(1)), reason: record.priority.reason }
      : null,
  };
}

function hostFields(host: HostRecord): Doc {
  return {
    id: host.id,
    name: host.name,
    hostname: host.name,
    architecture: host.arch ?? null,
    ip: host.ip && host.ip.length > 0 ? host.ip : null,
    os: {
      type: 'linux',
      platform: host.os.id || null,
      family: host.os.id_like?.[0] ?? (host.os.id || null),
      full: host.os.pretty_name || null,
      version: host.os.version_id || null,
      kernel: host.kernel,
    },
  };
}

function patchloopHostFields(host: HostRecord): Doc {
  return { group: host.group ?? null, tags: host.tags ?? [], os_codename: host.os.codename || null };
}

function agentFields(agent: AgentRecord | null | undefined): Doc | null {
  if (!agent) return null;
  return { id: agent.id, name: agent.name ?? null, type: 'patchloop', version: agent.version };
}

/** Drops null/undefined members (recursively): absent facts are absent fields, not nulls. */
export function compact(value: Doc): Doc {
  const out: Doc = {};
  for (const [key, member] of Object.entries(value)) {
    if (member === null || member === undefined) continue;
    if (typeof member === 'object' && !Array.isArray(member)) {
      const inner = compact(member as Doc);
      if (Object.keys(inner).length > 0) out[key] = inner;
    } else if (Array.isArray(member)) {
      out[key] = member.map((m) => (m && typeof m === 'object' && !Array.isArray(m) ? compact(m as Doc) : m));
    } else {
      out[key] = member;
    }
  }
  return out;
}

function digest(parts: readonly string[]): string {
  return createHash('sha256').update(JSON.stringify(parts)).digest('hex');
}

/** One spelling per instant, so `...Z` and `+00:00` forms of the same time give one id. */
function instant(timestamp: string): string {
  return new Date(Date.parse(timestamp)).toISOString();
}
