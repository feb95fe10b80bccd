// The notification worker of the running server. Each round it reads what happened since its
// cursors (sources.ts), queues the events each enabled rule takes and makes the messages that
// are due (queue.ts); rounds never overlap. Each channel then sends its due messages one at a
// time, with retries and backoff, independently of the others (a slow or hanging receiver holds
// up its own channel only). A stop waits for the messages being sent, so only a crash leaves
// one cut off.
import { randomUUID } from 'node:crypto';
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import type { Logger } from 'pino';
import type { Rule, Trigger, WebhookPayload } from '../api/notification-schemas.ts';
import type { Clock } from '../clock.ts';
import { ensurePatchingTables } from '../patching/tables.ts';
import type { Store } from '../store/store.ts';
import { plainMessage, testMessageText } from './compose.ts';
import { ChannelError, createChannel, type Attachment, type Channel } from './channels/index.ts';
import type { NotificationsConfig } from './config.ts';
import {
  claim,
  composeDue,
  deadLetterInterrupted,
  dueChannels,
  dueMessages,
  enqueue,
  insertMessage,
  markFailed,
  markSent,
  messageById,
  outgoing,
  type MessageRow,
} from './queue.ts';
import { listRules, matches } from './rules.ts';
import {
  findingEvents,
  HostCache,
  NO_FACTS,
  patchRunEvents,
  refreshEvents,
  slaEvents,
  addStateSource,
  stateSource,
  type Batch,
  type FindingFacts,
} from './sources.ts';
import { purgeOld } from './retention.ts';
import { ensureNotifyTables, NotifyState } from './tables.ts';
import { expiringExceptions } from './exception-source.ts';

export interface NotifyServiceOptions {
  store: Store;
  config: NotificationsConfig;
  clock: Clock;
  log: Logger;
  /** The channels by name (default: built from config.channels, secrets read now). */
  channels?: Channel[];
  facts?: FindingFacts;
}

export interface RoundReport {
  queued: number;
  messages: number;
  sent: number;
  failed: number;
  dead: number;
}

/** A message for the channels that is not about a rule's events (the monthly report). */
export interface ChannelMessage {
  /** Channel names; default every configured channel. */
  channels?: string[];
  title: string;
  text: string;
  /** An HTML body for e-mail. */
  html?: string;
  /** Files e-mail attaches; the other channels name them. */
  attachments?: Attachment[];
}

export class NotifyService {
  readonly store: Store;
  private readonly config: NotificationsConfig;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly channels: Map<string, Channel>;
  private readonly facts: FindingFacts;
  private readonly state: NotifyState;
  private collecting: Promise<{ queued: number; messages: number }> | null = null;
  private readonly draining = new Map<string, Promise<Omit<RoundReport, 'queued' | 'messages'>>>();
  private timer: NodeJS.Timeout | null = null;
  private stopped = false;
  private kicked = false;

  constructor(o: NotifyServiceOptions) {
    this.store = o.store;
    this.config = o.config;
    this.clock = o.clock;
    this.log = o.log.child({ job: 'notify' });
    this.facts = o.facts ?? NO_FACTS;
    this.channels = new Map((o.channels ?? o.config.channels.map((c) => createChannel(c))).map((c) => [c.name, c]));
    ensurePatchingTables(this.store);
    ensureNotifyTables(this.store);
    addStateSource(expiringExceptions);
    this.state = new NotifyState(this.store);
    this.startCursors();
  }

  /** On the first start, sources are followed from now on: what happened before is not told. */
  private startCursors(): void {
    const s = this.state;
    const now = this.clock.now();
    this.store.tx(() => {
      if (s.get('events') === undefined)
        s.set('events', this.store.get<{ n: number | null }>('SELECT max(id) AS n FROM events')?.n ?? 0);
      if (s.get('refreshes') === undefined)
        s.set('refreshes', this.store.get<{ n: number | null }>('SELECT max(id) AS n FROM refreshes')?.n ?? 0);
      if (s.get('patch_runs') === undefined) s.set('patch_runs', `${now}.0`);
      if (s.get('sla') === undefined) s.set('sla', now);
    });
  }

