// E-mail through an SMTP server (nodemailer): STARTTLS required by default (or TLS from the
// start, port 465), authentication with a password read from a file or the environment. The
// Message-ID is the delivery id, so a mail system that sees a retry can tell it is the same.
import { readFileSync } from 'node:fs';
import nodemailer, { type Transporter } from 'nodemailer';
import { PatchloopError } from '../../../core/errors.ts';
import { ChannelError, redact, type Channel, type OutgoingMessage } from './channel.ts';

export interface SmtpChannelOptions {
  name: string;
  host: string;
  port: number;
  security: 'starttls' | 'tls' | 'none';
  username?: string;
  password?: string;
  caFile?: string;
  from: string;
  to: string[];
  timeoutMs: number;
}

export class SmtpChannel implements Channel {
  readonly type = 'smtp' as const;
  readonly name: string;
  readonly summary: string;
  private readonly transport: Transporter;
  private readonly from: string;
  private readonly to: string[];
  private readonly secrets: string[];

  constructor(o: SmtpChannelOptions) {
    this.name = o.name;
    this.from = o.from;
    this.to = o.to;
    this.secrets = o.password ? [o.password] : [];
    this.summary = `e-mail via ${o.host}:${o.port} (${o.security}${o.username ? `, as ${o.username}` : ''}) to ${o.to.join(', ')}`;
    let ca: string | undefined;
    if (o.caFile) {
      try {
        ca = readFileSync(o.caFile, 'utf8');
      } catch (err) {
        throw new PatchloopError(
          'PL_E_CONFIG',
          `channel ${o.name}: cannot read ca_file ${o.caFile}: ${(err as Error).message}`,
        );
      }
    }
    this.transport = nodemailer.createTransport({
      host: o.host,
      port: o.port,
      secure: o.security === 'tls',
      requireTLS: o.security === 'starttls',
      ignoreTLS: o.security === 'none',
      auth: o.username ? { user: o.username, pass: o.password ?? '' } : undefined,
      tls: ca ? { ca } : undefined,
      connectionTimeout: o.timeoutMs,
      greetingTimeout: o.timeoutMs,
      socketTimeout: o.timeoutMs,
      // nodemailer logs nothing of its own (it would write the conversation, credentials included).
      logger: false,
      debug: false,
    });
  }

  async send(message: OutgoingMessage): Promise<void> {
    const p = message.payload;
    const footer = p.dashboard_url ? `\n\n${p.dashboard_url}\n` : '\n';
    try {
      await this.transport.sendMail({
        from: this.from,
        to: this.to,
        subject: p.title,
        text: `${p.text}${footer}`,
        ...(message.html ? { html: message.html } : {}),
        messageId: `<${p.id}@patchloop>`,
        headers: { 'X-Patchloop-Delivery': p.id, 'X-Patchloop-Event': p.kind },
        attachments: message.attachments.map((a) => ({
          filename: a.filename,
          contentType: a.contentType,
          content: a.content,
        })),
      });
    } catch (err) {
      const e = err as Error & { code?: string; responseCode?: number };
      // A 5xx answer or refused credentials would be refused again; the network and 4xx may pass later.
      const permanent = e.code === 'EAUTH' || (e.responseCode !== undefined && e.responseCode >= 500);
      throw new ChannelError(redact(`${e.code ? `${e.code}: ` : ''}${e.message}`, this.secrets), !permanent);
    }
  }

  close(): void {
    this.transport.close();
  }
}
