// The inventory the server acknowledged last: the base the next delta report is computed on.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { z } from 'zod';
import { PackageSchema } from '../core/protocol.ts';
import { writeFileAtomic } from './files.ts';

const AckedSchema = z.object({
  server: z.string(),
  host_id: z.number().int(),
  digest: z.string(),
  report_id: z.string(),
  acked_at: z.string(),
  packages: z.array(PackageSchema),
});
export type AckedState = z.infer<typeof AckedSchema>;

const file = (stateDir: string): string => join(stateDir, 'acknowledged.json.gz');

/** The acknowledged state, or null (none yet, unreadable: the next report is then a full one). */
export function loadAcked(stateDir: string): AckedState | null {
  try {
    return AckedSchema.parse(JSON.parse(gunzipSync(readFileSync(file(stateDir))).toString('utf8')));
  } catch {
    return null;
  }
}

export function saveAcked(stateDir: string, s: AckedState): void {
  writeFileAtomic(file(stateDir), gzipSync(JSON.stringify(s)), 0o600);
}
