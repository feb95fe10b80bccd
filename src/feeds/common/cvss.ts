// CVSS vectors as feeds carry them → patchloop's CvssScore (version, base score, vector). Base
// scores are computed by ae-cvss-calculator (FIRST's v2.0, v3.0, v3.1 and v4.0 formulas, the
// v4.0 macro-vector lookup table included; no dependencies, no install scripts) after checking
// here that every base metric is present once: the library scores an incomplete vector 0,
// which would pass for a real score.
import calculator from 'ae-cvss-calculator';
import type { CvssScore, CvssVersion } from '../../core/types.ts';

/** The base metrics each version requires, in the specification's order. */
const BASE_METRICS: Record<CvssVersion, readonly string[]> = {
  '2.0': ['AV', 'AC', 'Au', 'C', 'I', 'A'],
  '3.0': ['AV', 'AC', 'PR', 'UI', 'S', 'C', 'I', 'A'],
  '3.1': ['AV', 'AC', 'PR', 'UI', 'S', 'C', 'I', 'A'],
  '4.0': ['AV', 'AC', 'AT', 'PR', 'UI', 'VC', 'VI', 'VA', 'SC', 'SI', 'SA'],
};

/** The version a vector is written in: its `CVSS:x.y/` prefix, or v2 (written without one). */
function versionOf(vector: string): CvssVersion | null {
  const m = /^CVSS:(\d\.\d)\//.exec(vector);
  if (!m) return /^\(?AV:[LAN]\//.test(vector) ? '2.0' : null;
  return m[1] === '3.0' || m[1] === '3.1' || m[1] === '4.0' ? m[1] : null;
}

/**
 * The base score of a CVSS vector; null when it is not a complete, valid base vector of
 * v2.0, v3.0, v3.1 or v4.0 (a metric missing, twice, or with a value the version lacks).
 */
export function cvssBaseScore(vector: string): { version: CvssVersion; score: number } | null {
  const v = vector.trim().replace(/^\((.*)\)$/, '$1');
  const version = versionOf(v);
  if (!version) return null;
  const metrics = new Map<string, string>();
  for (const part of v.split('/').slice(version === '2.0' ? 0 : 1)) {
    const [k, value, extra] = part.split(':');
    if (!k || !value || extra !== undefined || metrics.has(k)) return null;
    metrics.set(k, value);
  }
  if (!BASE_METRICS[version].every((k) => metrics.has(k))) return null;
  try {
    const Class =
      version === '4.0'
        ? calculator.Cvss4P0
        : version === '3.1'
          ? calculator.Cvss3P1
          : version === '3.0'
            ? calculator.Cvss3P0
            : calculator.Cvss2;
    const score = new Class(v).calculateScores().base;
    return typeof score === 'number' && Number.isFinite(score) && score >= 0 && score <= 10 ? { version, score } : null;
  } catch {
    // The library throws on a value the version does not define (`AV:Q`).
    return null;
  }
}

/** A CvssScore from a vector (and who scored it); null when the vector is not a valid base vector. */
export function cvssScore(vector: string, source: string): CvssScore | null {
  const base = cvssBaseScore(vector);
  return base ? { version: base.version, score: base.score, vector: vector.trim(), source } : null;
}
