// The shapes of notifications: rules (what to tell whom), channels as the API shows them (never
// a secret), messages and their delivery state, and the JSON document the generic webhook
// channel posts (documented in docs/notifications.md; receivers may validate with this schema).
import { z } from 'zod';
import { SEVERITIES } from '../../core/types.ts';

export const TRIGGERS = [
  'new_finding',
  'sla_breach',
  'patch_run_failed',
  'reboot_pending',
  'host_stale',
  'feed_refresh_failed',
  'exception_expiring',
] as const;
export type Trigger = (typeof TRIGGERS)[number];

export const PRIORITIES = ['P1', 'P2', 'P3', 'P4'] as const;

const isoTime = z.string().describe('ISO 8601 time (UTC)');
const shortText = z.string().min(1).max(200);
/** Names one list of a rule's filter may hold: each event is compared with every one. */
const MAX_FILTER_NAMES = 1_000;

/** Which events of its trigger a rule takes; every field given must match (lists: any of them). */
export const RuleFilterSchema = z
  .object({
    severities: z.array(z.enum(SEVERITIES)).min(1).optional().describe('finding triggers: any of these severities'),
    kev: z.boolean().optional().describe('finding triggers: on the known-exploited list (or not)'),
    priorities: z.array(z.enum(PRIORITIES)).min(1).optional().describe('finding triggers: any of these priorities'),
    groups: z.array(shortText).min(1).max(MAX_FILTER_NAMES).optional().describe("the host's group is one of these"),
    tags: z.array(shortText).min(1).max(MAX_FILTER_NAMES).optional().describe('the host has one of these tags'),
    hosts: z.array(shortText).min(1).max(MAX_FILTER_NAMES).optional().describe('the host name is one of these'),
  })
  .strict();
export type RuleFilter = z.infer<typeof RuleFilterSchema>;

export const RuleInputSchema = z
  .object({
    name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9 _.-]{0,79}$/, 'letters, digits, space, _ . - (up to 80)'),
    trigger: z.enum(TRIGGERS),
    filter: RuleFilterSchema.default({}),
    /** Channel names of server.yaml's notifications.channels. */
    channels: z.array(z.string().min(1).max(64)).min(1).max(20),
    /** reboot_pending: pending longer than this many days; exception_expiring: expiring within it. */
    days: z.number().int().min(1).max(365).optional(),
    /** At most one message per channel in this many seconds; events meanwhile wait and go together. */
    throttle_seconds: z
      .number()
      .int()
      .min(0)
      .max(7 * 86_400)
      .default(0),
    /** Collect the day's events into one message sent at notifications.digest_at. */
    digest: z.boolean().default(false),
    enabled: z.boolean().default(true),
  })
  .strict();
export type RuleInput = z.infer<typeof RuleInputSchema>;

export const RuleSchema = RuleInputSchema.extend({
  id: z.number().int(),
  filter: RuleFilterSchema,
  days: z.number().int().nullable(),
  created_at: isoTime,
  created_by: z.string(),
  updated_at: isoTime,
});
export type Rule = z.infer<typeof RuleSchema>;

export const ChannelSchema = z.object({
  name: z.string(),
  type: z.enum(['smtp', 'webhook', 'slack', 'teams']),
  /** What it reaches, without any secret (an SMTP server and recipients; never a URL). */
  summary: z.string(),
});

export const MESSAGE_STATES = ['queued', 'sending', 'sent', 'dead'] as const;

export const MessageSchema = z.object({
  id: z.number().int(),
  /** The same on every attempt: receivers drop a delivery id they have seen. */
  delivery_id: z.string(),
  kind: z.enum(['rule', 'test', 'report']),
  rule: z.object({ id: z.number().int(), name: z.string() }).nullable(),
  channel: z.string(),
  state: z.enum(MESSAGE_STATES),
  title: z.string(),
  events: z.number().int(),
  attempts: z.number().int(),
  next_attempt_at: isoTime.nullable(),
  last_error: z.string().nullable(),
  created_at: isoTime,
  sent_at: isoTime.nullable(),
});

export const MessagesQuerySchema = z.object({
  state: z.enum(MESSAGE_STATES).optional(),
  channel: z.string().max(64).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(100),
  before: z.coerce.number().int().min(1).optional().describe('messages with a smaller id (older pages)'),
});

export const MessagesPageSchema = z.object({
  items: z.array(MessageSchema),
  counts: z.record(z.enum(MESSAGE_STATES), z.number().int()),
});

export const TestSendResultSchema = z.object({
  channel: z.string(),
  ok: z.boolean(),
  error: z.string().nullable(),
  message_id: z.number().int(),
});

/** One event a notification tells of. */
export const NotificationEventSchema = z.object({
  /** Unique per event: one event is told once per rule and channel. */
  key: z.string(),
  trigger: z.enum(TRIGGERS),
  at: isoTime,
  summary: z.string(),
  host: z
    .object({ id: z.number().int(), hostname: z.string(), group: z.string(), tags: z.array(z.string()) })
    .nullable(),
  vulnerability: z.string().nullable(),
  package: z.object({ name: z.string(), version: z.string(), arch: z.string() }).nullable(),
  severity: z.enum(SEVERITIES).nullable(),
  kev: z.boolean().nullable(),
  priority: z.enum(PRIORITIES).nullable(),
  /** Trigger-specific facts (a patch run's id and outcome, a refresh's message, days pending…). */
  detail: z.record(z.string(), z.union([z.string(), z.number(), z.boolean(), z.null()])),
});
export type NotificationEvent = z.infer<typeof NotificationEventSchema>;

/** The document the webhook channel posts (Content-Type application/json). */
export const WebhookPayloadSchema = z.object({
  schema: z.literal('patchloop.notification/v1'),
  /** The delivery id (also in X-Patchloop-Delivery): the same on a retry of this message. */
  id: z.string(),
  kind: z.enum(['rule', 'test', 'report']),
  rule: z.object({ id: z.number().int(), name: z.string(), trigger: z.enum(TRIGGERS) }).nullable(),
  digest: z.boolean(),
  title: z.string(),
  text: z.string(),
  created_at: isoTime,
  dashboard_url: z.string().nullable(),
  /** The events told, up to 100 (events_total counts them all). */
  events: z.array(NotificationEventSchema),
  events_total: z.number().int(),
  /** Files the e-mail channel attaches (a report); other channels name them only. */
  attachments: z.array(z.object({ filename: z.string(), content_type: z.string(), size: z.number().int() })),
});
export type WebhookPayload = z.infer<typeof WebhookPayloadSchema>;
