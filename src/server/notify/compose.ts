// The words of a message: its title and text from the rule and the events it tells of.
import type { NotificationEvent, Rule, Trigger, WebhookPayload } from '../api/notification-schemas.ts';

/** Events listed in one message; the rest are counted ("… and 40 more"). */
export const LISTED_EVENTS = 100;

const WHAT: Record<Trigger, [one: string, many: string]> = {
  new_finding: ['new finding', 'new findings'],
  sla_breach: ['SLA breach', 'SLA breaches'],
  patch_run_failed: ['failed patch run', 'failed patch runs'],
  reboot_pending: ['pending reboot', 'pending reboots'],
  host_stale: ['stale host', 'stale hosts'],
  feed_refresh_failed: ['failed feed refresh', 'failed feed refreshes'],
  exception_expiring: ['expiring exception', 'expiring exceptions'],
};

/** A rule's message: `events` are the first (up to LISTED_EVENTS) of `n`. */
export function ruleMessage(
  rule: Pick<Rule, 'id' | 'name' | 'trigger' | 'digest'>,
  events: NotificationEvent[],
  n: number,
  o: { deliveryId: string; now: number; dashboardUrl: string | null },
): WebhookPayload {
  const [one, many] = WHAT[rule.trigger];
  const title =
    n === 1 && !rule.digest
      ? `[patchloop] ${events[0].summary}`.slice(0, 200)
      : `[patchloop] ${rule.name}: ${n} ${n === 1 ? one : many}${rule.digest ? ' (daily digest)' : ''}`;
  const lines = [
    `Rule "${rule.name}" (${rule.trigger}${rule.digest ? ', daily digest' : ''}): ${n} ${n === 1 ? one : many}.`,
    '',
    ...events.slice(0, LISTED_EVENTS).map((e) => `- ${e.summary}`),
    ...(n > LISTED_EVENTS ? [`… and ${n - LISTED_EVENTS} more`] : []),
  ];
  return {
    schema: 'patchloop.notification/v1',
    id: o.deliveryId,
    kind: 'rule',
    rule: { id: rule.id, name: rule.name, trigger: rule.trigger },
    digest: rule.digest,
    title,
    text: lines.join('\n'),
    created_at: new Date(o.now).toISOString(),
    dashboard_url: o.dashboardUrl,
    events: events.slice(0, LISTED_EVENTS),
    events_total: n,
    attachments: [],
  };
}

/** The next time of day `hhmm` (UTC) after `now`: when a digest queued now goes out. */
export function nextDigestTime(now: number, hhmm: string): number {
  const [h, m] = hhmm.split(':').map(Number);
  const d = new Date(now);
  let t = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate(), h, m);
  if (t <= now) t += 86_400_000;
  return t;
}

/** A message that is not about a rule's events: a test, or a report. */
export function plainMessage(
  kind: 'test' | 'report',
  m: { title: string; text: string; attachments?: { filename: string; contentType: string; content: Buffer }[] },
  o: { deliveryId: string; now: number; dashboardUrl: string | null },
): WebhookPayload {
  return {
    schema: 'patchloop.notification/v1',
    id: o.deliveryId,
    kind,
    rule: null,
    digest: false,
    title: m.title,
    text: m.text,
    created_at: new Date(o.now).toISOString(),
    dashboard_url: o.dashboardUrl,
    events: [],
    events_total: 0,
    attachments: (m.attachments ?? []).map((a) => ({
      filename: a.filename,
      content_type: a.contentType,
      size: a.content.length,
    })),
  };
}

export function testMessageText(channel: string, by: string): { title: string; text: string } {
  return {
    title: `[patchloop] Test message for channel ${channel}`,
    text: `This is a test message sent by ${by}. If you can read it, the channel ${channel} works.`,
  };
}
