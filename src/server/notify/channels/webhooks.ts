// The HTTP channels: a generic webhook (the message's JSON document, signed with HMAC-SHA256),
// a Slack/Mattermost-compatible incoming webhook ({"text"}), and a Microsoft Teams-compatible
// one (an Adaptive Card message, as Teams workflows and connectors take it).
import { createHmac } from 'node:crypto';
import type { WebhookPayload } from '../../api/notification-schemas.ts';
import type { Channel, OutgoingMessage } from './channel.ts';
import { postJson } from './http-post.ts';

interface HttpChannelOptions {
  name: string;
  url: string;
  timeoutMs: number;
}

/** `sha256=<hex>` of HMAC-SHA256(secret, "<timestamp>.<body>"): what X-Patchloop-Signature carries. */
export function webhookSignature(secret: string, timestamp: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

abstract class HttpChannel implements Channel {
  abstract readonly type: Channel['type'];
  readonly name: string;
  protected readonly url: URL;
  protected readonly timeoutMs: number;
  protected readonly secrets: string[];

  constructor(o: HttpChannelOptions, extraSecrets: string[] = []) {
    this.name = o.name;
    this.url = new URL(o.url);
    this.timeoutMs = o.timeoutMs;
    this.secrets = [o.url, ...extraSecrets];
  }

  get summary(): string {
    return `${this.type} (URL from the server's configuration)`;
  }

  abstract send(message: OutgoingMessage): Promise<void>;

  close(): void {}
}

export class WebhookChannel extends HttpChannel {
  readonly type = 'webhook' as const;
  private readonly secret: string;
  private readonly now: () => number;

  constructor(o: HttpChannelOptions & { secret: string; now?: () => number }) {
    super(o, [o.secret]);
    this.secret = o.secret;
    this.now = o.now ?? Date.now;
  }

  override get summary(): string {
    return 'webhook: JSON signed with HMAC-SHA256 (URL and key from the server configuration)';
  }

  async send(message: OutgoingMessage): Promise<void> {
    const body = JSON.stringify(message.payload);
    const timestamp = String(Math.floor(this.now() / 1000));
    await postJson(this.url, body, {
      timeoutMs: this.timeoutMs,
      secrets: this.secrets,
      headers: {
        'x-patchloop-event': message.payload.kind,
        'x-patchloop-delivery': message.payload.id,
        'x-patchloop-timestamp': timestamp,
        'x-patchloop-signature': webhookSignature(this.secret, timestamp, body),
      },
    });
  }
}

/** The text chat channels show: the title, then the message's lines, then the dashboard link. */
function chatLines(p: WebhookPayload): string[] {
  const lines = p.text.split('\n');
  if (p.attachments.length) lines.push(`Attached by e-mail only: ${p.attachments.map((a) => a.filename).join(', ')}`);
  if (p.dashboard_url) lines.push(p.dashboard_url);
  return lines;
}

export class SlackChannel extends HttpChannel {
  readonly type = 'slack' as const;

  override get summary(): string {
    return 'Slack/Mattermost incoming webhook (URL from the server configuration)';
  }

  async send(message: OutgoingMessage): Promise<void> {
    const p = message.payload;
    // Slack's and Mattermost's mrkdwn: *bold* (Mattermost reads it as italic, still legible).
    const text = [`*${p.title}*`, ...chatLines(p)].join('\n');
    await postJson(this.url, JSON.stringify({ text }), { timeoutMs: this.timeoutMs, secrets: this.secrets });
  }
}

export class TeamsChannel extends HttpChannel {
  readonly type = 'teams' as const;

  override get summary(): string {
    return 'Microsoft Teams webhook, Adaptive Card (URL from the server configuration)';
  }

  async send(message: OutgoingMessage): Promise<void> {
    const p = message.payload;
    const card = {
      $schema: 'http://adaptivecards.io/schemas/adaptive-card.json',
      type: 'AdaptiveCard',
      version: '1.4',
      body: [
        { type: 'TextBlock', size: 'Medium', weight: 'Bolder', text: p.title, wrap: true },
        // Teams' TextBlock markdown needs an empty line between lines.
        { type: 'TextBlock', text: chatLines(p).join('\n\n'), wrap: true },
      ],
      ...(p.dashboard_url
        ? { actions: [{ type: 'Action.OpenUrl', title: 'Open patchloop', url: p.dashboard_url }] }
        : {}),
    };
    const body = JSON.stringify({
      type: 'message',
      summary: p.title,
      attachments: [{ contentType: 'application/vnd.microsoft.card.adaptive', contentUrl: null, content: card }],
    });
    await postJson(this.url, body, { timeoutMs: this.timeoutMs, secrets: this.secrets });
  }
}
