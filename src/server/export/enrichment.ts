// What the export adds to finding documents from the server's vulnerability DB: KEV, EPSS and the
// priority (patchloop.*), the leading CVSS score (ECS vulnerability.score) — the same the API
// shows (server/enrichment.ts). New KEV or EPSS data changes no finding row, so the exporter
// sends the open findings again when the vulnerability DB it ranks with is another one.
import { leadingCvss } from '../../core/severity.ts';
import { FINDING_STATUSES, type FindingStatus } from '../../core/types.ts';
import type { FindingRecord, VulnerabilityRecord } from '../../export/records.ts';
import { DEFAULT_PRIORITY_CONFIG, type PriorityConfig } from '../../core/priority.ts';
import { enrichmentOf, existingEnrichment } from '../enrichment.ts';
import type { Store } from '../store/store.ts';
import { VulnDbHolder } from '../vulndb-holder.ts';

/**
 * The enrichment of the server this store belongs to; for an exporter run on its own (patchloop
 * elastic export), one over the data directory's vulnerability DB with the server configuration's
 * priority rule (the default rule when none is given), so its documents rank as the server's do.
 */
export function exportEnrichment(
  store: Store,
  dataDir: string,
  priority: PriorityConfig = DEFAULT_PRIORITY_CONFIG,
): void {
  if (!existingEnrichment(store)) enrichmentOf({ store, vulndb: new VulnDbHolder(dataDir), config: { priority } });
}

/** The fields of a finding document from enrichment (none when the store has no enrichment). */
export function enrichedFields(
  store: Store,
  vulnId: number,
  severity: number,
  status: FindingStatus,
): { vulnerability: Partial<VulnerabilityRecord>; finding: Partial<FindingRecord> } {
  const x = existingEnrichment(store);
  if (!x) return { vulnerability: {}, finding: {} };
  const e = x.of(vulnId);
  const cvss = leadingCvss(e.cvss);
  return {
    vulnerability: cvss ? { score: { base: cvss.score, version: cvss.version }, score_vector: cvss.vector } : {},
    finding: {
      kev: e.kev ?? null,
      epss: e.epss ?? null,
      priority: x.priority(vulnId, severity, FINDING_STATUSES.indexOf(status)),
    },
  };
}

/** Identifies the vulnerability data documents are ranked with; null without enrichment. */
export function enrichmentVersion(store: Store): string | null {
  return existingEnrichment(store)?.fingerprint() ?? null;
}
