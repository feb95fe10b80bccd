// Reboot leases: the counting semaphore the server keeps per group, so that at most
// `max_concurrent` hosts reboot at once, and whether a host may start a reboot now.
import type { PatchPolicy, RebootPolicy } from './schema.ts';
import { describeInterval, insideWindow, MINUTE, nextWindow } from './windows.ts';
import { counted } from '../plural.ts';

export interface Lease {
  lease_id: string;
  host: string;
  acquired_at: string;
  expires_at: string;
}

export type LeaseDecision =
  | { granted: true; lease: Lease; renewed: boolean }
  | { granted: false; holders: Lease[]; retry_at: string; reason: string };

/** Leases still in force at `now` (an expired lease no longer counts: its host is presumed dead). */
export function liveLeases(leases: readonly Lease[], now: number): Lease[] {
  return leases.filter((l) => Date.parse(l.expires_at) > now);
}

/**
 * Decides a lease request: a host that already holds a live lease gets it renewed; otherwise
 * it is granted while fewer than `max_concurrent` live leases exist. `newId` names a new lease.
 */
export function decideLease(
  leases: readonly Lease[],
  request: { host: string; now: number; newId: string },
  reboot: Pick<RebootPolicy, 'max_concurrent' | 'lease_ttl_minutes'>,
): LeaseDecision {
  const live = liveLeases(leases, request.now);
  const expires_at = new Date(request.now + reboot.lease_ttl_minutes * MINUTE).toISOString();
  const own = live.find((l) => l.host === request.host);
  if (own) return { granted: true, lease: { ...own, expires_at }, renewed: true };
  if (live.length < reboot.max_concurrent) {
    return {
      granted: true,
      lease: {
        lease_id: request.newId,
        host: request.host,
        acquired_at: new Date(request.now).toISOString(),
        expires_at,
      },
      renewed: false,
    };
  }
  const soonest = Math.min(...live.map((l) => Date.parse(l.expires_at)));
  return {
    granted: false,
    holders: live,
    retry_at: new Date(soonest).toISOString(),
    reason: `${live.length} of ${counted(reboot.max_concurrent, 'reboot slot')} taken (${live.map((l) => l.host).join(', ')})`,
  };
}

/**
 * Whether a host that needs a reboot may start one now (before asking for a lease).
 */
export function rebootAllowedNow(policy: PatchPolicy, now: number): { allowed: boolean; reason: string } {
  if (policy.reboot.mode === 'never') return { allowed: false, reason: 'the policy never reboots' };
  if (policy.reboot.only_in_window && !insideWindow(policy.schedule.windows, now)) {
    const next = nextWindow(policy.schedule.windows, now);
    return {
      allowed: false,
      reason: `outside the maintenance window${next ? `; next opens ${describeInterval(next)}` : ''}`,
    };
  }
  return {
    allowed: true,
    reason: policy.schedule.windows.length === 0 ? 'no maintenance windows: any time' : 'inside the maintenance window',
  };
}
