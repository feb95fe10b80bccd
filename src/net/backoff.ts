// How long to wait before retrying: the one backoff of patchloop (agent reports, feed
// downloads, requests and bulk batches to Elasticsearch/OpenSearch).
import { setTimeout as delay } from 'node:timers/promises';

export interface BackoffPolicy {
  /** Ceiling of the first retry's delay; it doubles per retry. */
  baseDelayMs: number;
  /** Upper bound of every delay. */
  maxDelayMs: number;
}

/**
 * Exponential backoff with full jitter: a delay drawn uniformly below
 * min(maxDelayMs, baseDelayMs · 2^retry), `retry` counting from 0 for the first retry.
 * Full jitter (rather than "equal" or "decorrelated" jitter) spreads many clients hitting one
 * recovering server the most, and needs no state beyond the retry number, which the agent's
 * spool keeps across runs. A server's Retry-After, where one is read, takes precedence.
 */
export function backoffDelay(retry: number, policy: BackoffPolicy, random: () => number = Math.random): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.max(0, retry));
  return Math.floor(random() * ceiling);
}

/** Waits `ms` (an aborted `signal` ends the wait with its reason). */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return delay(ms, undefined, { signal });
}
