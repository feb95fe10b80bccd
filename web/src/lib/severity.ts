// The severity and status vocabulary of the API, with the labels the dashboard shows.
import { SEVERITIES, type Severity } from '../../../src/core/types.ts';

export { SEVERITIES };
export type { Severity };

/** The four severities management tracks SLAs and tiles for (negligible/unknown are shown in tables). */
export const MAIN_SEVERITIES: readonly Severity[] = ['critical', 'high', 'medium', 'low'];

export const SEVERITY_LABEL: Record<Severity, string> = {
  critical: 'Critical',
  high: 'High',
  medium: 'Medium',
  low: 'Low',
  negligible: 'Negligible',
  unknown: 'Unknown',
};

export const STATUS_LABEL: Record<string, string> = {
  fixed: 'Fix available',
  affected: 'No fix yet',
  will_not_fix: 'Will not fix',
  fix_deferred: 'Fix deferred',
  end_of_life: 'End of life',
};

export function isSeverity(s: string | undefined): s is Severity {
  return s !== undefined && (SEVERITIES as readonly string[]).includes(s);
}

export const FINDING_STATUS_OPTIONS: [string, string][] = Object.entries(STATUS_LABEL);
