// The delivery queue in the store. Events wait in notify_pending (once per rule, channel and
// event key) until they are due — at once, after the rule's throttle, or at the digest time —
// then go together into one message per rule and channel. A message is claimed (`sending`,
// one more attempt) in a committed write before it is sent, and marked `sent`, or `queued`
// again after a backoff, or `dead` after the last attempt. A message still `sending` when the
// server starts was cut off mid-send: it may have arrived, so it is dead-lettered rather than
// sent again (a person may retry it from the dashboard).
import { randomUUID } from 'node:crypto';
import type { SQLInputValue } from 'node:sqlite';
import { z } from 'zod';
import { backoffDelay, type BackoffPolicy } from '../../net/backoff.ts';
import {
  MESSAGE_STATES,
  NotificationEventSchema,
  WebhookPayloadSchema,
  type MessageSchema,
  type MessagesQuerySchema,
  type NotificationEvent,
  type Rule,
  type WebhookPayload,
} from '../api/notification-schemas.ts';
import type { Store } from '../store/store.ts';
import type { Attachment, OutgoingMessage } from './channels/index.ts';
import { LISTED_EVENTS, nextDigestTime, ruleMessage } from './compose.ts';
import { ruleById } from './rules.ts';

export const INTERRUPTED =
  'interrupted: the server stopped while sending, so it may have arrived; not sent again unless retried by hand';

export interface MessageRow {
  id: number;
  delivery_id: string;
  kind: 'rule' | 'test' | 'report';
  rule_id: number | null;
  rule_name: string | null;
  channel: string;
  state: (typeof MESSAGE_STATES)[number];
  payload: string;
  html: string | null;
  attachments: string | null;
  events: number;
  attempts: number;
  next_at: number | null;
  last_error: string | null;
  created_at: number;
  sent_at: number | null;
}

/** Queues an event for each of a rule's channels (nothing when it was queued before). */
export function enqueue(store: Store, rule: Rule, e: NotificationEvent, now: number, digestAt: string): number {
  let queued = 0;
  const due = rule.digest ? nextDigestTime(now, digestAt) : now;
  for (const channel of rule.channels) {
    queued += store.run(
      `INSERT OR IGNORE INTO notify_pending (rule_id, channel, event_key, event, queued_at, due_at, message_id)
       VALUES (?, ?, ?, ?, ?, ?, NULL)`,
      rule.id,
      channel,
      e.key,
      JSON.stringify(e),
      now,
      due,
    ).changes;
  }
  return queued;
}

