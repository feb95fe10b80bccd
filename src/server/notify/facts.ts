// KEV and priority of a finding for rule filters and messages: the vulnerability DB's
// enrichment (KEV catalogue, EPSS) and core/priority.ts, as the findings API derives them.
import { priorityOf } from '../../core/priority.ts';
import type { VulnDb } from '../../vulndb/reader.ts';
import type { FindingFacts } from './sources.ts';

export function vulnDbFacts(current: () => VulnDb): FindingFacts {
  return ({ vulnerability, severity, status }) => {
    const db = current();
    const e = db.enrichment(vulnerability);
    // Without any KEV data, "not known exploited" cannot be told from "not known".
    const kev = e?.kev ? true : db.hasEnrichment() ? false : null;
    const priority = status === null ? null : priorityOf({ severity, status, kev: e?.kev, epss: e?.epss }).level;
    return { kev, priority };
  };
}
