// Ring membership and run evidence for a policy's group, from the store: which ring each host
// of the group is in, and the real runs (not skips, not dry runs) each host reported recently.
// core/policy's ringGate and hostOutlook decide from these.
import {
  ringGate,
  ringOf,
  type GateDecision,
  type HostHistory,
  type PatchPolicy,
  type RunEvidence,
} from '../../core/policy/index.ts';
import type { Store } from '../store/store.ts';

const HOUR = 3_600_000;

export interface HostInfo {
  id: number;
  hostname: string;
  group: string;
  tags: string[];
  last_scan_id: number | null;
}

export function hostInfo(store: Store, id: number): HostInfo | null {
  const r = store.get<{ id: number; hostname: string; grp: string; tags: string; last_scan_id: number | null }>(
    'SELECT id, hostname, grp, tags, last_scan_id FROM hosts WHERE id = ?',
    id,
  );
  return r
    ? {
        id: r.id,
        hostname: r.hostname,
        group: r.grp,
        tags: JSON.parse(r.tags) as string[],
        last_scan_id: r.last_scan_id,
      }
    : null;
}

export interface GroupRings {
  /** Hosts of each ring, by ring index; hosts no ring selects are left out. */
  members: HostInfo[][];
  histories: HostHistory[][];
}

/** The hosts of a group, by host name. */
export function groupHosts(store: Store, group: string): HostInfo[] {
  return store
    .all<{ id: number; hostname: string; grp: string; tags: string; last_scan_id: number | null }>(
      'SELECT id, hostname, grp, tags, last_scan_id FROM hosts WHERE grp = ? ORDER BY hostname, id',
      group,
    )
    .map((r) => ({
      id: r.id,
      hostname: r.hostname,
      group: r.grp,
      tags: JSON.parse(r.tags) as string[],
      last_scan_id: r.last_scan_id,
    }));
}

export function groupRings(store: Store, policy: PatchPolicy, now: number): GroupRings {
  const hosts = groupHosts(store, policy.group);
  // Evidence older than a ring's limit does not count, but a healthy streak may have begun
  // before it: load enough to see the start of a streak as long as the longest soak.
  const hours =
    Math.max(...policy.rings.map((r) => r.evidence_max_age_hours)) + Math.max(...policy.rings.map((r) => r.soak_hours));
  const runs = new Map<number, RunEvidence[]>();
  for (const r of store.all<{
    host_id: number;
    finished_ms: number;
    outcome: RunEvidence['outcome'];
    reboot_status: string;
    back_at: number | null;
  }>(
    `SELECT host_id, finished_ms, outcome, reboot_status, back_at FROM patch_runs
      WHERE host_id IN (SELECT id FROM hosts WHERE grp = ?) AND outcome NOT IN ('skipped', 'dry_run') AND finished_ms >= ?
      ORDER BY finished_ms`,
    policy.group,
    now - hours * HOUR,
  )) {
    let list = runs.get(r.host_id);
    if (!list) runs.set(r.host_id, (list = []));
    list.push({
      finished_at: new Date(r.finished_ms).toISOString(),
      outcome: r.outcome,
      reboot: { status: r.reboot_status, back_at: r.back_at === null ? null : new Date(r.back_at).toISOString() },
    });
  }
  const members: HostInfo[][] = policy.rings.map(() => []);
  const histories: HostHistory[][] = policy.rings.map(() => []);
  for (const h of hosts) {
    const i = ringOf(policy, h);
    if (i < 0) continue;
    members[i].push(h);
    histories[i].push({ host: h.hostname, runs: runs.get(h.id) ?? [] });
  }
  return { members, histories };
}

export function gateFor(policy: PatchPolicy, rings: GroupRings, ringIndex: number, now: number): GateDecision {
  return ringGate(policy, ringIndex, rings.histories, now);
}