  /** Dead-letters what a crash cut off, then runs a round every `interval`. */
  start(): void {
    const cut = deadLetterInterrupted(this.store);
    if (cut) this.log.warn({ messages: cut }, 'notifications cut off by a stop while sending were dead-lettered');
    this.timer = setInterval(() => this.tick(), this.config.interval);
    this.timer.unref();
    this.kick();
  }

  /** A round soon (after a change: a retry asked for, a report queued). */
  kick(): void {
    if (this.stopped || this.timer === null || this.kicked) return;
    // Many kicks at once (a report to every channel) are one round.
    this.kicked = true;
    setImmediate(() => {
      this.kicked = false;
      this.tick();
    });
  }

  channelList(): { name: string; type: Channel['type']; summary: string }[] {
    return [...this.channels.values()].map((c) => ({ name: c.name, type: c.type, summary: c.summary }));
  }

  channelNames(): Set<string> {
    return new Set(this.channels.keys());
  }

  /**
   * One round: collect and compose, then the channels' sending, awaited (tests, a kick). A round
   * already running is waited for instead of starting another.
   */
  async runOnce(): Promise<RoundReport> {
    const round = await this.round();
    const sends = await Promise.all(this.startSending());
    const report: RoundReport = { ...round, sent: 0, failed: 0, dead: 0 };
    for (const r of sends) {
      report.sent += r.sent;
      report.failed += r.failed;
      report.dead += r.dead;
    }
    return report;
  }

  /** The timer's round: its sending goes on in the background. */
  private tick(): void {
    if (this.stopped) return;
    this.round()
      .then(() => void this.startSending())
      .catch(() => undefined);
  }

  /** Collects and composes (no sending); a round already running is waited for. */
  round(): Promise<{ queued: number; messages: number }> {
    if (this.collecting) return this.collecting;
    this.collecting = (async () => {
      try {
        const queued = await this.collect();
        const messages = composeDue(this.store, this.clock.now(), this.config.dashboard_url ?? null);
        purgeOld(this.store, this.state, this.clock.now());
        return { queued, messages };
      } catch (err) {
        this.log.error({ err }, 'notification round failed');
        throw err;
      } finally {
        this.collecting = null;
      }
    })();
    return this.collecting;
  }

  /** Starts sending on each channel with messages due that is not sending already; all sendings in progress. */
  private startSending(): Promise<Omit<RoundReport, 'queued' | 'messages'>>[] {
    if (!this.stopped) {
      for (const channel of dueChannels(this.store, this.clock.now())) {
        if (this.draining.has(channel)) continue;
        const drain = this.sendDue(channel).finally(() => this.draining.delete(channel));
        this.draining.set(channel, drain);
      }
    }
    return [...this.draining.values()];
  }

  private async collect(): Promise<number> {
    const rules = listRules(this.store).filter((r) => r.enabled);
    const byTrigger = new Map<Trigger, Rule[]>();
    for (const r of rules) byTrigger.set(r.trigger, [...(byTrigger.get(r.trigger) ?? []), r]);
    const now = this.clock.now();
    const hosts = new HostCache(this.store);
    let queued = 0;
    const take = (batch: Batch, trigger: Trigger): void => {
      this.store.tx(() => {
        for (const e of batch.events)
          for (const rule of byTrigger.get(trigger) ?? [])
            if (matches(rule, e)) queued += enqueue(this.store, rule, e, now, this.config.digest_at);
        batch.advance();
      });
    };
    // The cursors move whether or not a rule wants the events: a rule made later starts from then.
    for (;;) {
      const batch = findingEvents(this.store, this.state, hosts, this.facts);
      take(batch, 'new_finding');
      if (!batch.more || this.stopped) break;
      await yieldToEventLoop();
    }
    for (;;) {
      const batch = patchRunEvents(this.store, this.state, hosts);
      take(batch, 'patch_run_failed');
      if (!batch.more || this.stopped) break;
      await yieldToEventLoop();
    }
    take(refreshEvents(this.store, this.state), 'feed_refresh_failed');
    take(slaEvents(this.store, this.state, hosts, this.facts, now), 'sla_breach');
    for (const [trigger, list] of byTrigger) {
      const source = stateSource(trigger);
      if (!source) continue;
      for (const rule of list) {
        const events = source.collect(this.store, now, rule).filter((e) => matches(rule, e));
        this.store.tx(() => {
          for (const e of events) queued += enqueue(this.store, rule, e, now, this.config.digest_at);
        });
      }
    }
    return queued;
  }

