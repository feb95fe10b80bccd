// Read side of patching for the dashboard: patch-run pages and summary, ring progress, and a
// host's policy view ("what will happen tonight, and why").
import { describeInstall, hostOutlook, nextWindow, type PatchPolicy } from '../../core/policy/index.ts';
import type { PatchRun } from '../../patch/types.ts';
import type { Page } from '../queries/common.ts';
import type { Store } from '../store/store.ts';
import { policyForGroup } from './policies.ts';
import { gateFor, groupRings, hostInfo, type HostInfo } from './rings.ts';
import { cvesClosed, type RunRow } from './runs.ts';
import type { z } from 'zod';
import type { PatchRunsQuerySchema, PatchRunItemSchema, RingViewSchema, HostPolicyViewSchema } from './schemas.ts';

type RunItem = z.infer<typeof PatchRunItemSchema>;

export function runItem(store: Store, row: RunRow & { hostname: string; grp: string }): RunItem {
  const run = JSON.parse(row.doc) as PatchRun;
  return {
    id: row.id,
    host: { id: row.host_id, hostname: row.hostname, group: row.grp },
    policy: { name: row.policy_name, version: row.policy_version },
    backend: run.backend,
    mode: run.mode,
    started_at: run.started_at,
    finished_at: run.finished_at,
    outcome: run.outcome,
    skip_reason: run.skip_reason,
    changes: run.changes.map((c) => ({
      name: c.name,
      arch: c.arch,
      action: c.action,
      from: c.from,
      to: c.to,
      ok: c.ok,
    })),
    failed_changes: run.changes.filter((c) => !c.ok).length,
    held_back: run.held_back.map((h) => ({ name: h.name, reason: h.reason })),
    errors: run.errors.map((e) => ({ kind: e.kind, where: e.where, package: e.package, message: e.message })),
    reboot: {
      status: run.reboot.status,
      lease_id: run.reboot.lease_id,
      required: run.reboot.required,
      back_at: run.reboot.back_at,
    },
    cves_closed: cvesClosed(store, row),
  };
}

export function listRuns(store: Store, q: z.infer<typeof PatchRunsQuerySchema>): Page<RunItem> {
  const where: string[] = [];
  const params: (string | number)[] = [];
  if (q.host !== undefined) {
    where.push('r.host_id = ?');
    params.push(q.host);
  }
  if (q.group !== undefined) {
    where.push('h.grp = ?');
    params.push(q.group);
  }
  if (q.outcome !== undefined) {
    where.push(`r.outcome IN (${q.outcome.map(() => '?').join(',')})`);
    params.push(...q.outcome);
  }
  if (q.since !== undefined) {
    where.push('r.finished_ms >= ?');
    params.push(q.since);
  }
  const w = where.length ? `WHERE ${where.join(' AND ')}` : '';
  const total = store.get<{ n: number }>(
    `SELECT count(*) AS n FROM patch_runs r JOIN hosts h ON h.id = r.host_id ${w}`,
    ...params,
  )!.n;
  const rows = store.all<RunRow & { hostname: string; grp: string }>(
    `SELECT r.*, h.hostname, h.grp FROM patch_runs r JOIN hosts h ON h.id = r.host_id ${w} ORDER BY r.finished_ms DESC, r.id LIMIT ? OFFSET ?`,
    ...params,
    q.per_page,
    (q.page - 1) * q.per_page,
  );
  return { total, total_exact: true, page: q.page, per_page: q.per_page, items: rows.map((r) => runItem(store, r)) };
}

export function runById(store: Store, id: string): { item: RunItem; run: PatchRun } | null {
  const row = store.get<RunRow & { hostname: string; grp: string }>(
    'SELECT r.*, h.hostname, h.grp FROM patch_runs r JOIN hosts h ON h.id = r.host_id WHERE r.id = ?',
    id,
  );
  return row ? { item: runItem(store, row), run: JSON.parse(row.doc) as PatchRun } : null;
}

const OUTCOMES = ['success', 'nothing_to_do', 'partial', 'failed', 'skipped', 'dry_run'] as const;

