// Settings of the server's exporter to Elasticsearch / OpenSearch: the `export:` section of
// the server configuration file, with environment variables on top. Secrets come from files
// (or the environment), never from the YAML itself, and never appear in messages or logs.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { ConfigError, sectionOf, validate, withOverrides, type ConfigSource } from '../../config/load.ts';
import { duration } from '../../core/duration.ts';
import type { ClientOptionsInput } from '../../export/options.ts';
import { DEFAULT_PREFIX, exportNames } from '../../export/names.ts';

const DAY = 86_400_000;

export const ExportConfigSchema = z
  .object({
    /** Turn the exporter off without removing its settings. */
    enabled: z.boolean().default(true),
    /** Cluster URL, `https://host:9200`. */
    url: z.url({ protocol: /^https?$/ }),
    /** Basic authentication: the user, with the password in `password_file`. */
    username: z.string().min(1).optional(),
    password_file: z.string().min(1).optional(),
    /** An API key (Elasticsearch `encoded` value, or `id:key`) in this file. */
    api_key_file: z.string().min(1).optional(),
    /** PEM file with the CA that signed the cluster's certificate. */
    ca_file: z.string().min(1).optional(),
    /** Prefix of every index, data stream, template and policy name. */
    prefix: z.string().default(DEFAULT_PREFIX),
    /** How often the exporter looks for changes. */
    interval: duration.default(30_000),
    /** Changes (events, updates) taken per step; each step is one round of `_bulk` requests. */
    batch: z.number().int().min(100).max(200_000).default(20_000),
    /** Hosts whose findings are all re-exported in one step (new, renamed, gone stale). */
    hosts_per_step: z.number().int().min(1).max(100_000).default(200),
    request_timeout: duration.default(30_000),
    retention: z
      .object({
        /** Resolved findings stay in the state index this long after they were fixed. */
        resolved: duration.default(30 * DAY),
        /** Findings of a host that stopped reporting stay this long after its last report. */
        stale: duration.default(30 * DAY),
        /** Vulnerability and patch events are kept this many days (lifecycle policy). */
        events_days: z.number().int().min(1).max(3650).default(400),
        /** Host day summaries are kept this many days (lifecycle policy). */
        summaries_days: z.number().int().min(1).max(3650).default(800),
        /** Audit log entries are kept this many days (lifecycle policy). */
        audit_days: z.number().int().min(1).max(3650).default(800),
      })
      .strict()
      .prefault({}),
    /** NDJSON file for documents the cluster rejects for good (default: <data_dir>/export/dead-letters.ndjson). */
    dead_letter_file: z.string().min(1).optional(),
  })
  .strict()
  .superRefine((c, ctx) => {
    if (c.password_file && !c.username)
      ctx.addIssue({ code: 'custom', path: ['password_file'], message: 'needs username' });
    if (c.username && c.api_key_file)
      ctx.addIssue({
        code: 'custom',
        path: ['api_key_file'],
        message: 'use either username/password_file or api_key_file',
      });
    try {
      exportNames(c.prefix);
    } catch (err) {
      ctx.addIssue({ code: 'custom', path: ['prefix'], message: (err as Error).message });
    }
  });

export type ExportConfigInput = z.input<typeof ExportConfigSchema>;
export type ExportConfig = z.output<typeof ExportConfigSchema>;

/**
 * Environment variables that override (or, without a file section, make up) the settings:
 * PATCHLOOP_EXPORT_URL, _USERNAME, _PASSWORD_FILE, _API_KEY_FILE, _CA_FILE, _PREFIX, _INTERVAL.
 * PATCHLOOP_EXPORT_PASSWORD and PATCHLOOP_EXPORT_API_KEY carry a secret directly (for
 * service managers that pass credentials through the environment).
 */
const ENV_KEYS: Record<string, keyof ExportConfigInput> = {
  PATCHLOOP_EXPORT_URL: 'url',
  PATCHLOOP_EXPORT_USERNAME: 'username',
  PATCHLOOP_EXPORT_PASSWORD_FILE: 'password_file',
  PATCHLOOP_EXPORT_API_KEY_FILE: 'api_key_file',
  PATCHLOOP_EXPORT_CA_FILE: 'ca_file',
  PATCHLOOP_EXPORT_PREFIX: 'prefix',
  PATCHLOOP_EXPORT_INTERVAL: 'interval',
};

/**
 * Validates the `export:` section of the server configuration with the environment and
 * `overrides` (command-line values) on top; null when nothing names a cluster.
 */
export function resolveExportConfig(
  config: ConfigSource,
  env: NodeJS.ProcessEnv = process.env,
  overrides: Partial<ExportConfigInput> = {},
): ExportConfig | null {
  const section = sectionOf(config, 'export');
  const fromEnv = Object.fromEntries(Object.entries(ENV_KEYS).map(([name, key]) => [key, env[name] || undefined]));
  const merged = withOverrides(withOverrides(section, fromEnv), overrides);
  if (Object.keys(merged.data).length === 0) return null;
  return validate(ExportConfigSchema, merged, {
    what: `the export section of ${config.file ?? 'the configuration'}`,
    prefix: 'export',
  });
}

function readSecretFile(file: string, what: string): string {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(
      `cannot read the ${what} file ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
    );
  }
  const secret = text.replace(/\r?\n$/, '');
  if (secret.length === 0) throw new ConfigError(`the ${what} file ${file} is empty`);
  return secret;
}

/** Client options for the configured cluster, with the secrets read from their files. */
export function exportClientOptions(
  config: ExportConfig,
  dataDir: string,
  env: NodeJS.ProcessEnv = process.env,
): ClientOptionsInput {
  let auth: ClientOptionsInput['auth'];
  if (config.username) {
    const password =
      env.PATCHLOOP_EXPORT_PASSWORD ??
      (config.password_file ? readSecretFile(config.password_file, 'password') : undefined);
    if (password === undefined)
      throw new ConfigError('export.username needs export.password_file (or PATCHLOOP_EXPORT_PASSWORD)');
    auth = { username: config.username, password };
  } else if (config.api_key_file || env.PATCHLOOP_EXPORT_API_KEY) {
    auth = { apiKey: env.PATCHLOOP_EXPORT_API_KEY ?? readSecretFile(config.api_key_file as string, 'API key') };
  }
  return {
    url: config.url,
    auth,
    caFile: config.ca_file,
    requestTimeoutMs: config.request_timeout,
    deadLetterFile: config.dead_letter_file ?? join(dataDir, 'export', 'dead-letters.ndjson'),
  };
}
