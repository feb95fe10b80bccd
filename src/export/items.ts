// A document operation as plain data: what `_bulk` sends, the spool keeps and the
// dead-letter file records.
import { z } from 'zod';

export type BulkAction = 'index' | 'create' | 'delete';

/** One document operation. Plain data, so undelivered items can be spooled as JSON. */
export interface BulkItem {
  action: BulkAction;
  index: string;
  /** Document id; deterministic ids make every write idempotent. */
  id?: string;
  /**
   * `index` only: external version (e.g. epoch ms of the last change). The cluster keeps
   * the highest version, so a replayed older copy never overwrites a newer one.
   */
  version?: number;
  /** `index`/`create`: the document. */
  doc?: Record<string, unknown>;
  /** Item-level retryable failures so far (429/5xx answers), carried across spool replays. */
  attempts?: number;
}

export const bulkItemSchema = z
  .object({
    action: z.enum(['index', 'create', 'delete']),
    index: z.string().min(1),
    id: z.string().min(1).max(512).optional(),
    version: z.number().int().min(0).optional(),
    doc: z.record(z.string(), z.unknown()).optional(),
    attempts: z.number().int().min(0).optional(),
  })
  .strict()
  .refine((item) => item.action === 'delete' || item.doc !== undefined, { message: 'index/create items need a doc' })
  .refine((item) => item.action !== 'delete' || item.id !== undefined, { message: 'delete items need an id' });
