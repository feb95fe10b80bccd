// Shapes of what the vulnerability DB adds to findings and vulnerabilities (CISA KEV, FIRST
// EPSS, CVSS) and of the priority (core/priority.ts), with the filters on them.
import { z } from 'zod';
import { PRIORITY_LEVELS } from '../../core/types.ts';

export const PriorityLevelSchema = z.enum(PRIORITY_LEVELS as [string, ...string[]]);

export const KevSchema = z.object({
  date_added: z.string(),
  /** The date US federal agencies must remediate by. */
  due_date: z.string(),
  /** Known use in ransomware campaigns (null: not said). */
  ransomware: z.boolean().nullable(),
});

export const EpssSchema = z.object({
  /** Probability of exploitation activity in the next 30 days, 0–1. */
  score: z.number(),
  percentile: z.number(),
  date: z.string().optional(),
});

export const CvssSchema = z.object({
  version: z.string(),
  score: z.number(),
  vector: z.string(),
  source: z.string(),
});

export const PrioritySchema = z.object({
  level: PriorityLevelSchema,
  /** In words: "known exploited, fix available". */
  reason: z.string(),
});

/** What a finding or a vulnerability carries from the vulnerability DB, and its priority. */
export const EnrichmentFields = {
  /** In CISA's Known Exploited Vulnerabilities catalogue; null when not. */
  kev: KevSchema.nullable(),
  epss: EpssSchema.nullable(),
  /** CVSS base scores the feeds carry, newest version first. */
  cvss: z.array(CvssSchema),
  /** The leading CVSS score (newest version, highest score), null when none. */
  cvss_score: z.number().nullable(),
  priority: PrioritySchema,
};

export const PriorityCountsSchema = z.object({
  P1: z.number().int(),
  P2: z.number().int(),
  P3: z.number().int(),
  P4: z.number().int(),
});

const bool = z.enum(['true', 'false']).transform((v) => v === 'true');

/** Filters on enrichment and priority, for the findings and vulnerabilities lists. */
export const EnrichmentFilters = {
  /** Only known exploited (true) or only not known exploited (false). */
  kev: bool.optional(),
  /** Priority levels, comma-separated (`P1` or `P1,P2`). */
  priority: z
    .string()
    .transform((s) =>
      s
        .split(',')
        .map((x) => x.trim().toUpperCase())
        .filter(Boolean),
    )
    .pipe(z.array(PriorityLevelSchema).min(1))
    .optional(),
  /** EPSS score at least this (0–1). */
  min_epss: z
    .string()
    .regex(/^(0(\.[0-9]{1,6})?|1(\.0{1,6})?|\.[0-9]{1,6})$/, 'expected a number from 0 to 1')
    .transform(Number)
    .optional(),
};

/** The overview's tile: known exploited vulnerabilities open in the fleet, and the hosts they are on. */
export const KnownExploitedOpenSchema = z.object({
  /** Open exposures of known exploited vulnerabilities. */
  open: z.number().int(),
  vulnerabilities: z.number().int(),
  hosts: z.number().int(),
  /** The first hosts (by id), for links. */
  host_list: z.array(z.object({ id: z.number().int(), hostname: z.string() })),
});
