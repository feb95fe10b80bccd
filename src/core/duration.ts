// Durations in configuration files and flags: "90s", "30m", "24h", "7d" (also "250ms", "1.5h"),
// or a number of seconds. One syntax and one zod schema for every configuration.
import { z } from 'zod';

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** A duration in milliseconds. */
export function parseDuration(v: string | number): number {
  if (typeof v === 'number') return v * 1000;
  const m = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)$/.exec(v.trim());
  if (!m) throw new Error(`invalid duration ${JSON.stringify(v)} (use e.g. 90s, 30m, 24h, 7d)`);
  return Math.round(Number(m[1]) * UNITS[m[2]]);
}

/** A duration setting, validated and turned into milliseconds (defaults are given in milliseconds). */
export const duration = z.union([z.string(), z.number().nonnegative()]).transform((v, ctx) => {
  try {
    return parseDuration(v);
  } catch (err) {
    ctx.addIssue({ code: 'custom', message: (err as Error).message });
    return z.NEVER;
  }
});
