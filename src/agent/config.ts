// The agent's configuration file (/etc/patchloop/agent.yaml), validated with zod. Every key
// is optional; the README documents them. Unknown keys are errors (a typo must not be ignored),
// except under `patch`, which the patching module validates itself.
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parse as parseYaml, YAMLParseError } from 'yaml';
import { z } from 'zod';
import { parseDuration } from '../core/protocol.ts';
import { defaultDataDir } from '../vulndb/paths.ts';
import { ServerUrlSchema } from './http.ts';
import { parseAgentPatchConfig } from './patch-config.ts';
import { PatchloopError } from '../core/errors.ts';

export const DEFAULT_AGENT_CONFIG = '/etc/patchloop/agent.yaml';

const duration = z.union([z.string(), z.number().nonnegative()]).transform((v, ctx) => {
  try {
    return parseDuration(v);
  } catch (err) {
    ctx.addIssue({ code: 'custom', message: (err as Error).message });
    return z.NEVER;
  }
});

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
      .object({ max_reports: z.number().int().min(1).max(1000).default(30), max_bytes: z.number().int().min(64 * 1024).default(64 * 1024 * 1024) })
      .strict()
      .default({ max_reports: 30, max_bytes: 64 * 1024 * 1024 }),
    /** Retries within one run (exponential backoff with jitter); later runs continue the backoff. */
    retry: z
      .object({ attempts: z.number().int().min(1).max(20).default(4), base_delay: duration.default(2000), max_delay: duration.default(300_000) })
      .strict()
      .default({ attempts: 4, base_delay: 2000, max_delay: 300_000 }),
    /** Timeout of one HTTP request. */
    timeout: duration.default(120_000),
    /** Download the server's vulnerability DB after each run, for `patchloop scan` without internet. */
    vulndb_sync: z.boolean().default(false),
    /** Patching opt-in and local limits (agent/patch-config.ts validates it). */
    patch: z.record(z.string(), z.unknown()).optional(),
  })
  .strict();

export type AgentConfig = z.output<typeof AgentConfigSchema> & { state_dir: string; data_dir: string };

export class AgentConfigError extends PatchloopError {
  constructor(message: string) {
    super('PL_E_CONFIG', message);
  }
}

export function defaultStateDir(): string {
  return join(defaultDataDir(), 'agent');
}

export function resolveAgentConfig(input: unknown, origin = 'the agent configuration'): AgentConfig {
  const r = AgentConfigSchema.safeParse(input ?? {});
  if (!r.success) {
    throw new AgentConfigError(`${origin} is invalid:\n${r.error.issues.map((i) => `  ${i.path.join('.') || '(top level)'}: ${i.message}`).join('\n')}`);
  }
  const c = r.data;
  if (c.patch !== undefined) {
    try {
      parseAgentPatchConfig(c.patch, origin);
    } catch (err) {
      throw new AgentConfigError((err as Error).message);
    }
  }
  return { ...c, root: resolve(c.root), state_dir: resolve(c.state_dir ?? defaultStateDir()), data_dir: resolve(c.data_dir ?? defaultDataDir()) };
}

/**
 * The configuration from `file` (or the default file when it exists), with `overrides` on top.
 * A missing default file is fine; a missing given file is an error.
 */
export function loadAgentConfig(file: string | undefined, overrides: Record<string, unknown> = {}): AgentConfig {
  const path = file ?? (existsSync(DEFAULT_AGENT_CONFIG) ? DEFAULT_AGENT_CONFIG : null);
  let raw: unknown = {};
  if (path) {
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (err) {
      throw new AgentConfigError(`cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
    try {
      raw = parseYaml(text) ?? {};
    } catch (err) {
      if (err instanceof YAMLParseError) {
        const pos = err.linePos?.[0];
        throw new AgentConfigError(`${path}${pos ? `:${pos.line}:${pos.col}` : ''}: ${err.message.split('\n')[0]}`);
      }
      throw err;
    }
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new AgentConfigError(`${path}: expected a mapping at the top level`);
  }
  const merged = { ...(raw as Record<string, unknown>) };
  for (const [k, v] of Object.entries(overrides)) if (v !== undefined) merged[k] = v;
  return resolveAgentConfig(merged, path ?? 'the agent configuration');
}
