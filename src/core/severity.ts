// Severity from CVSS where the distribution rates nothing. The distribution's own rating
// comes first (DESIGN.md); a finding whose rating is `unknown` takes the qualitative band of
// the CVSS base score its feeds carry (FIRST's rating scale), and says so (`severity_source`).
// Pure: no I/O.
import type { CvssScore, Severity } from './types.ts';

/** Severity band of a CVSS base score (FIRST's qualitative rating scale, the same for v3.x and v4.0). */
export function fromCvssScore(score: number): Severity {
  if (!Number.isFinite(score)) return 'unknown';
  if (score >= 9) return 'critical';
  if (score >= 7) return 'high';
  if (score >= 4) return 'medium';
  if (score > 0) return 'low';
  return 'negligible';
}

/**
 * The CVSS score to show and to rate by: the newest CVSS version, and among scores of that
 * version the highest (scorers disagree; the worse case is the safer one to sort by). v2 is
 * used only when nothing newer exists.
 */
export function leadingCvss(scores: readonly CvssScore[] | undefined): CvssScore | null {
  let best: CvssScore | null = null;
  for (const s of scores ?? []) {
    if (!best || Number(s.version) > Number(best.version)) best = s;
    else if (s.version === best.version && s.score > best.score) best = s;
  }
  return best;
}

/**
 * A finding's severity: the distribution's when it has one; else the band of its leading CVSS
 * score (`source: 'cvss'`); else `unknown`.
 */
export function effectiveSeverity(
  distribution: Severity,
  cvss: readonly CvssScore[] | undefined,
): { severity: Severity; source?: 'cvss' } {
  if (distribution !== 'unknown') return { severity: distribution };
  const lead = leadingCvss(cvss);
  return lead ? { severity: fromCvssScore(lead.score), source: 'cvss' } : { severity: 'unknown' };
}
