// Which answers of a cluster are worth retrying (the delay: net/backoff.ts).

/**
 * HTTP statuses worth retrying: the cluster is overloaded (429), restarting or between
 * proxies (502/503/504), or failed internally (500, e.g. a node closing mid-request).
 * Everything else in 4xx is the request's own fault and would fail again.
 */
export function isRetryableStatus(status: number): boolean {
  return status === 429 || status === 500 || status === 502 || status === 503 || status === 504;
}
