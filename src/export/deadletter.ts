// The dead-letter file: NDJSON, one line per document the cluster rejected for good, with
// the error and the whole item, so an operator can fix and resend it.
import { appendFile, mkdir, readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { z } from 'zod';
import { bulkItemSchema, type BulkItem } from './items.ts';

export interface DeadLetter {
  '@timestamp': string;
  action: string;
  index: string;
  id: string | null;
  status: number;
  error: { type: string | null; reason: string };
  item: BulkItem;
}

const deadLetterSchema = z.object({
  '@timestamp': z.string(),
  action: z.string(),
  index: z.string(),
  id: z.string().nullable(),
  status: z.number().int(),
  error: z.object({ type: z.string().nullable(), reason: z.string() }),
  item: bulkItemSchema,
});

export async function appendDeadLetters(file: string, letters: readonly DeadLetter[]): Promise<void> {
  if (letters.length === 0) return;
  await mkdir(dirname(file), { recursive: true });
  // One appendFile call per batch: lines of one batch stay together even with other writers.
  await appendFile(file, letters.map((letter) => `${JSON.stringify(letter)}\n`).join(''), { mode: 0o600 });
}

/** Reads a dead-letter file back (to inspect or resend); bad lines are errors naming file:line. */
export async function readDeadLetters(file: string): Promise<DeadLetter[]> {
  const text = await readFile(file, 'utf8');
  const letters: DeadLetter[] = [];
  text.split('\n').forEach((line, i) => {
    if (line.trim() === '') return;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (error) {
      throw new Error(`${file}:${i + 1}: not JSON (${(error as Error).message})`, { cause: error });
    }
    const parsed = deadLetterSchema.safeParse(value);
    if (!parsed.success) {
      throw new Error(
        `${file}:${i + 1}: not a dead-letter record: ${parsed.error.issues.map((x) => `${x.path.join('.')}: ${x.message}`).join('; ')}`,
      );
    }
    letters.push(parsed.data as DeadLetter);
  });
  return letters;
}
