// Publishers' own severity words → patchloop's one severity vocabulary (DESIGN.md), and the
// CVSS v3 base score for records that carry nothing better.
import type { Severity } from '../../core/types.ts';

import { cvssBaseScore } from './cvss.ts';

export { fromCvssScore } from '../../core/severity.ts';

/** A publisher's rating words (lower case) → severity; any other word is `unknown`. */
function ratingScale(words: Readonly<Record<string, Severity>>): (word: string) => Severity {
  return (word) => {
    const w = word.trim().toLowerCase();
    return Object.hasOwn(words, w) ? words[w] : 'unknown';
  };
}

/** Red Hat impact (also used by AlmaLinux and Rocky): Low/Moderate/Important/Critical. */
export const fromRedHatImpact = ratingScale({
  critical: 'critical',
  important: 'high',
  moderate: 'medium',
  low: 'low',
});

/**
 * Amazon Linux (ALAS) severity: Low/Medium/Important/Critical, as its updateinfo.xml writes
 * them. Amazon says "Medium" where Red Hat says "Moderate".
 */
export const fromAmazonSeverity = ratingScale({
  critical: 'critical',
  important: 'high',
  medium: 'medium',
  low: 'low',
});

/** Ubuntu priority: negligible/low/medium/high/critical ("untriaged" and the rest: unknown). */
export function fromUbuntuPriority(word: string): Severity {
  const w = word.trim().toLowerCase();
  return w === 'negligible' || w === 'low' || w === 'medium' || w === 'high' || w === 'critical' ? w : 'unknown';
}

/** Generic words as databases write them (GHSA `MODERATE`, `HIGH`, …). */
export function fromSeverityWord(word: string): Severity {
  const w = word.trim().toLowerCase();
  if (w === 'moderate') return 'medium';
  if (w === 'important') return 'high';
  if (w === 'none' || w === 'informational') return 'negligible';
  return w === 'negligible' || w === 'low' || w === 'medium' || w === 'high' || w === 'critical' ? w : 'unknown';
}

/** Base score of a CVSS v3.0/v3.1 vector; null when the vector is not a complete v3 base vector. */
export function cvss3BaseScore(vector: string): number | null {
  const base = cvssBaseScore(vector);
  return base && (base.version === '3.0' || base.version === '3.1') ? base.score : null;
}
