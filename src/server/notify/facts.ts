// KEV and priority of a finding for rule filters and messages, ranked as the findings API ranks
// them: the server's enrichment (enrichment.ts: the vulnerability DB's KEV catalogue and EPSS
// scores, the priority rule of server.yaml).
import type { ServerEnrichment } from '../enrichment.ts';
import type { FindingFacts } from './sources.ts';

export function serverFacts(enrichment: ServerEnrichment, hasEnrichment: () => boolean): FindingFacts {
  return ({ vulnId, severity, status }) => ({
    // Without any enrichment data, "not known exploited" cannot be told from "not known".
    kev: enrichment.knownExploited(vulnId) ? true : hasEnrichment() ? false : null,
    priority: status === null ? null : enrichment.priority(vulnId, severity, status).level,
  });
}
