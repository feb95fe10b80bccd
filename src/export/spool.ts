// A disk spool for documents the cluster could not take yet. Whoever produces documents
// (scan results, the server's exporter) calls `ship()` and moves on: while the cluster is
// down, documents wait here, in order, and go out first once it answers again.
// One process owns a spool directory at a time.
import { mkdir, readdir, readFile, rename, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { bulk, bulkItemSchema, emptyReport, type BulkItem, type BulkOptions, type BulkReport } from './bulk.ts';
import type { SearchClient } from './client.ts';

const SEGMENT = /^\d{15}-\d+-\d{6}\.ndjson$/;

export interface ShipReport extends BulkReport {
  /** Items written to the spool by this call (undelivered now, kept for later). */
  spooled: number;
  /** Items waiting in the spool after this call. */
  spoolRemaining: number;
  /** Spool files set aside as `.corrupt`, with the reason (file:line). */
  warnings: string[];
}

export class Spool {
  readonly dir: string;
  #sequence = 0;

  constructor(dir: string) {
    this.dir = dir;
  }

  /** Appends items as a new segment; written to a temporary name and renamed, so never torn. */
  async enqueue(items: readonly BulkItem[]): Promise<void> {
    if (items.length === 0) return;
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    this.#sequence = (this.#sequence + 1) % 1_000_000;
    const name = `${String(Date.now()).padStart(15, '0')}-${process.pid}-${String(this.#sequence).padStart(6, '0')}.ndjson`;
    await writeAtomically(join(this.dir, name), items);
  }

  /** Segment files, oldest first. */
  async segments(): Promise<string[]> {
    let names: string[];
    try {
      names = await readdir(this.dir);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw error;
    }
    return names.filter((name) => SEGMENT.test(name)).sort();
  }

  /** Number of items waiting. */
  async size(): Promise<number> {
    let count = 0;
    for (const name of await this.segments()) {
      const text = await readFile(join(this.dir, name), 'utf8');
      count += text.split('\n').filter((line) => line.trim() !== '').length;
    }
    return count;
  }

  /**
   * Resends spooled items, oldest segment first, and stops at the first segment the cluster
   * cannot fully take (the rest keeps its order). Delivered segments are deleted; a
   * partly delivered one is rewritten with what is still pending.
   */
  async replay(client: SearchClient, options: BulkOptions = {}): Promise<ShipReport> {
    const report: ShipReport = { ...emptyReport(), spooled: 0, spoolRemaining: 0, warnings: [] };
    for (const name of await this.segments()) {
      const file = join(this.dir, name);
      let items: BulkItem[];
      try {
        items = await readSegment(file);
      } catch (error) {
        const message = (error as Error).message;
        report.warnings.push(message);
        client.logger.warn(`spool: ${message}; set aside as ${name}.corrupt`);
        await rename(file, `${file}.corrupt`);
        continue;
      }
      const sent = await bulk(client, items, options);
      merge(report, sent);
      if (sent.pending.length === 0) {
        await unlink(file);
        continue;
      }
      await writeAtomically(file, sent.pending);
      break;
    }
    report.spoolRemaining = await this.size();
    return report;
  }
}

/**
 * Delivers items, spool first: older spooled items are resent before these, and if the
 * spool cannot be emptied these are spooled behind them without being tried (a newer
 * write must not overtake an older one). Whatever stays undelivered is spooled. Returns
 * without waiting for the cluster to come back. Throws (after spooling the items) only
 * when the cluster refuses the requests as such: wrong credentials, untrusted TLS.
 */
export async function ship(
  client: SearchClient,
  spool: Spool,
  items: readonly BulkItem[],
  options: BulkOptions = {},
): Promise<ShipReport> {
  let report: ShipReport;
  try {
    report = await spool.replay(client, options);
  } catch (error) {
    await spool.enqueue(items);
    throw error;
  }
  if (report.spoolRemaining > 0) {
    await spool.enqueue(items);
    report.total += items.length;
    report.spooled += items.length;
    report.spoolRemaining += items.length;
    return report;
  }
  let sent: BulkReport;
  try {
    sent = await bulk(client, items, options);
  } catch (error) {
    // Refused as a whole (credentials, TLS, ...): keep the items for when that is fixed.
    await spool.enqueue(items);
    throw error;
  }
  merge(report, sent);
  await spool.enqueue(sent.pending);
  report.spooled += sent.pending.length;
  report.spoolRemaining = sent.pending.length;
  return report;
}

function merge(into: BulkReport, from: BulkReport): void {
  into.total += from.total;
  into.created += from.created;
  into.updated += from.updated;
  into.deleted += from.deleted;
  into.unchanged += from.unchanged;
  into.rejected.push(...from.rejected);
  into.pending.push(...from.pending);
  into.pendingReason = from.pendingReason ?? into.pendingReason;
  into.requests += from.requests;
}

async function writeAtomically(file: string, items: readonly BulkItem[]): Promise<void> {
  const temporary = `${file}.tmp`;
  await writeFile(temporary, items.map((item) => `${JSON.stringify(item)}\n`).join(''), { mode: 0o600 });
  await rename(temporary, file);
}

async function readSegment(file: string): Promise<BulkItem[]> {
  const text = await readFile(file, 'utf8');
  const items: BulkItem[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    if (lines[i].trim() === '') continue;
    let value: unknown;
    try {
      value = JSON.parse(lines[i]);
    } catch {
      throw new Error(`${file}:${i + 1}: not JSON`);
    }
    const parsed = bulkItemSchema.safeParse(value);
    if (!parsed.success) {
      throw new Error(
        `${file}:${i + 1}: not a spooled item: ${parsed.error.issues.map((x) => `${x.path.join('.') || '(item)'}: ${x.message}`).join('; ')}`,
      );
    }
    items.push(parsed.data);
  }
  return items;
}
