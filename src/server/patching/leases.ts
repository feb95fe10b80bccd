// Reboot leases: the per-group counting semaphore (core/policy decideLease) kept in the store.
// All decisions happen inside one store transaction, and the server handles requests on one
// thread, so two hosts can never both take the last slot. A lease that is neither renewed nor
// released expires after the policy's TTL and stops counting: a host that died while rebooting
// does not hold its group's slot forever.
import { randomUUID } from 'node:crypto';
import { decideLease, nextWindow, rebootAllowedNow, type Lease, type PatchPolicy } from '../../core/policy/index.ts';
import { counted } from '../../core/plural.ts';
import { HttpError } from '../http/errors.ts';
import type { Store } from '../store/store.ts';
import type { HostInfo } from './rings.ts';

interface LeaseRow {
  id: string;
  grp: string;
  host_id: number;
  run_id: string;
  requested_at: number;
  granted_at: number;
  expires_at: number;
  released_at: number | null;
}

export type AcquireResult =
  | { granted: true; lease_id: string; expires_at: string; renewed: boolean }
  | { granted: false; retry_at: string; reason: string };

const iso = (t: number): string => new Date(t).toISOString();

function liveRows(store: Store, group: string, now: number): LeaseRow[] {
  return store.all<LeaseRow>(
    'SELECT * FROM reboot_leases WHERE grp = ? AND released_at IS NULL AND expires_at > ? ORDER BY granted_at',
    group,
    now,
  );
}

/**
 * A slot for `host` in its group. The server's policy decides: K (max_concurrent), the TTL
 * (the agent's ttl_seconds can only shorten it), and whether a reboot may happen now at all.
 */
export function acquireLease(
  store: Store,
  host: HostInfo,
  policy: PatchPolicy,
  req: { run_id: string; ttl_seconds?: number },
): AcquireResult {
  if (policy.reboot.mode === 'never')
    throw new HttpError(
      'PL_E_CONFLICT',
      `policy ${policy.name} v${policy.version} never reboots hosts of ${policy.group}`,
    );
  return store.tx(() => {
    const now = store.clock.now();
    const allowed = rebootAllowedNow(policy, now);
    if (!allowed.allowed) {
      const next = nextWindow(policy.schedule.windows, now);
      return wait(store, host, req.run_id, now, next ? next.start : now + 3_600_000, allowed.reason);
    }
    const ttlMinutes = Math.min(
      policy.reboot.lease_ttl_minutes,
      req.ttl_seconds !== undefined ? req.ttl_seconds / 60 : Infinity,
    );
    const rows = liveRows(store, host.group, now);
    const leases: Lease[] = rows.map((r) => ({
      lease_id: r.id,
      host: String(r.host_id),
      acquired_at: iso(r.granted_at),
      expires_at: iso(r.expires_at),
    }));
    const d = decideLease(
      leases,
      { host: String(host.id), now, newId: randomUUID() },
      { max_concurrent: policy.reboot.max_concurrent, lease_ttl_minutes: ttlMinutes },
    );
    if (!d.granted) {
      const names = store
        .all<{ hostname: string }>(
          `SELECT hostname FROM hosts WHERE id IN (${rows.map(() => '?').join(',')})`,
          ...rows.map((r) => r.host_id),
        )
        .map((r) => r.hostname);
      return wait(
        store,
        host,
        req.run_id,
        now,
        Date.parse(d.retry_at),
        `${rows.length} of ${counted(policy.reboot.max_concurrent, 'reboot slot')} of ${host.group} taken (${names.join(', ')})`,
      );
    }
    const expires = Date.parse(d.lease.expires_at);
    if (d.renewed) store.run('UPDATE reboot_leases SET expires_at = ? WHERE id = ?', expires, d.lease.lease_id);
    else {
      const waited = store.get<{ requested_at: number }>(
        'SELECT requested_at FROM reboot_waits WHERE host_id = ?',
        host.id,
      );
      store.run(
        'INSERT INTO reboot_leases (id, grp, host_id, run_id, requested_at, granted_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
        d.lease.lease_id,
        host.group,
        host.id,
        req.run_id,
        waited?.requested_at ?? now,
        now,
        expires,
      );
    }
    store.run('DELETE FROM reboot_waits WHERE host_id = ?', host.id);
    return { granted: true, lease_id: d.lease.lease_id, expires_at: d.lease.expires_at, renewed: d.renewed };
  });
}

