// `.patchloop-ignore.yaml`: exceptions for standalone scans (`scan --ignore-file FILE`), with the
// fields and rules of the server's (core/exceptions.ts): a scope, a kind, a justification, an
// owner, an expiry (required for accepted risks, at most 180 days away). Findings an entry covers
// leave the report's findings and counts (and --fail-on) and are listed under `excepted` with
// the entry. An expired entry no longer applies and says so in a warning; an entry written when
// a finding was less severe (its `severity`), or not known exploited (`known_exploited: false`),
// does not hide it once that rose, unless it covers escalations.
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { validateYamlText } from '../config/yaml-lines.ts';
import { PatchloopError } from '../core/errors.ts';
import {
  DEFAULT_MAX_EXCEPTION_DAYS,
  ExceptionFieldsSchema,
  expiryMs,
  expiryProblems,
  scopeMatches,
  stillCovers,
} from '../core/exceptions.ts';
import { SEVERITIES, type Finding, type Severity } from '../core/types.ts';
import { summarise, type ScanReport } from './report.ts';

export const IGNORE_FILE_NAME = '.patchloop-ignore.yaml';

const IgnoreEntrySchema = ExceptionFieldsSchema.extend({
  /** The finding's severity when the entry was written: a higher one is not hidden (unless cover_escalation). */
  severity: z.enum(SEVERITIES as [Severity, ...Severity[]]).optional(),
  /** false: written when the vulnerability was not known exploited; once it is, the entry no longer hides it. */
  known_exploited: z.boolean().optional(),
});

export const IgnoreFileSchema = z.object({ exceptions: z.array(IgnoreEntrySchema).max(10_000) }).strict();
export type IgnoreEntry = z.output<typeof IgnoreEntrySchema>;

/** A finding an entry took out of the report, with the entry (its position in the file, 1-based). */
export type ExceptedFinding = Finding & {
  exception: {
    entry: number;
    kind: IgnoreEntry['kind'];
    justification: string;
    owner: string | null;
    expires_at: string | null;
  };
};

/** Reads and checks an ignore file; every problem names the file and line (a usage error). */
export function readIgnoreFile(file: string): IgnoreEntry[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new PatchloopError('PL_E_USAGE', `cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? err}`);
  }
  const r = validateYamlText(IgnoreFileSchema, text);
  if (r.ok) return r.data.exceptions;
  const problems = r.issues.map(
    (i) => `  ${file}${i.line === null ? '' : `:${i.line}`}: ${i.path ? `${i.path}: ` : ''}${i.message}`,
  );
  throw new PatchloopError('PL_E_USAGE', `${file} is invalid:\n${problems.join('\n')}`);
}

/** Whether an entry still hides a finding whose severity or KEV status may have risen since it was written. */
function holds(e: IgnoreEntry, f: Finding): boolean {
  if (e.cover_escalation) return true;
  if (e.severity !== undefined && !stillCovers(e, e.severity, f.severity)) return false;
  if (e.known_exploited === false && f.kev) return false;
  return true;
}

/**
 * The report with the entries applied at `now`: covered findings moved to `excepted`, counts
 * recomputed, a warning for each entry that expired or whose expiry is wrong, and for findings an
 * entry no longer hides because they became more severe or known exploited.
 */
export function applyIgnoreEntries(
  report: ScanReport,
  entries: IgnoreEntry[],
  now: number,
  file = IGNORE_FILE_NAME,
): ScanReport & { excepted: ExceptedFinding[] } {
  const warnings = [...report.warnings];
  const live: { e: IgnoreEntry; n: number; expires: number | null }[] = [];
  entries.forEach((e, i) => {
    const n = i + 1;
    const expires = e.expires_at === undefined ? null : expiryMs(e.expires_at);
    if (expires !== null && expires <= now) {
      warnings.push(`${file}: entry ${n} (${scopeText(e)}) expired on ${e.expires_at}: it no longer applies`);
      return;
    }
    // The expiry is checked as the server checks a new rule: required for accepted risks, bounded.
    const problems = expiryProblems(e.kind, expires, now, DEFAULT_MAX_EXCEPTION_DAYS);
    if (problems.length) {
      warnings.push(`${file}: entry ${n} (${scopeText(e)}) does not apply: ${problems.join('; ')}`);
      return;
    }
    if (e.scope.group !== undefined || e.scope.tag !== undefined)
      warnings.push(`${file}: entry ${n}: group and tag name hosts of a server's fleet; a standalone scan has neither`);
    live.push({ e, n, expires });
  });
  const hostname = report.host.hostname ?? '';
  const kept: Finding[] = [];
  const excepted: ExceptedFinding[] = [];
  for (const f of report.findings) {
    const target = {
      vulnIds: [f.id, ...f.aliases, ...f.advisory_ids],
      packages: [
        { name: f.package.name, version: f.package.version },
        { name: f.package.source, version: f.package.source_version },
      ],
      hostname,
      group: '',
      tags: [],
    };
    const covering = live.filter((l) => scopeMatches(l.e.scope, target));
    const entry = covering.find((l) => holds(l.e, f));
    if (!entry) {
      // Once per exposure (vulnerability and source package), not per binary package.
      const outgrown = covering.length
        ? `${file}: entry ${covering[0].n} no longer hides ${f.id} in ${f.package.source}: it became ${f.kev ? 'known exploited' : f.severity} since`
        : null;
      if (outgrown && !warnings.includes(outgrown)) warnings.push(outgrown);
      kept.push(f);
      continue;
    }
    excepted.push({
      ...f,
      exception: {
        entry: entry.n,
        kind: entry.e.kind,
        justification: entry.e.justification,
        owner: entry.e.owner ?? null,
        expires_at: entry.expires === null ? null : new Date(entry.expires).toISOString(),
      },
    });
  }
  return { ...report, warnings, summary: summarise(kept), findings: kept, excepted };
}

function scopeText(e: IgnoreEntry): string {
  return Object.entries(e.scope)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');
}
