// Shipping straight from a host to the cluster, without the server: a scan's findings as
// state documents with their history kept across scans (first seen, reopened, resolved), the
// detected / resolved / reopened events between two scans, and patch runs. Everything goes
// through the Spool, so a cluster that is down delays documents and never loses them.
//
// The agent calls `shipScanResults` after each scan and `shipPatchRun` after each patch run;
// a small JSON state file remembers what the previous scan shipped.
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { z } from 'zod';
import type { PatchRun } from '../patch/types.ts';
import type { SearchClient } from './client.ts';
import { findingId, findingItem, patchRunItem, vulnerabilityEventItem } from './ecs.ts';
import type { BulkItem } from './items.ts';
import type { ExportNames } from './names.ts';
import {
  findingRecordSchema,
  type AgentRecord,
  type FindingRecord,
  type HostRecord,
  type PatchRunRecord,
  type VulnerabilityEventRecord,
} from './records.ts';
import { findingRecordsFromScan, type ScanLike, type ScanRecordOptions } from './scan-records.ts';
import { ship, type ShipReport, type Spool } from './spool.ts';

export interface ScanShipOptions extends ScanRecordOptions {
  /** Where the findings shipped last time are kept (JSON). */
  stateFile: string;
  /** Resolved findings are shipped again (and remembered) this long after their fix. */
  resolvedRetentionMs?: number;
}

export interface ScanShipReport extends ShipReport {
  detected: number;
  reopened: number;
  resolved: number;
  open: number;
}

const stateSchema = z.object({ version: z.literal(1), findings: z.array(findingRecordSchema) });

async function readState(file: string): Promise<FindingRecord[]> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new Error(`${file}: not JSON (delete it to start the finding history afresh)`);
  }
  const parsed = stateSchema.safeParse(value);
  if (!parsed.success)
    throw new Error(
      `${file}: not a shipping state: ${parsed.error.issues
        .slice(0, 3)
        .map((i) => `${i.path.join('.')}: ${i.message}`)
        .join('; ')}`,
    );
  return parsed.data.findings;
}

async function writeState(file: string, findings: FindingRecord[]): Promise<void> {
  await mkdir(dirname(file), { recursive: true, mode: 0o700 });
  const temporary = `${file}.tmp`;
  await writeFile(temporary, JSON.stringify({ version: 1, findings }), { mode: 0o600 });
  await rename(temporary, file);
}

const key = (r: FindingRecord): string => findingId(r.host.id, r.package.name, r.package.arch, r.vulnerability.id);

/**
 * The records of this scan joined with the previous one: findings still there keep their
 * first_seen and open period, findings back after a fix are reopened, findings gone are
 * resolved now. Pure (the caller keeps the state).
 */
export function nextScanState(
  previous: readonly FindingRecord[],
  scan: ScanLike,
  options: ScanRecordOptions = {},
  resolvedRetentionMs = 30 * 86_400_000,
) {
  const now = new Date(Date.parse(scan.scanned_at)).toISOString();
  const before = new Map(previous.map((r) => [key(r), r]));
  const current = findingRecordsFromScan(scan, options);
  const events: VulnerabilityEventRecord[] = [];
  const records: FindingRecord[] = [];
  const seen = new Set<string>();
  for (const r of current) {
    const id = key(r);
    seen.add(id);
    const old = before.get(id);
    if (!old) {
      events.push({ action: 'detected', at: now, finding: r });
      records.push(r);
    } else if (old.state === 'resolved') {
      const reopened: FindingRecord = { ...r, first_seen: old.first_seen, opened_at: now, state: 'reopened' };
      events.push({ action: 'reopened', at: now, finding: reopened });
      records.push(reopened);
    } else {
      const openedAt = old.opened_at ?? old.first_seen;
      const days = r.sla_due ? Date.parse(r.sla_due) - Date.parse(r.first_seen) : null;
      records.push({
        ...r,
        first_seen: old.first_seen,
        opened_at: openedAt,
        state: old.state,
        sla_due: days === null ? null : new Date(Date.parse(openedAt) + days).toISOString(),
      });
    }
  }
  for (const [id, old] of before) {
    if (seen.has(id)) continue;
    if (old.state === 'resolved') {
      // Kept (and re-sent unchanged) until its retention ends.
      if (old.fixed_at && Date.parse(now) - Date.parse(old.fixed_at) <= resolvedRetentionMs) records.push(old);
      continue;
    }
    const resolved: FindingRecord = { ...old, state: 'resolved', fixed_at: now, updated_at: now };
    events.push({ action: 'resolved', at: now, finding: resolved });
    records.push(resolved);
  }
  return { records, events };
}