export function insertMessage(
  store: Store,
  m: {
    kind: MessageRow['kind'];
    rule: { id: number; name: string } | null;
    channel: string;
    payload: WebhookPayload;
    html?: string | null;
    attachments?: Attachment[];
    state?: 'queued' | 'sending';
    now: number;
  },
): number {
  const attachments = m.attachments?.length
    ? JSON.stringify(
        m.attachments.map((a) => ({
          filename: a.filename,
          content_type: a.contentType,
          content: a.content.toString('base64'),
        })),
      )
    : null;
  return store.run(
    `INSERT INTO notify_messages (delivery_id, kind, rule_id, rule_name, channel, state, payload, html, attachments, events,
       attempts, next_at, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    m.payload.id,
    m.kind,
    m.rule?.id ?? null,
    m.rule?.name ?? null,
    m.channel,
    m.state ?? 'queued',
    JSON.stringify(m.payload),
    m.html ?? null,
    attachments,
    m.payload.events_total,
    m.state === 'sending' ? 1 : 0,
    m.now,
    m.now,
  ).lastInsertRowid;
}

/**
 * Makes messages of the events that are due: one per rule and channel, unless the rule's
 * throttle holds it back (its events then wait for the window's end and go together).
 */
export function composeDue(store: Store, now: number, dashboardUrl: string | null): number {
  let made = 0;
  const groups = store.all<{ rule_id: number; channel: string }>(
    'SELECT DISTINCT rule_id, channel FROM notify_pending WHERE message_id IS NULL AND due_at <= ?',
    now,
  );
  for (const g of groups) {
    const rule = ruleById(store, g.rule_id);
    if (!rule) continue;
    if (rule.throttle_seconds > 0) {
      const last = store.get<{ at: number | null }>(
        "SELECT max(created_at) AS at FROM notify_messages WHERE rule_id = ? AND channel = ? AND kind = 'rule'",
        rule.id,
        g.channel,
      )?.at;
      if (last !== null && last !== undefined && now < last + rule.throttle_seconds * 1000) continue;
    }
    store.tx(() => {
      // Every due event goes in (a burst is one message counting them all); the first are listed.
      const where = 'WHERE rule_id = ? AND channel = ? AND message_id IS NULL AND due_at <= ?';
      const listed = store.all<{ event: string }>(
        `SELECT event FROM notify_pending ${where} ORDER BY queued_at, event_key LIMIT ?`,
        rule.id,
        g.channel,
        now,
        LISTED_EVENTS,
      );
      if (listed.length === 0) return;
      const total = store.get<{ n: number }>(
        `SELECT count(*) AS n FROM notify_pending ${where}`,
        rule.id,
        g.channel,
        now,
      )!.n;
      const events = listed.map((r) => NotificationEventSchema.parse(JSON.parse(r.event)));
      const payload = ruleMessage(rule, events, total, { deliveryId: randomUUID(), now, dashboardUrl });
      const id = insertMessage(store, { kind: 'rule', rule, channel: g.channel, payload, now });
      store.run(`UPDATE notify_pending SET message_id = ? ${where}`, id, rule.id, g.channel, now);
      made++;
    });
  }
  return made;
}

export function dueMessages(store: Store, now: number, channel: string, limit: number): MessageRow[] {
  return store.all<MessageRow>(
    "SELECT * FROM notify_messages WHERE state = 'queued' AND next_at <= ? AND channel = ? ORDER BY next_at, id LIMIT ?",
    now,
    channel,
    limit,
  );
}

/** Channels with messages due. */
export function dueChannels(store: Store, now: number): string[] {
  return store
    .all<{ channel: string }>(
      "SELECT DISTINCT channel FROM notify_messages WHERE state = 'queued' AND next_at <= ?",
      now,
    )
    .map((r) => r.channel);
}

/** Takes a queued message for sending (committed before anything goes out); false if another took it. */
export function claim(store: Store, id: number): boolean {
  return (
    store.run(
      "UPDATE notify_messages SET state = 'sending', attempts = attempts + 1 WHERE id = ? AND state = 'queued'",
      id,
    ).changes === 1
  );
}

export function markSent(store: Store, id: number, now: number): void {
  store.run(
    "UPDATE notify_messages SET state = 'sent', sent_at = ?, next_at = NULL, last_error = NULL WHERE id = ?",
    now,
    id,
  );
}

/** After a failed attempt: queued again after a backoff, or dead (the last attempt, or a refusal that would repeat). */
export function markFailed(
  store: Store,
  id: number,
  o: { now: number; error: string; retryable: boolean; maxAttempts: number; backoff: BackoffPolicy },
): 'queued' | 'dead' {
  const row = store.get<{ attempts: number }>('SELECT attempts FROM notify_messages WHERE id = ?', id);
  const attempts = row?.attempts ?? o.maxAttempts;
  if (!o.retryable || attempts >= o.maxAttempts) {
    store.run("UPDATE notify_messages SET state = 'dead', next_at = NULL, last_error = ? WHERE id = ?", o.error, id);
    return 'dead';
  }
  const next = o.now + backoffDelay(attempts - 1, o.backoff);
  store.run("UPDATE notify_messages SET state = 'queued', next_at = ?, last_error = ? WHERE id = ?", next, o.error, id);
  return 'queued';
}

/** At start: messages cut off mid-send are dead-lettered (see above). */
export function deadLetterInterrupted(store: Store): number {
  return store.run(
    "UPDATE notify_messages SET state = 'dead', next_at = NULL, last_error = ? WHERE state = 'sending'",
    INTERRUPTED,
  ).changes;
}

/** A dead message queued again by a person, with a full set of attempts; false when it is not dead. */
export function retryMessage(store: Store, id: number, now: number): boolean {
  return (
    store.run(
      "UPDATE notify_messages SET state = 'queued', attempts = 0, next_at = ? WHERE id = ? AND state = 'dead'",
      now,
      id,
    ).changes === 1
  );
}

export function messageById(store: Store, id: number): MessageRow | undefined {
  return store.get<MessageRow>('SELECT * FROM notify_messages WHERE id = ?', id);
}

const AttachmentsSchema = z.array(z.object({ filename: z.string(), content_type: z.string(), content: z.string() }));

/** A stored message as it goes out. */
export function outgoing(row: MessageRow): OutgoingMessage {
  return {
    payload: WebhookPayloadSchema.parse(JSON.parse(row.payload)),
    html: row.html,
    attachments: row.attachments
      ? AttachmentsSchema.parse(JSON.parse(row.attachments)).map((a) => ({
          filename: a.filename,
          contentType: a.content_type,
          content: Buffer.from(a.content, 'base64'),
        }))
      : [],
  };
}

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

export function messageView(r: MessageRow): z.infer<typeof MessageSchema> {
  const payload = JSON.parse(r.payload) as WebhookPayload;
  return {
    id: r.id,
    delivery_id: r.delivery_id,
    kind: r.kind,
    rule: r.rule_id === null ? null : { id: r.rule_id, name: r.rule_name ?? '' },
    channel: r.channel,
    state: r.state,
    title: payload.title,
    events: r.events,
    attempts: r.attempts,
    next_attempt_at: r.state === 'queued' ? iso(r.next_at) : null,
    last_error: r.last_error,
    created_at: iso(r.created_at)!,
    sent_at: iso(r.sent_at),
  };
}

export function listMessages(
  store: Store,
  q: z.infer<typeof MessagesQuerySchema>,
): { items: z.infer<typeof MessageSchema>[]; counts: Record<(typeof MESSAGE_STATES)[number], number> } {
  const where: string[] = [];
  const params: SQLInputValue[] = [];
  if (q.state) {
    where.push('state = ?');
    params.push(q.state);
  }
  if (q.channel) {
    where.push('channel = ?');
    params.push(q.channel);
  }
  if (q.before) {
    where.push('id < ?');
    params.push(q.before);
  }
  const rows = store.all<MessageRow>(
    `SELECT * FROM notify_messages ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id DESC LIMIT ?`,
    ...params,
    q.limit,
  );
  const counts = Object.fromEntries(MESSAGE_STATES.map((s) => [s, 0])) as Record<
    (typeof MESSAGE_STATES)[number],
    number
  >;
  for (const c of store.all<{ state: (typeof MESSAGE_STATES)[number]; n: number }>(
    'SELECT state, count(*) AS n FROM notify_messages GROUP BY state',
  ))
    counts[c.state] = c.n;
  return { items: rows.map(messageView), counts };
}
