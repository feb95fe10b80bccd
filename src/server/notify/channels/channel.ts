// What every channel does: send one message, and say what it reaches without a secret. A
// failure is a ChannelError whose message never holds a secret (a webhook URL carries its
// credential in the path; an SMTP server may echo what it was sent).
import type { WebhookPayload } from '../../api/notification-schemas.ts';

export interface Attachment {
  filename: string;
  contentType: string;
  content: Buffer;
}

/** A message as it goes out: the webhook document, and what only e-mail carries. */
export interface OutgoingMessage {
  payload: WebhookPayload;
  /** An HTML body for e-mail (a report); other channels send the text. */
  html: string | null;
  attachments: Attachment[];
}

export interface Channel {
  readonly name: string;
  readonly type: 'smtp' | 'webhook' | 'slack' | 'teams';
  /** What it reaches, for people and the API: never a URL or a password. */
  readonly summary: string;
  send(message: OutgoingMessage): Promise<void>;
  close(): void;
}

export class ChannelError extends Error {
  /** Worth trying again later (network, timeout, 5xx, 429); false for a refusal that would repeat. */
  readonly retryable: boolean;
  constructor(message: string, retryable: boolean) {
    super(message);
    this.retryable = retryable;
  }
}

/** Replaces every secret (and its URL-encoded form) in a text. */
export function redact(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const s of secrets) {
    if (s.length < 4) continue;
    for (const form of new Set([s, encodeURIComponent(s)])) out = out.split(form).join('[redacted]');
    // A URL's path and query carry its credential: neither may show either.
    try {
      const u = new URL(s);
      for (const part of [u.pathname + u.search, u.pathname, u.search]) {
        if (part.length >= 4) out = out.split(part).join('[redacted]');
      }
    } catch {
      // not a URL
    }
  }
  return out;
}
