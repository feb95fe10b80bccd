// The server's configuration: a YAML file (default /etc/patchloop/server.yaml when present),
// validated with zod, with command-line flags on top. Every value has a default, so the
// server also runs with no file at all.
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Scalar } from 'yaml';
import { z } from 'zod';
import { parseDuration } from '../core/protocol.ts';
import { FEED_NAMES } from '../feeds/registry.ts';
import { defaultDataDir } from '../vulndb/paths.ts';
import { DEFAULT_SLA_DAYS } from './store/store.ts';
import { PatchloopError } from '../core/errors.ts';

export const DEFAULT_CONFIG_FILE = '/etc/patchloop/server.yaml';

export { parseDuration };

const duration = z.union([z.string(), z.number().nonnegative()]).transform((v, ctx) => {
  try {
    return parseDuration(v);
  } catch (err) {
    ctx.addIssue({ code: 'custom', message: (err as Error).message });
    return z.NEVER;
  }
});

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
    listen: z.object({ host: z.string().default('127.0.0.1'), port: z.number().int().min(0).max(65535).default(8080) }).strict().default({ host: '127.0.0.1', port: 8080 }),
    tls: z.object({ cert: z.string(), key: z.string() }).strict().optional(),
    data_dir: z.string().optional(),
    store: z
      .object({ file: z.string().optional(), synchronous: z.enum(['normal', 'full']).default('normal'), cache: size.default(64 * 1024 * 1024) })
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
                name: z.string().refine((n) => FEED_NAMES.includes(n), { message: `unknown feed (known: ${FEED_NAMES.join(', ')})` }),
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
    match: z.object({ include_undetermined: z.boolean().default(false) }).strict().default({ include_undetermined: false }),
    /** The dashboard's static files, served at `/` (default: web/dist of this installation, when built). */
    web_dir: z.string().optional(),
    log_level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  })
  .strict();

export type ServerConfigInput = z.input<typeof ServerConfigSchema>;

export interface ServerConfig extends Omit<z.output<typeof ServerConfigSchema>, 'sla_days'> {
  data_dir: string;
  store: z.output<typeof ServerConfigSchema>['store'] & { file: string };
  sla_days: typeof DEFAULT_SLA_DAYS;
}

export class ConfigError extends PatchloopError {
  constructor(message: string) {
    super('PL_E_CONFIG', message);
  }
}

/** Where a value of the file is: its line (1-based), or null when the file does not hold it. */
export type LineOf = (path: readonly PropertyKey[]) => number | null;

/**
 * Validates a configuration object (from YAML or code); `origin` names it in messages. With
 * `lineOf` (readConfigFile), each problem is given as `origin:LINE: key: message`.
 */
export function resolveConfig(input: unknown, origin = 'configuration', lineOf?: LineOf): ServerConfig {
  const r = ServerConfigSchema.safeParse(input ?? {});
  if (!r.success) {
    const lines = r.error.issues.map((i) => {
      // An unknown key is reported on its mapping; the line wanted is the key's own.
      const path = i.code === 'unrecognized_keys' && i.keys.length ? [...i.path, i.keys[0]] : i.path;
      const line = lineOf?.(path) ?? lineOf?.(i.path) ?? null;
      return `  ${line !== null ? `${origin}:${line}: ` : ''}${i.path.join('.') || '(top level)'}: ${i.message}`;
    });
    throw new ConfigError(`${origin} is invalid:\n${lines.join('\n')}`);
  }
  const c = r.data;
  const dataDir = resolve(c.data_dir ?? defaultDataDir());
  return {
    ...c,
    data_dir: dataDir,
    store: { ...c.store, file: c.store.file ? resolve(c.store.file) : join(dataDir, 'server.sqlite') },
    sla_days: { ...DEFAULT_SLA_DAYS, ...c.sla_days },
  };
}

/** Reads a YAML configuration file; errors name the file and line. */
export function loadConfigFile(file: string): unknown {
  return readConfigFile(file).data;
}

/** A YAML configuration file's data, and where each value is in it (for messages). */
export function readConfigFile(file: string): { data: unknown; lineOf: LineOf } {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(`cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, uniqueKeys: true });
  const problem = doc.errors[0];
  if (problem) {
    const pos = problem.linePos?.[0];
    throw new ConfigError(`${file}${pos ? `:${pos.line}:${pos.col}` : ''}: ${problem.message.split('\n')[0].replace(/ at line \d+, column \d+:?$/, '')}`);
  }
  return {
    data: doc.toJS() ?? {},
    lineOf: (path) => {
      let node: unknown = doc.contents;
      let at: number | undefined;
      for (const key of path) {
        if (isMap(node)) {
          const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === String(key));
          if (!pair) return null;
          at = (pair.key as Scalar).range?.[0];
          node = pair.value;
        } else if (isSeq(node) && typeof key === 'number') {
          node = node.items[key];
          at = (node as { range?: [number] } | undefined)?.range?.[0];
        } else {
          return null;
        }
      }
      if (path.length === 0) at = (node as { range?: [number] } | null)?.range?.[0];
      return at === undefined ? null : lines.linePos(at).line;
    },
  };
}

/** The file to use: the one given, else the default when it exists, else none. */
export function configFileToUse(given: string | undefined): string | null {
  if (given) return given;
  return existsSync(DEFAULT_CONFIG_FILE) ? DEFAULT_CONFIG_FILE : null;
}
