// Host facets for the dashboard's filter selects: the groups, tags and releases in the fleet,
// each with its host count. One grouped query per facet, so it stays cheap on a large fleet.
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { ServerContext } from '../context.ts';
import type { Store } from '../store/store.ts';

export const HostFacetsSchema = z.object({
  /** Every group with hosts (the empty group "" included), by name. */
  groups: z.array(z.object({ name: z.string(), hosts: z.number().int() })),
  /** Every tag on at least one host, by name. */
  tags: z.array(z.object({ name: z.string(), hosts: z.number().int() })),
  /** Every distribution release hosts have reported, by distro then release. */
  releases: z.array(z.object({ distro: z.string(), release: z.string(), hosts: z.number().int() })),
});

export type HostFacets = z.infer<typeof HostFacetsSchema>;

export function hostFacets(store: Store): HostFacets {
  const groups = store.all<{ name: string; hosts: number }>(
    'SELECT grp AS name, count(*) AS hosts FROM hosts GROUP BY grp ORDER BY grp',
  );
  // Counting distinct hosts, not (host, tag) pairs, keeps a tag listed twice on a host from counting twice.
  const tags = store.all<{ name: string; hosts: number }>(
    'SELECT t.value AS name, count(DISTINCT h.id) AS hosts FROM hosts h, json_each(h.tags) t GROUP BY t.value ORDER BY t.value',
  );
  const releases = store.all<{ distro: string; release: string; hosts: number }>(
    'SELECT distro, release, count(*) AS hosts FROM hosts WHERE distro IS NOT NULL AND release IS NOT NULL GROUP BY distro, release ORDER BY distro, release',
  );
  return {
    groups: groups.map((g) => ({ name: g.name, hosts: g.hosts })),
    tags: tags.map((t) => ({ name: String(t.name), hosts: t.hosts })),
    releases: releases.map((r) => ({ distro: r.distro, release: r.release, hosts: r.hosts })),
  };
}

export const facetRoutes =
  (ctx: ServerContext): FastifyPluginAsyncZod =>
  async (app) => {
    app.get(
      '/api/v1/hosts/facets',
      {
        config: { access: 'viewer' },
        schema: {
          summary: 'Groups, tags and releases in the fleet with their host counts (for filters)',
          tags: ['hosts'],
          response: { 200: HostFacetsSchema },
        },
      },
      async () => hostFacets(ctx.store),
    );
  };
