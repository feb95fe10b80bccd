// The report spool: every snapshot is written here before it is sent and removed only once
// the server acknowledged it, so a server outage or a network cut loses nothing. The spool is
// bounded: when it is full the oldest snapshots are dropped — a later snapshot supersedes them,
// since each is a whole inventory — and the drop is logged and counted in the next report
// (`skipped_reports`), so the server's history shows the gap. Nothing is dropped silently.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { z } from 'zod';
import { HostFactsSchema, PackageSchema } from '../core/protocol.ts';
import type { Snapshot } from './collect.ts';
import { ensurePrivateDir, writeFileAtomic } from './files.ts';

const EntrySchema = z.object({
  report_id: z.uuid(),
  snapshot: z.object({
    collected_at: z.string(),
    host: HostFactsSchema,
    packages: z.array(PackageSchema),
    warnings: z.array(z.string()),
  }),
  skipped_reports: z.number().int().min(0),
  attempts: z.number().int().min(0),
  next_attempt_at: z.number(),
  force_full: z.boolean(),
  last_error: z.string().nullable(),
});

/**
 * A time-ordered UUID (version 7, RFC 9562): 48-bit milliseconds, then randomness. Report ids
 * of a fleet then arrive at the server in roughly ascending order, which keeps its index of
 * report ids compact.
 */
export function reportId(now = Date.now()): string {
  const b = randomBytes(16);
  b.writeUIntBE(now, 0, 6);
  b[6] = (b[6] & 0x0f) | 0x70;
  b[8] = (b[8] & 0x3f) | 0x80;
  const h = b.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

export type SpoolEntry = z.infer<typeof EntrySchema> & { file: string; bytes: number };

export interface SpoolLimits {
  maxReports: number;
  maxBytes: number;
}

export interface SpoolLog {
  warn(obj: object, msg: string): void;
}

export class Spool {
  readonly dir: string;
  private readonly limits: SpoolLimits;
  private readonly log: SpoolLog;

  constructor(stateDir: string, limits: SpoolLimits, log: SpoolLog) {
    this.dir = join(stateDir, 'spool');
    this.limits = limits;
    this.log = log;
    ensurePrivateDir(this.dir);
  }

  /** Spools a new snapshot under a fresh report id, then enforces the bounds. */
  add(snapshot: Snapshot, now: number): SpoolEntry {
    const entry = {
      report_id: reportId(now),
      snapshot,
      skipped_reports: 0,
      attempts: 0,
      next_attempt_at: 0,
      force_full: false,
      last_error: null,
    };
    const file = join(this.dir, `${String(now).padStart(15, '0')}-${entry.report_id}.json.gz`);
    const written = this.write(file, entry);
    this.enforceBounds();
    return { ...entry, file, bytes: written };
  }

  private write(file: string, entry: Omit<SpoolEntry, 'file' | 'bytes'>): number {
    const data = gzipSync(JSON.stringify(entry));
    writeFileAtomic(file, data, 0o600);
    return data.length;
  }

  /** Spooled entries, oldest first. Unreadable files are set aside (and logged), not deleted. */
  list(): SpoolEntry[] {
    if (!existsSync(this.dir)) return [];
    const out: SpoolEntry[] = [];
    for (const name of readdirSync(this.dir)
      .filter((n) => n.endsWith('.json.gz'))
      .sort()) {
      const file = join(this.dir, name);
      try {
        const parsed = EntrySchema.parse(JSON.parse(gunzipSync(readFileSync(file)).toString('utf8')));
        out.push({ ...parsed, file, bytes: statSync(file).size });
      } catch (err) {
        this.setAside(file, 'corrupt', `unreadable spool file: ${(err as Error).message}`);
      }
    }
    return out;
  }

  update(entry: SpoolEntry): void {
    const { file, bytes: _bytes, ...rest } = entry;
    entry.bytes = this.write(file, rest);
  }

  remove(entry: SpoolEntry): void {
    rmSync(entry.file, { force: true });
  }

  /** Moves a report the server refused (malformed, too large) out of the queue, with the reason. */
  reject(entry: SpoolEntry, reason: string): string {
    return this.setAside(entry.file, 'rejected', reason);
  }

  private setAside(file: string, kind: 'rejected' | 'corrupt', reason: string): string {
    const dir = join(this.dir, kind);
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const target = join(dir, file.split('/').pop()!);
    renameSync(file, target);
    writeFileAtomic(`${target}.reason`, `${reason}\n`);
    this.log.warn({ file: target, reason }, `spooled report set aside as ${kind}`);
    return target;
  }

  private enforceBounds(): void {
    let entries = this.list();
    let bytes = entries.reduce((n, e) => n + e.bytes, 0);
    let dropped = 0;
    let droppedSkipped = 0;
    // The newest entry always stays: it is the current state of the host.
    while (entries.length > 1 && (entries.length > this.limits.maxReports || bytes > this.limits.maxBytes)) {
      const oldest = entries[0];
      this.remove(oldest);
      bytes -= oldest.bytes;
      dropped++;
      droppedSkipped += oldest.skipped_reports;
      entries = entries.slice(1);
    }
    if (dropped > 0) {
      const newest = entries[entries.length - 1];
      newest.skipped_reports += dropped + droppedSkipped;
      this.update(newest);
      this.log.warn(
        { dropped, pending: entries.length, limit_reports: this.limits.maxReports, limit_bytes: this.limits.maxBytes },
        'report spool full: dropped the oldest unsent reports (a newer inventory supersedes them); the next report tells the server how many',
      );
    }
  }
}
