// Exceptions: rules that take findings out of the open counts (an accepted risk, a false positive,
// a mitigation, a fix planned for later). One pure module used by the server (the fleet's rules)
// and by standalone scans (.patchloop-ignore.yaml), so a rule means the same thing in both. No I/O.
import { z } from 'zod';
import { SEVERITIES, type Severity } from './types.ts';
import { cveOf, normaliseVulnId } from './vuln-id.ts';

export const EXCEPTION_KINDS = ['accepted_risk', 'false_positive', 'mitigated', 'will_fix_later'] as const;
export type ExceptionKind = (typeof EXCEPTION_KINDS)[number];

/** Default and largest allowed time from a rule's making to its expiry (server.yaml exceptions.max_days). */
export const DEFAULT_MAX_EXCEPTION_DAYS = 180;

/** One word of the scope: a name as findings and hosts carry it, never a pattern. */
const scopeWord = (what: string) =>
  z
    .string()
    .trim()
    .min(1)
    .max(200)
    .refine((s) => !/[*?[\]]/.test(s), { message: `${what}: wildcards are not allowed (name one ${what})` })
    .refine((s) => !/\s/.test(s), { message: `${what}: one name, without spaces` });

/**
 * What a rule covers. Every field given must match (they combine); at least one is needed.
 * vulnerability: an id or any alias or advisory of it; package: a binary or source package name;
 * version: that package's installed version (binary) or source version, exactly (with package
 * only: a statement about one build, as OpenVEX products name them); host: a hostname; group: a
 * host group; tag: a host tag.
 */
export const ExceptionScopeSchema = z
  .object({
    vulnerability: scopeWord('vulnerability').optional(),
    package: scopeWord('package').optional(),
    version: scopeWord('version').optional(),
    host: scopeWord('host').optional(),
    group: scopeWord('group').optional(),
    tag: scopeWord('tag').optional(),
  })
  .strict()
  .refine((s) => Object.values(s).some((v) => v !== undefined), {
    message: 'a scope needs at least one of vulnerability, package, host, group, tag',
  })
  .refine((s) => s.version === undefined || s.package !== undefined, {
    message: 'a version needs the package it is a version of',
  });
export type ExceptionScope = z.infer<typeof ExceptionScopeSchema>;

/** The fields a person writes for a rule (API body, ignore file entry, imported statement). */
export const ExceptionFieldsSchema = z
  .object({
    scope: ExceptionScopeSchema,
    kind: z.enum(EXCEPTION_KINDS),
    justification: z.string().trim().min(1, 'a justification is required').max(4000),
    owner: z.string().trim().min(1).max(200).optional(),
    /** ISO 8601 time (or date: its end in UTC). Required for accepted_risk. */
    expires_at: z.iso.datetime({ offset: true }).or(z.iso.date()).optional(),
    /** Keep hiding findings whose severity rose after the rule was made (by default they reopen). */
    cover_escalation: z.boolean().default(false),
  })
  .strict();
export type ExceptionFields = z.input<typeof ExceptionFieldsSchema>;

/** Milliseconds of an expiry as written: a date means the end of that day (UTC). */
export function expiryMs(expires: string): number {
  return /^\d{4}-\d{2}-\d{2}$/.test(expires) ? Date.parse(`${expires}T23:59:59.999Z`) : Date.parse(expires);
}

/**
 * Problems with a rule's expiry made at `now`: required for accepted risks, in the future, and at
 * most `maxDays` away. Empty when it is fine.
 */
export function expiryProblems(
  kind: ExceptionKind,
  expiresAt: number | null,
  now: number,
  maxDays: number = DEFAULT_MAX_EXCEPTION_DAYS,
): string[] {
  if (expiresAt === null) return kind === 'accepted_risk' ? ['an accepted risk needs an expiry (expires_at)'] : [];
  if (!Number.isFinite(expiresAt)) return ['expires_at is not a valid time'];
  if (expiresAt <= now) return ['expires_at is in the past'];
  if (expiresAt > now + maxDays * 86_400_000)
    return [`expires_at is more than ${maxDays} days away (the most allowed)`];
  return [];
}

/** What a finding (an exposure) offers a rule to match. */
export interface ExceptionTarget {
  /** The vulnerability's id, its aliases and the advisories naming it. */
  vulnIds: readonly string[];
  /** Binary packages and the source package, with their installed (source) versions. */
  packages: readonly { name: string; version: string }[];
  hostname: string;
  group: string;
  tags: readonly string[];
}

/** A rule as matching needs it. */
export interface MatchableRule {
  scope: ExceptionScope;
}

const upper = (s: string): string => normaliseVulnId(s).toUpperCase();

/** Whether a rule's scope covers a target: every field it gives matches (ids in any case, CVE suffixes ignored). */
export function scopeMatches(scope: ExceptionScope, t: ExceptionTarget): boolean {
  if (scope.vulnerability !== undefined) {
    const want = upper(scope.vulnerability);
    if (!t.vulnIds.some((id) => upper(id) === want)) return false;
  }
  if (
    scope.package !== undefined &&
    !t.packages.some((p) => p.name === scope.package && (scope.version === undefined || p.version === scope.version))
  )
    return false;
  if (scope.host !== undefined && t.hostname !== scope.host) return false;
  if (scope.group !== undefined && t.group !== scope.group) return false;
  if (scope.tag !== undefined && !t.tags.includes(scope.tag)) return false;
  return true;
}

/** The first rule (in the order given: oldest first) covering a target. */
export function ruleFor<R extends MatchableRule>(rules: readonly R[], t: ExceptionTarget): R | undefined {
  return rules.find((r) => scopeMatches(r.scope, t));
}

/**
 * Whether a rule still holds a finding it took out when the finding was `baseline` severe: not
 * when the severity rose since, unless the rule covers escalations. (Severities are ordered most
 * severe first; `unknown` counts as the least.)
 */
export function stillCovers(rule: { cover_escalation: boolean }, baseline: Severity, now: Severity): boolean {
  return rule.cover_escalation || SEVERITIES.indexOf(now) >= SEVERITIES.indexOf(baseline);
}

/** Whether a vulnerability id names one vulnerability (a CVE or an advisory id), for scope checks of imports. */
export function isVulnerabilityId(id: string): boolean {
  return cveOf(id) !== null || /^[A-Z][A-Z0-9]*-[A-Za-z0-9:._-]+$/i.test(id);
}
