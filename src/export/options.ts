// Connection and shipping settings for the search-engine client, validated with zod: they
// come from configuration files and command lines.
import { z } from 'zod';

export const retryPolicySchema = z.object({
  /** Retries after the first attempt, per request (and per bulk batch). */
  maxRetries: z.number().int().min(0).max(30).default(5),
  /** First backoff ceiling; doubles per retry (full jitter below the ceiling). */
  baseDelayMs: z.number().int().min(0).default(500),
  maxDelayMs: z.number().int().min(0).default(30_000),
});

export const bulkLimitsSchema = z.object({
  /** Documents per `_bulk` request. */
  maxDocs: z.number().int().min(1).max(100_000).default(1_000),
  /** NDJSON bytes per `_bulk` request (a single bigger document is sent alone). */
  maxBytes: z
    .number()
    .int()
    .min(1_024)
    .default(5 * 1024 * 1024),
  /**
   * Item-level retryable failures (429/5xx while the cluster answers) a document may
   * collect over bulk calls and spool replays before it counts as rejected for good.
   */
  maxItemAttempts: z.number().int().min(1).default(50),
});

export const authSchema = z.union([
  z.object({ username: z.string().min(1), password: z.string() }).strict(),
  /** API key: the `encoded` value Elasticsearch returns, or `id:api_key`. */
  z.object({ apiKey: z.string().min(1) }).strict(),
]);

export const clientOptionsSchema = z
  .object({
    /** Cluster URL, `http(s)://host:port[/path-prefix]`; user:password in it is used as basic auth. */
    url: z.url({ protocol: /^https?$/ }),
    auth: authSchema.optional(),
    /** PEM file with the CA certificate(s) that signed the cluster's TLS certificate. */
    caFile: z.string().min(1).optional(),
    /** No answer, or no body data, for this long fails a request (net/http.ts). */
    requestTimeoutMs: z.number().int().min(100).default(30_000),
    retry: retryPolicySchema.prefault({}),
    bulk: bulkLimitsSchema.prefault({}),
    /** NDJSON file that receives documents the cluster rejected for good. */
    deadLetterFile: z.string().min(1).optional(),
  })
  .strict();

export type RetryPolicy = z.infer<typeof retryPolicySchema>;
export type BulkLimits = z.infer<typeof bulkLimitsSchema>;
export type Auth = z.infer<typeof authSchema>;
export type ClientOptions = z.infer<typeof clientOptionsSchema>;
export type ClientOptionsInput = z.input<typeof clientOptionsSchema>;

/** Validates options; the error names each bad field and never echoes a secret. */
export function parseClientOptions(input: unknown, source = 'export options'): ClientOptions {
  const result = clientOptionsSchema.safeParse(input);
  if (!result.success) {
    const problems = result.error.issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`);
    throw new Error(`${source}: ${problems.join('; ')}`);
  }
  return result.data;
}
