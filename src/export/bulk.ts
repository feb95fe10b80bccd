// `_bulk` in bounded batches with per-item outcomes: retry what the cluster could not take
// now, dead-letter what it will never take, and hand back what is still undelivered so
// the caller can spool it (the cluster being down must not lose data).
import { z } from 'zod';
import { ClusterError, type SearchClient } from './client.ts';
import type { BulkLimits } from './options.ts';
import { backoffDelay, sleep } from '../net/backoff.ts';
import { isRetryableStatus } from '../net/http.ts';
import { appendDeadLetters, type DeadLetter } from './deadletter.ts';
import { bulkItemSchema, type BulkAction, type BulkItem } from './items.ts';

export { bulkItemSchema, type BulkAction, type BulkItem };

export interface RejectedItem {
  item: BulkItem;
  status: number;
  type: string | null;
  reason: string;
}

export interface BulkReport {
  /** Items sent (each counted once, however many attempts it took). */
  total: number;
  created: number;
  updated: number;
  deleted: number;
  /**
   * Writes the cluster already had: `create` of an existing id (a replayed event), an
   * external version not above the stored one, a delete of a missing document.
   */
  unchanged: number;
  /** Rejected for good (mapping errors, bad requests); also written to the dead-letter file. */
  rejected: RejectedItem[];
  /** Still undelivered after the retries (cluster down or overloaded): spool and resend. */
  pending: BulkItem[];
  /** Why items are pending: the last failure that left them so (null when none are). */
  pendingReason: string | null;
  /** `_bulk` requests made, retries included. */
  requests: number;
}

export interface BulkOptions {
  /** `true`/`wait_for` make the writes visible to search before returning (tests, small runs). */
  refresh?: boolean | 'wait_for';
}

export interface Batch {
  items: BulkItem[];
  body: string;
}

/** NDJSON for one item: its action line, plus the document line for index/create. */
export function itemLines(item: BulkItem): string {
  const meta: Record<string, unknown> = { _index: item.index };
  if (item.id !== undefined) meta._id = item.id;
  if (item.action === 'index' && item.version !== undefined) {
    meta.version = item.version;
    meta.version_type = 'external';
  }
  const action = JSON.stringify({ [item.action]: meta });
  return item.action === 'delete' ? `${action}\n` : `${action}\n${JSON.stringify(item.doc)}\n`;
}

/**
 * Cuts items into `_bulk` bodies of at most `maxDocs` items and `maxBytes` bytes. Order is
 * kept (later writes to one id must land after earlier ones); an item bigger than
 * `maxBytes` on its own travels alone rather than being dropped.
 */
export function planBatches(items: readonly BulkItem[], limits: Pick<BulkLimits, 'maxDocs' | 'maxBytes'>): Batch[] {
  const batches: Batch[] = [];
  let current: BulkItem[] = [];
  let parts: string[] = [];
  let bytes = 0;
  for (const item of items) {
    const lines = itemLines(item);
    const size = Buffer.byteLength(lines, 'utf8');
    if (current.length > 0 && (current.length >= limits.maxDocs || bytes + size > limits.maxBytes)) {
      batches.push({ items: current, body: parts.join('') });
      current = [];
      parts = [];
      bytes = 0;
    }
    current.push(item);
    parts.push(lines);
    bytes += size;
  }
  if (current.length > 0) batches.push({ items: current, body: parts.join('') });
  return batches;
}

const itemResultSchema = z.object({
  status: z.number().int(),
  result: z.string().optional(),
  error: z.unknown().optional(),
});

const bulkResponseSchema = z.object({
  errors: z.boolean(),
  items: z.array(z.record(z.string(), itemResultSchema)),
});

export type ItemOutcome =
  | { kind: 'created' | 'updated' | 'deleted' | 'unchanged' }
  | { kind: 'retry' | 'rejected'; status: number; type: string | null; reason: string };

/**
 * What one item's answer means. 409 on `create` is a document already there (events have
 * deterministic ids, so a resent event is a duplicate, not a failure); 409 on an
 * externally versioned `index` is an older copy; 404 on delete is already gone.
 */
