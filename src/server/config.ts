// The server's configuration: a YAML file (default /etc/patchloop/server.yaml when present),
// validated with zod, with command-line flags on top. Every value has a default, so the
// server also runs with no file at all.
import { join, resolve } from 'node:path';
import { z } from 'zod';
import { sourceOf, validate, type ConfigSource } from '../config/load.ts';
import { duration } from '../core/duration.ts';
import { PriorityConfigSchema } from '../core/priority.ts';
import { FEED_NAMES } from '../feeds/registry.ts';
import { NotificationsConfigSchema } from './notify/config.ts';
import { OidcConfigSchema } from './oidc/config.ts';
import { defaultPackagesDir } from './repo/packages-dir.ts';
import { PublicUrlSchema } from './repo/public-url.ts';
import { defaultDataDir } from '../vulndb/paths.ts';
import { DEFAULT_SLA_DAYS } from './store/store.ts';

export const DEFAULT_CONFIG_FILE = '/etc/patchloop/server.yaml';

/** "32MiB", "512KiB", or a number of bytes. */
const size = z.union([z.string(), z.number().int().positive()]).transform((v, ctx) => {
  if (typeof v === 'number') return v;
  const m = /^(\d+)\s*(B|KiB|MiB|GiB)$/.exec(v.trim());
  if (!m) {
    ctx.addIssue({ code: 'custom', message: `invalid size ${JSON.stringify(v)} (use e.g. 512KiB, 32MiB)` });
    return z.NEVER;
  }
  return Number(m[1]) * { B: 1, KiB: 1024, MiB: 1024 ** 2, GiB: 1024 ** 3 }[m[2] as 'B'];
});

const days = z.number().positive().max(3650);

export const ServerConfigSchema = z
  .object({
    listen: z
      .object({ host: z.string().default('127.0.0.1'), port: z.number().int().min(0).max(65535).default(8080) })
      .strict()
      .default({ host: '127.0.0.1', port: 8080 }),
    tls: z.object({ cert: z.string(), key: z.string() }).strict().optional(),
    data_dir: z.string().optional(),
    store: z
      .object({
        file: z.string().optional(),
        synchronous: z.enum(['normal', 'full']).default('normal'),
        cache: size.default(64 * 1024 * 1024),
      })
      .strict()
      .default({ synchronous: 'normal', cache: 64 * 1024 * 1024 }),
    admin: z
      .object({
        username: z.string().min(1).max(64).default('admin'),
        /** An scrypt hash (`patchloop server hash-password`); without one, a password is generated on first start. */
        password_hash: z.string().startsWith('scrypt$').optional(),
      })
      .strict()
      .default({ username: 'admin' }),
    feeds: z
      .object({
        /** How often feeds are refreshed; 0 turns the schedule off (refresh through the API only). */
        refresh_interval: duration.default(24 * 3_600_000),
        /** Feeds to refresh, each optionally with its own inputs (files, directories, URLs). */
        sources: z
          .array(
            z
              .object({
                name: z
                  .string()
                  .refine((n) => FEED_NAMES.includes(n), { message: `unknown feed (known: ${FEED_NAMES.join(', ')})` }),
                from: z.array(z.string()).optional(),
              })
              .strict(),
          )
          .default([]),
        /** Longest a single feed update may take before it is abandoned. */
        timeout: duration.default(30 * 60_000),
      })
      .strict()
      .default({ refresh_interval: 24 * 3_600_000, sources: [], timeout: 30 * 60_000 }),
    sla_days: z
      .object({ critical: days, high: days, medium: days, low: days, negligible: days, unknown: days })
      .partial()
      .strict()
      .default({}),
    stale_after: duration.default(48 * 3_600_000),
    session_ttl: duration.default(12 * 3_600_000),
    limits: z
      .object({ body: size.default(32 * 1024 * 1024) })
      .strict()
      .default({ body: 32 * 1024 * 1024 }),
    match: z
      .object({ include_undetermined: z.boolean().default(false) })
      .strict()
      .default({ include_undetermined: false }),
    /** What to fix first: the priority rule's thresholds (core/priority.ts; docs/server.md "Priority"). */
    priority: PriorityConfigSchema.prefault({}),
    /** The package repositories under /repo/ and /install.sh (src/server/repo). */
    repo: z
      .object({
        enabled: z.boolean().default(true),
        /**
         * The packages to publish (default: dist/ of this installation when it holds packages, else
         * <data_dir>/packages).
         */
        packages_dir: z.string().optional(),
        /** The server's address as hosts reach it, for install.sh (default: from each request). */
        public_url: PublicUrlSchema.optional(),
      })
      .strict()
      .default({ enabled: true }),
    /** Exception rules (core/exceptions.ts): the longest expiry allowed, how often ended rules are looked for. */
    exceptions: z
      .object({
        max_days: z.number().int().positive().max(3650).default(180),
        check_interval: duration.pipe(z.number().min(100)).default(60_000),
      })
      .strict()
      .default({ max_days: 180, check_interval: 60_000 }),
    /**
     * The monthly management report (report/): `monthly: false` stops the job that makes last
     * month's report early each month and sends it; reports on request stay possible.
     */
    reports: z
      .object({ monthly: z.boolean().default(true) })
      .strict()
      .default({ monthly: true }),
    /** Notification channels and delivery (notify/config.ts; rules are kept in the store). */
    notifications: NotificationsConfigSchema,
    /** Single sign-on with an OpenID Connect provider (oidc/config.ts). */
    oidc: OidcConfigSchema.optional(),
    /** The dashboard's static files, served at `/` (default: web/dist of this installation, when built). */
    web_dir: z.string().optional(),
    log_level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  })
  .strict();

export type ServerConfigInput = z.input<typeof ServerConfigSchema>;

export interface ServerConfig extends Omit<z.output<typeof ServerConfigSchema>, 'sla_days' | 'repo'> {
  data_dir: string;
  repo: z.output<typeof ServerConfigSchema>['repo'] & { packages_dir: string };
  store: z.output<typeof ServerConfigSchema>['store'] & { file: string };
  sla_days: typeof DEFAULT_SLA_DAYS;
}

/**
 * Validates the configuration: a source read by config/load.ts (problems name the file and
 * line) or an object given in code.
 */
export function resolveConfig(input: ConfigSource | ServerConfigInput): ServerConfig {
  const c = validate(ServerConfigSchema, sourceOf(input));
  const dataDir = resolve(c.data_dir ?? defaultDataDir());
  return {
    ...c,
    data_dir: dataDir,
    store: { ...c.store, file: c.store.file ? resolve(c.store.file) : join(dataDir, 'server.sqlite') },
    sla_days: { ...DEFAULT_SLA_DAYS, ...c.sla_days },
    repo: { ...c.repo, packages_dir: c.repo.packages_dir ? resolve(c.repo.packages_dir) : defaultPackagesDir(dataDir) },
  };
}