/** Ships one scan's results (state documents and events) through the spool. */
export async function shipScanResults(
  client: SearchClient,
  spool: Spool,
  names: ExportNames,
  scan: ScanLike,
  options: ScanShipOptions,
): Promise<ScanShipReport> {
  const previous = await readState(options.stateFile);
  const { records, events } = nextScanState(previous, scan, options, options.resolvedRetentionMs);
  const items: BulkItem[] = [
    ...records.map((r) => findingItem(r, names)),
    ...events.map((e) => vulnerabilityEventItem(e, names)),
  ];
  let report: ShipReport;
  try {
    report = await ship(client, spool, items);
  } finally {
    // Whatever was not delivered is in the spool now: the next scan builds on this one.
    await writeState(options.stateFile, records);
  }
  const count = (action: string) => events.filter((e) => e.action === action).length;
  return {
    ...report,
    detected: count('detected'),
    reopened: count('reopened'),
    resolved: count('resolved'),
    open: records.filter((r) => r.state !== 'resolved').length,
  };
}

/** How a patch run's outcome reads on the dashboards (success / failure / unknown). */
export function patchOutcome(outcome: PatchRun['outcome']): PatchRunRecord['outcome'] {
  switch (outcome) {
    case 'success':
    case 'nothing_to_do':
      return 'success';
    case 'partial':
    case 'failed':
      return 'failure';
    default:
      return 'unknown';
  }
}

/** The export record of a patch run as the agent reports it (`patchloop.patch-run/v1`). */
export function patchRunRecord(run: PatchRun, host: HostRecord, agent?: AgentRecord | null): PatchRunRecord {
  const actions = {
    upgrade: 'upgrade',
    downgrade: 'upgrade',
    reinstall: 'install',
    install: 'install',
    remove: 'remove',
    purge: 'remove',
  } as const;
  const failed = run.errors.map((e) => `${e.kind}${e.package ? ` ${e.package}` : ''}: ${e.message}`);
  return {
    id: run.id,
    host,
    agent: agent ?? null,
    tool: run.backend,
    started_at: run.started_at,
    ended_at: run.finished_at,
    outcome: patchOutcome(run.outcome),
    result: run.outcome,
    trigger: run.mode === 'collect' ? 'scheduled' : 'manual',
    packages: run.changes.map((c) => ({
      name: c.name,
      arch: c.arch,
      from_version: c.from,
      to_version: c.to,
      action: actions[c.action],
    })),
    reboot_required: run.reboot.required,
    error: failed.length > 0 ? failed.join('; ').slice(0, 4000) : null,
  };
}

/** Ships one patch run (an event: a resend is a no-op). Dry runs are not patch runs and are skipped. */
export async function shipPatchRun(
  client: SearchClient,
  spool: Spool,
  names: ExportNames,
  run: PatchRun,
  host: HostRecord,
  agent?: AgentRecord | null,
): Promise<ShipReport | null> {
  if (run.mode === 'dry_run' || run.outcome === 'dry_run') return null;
  return ship(client, spool, [patchRunItem(patchRunRecord(run, host, agent), names)]);
}
