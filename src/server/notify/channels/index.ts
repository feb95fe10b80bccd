// The configured channels, built once at start with their secrets read (notify/config.ts).
import { PatchloopError } from '../../../core/errors.ts';
import type { ChannelConfig } from '../config.ts';
import { readSecret } from '../config.ts';
import type { Channel } from './channel.ts';
import { SmtpChannel } from './smtp.ts';
import { SlackChannel, TeamsChannel, WebhookChannel } from './webhooks.ts';

export type { Channel, OutgoingMessage, Attachment } from './channel.ts';
export { ChannelError } from './channel.ts';

export function createChannel(c: ChannelConfig, env: NodeJS.ProcessEnv = process.env): Channel {
  const where = `notifications.channels ${c.name}`;
  if (c.type === 'smtp') {
    return new SmtpChannel({
      name: c.name,
      host: c.host,
      port: c.port,
      security: c.security,
      username: c.username,
      password: readSecret(`${where} password`, { file: c.password_file, env: c.password_env }, env),
      caFile: c.ca_file,
      from: c.from,
      to: c.to,
      timeoutMs: c.timeout,
    });
  }
  const url = readSecret(`${where} url`, { file: c.url_file, env: c.url_env }, env)!;
  try {
    const u = new URL(url);
    if (u.protocol !== 'https:' && u.protocol !== 'http:') throw new Error('not http(s)');
  } catch {
    // The URL is the secret: the message says where it came from, not what it is.
    throw new PatchloopError('PL_E_CONFIG', `${where}: the url is not an http(s) URL`);
  }
  const o = { name: c.name, url, timeoutMs: c.timeout };
  if (c.type === 'webhook') {
    return new WebhookChannel({
      ...o,
      secret: readSecret(`${where} secret`, { file: c.secret_file, env: c.secret_env }, env)!,
    });
  }
  return c.type === 'slack' ? new SlackChannel(o) : new TeamsChannel(o);
}
