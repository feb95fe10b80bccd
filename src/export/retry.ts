// When to retry and how long to wait: shared by single requests and bulk batches.
import type { RetryPolicy } from './options.ts';

/**
 * Exponential backoff with full jitter: a uniform delay below min(max, base * 2^attempt).
 * Jitter spreads the retries of many exporters hitting one recovering cluster.
 */
export function backoffDelay(attempt: number, policy: RetryPolicy, random: () => number = Math.random): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.max(0, attempt));
  return Math.floor(random() * ceiling);
}

/**
 * HTTP statuses worth retrying: the cluster is overloaded (429), restarting or between
 * proxies (502/503/504), or failed internally (500, e.g. a node closing mid-request).
 * Everything else in 4xx is the request's own fault and would fail again.
 */
export function isRetryableStatus(status: number): boolean {
  return status === 429 || status === 500 || status === 502 || status === 503 || status === 504;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
