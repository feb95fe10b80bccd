// The tracker JSON's records and their translation into advisory entries (DESIGN.md, "Debian
// matching"): data[source][id].releases[codename] → one entry keyed on the source package.
import { z } from 'zod';
import type { AdvisoryEntry, EntryStatus, Severity } from '../../core/types.ts';

const releaseSchema = z.object({
  status: z.enum(['resolved', 'open', 'undetermined']),
  repositories: z.record(z.string(), z.string()).optional(),
  fixed_version: z.string().min(1).regex(/^\S+$/, 'contains white space').optional(),
  urgency: z.string().optional(),
  nodsa: z.string().optional(),
  nodsa_reason: z.string().optional(),
});
export type TrackerRelease = z.infer<typeof releaseSchema>;

const recordSchema = z.object({
  description: z.string().nullish(),
  scope: z.string().nullish(),
  debianbug: z.number().int().nullish(),
  // PHP-style encoders write an empty object as []; the tracker has such records.
  releases: z.union([z.record(z.string(), z.unknown()), z.array(z.never())]),
});

export const PACKAGE_NAME = /^[a-z0-9][a-z0-9+.-]*$/;
const VULN_ID = /^[A-Za-z0-9][A-Za-z0-9._:-]*$/;
const CODENAME = /^[a-z][a-z0-9-]*$/;

/** Severity from the tracker's urgency (DESIGN.md). */
export function severityOf(urgency: string | undefined): Severity {
  if (!urgency) return 'unknown';
  if (urgency === 'unimportant') return 'negligible';
  if (urgency === 'low' || urgency === 'low*' || urgency === 'low**') return 'low';
  if (urgency.startsWith('medium')) return 'medium';
  if (urgency.startsWith('high')) return 'high';
  return 'unknown';
}

/** The normalised status, or null for "resolved in version 0" (never affected: no entry is kept). */
export function statusOf(r: TrackerRelease): EntryStatus | null {
  switch (r.status) {
    case 'resolved':
      return r.fixed_version === '0' ? null : 'fixed';
    case 'undetermined':
      return 'undetermined';
    case 'open':
      if (r.urgency === 'end-of-life') return 'end_of_life';
      if (r.nodsa_reason === 'ignored') return 'will_not_fix';
      if (r.nodsa_reason === 'postponed') return 'fix_deferred';
      return 'affected';
  }
}

/** The publisher's words: the status, plus the no-dsa decision and its reason when there is one. */
export function rawStatusOf(r: TrackerRelease): string {
  if (r.nodsa === undefined && !r.nodsa_reason) return r.status;
  const kind = r.nodsa_reason || 'no-dsa';
  return r.nodsa ? `${r.status} (${kind}: ${r.nodsa})` : `${r.status} (${kind})`;
}

export interface RecordResult {
  entries: AdvisoryEntry[];
  /** Releases resolved in version "0": never affected, no entry kept. */
  notAffected: number;
  description: string;
  debianbug: number | null;
}

/** Where a problem lies, for warnings. */
export interface RecordPlace {
  file: string;
  line: number;
}

/**
 * Validates and translates one record (`data[pkg][id]`). Returns null when the record as a whole
 * is unusable; a single bad release is skipped. Every problem goes to `warn`, naming package and id.
 */
export function convertRecord(
  pkg: string,
  id: string,
  raw: unknown,
  place: RecordPlace,
  warn: (message: string) => void,
  advisoryIds: (release: string, fixedVersion: string) => string[],
): RecordResult | null {
  const where = `${place.file}:${place.line}: ${pkg} ${id}`;
  if (!VULN_ID.test(id)) {
    warn(`${where}: not a vulnerability id, record skipped`);
    return null;
  }
  const rec = recordSchema.safeParse(raw);
  if (!rec.success) {
    warn(`${where}: malformed record, skipped: ${issues(rec.error)}`);
    return null;
  }
  const result: RecordResult = {
    entries: [],
    notAffected: 0,
    description: rec.data.description ?? '',
    debianbug: rec.data.debianbug ?? null,
  };
  const releases = Array.isArray(rec.data.releases) ? {} : rec.data.releases;
  for (const [codename, rawRelease] of Object.entries(releases)) {
    if (!CODENAME.test(codename)) {
      warn(`${where}: release ${JSON.stringify(codename)} is not a codename, skipped`);
      continue;
    }
    const parsed = releaseSchema.safeParse(rawRelease);
    if (!parsed.success) {
      warn(`${where} (${codename}): malformed release, skipped: ${issues(parsed.error)}`);
      continue;
    }
    const r = parsed.data;
    if (r.status === 'resolved' && r.fixed_version === undefined) {
      warn(`${where} (${codename}): resolved without a fixed_version, skipped`);
      continue;
    }
    const status = statusOf(r);
    if (status === null) {
      result.notAffected++;
      continue;
    }
    const fixed = status === 'fixed' ? (r.fixed_version as string) : null;
    result.entries.push({
      feed: 'debian',
      distro: 'debian',
      release: codename,
      package: pkg,
      key_kind: 'source',
      scheme: 'deb',
      vuln_id: id,
      status,
      raw_status: rawStatusOf(r),
      introduced: null,
      fixed_version: fixed,
      last_affected: null,
      severity: severityOf(r.urgency),
      raw_severity: r.urgency ?? '',
      advisory_ids: fixed ? advisoryIds(codename, fixed) : [],
    });
  }
  return result;
}

function issues(err: z.ZodError): string {
  return err.issues
    .slice(0, 3)
    .map((i) => `${i.path.length ? `${i.path.join('.')}: ` : ''}${i.message}`)
    .join('; ');
}
