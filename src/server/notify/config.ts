// The `notifications:` section of server.yaml: the channels messages go out on and how the
// delivery worker retries. Channel secrets (the SMTP password, webhook URLs, the webhook's
// signing key) are never written in the file itself: each comes from a file (mode 0600 or 0640)
// or an environment variable, read when the server starts.
import { readFileSync, statSync } from 'node:fs';
import { z } from 'zod';
import { duration } from '../../core/duration.ts';
import { PatchloopError } from '../../core/errors.ts';

/** A secret: `<name>_file` (a file only its owner, or its group, may read) or `<name>_env`. */
const secretRef = {
  file: z.string().min(1).optional(),
  env: z
    .string()
    .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'an environment variable name')
    .optional(),
};

const channelName = z.string().regex(/^[a-z0-9][a-z0-9_-]{0,63}$/, 'lower-case letters, digits, - and _ (up to 64)');

const common = {
  name: channelName,
  /** Requests longer than this are abandoned (and retried later). */
  timeout: duration.default(15_000),
};

const urlChannel = {
  ...common,
  url_file: secretRef.file,
  url_env: secretRef.env,
};

export const SmtpChannelSchema = z
  .object({
    ...common,
    type: z.literal('smtp'),
    host: z.string().min(1),
    port: z.number().int().min(1).max(65535).default(587),
    /** starttls: plain connection upgraded with STARTTLS, which is required; tls: TLS from the start (465). */
    security: z.enum(['starttls', 'tls', 'none']).default('starttls'),
    username: z.string().min(1).optional(),
    password_file: secretRef.file,
    password_env: secretRef.env,
    /** CA certificates (PEM) to trust for the SMTP server, beside the system's. */
    ca_file: z.string().min(1).optional(),
    from: z.string().min(3),
    to: z.array(z.string().min(3)).min(1),
  })
  .strict();

export const WebhookChannelSchema = z
  .object({
    ...urlChannel,
    type: z.literal('webhook'),
    /** The key of the HMAC-SHA256 signature header (X-Patchloop-Signature). */
    secret_file: secretRef.file,
    secret_env: secretRef.env,
  })
  .strict();

export const SlackChannelSchema = z.object({ ...urlChannel, type: z.literal('slack') }).strict();
export const TeamsChannelSchema = z.object({ ...urlChannel, type: z.literal('teams') }).strict();

export const ChannelConfigSchema = z
  .discriminatedUnion('type', [SmtpChannelSchema, WebhookChannelSchema, SlackChannelSchema, TeamsChannelSchema])
  .superRefine((c, ctx) => {
    const pairs: [string, string | undefined, string | undefined, boolean][] =
      c.type === 'smtp'
        ? [['password', c.password_file, c.password_env, c.username !== undefined]]
        : [
            ['url', c.url_file, c.url_env, true],
            ...(c.type === 'webhook'
              ? [
                  ['secret', c.secret_file, c.secret_env, true] as [
                    string,
                    string | undefined,
                    string | undefined,
                    boolean,
                  ],
                ]
              : []),
          ];
    for (const [name, file, env, needed] of pairs) {
      if (file && env) ctx.addIssue({ code: 'custom', message: `give ${name}_file or ${name}_env, not both` });
      else if (needed && !file && !env)
        ctx.addIssue({ code: 'custom', message: `${name}_file or ${name}_env is required` });
    }
    if (c.type === 'smtp' && c.username === undefined && (c.password_file || c.password_env))
      ctx.addIssue({ code: 'custom', message: 'a password needs a username' });
  });

export type ChannelConfig = z.output<typeof ChannelConfigSchema>;

const DEFAULTS = {
  interval: 30_000,
  max_attempts: 8,
  retry_base: 30_000,
  retry_max: 3_600_000,
  digest_at: '08:00',
  channels: [],
};

export const NotificationsConfigSchema = z
  .object({
    /** How often new events are looked for and due messages sent. */
    interval: duration.default(DEFAULTS.interval),
    /** Attempts before a message is dead-lettered (shown in the dashboard, retried only by hand). */
    max_attempts: z.number().int().min(1).max(100).default(DEFAULTS.max_attempts),
    /** Backoff between attempts (net/backoff.ts): the first retry waits up to retry_base, doubling up to retry_max. */
    retry_base: duration.default(DEFAULTS.retry_base),
    retry_max: duration.default(DEFAULTS.retry_max),
    /** When daily digests go out, HH:MM in UTC. */
    digest_at: z
      .string()
      .regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'HH:MM (UTC)')
      .default(DEFAULTS.digest_at),
    /** The dashboard's address, for links in messages (default: none). */
    dashboard_url: z.url().optional(),
    channels: z
      .array(ChannelConfigSchema)
      .default([])
      .superRefine((channels, ctx) => {
        const seen = new Set<string>();
        for (const c of channels) {
          if (seen.has(c.name)) ctx.addIssue({ code: 'custom', message: `channel ${c.name} is defined twice` });
          seen.add(c.name);
        }
      }),
  })
  .strict()
  .default(DEFAULTS);

export type NotificationsConfig = z.output<typeof NotificationsConfigSchema>;

/**
 * Reads a secret from its file or environment variable. A file others may read is refused (it
 * is a credential); a trailing newline is not part of the secret.
 */
export function readSecret(
  where: string,
  ref: { file?: string; env?: string },
  env: NodeJS.ProcessEnv = process.env,
): string | undefined {
  if (ref.env !== undefined) {
    const v = env[ref.env];
    if (!v) throw new PatchloopError('PL_E_CONFIG', `${where}: the environment variable ${ref.env} is not set`);
    return v;
  }
  if (ref.file === undefined) return undefined;
  let mode: number;
  let text: string;
  try {
    mode = statSync(ref.file).mode;
    text = readFileSync(ref.file, 'utf8');
  } catch (err) {
    throw new PatchloopError(
      'PL_E_CONFIG',
      `${where}: cannot read ${ref.file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
    );
  }
  if (mode & 0o007)
    throw new PatchloopError(
      'PL_E_CONFIG',
      `${where}: ${ref.file} can be read by others: chmod 600 (or 640 for the server's group)`,
    );
  const secret = text.replace(/\r?\n$/, '');
  if (secret.length === 0) throw new PatchloopError('PL_E_CONFIG', `${where}: ${ref.file} is empty`);
  return secret;
}
