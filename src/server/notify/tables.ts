// The notification tables of the server store, created on first use (IF NOT EXISTS) beside
// the store's own schema, like the patching tables: stores from before notifications gain them
// without a schema upgrade.
//
// notify_pending is the memory of what was told: one row per (rule, channel, event key), so an
// event is queued once however often its source is read again (a restart, a state-based source
// such as stale hosts looked at every minute). A row joins a message (message_id) when the
// message is composed; a message is one delivery to one channel, sent at most once on its own
// (a message found `sending` at start was interrupted: it is dead-lettered, never resent
// without a person's say).
import type { Store } from '../store/store.ts';

const NOTIFY_SCHEMA = `
CREATE TABLE IF NOT EXISTS notify_state (key TEXT PRIMARY KEY, value TEXT NOT NULL) STRICT;
CREATE TABLE IF NOT EXISTS notify_rules (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  name TEXT NOT NULL UNIQUE,
  doc TEXT NOT NULL,                      -- the rule as given (RuleInput JSON)
  created_at INTEGER NOT NULL,
  created_by TEXT NOT NULL,
  updated_at INTEGER NOT NULL
) STRICT;
CREATE TABLE IF NOT EXISTS notify_pending (
  rule_id INTEGER NOT NULL,
  channel TEXT NOT NULL,
  event_key TEXT NOT NULL,
  event TEXT NOT NULL,                    -- NotificationEvent JSON
  queued_at INTEGER NOT NULL,
  due_at INTEGER NOT NULL,                -- the next digest time for digest rules, else queued_at
  message_id INTEGER,
  PRIMARY KEY (rule_id, channel, event_key)
) STRICT, WITHOUT ROWID;
DROP INDEX IF EXISTS notify_pending_waiting;
-- Events not yet in a message (few): what composing reads.
CREATE INDEX IF NOT EXISTS notify_pending_unsent ON notify_pending (rule_id, channel, queued_at, event_key) WHERE message_id IS NULL;
CREATE TABLE IF NOT EXISTS notify_messages (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  delivery_id TEXT NOT NULL UNIQUE,
  kind TEXT NOT NULL,                     -- rule | test | report
  rule_id INTEGER,
  rule_name TEXT,
  channel TEXT NOT NULL,
  state TEXT NOT NULL,                    -- queued | sending | sent | dead
  payload TEXT NOT NULL,                  -- WebhookPayload JSON
  html TEXT,
  attachments TEXT,                       -- JSON [{filename, content_type, content (base64)}]
  events INTEGER NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  next_at INTEGER,
  last_error TEXT,
  created_at INTEGER NOT NULL,
  sent_at INTEGER
) STRICT;
CREATE INDEX IF NOT EXISTS notify_messages_due ON notify_messages (state, next_at);
CREATE INDEX IF NOT EXISTS notify_messages_by_rule ON notify_messages (rule_id, channel, id);
`;

export function ensureNotifyTables(store: Store): void {
  store.db.exec(NOTIFY_SCHEMA);
}

/** The worker's persisted positions in its sources, one key per value. */
export class NotifyState {
  private readonly store: Store;
  constructor(store: Store) {
    this.store = store;
  }
  get(key: string): string | undefined {
    return this.store.get<{ value: string }>('SELECT value FROM notify_state WHERE key = ?', key)?.value;
  }
  number(key: string): number | null {
    const v = this.get(key);
    return v === undefined ? null : Number(v);
  }
  set(key: string, value: string | number): void {
    this.store.run(
      'INSERT INTO notify_state (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value',
      key,
      String(value),
    );
  }
}
