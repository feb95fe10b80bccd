// Drastically shrunken inventories. A host whose report suddenly lists almost no packages
// (a broken package database, a wiped root, an agent pointed at the wrong directory, or a
// forged report) would otherwise "resolve" most of its findings without anyone noticing. Such a
// report is accepted — it may be true — but flagged: an `inventory_shrunk` host event naming
// both counts, and a warning on the host (hosts.inventory_shrunk) that stands while the host
// still has fewer than a fifth of the packages it had before.
import type { Store } from './store.ts';

/** Hosts with fewer packages than this are too small for the rule to mean anything. */
export const SHRINK_MIN_BEFORE = 20;
/** Keeping fewer than this share of the packages (losing more than 80 %) is drastic. */
export const SHRINK_KEEPS_LESS_THAN = 0.2;

export interface InventoryShrunk {
  /** When the shrink was reported (ms), and the scan that reported it. */
  at: number;
  scan_id: number;
  /** Package count before the shrink (the first one, if the host shrank again while flagged). */
  before: number;
  /** Package count now. */
  after: number;
}

export function drasticShrink(before: number, after: number): boolean {
  return before >= SHRINK_MIN_BEFORE && after < before * SHRINK_KEEPS_LESS_THAN;
}

/**
 * Records a drastic shrink as a host event and works out the host's warning after a report:
 * the new value of hosts.inventory_shrunk (JSON, or null once the host has recovered), or
 * undefined when it stays as it is.
 */
export function checkShrink(
  store: Store,
  r: { hostId: number; scanId: number; now: number; before: number; after: number; standing: string | null },
): string | null | undefined {
  const standing = r.standing ? (JSON.parse(r.standing) as InventoryShrunk) : null;
  if (drasticShrink(r.before, r.after)) {
    store.run(
      "INSERT INTO events (at, type, host_id, scan_id, cause, count) VALUES (?, 'inventory_shrunk', ?, ?, ?, 0)",
      r.now,
      r.hostId,
      r.scanId,
      `packages ${r.before} → ${r.after}`,
    );
    const warning: InventoryShrunk = {
      at: r.now,
      scan_id: r.scanId,
      before: Math.max(standing?.before ?? 0, r.before),
      after: r.after,
    };
    return JSON.stringify(warning);
  }
  if (!standing || r.after === standing.after) return undefined;
  if (!drasticShrink(standing.before, r.after)) return null;
  return JSON.stringify({ ...standing, after: r.after });
}