function wait(
  store: Store,
  host: HostInfo,
  runId: string,
  now: number,
  retryAt: number,
  reason: string,
): AcquireResult {
  store.run(
    `INSERT INTO reboot_waits (host_id, grp, run_id, requested_at, last_request_at, retry_at) VALUES (?, ?, ?, ?, ?, ?)
     ON CONFLICT (host_id) DO UPDATE SET grp = excluded.grp, run_id = excluded.run_id, last_request_at = excluded.last_request_at, retry_at = excluded.retry_at`,
    host.id,
    host.group,
    runId,
    now,
    now,
    retryAt,
  );
  return { granted: false, retry_at: iso(retryAt), reason };
}

/** Extends a live lease of this host by the policy's TTL. 409 when it has expired or was released. */
export function renewLease(
  store: Store,
  host: HostInfo,
  policy: PatchPolicy,
  leaseId: string,
): { lease_id: string; expires_at: string } {
  return store.tx(() => {
    const now = store.clock.now();
    const row = store.get<LeaseRow>('SELECT * FROM reboot_leases WHERE id = ? AND host_id = ?', leaseId, host.id);
    if (!row) throw new HttpError('PL_E_NOT_FOUND', `no reboot lease ${leaseId} of this host`);
    if (row.released_at !== null || row.expires_at <= now) {
      throw new HttpError(
        'PL_E_CONFLICT',
        `reboot lease ${leaseId} ${row.released_at !== null ? 'was released' : `expired at ${iso(row.expires_at)}`}; ask for a new one`,
      );
    }
    const expires = now + policy.reboot.lease_ttl_minutes * 60_000;
    store.run('UPDATE reboot_leases SET expires_at = ? WHERE id = ?', expires, leaseId);
    return { lease_id: leaseId, expires_at: iso(expires) };
  });
}

/** Gives the slot back. Idempotent: false when it was already released or had expired. */
export function releaseLease(store: Store, host: HostInfo, leaseId: string, quiet = false): boolean {
  const row = store.get<LeaseRow>('SELECT * FROM reboot_leases WHERE id = ? AND host_id = ?', leaseId, host.id);
  if (!row) {
    if (quiet) return false;
    throw new HttpError('PL_E_NOT_FOUND', `no reboot lease ${leaseId} of this host`);
  }
  if (row.released_at !== null) return false;
  const now = store.clock.now();
  store.run('UPDATE reboot_leases SET released_at = ? WHERE id = ?', now, leaseId);
  return row.expires_at > now;
}

export interface LeaseView {
  id: string;
  host: { id: number; hostname: string; group: string };
  state: 'held' | 'waiting';
  requested_at: string;
  granted_at: string | null;
  expires_at: string | null;
}

/**
 * Leases in force and hosts waiting for one. A waiting host that has not asked again within a
 * day of its retry time has given up (or was patched otherwise) and is no longer shown.
 */
export function listLeases(store: Store, group?: string): LeaseView[] {
  const now = store.clock.now();
  const g = group === undefined ? '' : 'AND l.grp = ?';
  const args = group === undefined ? [] : [group];
  const held = store
    .all<LeaseRow & { hostname: string }>(
      `SELECT l.*, h.hostname FROM reboot_leases l JOIN hosts h ON h.id = l.host_id WHERE l.released_at IS NULL AND l.expires_at > ? ${g} ORDER BY l.grp, l.granted_at`,
      now,
      ...args,
    )
    .map((r): LeaseView => ({
      id: r.id,
      host: { id: r.host_id, hostname: r.hostname, group: r.grp },
      state: 'held',
      requested_at: iso(r.requested_at),
      granted_at: iso(r.granted_at),
      expires_at: iso(r.expires_at),
    }));
  const waiting = store
    .all<{ host_id: number; grp: string; run_id: string; requested_at: number; hostname: string }>(
      `SELECT l.*, h.hostname FROM reboot_waits l JOIN hosts h ON h.id = l.host_id WHERE l.retry_at > ? ${g} ORDER BY l.grp, l.requested_at`,
      now - 86_400_000,
      ...args,
    )
    .map((r): LeaseView => ({
      id: `wait-${r.host_id}-${r.run_id}`,
      host: { id: r.host_id, hostname: r.hostname, group: r.grp },
      state: 'waiting',
      requested_at: iso(r.requested_at),
      granted_at: null,
      expires_at: null,
    }));
  return [...held, ...waiting];
}
