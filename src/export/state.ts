// Upkeep of the state index beyond upserts: purge resolved findings after their retention
// period and findings of hosts that stopped reporting, and drop a removed host entirely.
// Lifecycle policies cannot do this: they act on whole indices, not on documents.
import { z } from 'zod';
import type { SearchClient } from './client.ts';
import type { ExportNames } from './names.ts';

export interface PurgeOptions {
  /** Delete `resolved` findings fixed before this instant (ISO 8601). */
  resolvedBefore: string;
  /** Delete `stale` findings (host no longer reporting) last seen before this instant. */
  staleBefore?: string;
  refresh?: boolean;
}

const deleteByQuerySchema = z.object({ deleted: z.number(), failures: z.array(z.unknown()).optional() });

export async function purgeFindings(
  client: SearchClient,
  names: ExportNames,
  options: PurgeOptions,
): Promise<{ deleted: number }> {
  const clauses: unknown[] = [
    {
      bool: {
        filter: [
          { term: { 'patchloop.state': 'resolved' } },
          { range: { 'patchloop.fixed_at': { lt: instant(options.resolvedBefore) } } },
        ],
      },
    },
  ];
  if (options.staleBefore) {
    clauses.push({
      bool: {
        filter: [
          { term: { 'patchloop.state': 'stale' } },
          { range: { 'patchloop.last_seen': { lt: instant(options.staleBefore) } } },
        ],
      },
    });
  }
  return deleteByQuery(client, names, { bool: { should: clauses, minimum_should_match: 1 } }, options.refresh);
}

/** Removes every state document of one host (the host was deleted from the fleet). */
export async function deleteHostFindings(
  client: SearchClient,
  names: ExportNames,
  hostId: string,
  refresh?: boolean,
): Promise<{ deleted: number }> {
  return deleteByQuery(client, names, { term: { 'host.id': hostId } }, refresh);
}

/**
 * Removes hosts entirely: their finding documents and their host state documents (the hosts
 * were removed from the fleet, or their ids are about to be reused).
 */
export async function deleteHosts(
  client: SearchClient,
  names: ExportNames,
  hostIds: readonly string[],
  refresh?: boolean,
): Promise<{ deleted: number }> {
  if (hostIds.length === 0) return { deleted: 0 };
  return deleteByQuery(client, names, { terms: { 'host.id': [...hostIds] } }, refresh, [names.findings, names.hosts]);
}

async function deleteByQuery(
  client: SearchClient,
  names: ExportNames,
  query: unknown,
  refresh?: boolean,
  targets = [names.findings],
): Promise<{ deleted: number }> {
  const response = await client.request({
    method: 'POST',
    path: `/${targets.map(encodeURIComponent).join(',')}/_delete_by_query`,
    // proceed: a finding re-exported meanwhile is newer than the purge decision; keep it.
    query: { conflicts: 'proceed', refresh: refresh ? 'true' : undefined },
    body: { query },
  });
  const parsed = deleteByQuerySchema.safeParse(response.body);
  if (!parsed.success) throw new Error(`_delete_by_query on ${targets.join(',')}: unexpected answer`);
  if (parsed.data.failures && parsed.data.failures.length > 0) {
    throw new Error(
      `_delete_by_query on ${targets.join(',')}: ${parsed.data.failures.length} failures, first: ${JSON.stringify(parsed.data.failures[0]).slice(0, 300)}`,
    );
  }
  return { deleted: parsed.data.deleted };
}

function instant(value: string): string {
  const ms = Date.parse(value);
  if (!Number.isFinite(ms)) throw new Error(`"${value}" is not a timestamp`);
  return new Date(ms).toISOString();
}