/** Runs of the last `days` days by outcome; hosts whose latest run in that time failed or partly failed. */
export function runSummary(store: Store, days: number, group?: string) {
  const since = store.clock.now() - days * 86_400_000;
  const g = group === undefined ? '' : 'AND r.host_id IN (SELECT id FROM hosts WHERE grp = ?)';
  const args = group === undefined ? [since] : [since, group];
  const by_outcome = Object.fromEntries(OUTCOMES.map((o) => [o, 0])) as Record<(typeof OUTCOMES)[number], number>;
  for (const r of store.all<{ outcome: (typeof OUTCOMES)[number]; n: number }>(
    `SELECT outcome, count(*) AS n FROM patch_runs r WHERE finished_ms >= ? ${g} GROUP BY outcome`,
    ...args,
  )) {
    by_outcome[r.outcome] = r.n;
  }
  const hosts_failed = store.get<{ n: number }>(
    `SELECT count(*) AS n FROM (
       SELECT r.host_id, r.outcome, row_number() OVER (PARTITION BY r.host_id ORDER BY r.finished_ms DESC) AS k
         FROM patch_runs r WHERE r.finished_ms >= ? AND r.outcome NOT IN ('skipped', 'dry_run') ${g})
     WHERE k = 1 AND outcome IN ('failed', 'partial')`,
    ...args,
  )!.n;
  const last = store.get<{ t: number | null }>(
    `SELECT max(finished_ms) AS t FROM patch_runs r WHERE 1 = 1 ${g}`,
    ...(group === undefined ? [] : [group]),
  )!.t;
  return { days, by_outcome, hosts_failed, last_at: last === null ? null : new Date(last).toISOString() };
}

/** Every policy's rings: hosts in each, how many patched successfully or failed last, and the gate now. */
export function ringViews(store: Store): z.infer<typeof RingViewSchema>[] {
  const now = store.clock.now();
  const out: z.infer<typeof RingViewSchema>[] = [];
  for (const { name, version, doc } of store.all<{ name: string; version: number; doc: string }>(
    'SELECT name, version, doc FROM policies p WHERE version = (SELECT max(version) FROM policies q WHERE q.name = p.name) ORDER BY name',
  )) {
    const policy = JSON.parse(doc) as PatchPolicy;
    const rings = groupRings(store, policy, now);
    policy.rings.forEach((ring, index) => {
      let patched = 0;
      let failed = 0;
      for (const h of rings.histories[index]) {
        const last = h.runs.at(-1);
        if (last?.outcome === 'success' || last?.outcome === 'nothing_to_do') patched++;
        else if (last?.outcome === 'failed' || last?.outcome === 'partial') failed++;
      }
      const gate = gateFor(policy, rings, index, now);
      out.push({
        policy: name,
        policy_version: version,
        group: policy.group,
        ring: ring.name,
        index,
        hosts: rings.members[index].length,
        patched,
        failed,
        gate,
      });
    });
  }
  return out;
}

/** A host's policy, ring, windows, gate and outlook; null fields when no policy governs its group. */
export function hostPolicyView(store: Store, hostId: number): z.infer<typeof HostPolicyViewSchema> | null {
  const host = hostInfo(store, hostId);
  if (!host) return null;
  return policyView(store, host);
}

export function policyView(store: Store, host: HostInfo): z.infer<typeof HostPolicyViewSchema> {
  const stored = policyForGroup(store, host.group);
  if (!stored) {
    return {
      policy: null,
      ring: null,
      windows: [],
      next_window: null,
      gate: null,
      outlook: null,
      lines: [
        `No policy governs group "${host.group}": ${host.hostname} is not patched by patchloop. An operator creates one on the dashboard's Policies page (or with PUT /api/v1/policies/NAME) naming group "${host.group}".`,
      ],
    };
  }
  const policy = stored.policy;
  const now = store.clock.now();
  const rings = groupRings(store, policy, now);
  const outlook = hostOutlook(policy, host, rings.histories, now);
  const next = nextWindow(policy.schedule.windows, now);
  return {
    policy: { name: stored.name, version: stored.version, group: policy.group },
    ring: outlook.ring,
    windows: policy.schedule.windows,
    next_window: next ? { start: new Date(next.start).toISOString(), end: new Date(next.end).toISOString() } : null,
    gate: outlook.gate,
    outlook: {
      would_install: outlook.will_patch ? describeInstall(policy.install) : null,
      reboot: outlook.reboot,
      will_patch: outlook.will_patch,
      patch_at: outlook.patch_at,
    },
    lines: outlook.lines,
  };
}
