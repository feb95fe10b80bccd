// When the monthly job makes a report: last month's, once its PDF is not there yet, and after a
// failed attempt not again before a day has passed (a missing Chromium is not retried hourly).
import { previousMonth } from './schema.ts';

export const RETRY_AFTER_MS = 24 * 60 * 60_000;

/**
 * The month to report on now, or null: last month's report when it has not been made (`made`)
 * and was not tried in the last day (`lastTried`: when it was last tried, if ever).
 */
export function monthDue(now: number, made: (month: string) => boolean, lastTried: number | undefined): string | null {
  const month = previousMonth(now);
  if (made(month)) return null;
  if (lastTried !== undefined && now - lastTried < RETRY_AFTER_MS) return null;
  return month;
}
