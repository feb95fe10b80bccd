// Bounded building blocks for schemas of outside input: every string has a length, every list a
// count, every time a sane range, every id a pattern. One report or request then costs the
// server a predictable amount of memory and time, whatever a caller sends.
import { z } from 'zod';

export const MAX = {
  /** Names, versions, short labels. */
  text: 512,
  /** Messages, log lines, descriptions. */
  longText: 4_096,
} as const;

export const text = (max: number = MAX.text) => z.string().max(max);

/** Earliest and latest times accepted from outside (an agent's clock may be wrong; not by centuries). */
export const TIME_RANGE = { min: Date.parse('2000-01-01T00:00:00Z'), max: Date.parse('2100-01-01T00:00:00Z') } as const;

/** An ISO 8601 date-time with an offset, between 2000 and 2100. */
export const isoTime = z.iso.datetime({ offset: true }).refine(
  (v) => {
    const t = Date.parse(v);
    return t >= TIME_RANGE.min && t < TIME_RANGE.max;
  },
  { message: 'time outside 2000–2099' },
);

/** Ids that outside parties choose (patch run ids, lease ids, boot ids): a UUID or a short token. */
export const clientId = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/, 'expected up to 128 letters, digits, ".", "_", ":" or "-"');
