// Publishers' own severity words → patchloop's one severity vocabulary (DESIGN.md), and the
// CVSS v3 base score for records that carry nothing better.
import type { Severity } from '../../core/types.ts';

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

const V3_WEIGHTS = {
  AV: { N: 0.85, A: 0.62, L: 0.55, P: 0.2 },
  AC: { L: 0.77, H: 0.44 },
  UI: { N: 0.85, R: 0.62 },
  CIA: { H: 0.56, L: 0.22, N: 0 },
} as const;

/** CVSS v3.x `roundup`: the smallest one-decimal number >= x, robust to float error (v3.1 spec). */
function roundUp(x: number): number {
  const i = Math.round(x * 100000);
  return i % 10000 === 0 ? i / 100000 : (Math.floor(i / 10000) + 1) / 10;
}

/** Base score of a CVSS v3.0/v3.1 vector; null when the vector is not a complete v3 base vector. */
export function cvss3BaseScore(vector: string): number | null {
  const m = /^CVSS:3\.[01]\/(.*)$/.exec(vector.trim());
  if (!m) return null;
  const metrics = new Map<string, string>();
  for (const part of m[1].split('/')) {
    const [k, v] = part.split(':');
    if (!k || !v) return null;
    metrics.set(k, v);
  }
  const get = <T extends Record<string, number>>(key: string, table: T): number | null => {
    const v = metrics.get(key);
    return v !== undefined && Object.hasOwn(table, v) ? table[v as keyof T] : null;
  };
  const scope = metrics.get('S');
  if (scope !== 'U' && scope !== 'C') return null;
  const changed = scope === 'C';
  const av = get('AV', V3_WEIGHTS.AV);
  const ac = get('AC', V3_WEIGHTS.AC);
  const ui = get('UI', V3_WEIGHTS.UI);
  const pr = get('PR', changed ? { N: 0.85, L: 0.68, H: 0.5 } : { N: 0.85, L: 0.62, H: 0.27 });
  const c = get('C', V3_WEIGHTS.CIA);
  const i = get('I', V3_WEIGHTS.CIA);
  const a = get('A', V3_WEIGHTS.CIA);
  if (av === null || ac === null || ui === null || pr === null || c === null || i === null || a === null) return null;
  const iss = 1 - (1 - c) * (1 - i) * (1 - a);
  const impact = changed ? 7.52 * (iss - 0.029) - 3.25 * Math.pow(iss - 0.02, 15) : 6.42 * iss;
  const exploitability = 8.22 * av * ac * pr * ui;
  if (impact <= 0) return 0;
  return changed
    ? roundUp(Math.min(1.08 * (impact + exploitability), 10))
    : roundUp(Math.min(impact + exploitability, 10));
}
