// Notifications: the configured channels (never a secret), rules (admins change them), the
// messages and their delivery (dead letters included), a test send and a retry (operators).
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import {
  ChannelSchema,
  MessageSchema,
  MessagesPageSchema,
  MessagesQuerySchema,
  RuleInputSchema,
  RuleSchema,
  TestSendResultSchema,
} from '../api/notification-schemas.ts';
import { ErrorSchema, IdParams } from '../api/schemas.ts';
import type { ServerContext } from '../context.ts';
import { auditChange } from '../http/audit.ts';
import { actorName } from '../http/auth.ts';
import { HttpError } from '../http/errors.ts';
import { listMessages, messageById, messageView, retryMessage } from '../notify/queue.ts';
import { createRule, deleteRule, listRules, ruleById, updateRule } from '../notify/rules.ts';

const ChannelParams = z.object({ name: z.string().min(1).max(64) });
const TAGS = ['notifications'];

export const notificationRoutes =
  (ctx: ServerContext): FastifyPluginAsyncZod =>
  async (app) => {
    const { store, notify } = ctx;
    const existing = (id: number) => {
      const rule = ruleById(store, id);
      if (!rule) throw new HttpError('PL_E_NOT_FOUND', `no notification rule ${id}`);
      return rule;
    };

    app.get(
      '/api/v1/notifications/channels',
      {
        config: { access: 'viewer' },
        schema: {
          summary: "The notification channels of the server's configuration (what they reach; never a URL or password)",
          tags: TAGS,
          response: { 200: z.array(ChannelSchema) },
        },
      },
      async () => notify.channelList(),
    );

    app.post(
      '/api/v1/notifications/channels/:name/test',
      {
        config: { access: 'operator', audit: 'notification.test' },
        schema: {
          summary: 'Send a test message to a channel now (one attempt; the answer says whether it went)',
          tags: TAGS,
          params: ChannelParams,
          response: { 200: TestSendResultSchema, 404: ErrorSchema },
        },
      },
      async (request) => {
        const { name } = request.params;
        if (!notify.channelNames().has(name)) throw new HttpError('PL_E_NOT_FOUND', `no notification channel ${name}`);
        auditChange(request, { target: { type: 'notification_channel', id: name } });
        const result = await notify.testSend(name, actorName(request.principal));
        auditChange(request, { after: { ok: result.ok, error: result.error, message_id: result.message_id } });
        return { channel: name, ...result };
      },
    );

    app.get(
      '/api/v1/notifications/rules',
      {
        config: { access: 'viewer' },
        schema: { summary: 'Notification rules', tags: TAGS, response: { 200: z.array(RuleSchema) } },
      },
      async () => listRules(store),
    );

    app.post(
      '/api/v1/notifications/rules',
      {
        config: { access: 'admin', audit: 'notification_rule.create' },
        schema: {
          summary: 'Create a notification rule',
          description:
            'Events of the trigger that pass the filter are sent to the channels, once each; throttle_seconds holds ' +
            'messages back so events meanwhile go together; digest sends the day’s events at notifications.digest_at.',
          tags: TAGS,
          body: RuleInputSchema,
          response: { 201: RuleSchema, 400: ErrorSchema, 409: ErrorSchema },
        },
      },
      async (request, reply) => {
        const rule = createRule(store, request.body, notify.channelNames(), actorName(request.principal));
        auditChange(request, { target: { type: 'notification_rule', id: rule.id }, after: rule });
        return reply.code(201).send(rule);
      },
    );

    app.put(
      '/api/v1/notifications/rules/:id',
      {
        config: { access: 'admin', audit: 'notification_rule.update' },
        schema: {
          summary: 'Change a notification rule (applies to events from now on)',
          tags: TAGS,
          params: IdParams,
          body: RuleInputSchema,
          response: { 200: RuleSchema, 400: ErrorSchema, 404: ErrorSchema, 409: ErrorSchema },
        },
      },
      async (request) => {
        const before = existing(request.params.id);
        auditChange(request, { target: { type: 'notification_rule', id: before.id }, before });
        const after = updateRule(store, before.id, request.body, notify.channelNames());
        auditChange(request, { after });
        return after;
      },
    );

    app.delete(
      '/api/v1/notifications/rules/:id',
      {
        config: { access: 'admin', audit: 'notification_rule.delete' },
        schema: {
          summary: 'Delete a notification rule (its events not yet sent are dropped; sent messages stay listed)',
          tags: TAGS,
          params: IdParams,
          response: { 204: z.null(), 404: ErrorSchema },
        },
      },
      async (request, reply) => {
        const before = existing(request.params.id);
        auditChange(request, { target: { type: 'notification_rule', id: before.id }, before });
        deleteRule(store, before.id);
        return reply.code(204).send(null);
      },
    );

    app.get(
      '/api/v1/notifications/messages',
      {
        config: { access: 'viewer' },
        schema: {
          summary: 'Messages and their delivery, newest first (state=dead: the dead letters)',
          tags: TAGS,
          querystring: MessagesQuerySchema,
          response: { 200: MessagesPageSchema },
        },
      },
      async (request) => listMessages(store, request.query),
    );

    app.post(
      '/api/v1/notifications/messages/:id/retry',
      {
        config: { access: 'operator', audit: 'notification.retry' },
        schema: {
          summary: 'Queue a dead-lettered message again, with a full set of attempts',
          tags: TAGS,
          params: IdParams,
          response: { 200: MessageSchema, 404: ErrorSchema, 409: ErrorSchema },
        },
      },
      async (request) => {
        const row = messageById(store, request.params.id);
        if (!row) throw new HttpError('PL_E_NOT_FOUND', `no notification message ${request.params.id}`);
        auditChange(request, {
          target: { type: 'notification_message', id: row.id },
          before: { state: row.state, channel: row.channel, last_error: row.last_error },
        });
        if (!retryMessage(store, row.id, store.clock.now()))
          throw new HttpError('PL_E_CONFLICT', `message ${row.id} is ${row.state}, not dead`);
        notify.kick();
        const after = messageView(messageById(store, row.id)!);
        auditChange(request, { after: { state: after.state } });
        return after;
      },
    );
  };
