// The last failed update of a feed, kept beside its download cache so `db status` can say why
// a feed is older than expected: written when an update fails (the previous database stays),
// removed by the next update that succeeds. Best effort: a full disk that made the update fail
// may also refuse this record, and that must not hide the update's own error.
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';

const LastFailureSchema = z.object({ at: z.iso.datetime(), message: z.string().max(4000) });
export type LastFailure = z.infer<typeof LastFailureSchema>;

function fileOf(dataDir: string, feed: string): string {
  return join(dataDir, 'cache', feed, 'last-failure.json');
}

export function recordFailure(dataDir: string, feed: string, message: string, at = new Date()): void {
  try {
    mkdirSync(join(dataDir, 'cache', feed), { recursive: true });
    writeFileSync(fileOf(dataDir, feed), JSON.stringify({ at: at.toISOString(), message: message.slice(0, 4000) }));
  } catch {
    // See above: the update's result still says what failed.
  }
}

export function clearFailure(dataDir: string, feed: string): void {
  rmSync(fileOf(dataDir, feed), { force: true });
}

/** The feed's last failed update since its last good one, or null. */
export function lastFailure(dataDir: string, feed: string): LastFailure | null {
  try {
    const r = LastFailureSchema.safeParse(JSON.parse(readFileSync(fileOf(dataDir, feed), 'utf8')));
    return r.success ? r.data : null;
  } catch {
    return null;
  }
}
