// Notification rules in the store: what to tell (a trigger and a filter), on which channels,
// how often (throttle, daily digest). Admins change them through the API.
import type { SQLInputValue } from 'node:sqlite';
import { RuleInputSchema, type NotificationEvent, type Rule, type RuleInput } from '../api/notification-schemas.ts';
import { HttpError } from '../http/errors.ts';
import type { Store } from '../store/store.ts';

interface RuleRow {
  id: number;
  name: string;
  doc: string;
  created_at: number;
  created_by: string;
  updated_at: number;
}

const iso = (ms: number): string => new Date(ms).toISOString();

function ruleOf(r: RuleRow): Rule {
  const doc = RuleInputSchema.parse(JSON.parse(r.doc));
  return {
    ...doc,
    days: doc.days ?? null,
    id: r.id,
    created_at: iso(r.created_at),
    created_by: r.created_by,
    updated_at: iso(r.updated_at),
  };
}

export function listRules(store: Store): Rule[] {
  return store.all<RuleRow>('SELECT * FROM notify_rules ORDER BY name').map(ruleOf);
}

export function ruleById(store: Store, id: number): Rule | null {
  const r = store.get<RuleRow>('SELECT * FROM notify_rules WHERE id = ?', id);
  return r ? ruleOf(r) : null;
}

/** Refuses channels that are not configured and a rule name already taken. */
function check(store: Store, input: RuleInput, channels: ReadonlySet<string>, id: number | null): void {
  const unknown = input.channels.filter((c) => !channels.has(c));
  if (unknown.length)
    throw new HttpError('PL_E_BAD_REQUEST', `no channel ${unknown.join(', ')} in notifications.channels`, {
      details: [{ path: 'channels', message: `configured: ${[...channels].join(', ') || 'none'}` }],
    });
  const params: SQLInputValue[] = [input.name];
  const other = store.get<{ id: number }>(
    `SELECT id FROM notify_rules WHERE name = ?${id === null ? '' : ' AND id != ?'}`,
    ...params,
    ...(id === null ? [] : [id]),
  );
  if (other) throw new HttpError('PL_E_CONFLICT', `a rule named ${input.name} exists`);
}

export function createRule(store: Store, input: RuleInput, channels: ReadonlySet<string>, by: string): Rule {
  check(store, input, channels, null);
  const now = store.clock.now();
  const { lastInsertRowid } = store.run(
    'INSERT INTO notify_rules (name, doc, created_at, created_by, updated_at) VALUES (?, ?, ?, ?, ?)',
    input.name,
    JSON.stringify(input),
    now,
    by,
    now,
  );
  return ruleById(store, lastInsertRowid)!;
}

/** Changes a rule from now on; what it queued for a channel it no longer names is dropped. */
export function updateRule(store: Store, id: number, input: RuleInput, channels: ReadonlySet<string>): Rule {
  check(store, input, channels, id);
  store.tx(() => {
    store.run(
      'UPDATE notify_rules SET name = ?, doc = ?, updated_at = ? WHERE id = ?',
      input.name,
      JSON.stringify(input),
      store.clock.now(),
      id,
    );
    store.run(
      `DELETE FROM notify_pending WHERE rule_id = ? AND message_id IS NULL
         AND channel NOT IN (SELECT value FROM json_each(?))`,
      id,
      JSON.stringify(input.channels),
    );
  });
  return ruleById(store, id)!;
}

/** Deletes a rule; what it queued and not yet sent goes with it, messages already made stay. */
export function deleteRule(store: Store, id: number): void {
  store.tx(() => {
    store.run('DELETE FROM notify_pending WHERE rule_id = ? AND message_id IS NULL', id);
    store.run('DELETE FROM notify_rules WHERE id = ?', id);
  });
}

/** Whether an event passes a rule's filter. Finding fields that are unknown (no KEV data) do not pass. */
export function matches(rule: Rule, e: NotificationEvent): boolean {
  const f = rule.filter;
  if (f.severities && (e.severity === null || !f.severities.includes(e.severity))) return false;
  if (f.kev !== undefined && (e.kev ?? false) !== f.kev) return false;
  if (f.priorities && (e.priority === null || !f.priorities.includes(e.priority))) return false;
  if (f.groups || f.tags || f.hosts) {
    const h = e.host ?? scopeOf(e);
    if (!h) return false;
    if (f.groups && !f.groups.includes(h.group)) return false;
    if (f.tags && !h.tags.some((t) => f.tags!.includes(t))) return false;
    if (f.hosts && !f.hosts.includes(h.hostname)) return false;
  }
  return true;
}

/** An exception's scope as the host of filters (exception_expiring events have no host). */
function scopeOf(e: NotificationEvent): { hostname: string; group: string; tags: string[] } | null {
  if (e.trigger !== 'exception_expiring') return null;
  const word = (k: string): string | null => (typeof e.detail[k] === 'string' ? (e.detail[k] as string) : null);
  const tag = word('scope_tag');
  return { hostname: word('scope_host') ?? '', group: word('scope_group') ?? '', tags: tag ? [tag] : [] };
}
