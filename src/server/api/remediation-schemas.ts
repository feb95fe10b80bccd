// Request and response shapes of the remediation roll-up (queries/remediation.ts).
import { z } from 'zod';
import { PagingQuery, SeveritySchema } from './schemas.ts';

const bool = z.enum(['true', 'false']).transform((v) => v === 'true');

/** What one upgrade closes, on one host or on many. */
const Closes = {
  /** The source package to upgrade (its binaries go with it). */
  source: z.string(),
  /** The version to upgrade to: the highest fixed version among the exposures it closes. */
  fixed_version: z.string(),
  /** Open exposures it closes (one per host, vulnerability and source package). */
  exposures: z.number().int(),
  /** Distinct vulnerabilities it closes. */
  vulnerabilities: z.number().int(),
  /** Of those, how many are in the known exploited catalogue (CISA KEV). */
  known_exploited: z.number().int(),
  /** The most severe rating among them. */
  severity: SeveritySchema,
  vulnerability_ids: z.array(z.string()),
  /** In words: "upgrade openssl to 3.0.17-1~deb12u3 on 212 hosts: closes 9 vulnerabilities (2 known exploited)". */
  summary: z.string(),
};

/** One line of the fleet's roll-up: a source package, the version to upgrade to, and the hosts that need it. */
export const RemediationSchema = z.object({
  ...Closes,
  /** The hosts' releases (`debian 12`, `almalinux 9`). */
  releases: z.array(z.string()),
  hosts: z.number().int(),
});

/** One upgrade on one host. */
export const HostRemediationSchema = z.object({
  ...Closes,
  /** The source versions installed now. */
  installed_versions: z.array(z.string()),
  /** Open exposures of the same source package that no published version fixes yet (they stay). */
  still_open_without_fix: z.number().int(),
});

export const RemediationQuerySchema = z.object({
  ...PagingQuery,
  /** Part of a source package name. */
  search: z.string().max(200).optional(),
  group: z.string().max(200).optional(),
  /** Only upgrades that close a known exploited vulnerability. */
  kev: bool.optional(),
  sort: z.enum(['impact', 'hosts', 'exposures', 'known_exploited', 'severity', 'source']).default('impact'),
});
