// What an importer says about a record that fails its schema: the first few problems zod
// found, with their paths, on one line (the warning names the file and the record besides).
import type { z } from 'zod';

/** One line naming the first few problems zod found, with their paths. */
export function describeIssues(error: z.ZodError, limit = 3): string {
  const parts = error.issues
    .slice(0, limit)
    .map((i) => `${i.path.length ? i.path.join('.') : '(record)'}: ${i.message}`);
  if (error.issues.length > limit) parts.push(`and ${error.issues.length - limit} more`);
  return parts.join('; ');
}
