// Rings: which ring a host belongs to, and the ring gate — whether a ring may patch, from
// the run history of the ring before it (healthy, back from reboots, soaked long enough).
import { globMatch } from './glob.ts';
import type { PatchPolicy, Ring } from './schema.ts';
import { HOUR } from './windows.ts';
import { counted } from '../plural.ts';

export interface HostRef {
  hostname: string;
  tags?: readonly string[];
}

/** Index of the ring a host belongs to, or -1 when no ring selects it. */
export function ringOf(policy: PatchPolicy, host: HostRef): number {
  return policy.rings.findIndex((r) => {
    if (r.hosts.length === 0 && r.tags.length === 0) return true;
    return r.hosts.some((g) => globMatch(g, host.hostname)) || r.tags.some((t) => host.tags?.includes(t));
  });
}

/**
 * The part of a patch run that ring gating looks at (a PatchRun record satisfies it).
 * `reboot.status`: see PatchRun; `back_at` is when the host first reported after that reboot.
 */
export interface RunEvidence {
  finished_at: string;
  outcome: 'success' | 'nothing_to_do' | 'partial' | 'failed' | 'skipped' | 'dry_run';
  reboot?: { status: string; back_at?: string | null };
}

export interface HostHistory {
  host: string;
  runs: readonly RunEvidence[];
}

export type GateDecision =
  | { state: 'open'; reasons: string[] }
  /** Healthy so far; opens at `until` unless something fails before. */
  | { state: 'waiting'; until: string; reasons: string[] }
  | { state: 'blocked'; reasons: string[] };

/** Runs that tell something about the host's health: not skips, not dry runs. */
function realRuns(runs: readonly RunEvidence[]): RunEvidence[] {
  return runs
    .filter((r) => r.outcome !== 'skipped' && r.outcome !== 'dry_run')
    .toSorted((a, b) => Date.parse(a.finished_at) - Date.parse(b.finished_at));
}

const REBOOT_PENDING = new Set(['pending_window', 'pending_lease', 'scheduled', 'rebooting']);

/**
 * Since when a host has been healthy: the end of the oldest run in its trailing streak of
 * successful runs (or its return from the last reboot, if later). null with a reason when the
 * host is not healthy. Soaking counts from the start of the streak, so a ring that patches
 * every night still soaks; it measures run health, not the age of individual package versions.
 */
function healthySince(h: HostHistory, now: number, ring: Ring): { since: number } | { reason: string } {
  const runs = realRuns(h.runs).filter((r) => Date.parse(r.finished_at) <= now);
  const last = runs.at(-1);
  if (!last) return { reason: `${h.host} has no patch run yet` };
  if (now - Date.parse(last.finished_at) > ring.evidence_max_age_hours * HOUR) {
    return { reason: `${h.host} last patched ${last.finished_at}, longer ago than ${ring.evidence_max_age_hours} h` };
  }
  if (last.outcome === 'failed' || last.outcome === 'partial') {
    return {
      reason: `${h.host}'s run at ${last.finished_at} ${last.outcome === 'failed' ? 'failed' : 'partly failed'}`,
    };
  }
  const status = last.reboot?.status;
  if (status && REBOOT_PENDING.has(status))
    return { reason: `${h.host} still has to reboot (${status.replace('_', ' ')})` };
  if (status === 'rebooted' && !last.reboot?.back_at)
    return { reason: `${h.host} rebooted after its run at ${last.finished_at} and has not reported back` };
  if (status === 'failed') return { reason: `${h.host}'s reboot after its run at ${last.finished_at} failed` };
  let i = runs.length - 1;
  while (i > 0 && (runs[i - 1].outcome === 'success' || runs[i - 1].outcome === 'nothing_to_do')) i--;
  let since = Date.parse(runs[i].finished_at);
  const back = last.reboot?.back_at ? Date.parse(last.reboot.back_at) : NaN;
  if (back > since) since = back;
  return { since };
}

/**
 * May ring `ringIndex` patch at `now`? Ring 0 always may. A later ring may once every host of
 * the nearest non-empty ring before it has been healthy (last run succeeded, back from any
 * reboot, evidence recent) for that ring's `soak_hours`. `histories[i]` lists ring i's hosts.
 */
export function ringGate(
  policy: PatchPolicy,
  ringIndex: number,
  histories: readonly (readonly HostHistory[])[],
  now: number,
): GateDecision {
  if (ringIndex <= 0) return { state: 'open', reasons: [`ring ${policy.rings[0]?.name ?? 0} goes first`] };
  const ring = policy.rings[ringIndex];
  let prev = ringIndex - 1;
  while (prev >= 0 && (histories[prev]?.length ?? 0) === 0) prev--;
  if (prev < 0) return { state: 'open', reasons: ['no host is in an earlier ring'] };
  const prevName = policy.rings[prev].name;
  const problems: string[] = [];
  let latestSince = -Infinity;
  for (const h of histories[prev]) {
    const health = healthySince(h, now, ring);
    if ('reason' in health) problems.push(health.reason);
    else latestSince = Math.max(latestSince, health.since);
  }
  if (problems.length > 0) {
    return { state: 'blocked', reasons: [`ring ${prevName} is not healthy:`, ...problems] };
  }
  const opensAt = latestSince + ring.soak_hours * HOUR;
  const all = `all ${counted(histories[prev].length, 'host')} of ring ${prevName} patched successfully`;
  if (opensAt > now) {
    return {
      state: 'waiting',
      until: new Date(opensAt).toISOString(),
      reasons: [`${all}; soaking ${ring.soak_hours} h until ${new Date(opensAt).toISOString()}`],
    };
  }
  return { state: 'open', reasons: [`${all} and have been healthy for at least ${ring.soak_hours} h`] };
}
