// Agent versions across the fleet against the newest version the server's repository
// publishes: how many hosts run it, and every version in use with its host count. One grouped
// query over the hosts table (each host's last report names its agent's version).
import { z } from 'zod';
import { rpmvercmp } from '../../core/version/rpm.ts';
import type { Store } from '../store/store.ts';

export const AgentVersionsSchema = z.object({
  /** The newest patchloop version the repository publishes (null: it publishes none). */
  latest: z.string().nullable(),
  hosts: z.number().int(),
  /** Hosts whose agent runs `latest`. */
  on_latest: z.number().int(),
  /** Hosts whose agent is older than `latest`. */
  outdated: z.number().int(),
  /** Every version in use, newest first; null: hosts that never reported. */
  versions: z.array(z.object({ version: z.string().nullable(), hosts: z.number().int(), latest: z.boolean() })),
});
export type AgentVersions = z.infer<typeof AgentVersionsSchema>;

export function agentVersions(store: Store, latest: string | null): AgentVersions {
  const rows = store.all<{ version: string | null; hosts: number }>(
    'SELECT agent_version AS version, count(*) AS hosts FROM hosts GROUP BY agent_version',
  );
  const versions = rows
    .map((r) => ({ version: r.version, hosts: r.hosts, latest: latest !== null && r.version === latest }))
    .sort((a, b) => (a.version === null ? 1 : b.version === null ? -1 : rpmvercmp(b.version, a.version)));
  const older = (v: string | null) => latest !== null && v !== null && rpmvercmp(v, latest) < 0;
  return {
    latest,
    hosts: rows.reduce((n, r) => n + r.hosts, 0),
    on_latest: versions.filter((v) => v.latest).reduce((n, v) => n + v.hosts, 0),
    outdated: versions.filter((v) => older(v.version)).reduce((n, v) => n + v.hosts, 0),
    versions,
  };
}