export function classifyItem(item: BulkItem, answer: z.infer<typeof itemResultSchema>): ItemOutcome {
  const { status } = answer;
  if (status >= 200 && status < 300) {
    if (answer.result === 'created') return { kind: 'created' };
    if (answer.result === 'deleted') return { kind: 'deleted' };
    if (answer.result === 'noop') return { kind: 'unchanged' };
    return { kind: 'updated' };
  }
  const { type, reason } = itemError(answer.error);
  if (status === 409 && type === 'version_conflict_engine_exception') {
    if (item.action === 'create' || (item.action === 'index' && item.version !== undefined))
      return { kind: 'unchanged' };
  }
  if (status === 404 && item.action === 'delete' && answer.result === 'not_found') return { kind: 'unchanged' };
  if (isRetryableStatus(status)) return { kind: 'retry', status, type, reason };
  return { kind: 'rejected', status, type, reason };
}

function itemError(error: unknown): { type: string | null; reason: string } {
  if (error && typeof error === 'object') {
    const e = error as { type?: unknown; reason?: unknown; caused_by?: { type?: unknown; reason?: unknown } };
    let reason = typeof e.reason === 'string' ? e.reason : '';
    if (e.caused_by && typeof e.caused_by.reason === 'string')
      reason += ` (caused by ${String(e.caused_by.type)}: ${e.caused_by.reason})`;
    return { type: typeof e.type === 'string' ? e.type : null, reason };
  }
  return { type: null, reason: typeof error === 'string' ? error : '' };
}

export function emptyReport(): BulkReport {
  return {
    total: 0,
    created: 0,
    updated: 0,
    deleted: 0,
    unchanged: 0,
    rejected: [],
    pending: [],
    pendingReason: null,
    requests: 0,
  };
}

/**
 * Sends items through `_bulk`. Never throws for delivery problems: undelivered items come
 * back in `pending`, rejected ones in `rejected` (and the dead-letter file). A batch the
 * cluster finds too large (413) is split. Throws only for a cluster that refuses the
 * request as a whole for a non-transient reason (401, 403, untrusted TLS, a malformed
 * request), since resending cannot help and nothing was written.
 */
