// The agent's configuration file (/etc/patchloop/agent.yaml), validated with zod. Every key
// is optional; the README documents them. Unknown keys are errors (a typo must not be ignored).
import { join, resolve } from 'node:path';
import { z } from 'zod';
import { readConfig, sourceOf, validate, withOverrides, type ConfigSource } from '../config/load.ts';
import { duration } from '../core/duration.ts';
import { defaultDataDir } from '../vulndb/paths.ts';
import { ServerUrlSchema } from './http.ts';
import { AgentPatchConfigSchema } from './patch-config.ts';

export const DEFAULT_AGENT_CONFIG = '/etc/patchloop/agent.yaml';

export const AgentConfigSchema = z
  .object({
    /** Server URL; default: the one the agent enrolled with. */
    server: ServerUrlSchema.optional(),
    /** CA certificate(s) (PEM) to trust for the server's TLS certificate. */
    ca_file: z.string().optional(),
    /** Where the agent keeps its credential, spool and last acknowledged inventory. */
    state_dir: z.string().optional(),
    /** Data directory for the vulnerability DB copy used by standalone scans. */
    data_dir: z.string().optional(),
    /** Root filesystem to inventory (default /). */
    root: z.string().default('/'),
    /** Running kernel release to report for a root other than / (uname -r form). */
    kernel: z.string().optional(),
    /** Host name to report (default: the system's, or the root's etc/hostname). */
    hostname: z.string().min(1).max(253).optional(),
    /** Ubuntu: this host is attached to Ubuntu Pro. */
    pro_attached: z.boolean().optional(),
    /** Reports kept while the server is unreachable; beyond it the oldest are dropped (counted, logged). */
    spool: z
      .object({
        max_reports: z.number().int().min(1).max(1000).default(30),
        max_bytes: z
          .number()
          .int()
          .min(64 * 1024)
          .default(64 * 1024 * 1024),
      })
      .strict()
      .default({ max_reports: 30, max_bytes: 64 * 1024 * 1024 }),
    /** Retries within one run (exponential backoff with jitter); later runs continue the backoff. */
    retry: z
      .object({
        attempts: z.number().int().min(1).max(20).default(4),
        base_delay: duration.default(2000),
        max_delay: duration.default(300_000),
      })
      .strict()
      .default({ attempts: 4, base_delay: 2000, max_delay: 300_000 }),
    /** Timeout of one HTTP request. */
    timeout: duration.default(120_000),
    /** Download the server's vulnerability DB after each run, for `patchloop scan` without internet. */
    vulndb_sync: z.boolean().default(false),
    /** Patching opt-in and local limits (agent/patch-config.ts). */
    patch: AgentPatchConfigSchema.prefault({}),
  })
  .strict();

export type AgentConfig = z.output<typeof AgentConfigSchema> & { state_dir: string; data_dir: string };

export function defaultStateDir(): string {
  return join(defaultDataDir(), 'agent');
}

/** Validates the configuration: a source read by config/load.ts, or an object given in code. */
export function resolveAgentConfig(input: ConfigSource | z.input<typeof AgentConfigSchema>): AgentConfig {
  const c = validate(AgentConfigSchema, sourceOf(input));
  return {
    ...c,
    root: resolve(c.root),
    state_dir: resolve(c.state_dir ?? defaultStateDir()),
    data_dir: resolve(c.data_dir ?? defaultDataDir()),
  };
}

/**
 * The configuration from `file` (or the default file when it exists), with `overrides` on top.
 * A missing default file is fine; a missing given file is an error.
 */
export function loadAgentConfig(file: string | undefined, overrides: Record<string, unknown> = {}): AgentConfig {
  return resolveAgentConfig(withOverrides(readConfig(file, DEFAULT_AGENT_CONFIG), overrides));
}