  /** Sends a channel's due messages, oldest first, until none is due (or the service stops). */
  private async sendDue(channel: string): Promise<Omit<RoundReport, 'queued' | 'messages'>> {
    const out = { sent: 0, failed: 0, dead: 0 };
    for (;;) {
      const rows = dueMessages(this.store, this.clock.now(), channel, 20);
      if (rows.length === 0 || this.stopped) break;
      for (const row of rows) {
        if (this.stopped) break;
        if (!claim(this.store, row.id)) continue;
        const result = await this.deliver({ ...row, attempts: row.attempts + 1 });
        if (result === 'sent') out.sent++;
        else if (result === 'dead') out.dead++;
        else out.failed++;
      }
    }
    return out;
  }

  /** Sends a claimed message and records the outcome. */
  private async deliver(row: MessageRow): Promise<'sent' | 'queued' | 'dead'> {
    const channel = this.channels.get(row.channel);
    const log = { message: row.id, delivery: row.delivery_id, channel: row.channel, attempt: row.attempts };
    let error: string;
    let retryable: boolean;
    try {
      if (!channel) throw new ChannelError(`no channel ${row.channel} in notifications.channels`, false);
      await channel.send(outgoing(row));
      markSent(this.store, row.id, this.clock.now());
      this.log.info(log, 'notification sent');
      return 'sent';
    } catch (err) {
      error = err instanceof Error ? err.message : String(err);
      retryable = err instanceof ChannelError ? err.retryable : true;
    }
    const state = markFailed(this.store, row.id, {
      now: this.clock.now(),
      error,
      retryable,
      maxAttempts: row.kind === 'test' ? 1 : this.config.max_attempts,
      backoff: { baseDelayMs: this.config.retry_base, maxDelayMs: this.config.retry_max },
    });
    if (state === 'dead') this.log.error({ ...log, error }, 'notification dead-lettered');
    else this.log.warn({ ...log, error }, 'notification failed; retried later');
    return state;
  }

  /** Sends a test message to a channel now (one attempt, recorded like any message). */
  async testSend(channelName: string, by: string): Promise<{ ok: boolean; error: string | null; message_id: number }> {
    const now = this.clock.now();
    const payload = this.payload('test', testMessageText(channelName, by));
    const id = insertMessage(this.store, {
      kind: 'test',
      rule: null,
      channel: channelName,
      payload,
      now,
      state: 'sending',
    });
    const state = await this.deliver(messageById(this.store, id)!);
    const row = messageById(this.store, id)!;
    return { ok: state === 'sent', error: row.last_error, message_id: id };
  }

  /**
   * Queues a message for channels (default: all configured), delivered with the same retries
   * as rule messages. Returns the message ids. Unknown channel names are refused.
   */
  sendToChannels(m: ChannelMessage): number[] {
    const names = m.channels ?? [...this.channels.keys()];
    const unknown = names.filter((n) => !this.channels.has(n));
    if (unknown.length) throw new Error(`no channel ${unknown.join(', ')} in notifications.channels`);
    const now = this.clock.now();
    const ids = this.store.tx(() =>
      names.map((channel) =>
        insertMessage(this.store, {
          kind: 'report',
          rule: null,
          channel,
          payload: this.payload('report', m),
          html: m.html ?? null,
          attachments: m.attachments ?? [],
          now,
        }),
      ),
    );
    this.kick();
    return ids;
  }

  private payload(kind: 'test' | 'report', m: Pick<ChannelMessage, 'title' | 'text' | 'attachments'>): WebhookPayload {
    return plainMessage(kind, m, {
      deliveryId: randomUUID(),
      now: this.clock.now(),
      dashboardUrl: this.config.dashboard_url ?? null,
    });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.collecting?.catch(() => undefined);
    await Promise.all(this.draining.values());
    for (const c of this.channels.values()) c.close();
  }
}

/** For other server parts (the monthly report): queue a message on the notification channels. */
export function sendToChannels(service: NotifyService, m: ChannelMessage): number[] {
  return service.sendToChannels(m);
}