export async function bulk(
  client: SearchClient,
  items: readonly BulkItem[],
  options: BulkOptions = {},
): Promise<BulkReport> {
  const report = emptyReport();
  report.total = items.length;
  if (items.length === 0) return report;
  const limits = client.options.bulk;
  const retry = client.options.retry;
  try {
    await client.info();
  } catch (error) {
    if (error instanceof ClusterError && error.retryable) {
      client.logger.warn(`bulk: ${error.message}; ${items.length} items left pending`);
      report.pending.push(...items);
      report.pendingReason = error.message;
      return report;
    }
    throw error;
  }
  const queue = planBatches(items, limits);
  let clusterDown = false;
  while (queue.length > 0) {
    const batch = queue.shift() as Batch;
    if (clusterDown) {
      report.pending.push(...batch.items);
      continue;
    }
    let toSend = batch.items;
    let body = batch.body;
    for (let attempt = 0; toSend.length > 0; attempt++) {
      report.requests++;
      let answer: z.infer<typeof bulkResponseSchema>;
      try {
        const response = await client.send({
          method: 'POST',
          path: '/_bulk',
          ndjson: body,
          query: { refresh: options.refresh === undefined ? undefined : String(options.refresh) },
        });
        const parsed = bulkResponseSchema.safeParse(response.body);
        if (!parsed.success || parsed.data.items.length !== toSend.length) {
          throw new ClusterError(
            `POST ${client.url}/_bulk: answer does not list one result per item (${toSend.length} sent)`,
            response.status,
            null,
            false,
          );
        }
        answer = parsed.data;
      } catch (error) {
        if (error instanceof ClusterError && error.status === 413) {
          // The cluster's http.max_content_length is below maxBytes: halve the batch until
          // it fits; a single document that never fits is rejected rather than resent forever.
          if (toSend.length > 1) {
            const half = Math.ceil(toSend.length / 2);
            const parts = [toSend.slice(0, half), toSend.slice(half)].map((part) => ({
              items: part,
              body: part.map(itemLines).join(''),
            }));
            client.logger.warn(`bulk: ${error.message}; splitting ${toSend.length} items in two`);
            queue.unshift(...parts);
          } else {
            const dead: RejectedItem[] = [
              {
                item: toSend[0],
                status: 413,
                type: error.type,
                reason: 'document larger than the cluster accepts in one request',
              },
            ];
            report.rejected.push(...dead);
            await recordRejected(client, dead);
          }
          break;
        }
        if (!(error instanceof ClusterError) || !error.retryable) throw error;
        if (attempt >= retry.maxRetries) {
          client.logger.warn(`bulk: ${error.message}; giving up for now, ${toSend.length} items pending`);
          report.pending.push(...toSend);
          report.pendingReason = error.message;
          // Retrying every later batch the same way would block the caller for minutes
          // when the cluster is down; they are pending too and the spool resends them.
          if (error.status === null) clusterDown = true;
          break;
        }
        const delay = backoffDelay(attempt, retry);
        client.logger.warn(`bulk: ${error.message}; retry ${attempt + 1}/${retry.maxRetries} in ${delay} ms`);
        await sleep(delay);
        continue;
      }
      const again: BulkItem[] = [];
      const dead: RejectedItem[] = [];
      let refusal = '';
      answer.items.forEach((entry, i) => {
        const item = toSend[i];
        const result = entry[item.action] ?? Object.values(entry)[0];
        const outcome = classifyItem(item, result);
        switch (outcome.kind) {
          case 'created':
          case 'updated':
          case 'deleted':
          case 'unchanged':
            report[outcome.kind]++;
            break;
          case 'rejected':
            dead.push({ item, status: outcome.status, type: outcome.type, reason: outcome.reason });
            break;
          case 'retry': {
            const attempts = (item.attempts ?? 0) + 1;
            if (attempts >= limits.maxItemAttempts) {
              dead.push({
                item: { ...item, attempts },
                status: outcome.status,
                type: outcome.type,
                reason: `${outcome.reason} (after ${attempts} attempts)`,
              });
            } else {
              again.push({ ...item, attempts });
              refusal = `${outcome.status}${outcome.type ? ` ${outcome.type}` : ''}${outcome.reason ? `: ${outcome.reason}` : ''}`;
            }
            break;
          }
        }
      });
      if (dead.length > 0) {
        report.rejected.push(...dead);
        await recordRejected(client, dead);
      }
      toSend = again;
      if (toSend.length === 0) break;
      if (attempt >= retry.maxRetries) {
        client.logger.warn(
          `bulk: ${toSend.length} items still refused after ${retry.maxRetries} retries; left pending`,
        );
        report.pending.push(...toSend);
        report.pendingReason = `${toSend.length} items refused for now after ${retry.maxRetries} retries (${refusal})`;
        break;
      }
      body = toSend.map(itemLines).join('');
      const delay = backoffDelay(attempt, retry);
      client.logger.debug(`bulk: ${toSend.length} items to retry in ${delay} ms`);
      await sleep(delay);
    }
  }
  return report;
}

async function recordRejected(client: SearchClient, rejected: RejectedItem[]): Promise<void> {
  const first = rejected[0];
  client.logger.warn(
    `bulk: ${rejected.length} documents rejected for good (first: ${first.item.index}/${first.item.id ?? '-'}: ${first.type ?? first.status}: ${first.reason})` +
      (client.options.deadLetterFile
        ? `; written to ${client.options.deadLetterFile}`
        : '; no dead-letter file configured'),
  );
  if (!client.options.deadLetterFile) return;
  const now = new Date().toISOString();
  const letters: DeadLetter[] = rejected.map((r) => ({
    '@timestamp': now,
    action: r.item.action,
    index: r.item.index,
    id: r.item.id ?? null,
    status: r.status,
    error: { type: r.type, reason: r.reason },
    item: r.item,
  }));
  await appendDeadLetters(client.options.deadLetterFile, letters);
}
