// What every rpm database backend yields: the stored header blobs with their record ids, and
// the problems met with single records while the database as a whole stays readable.
import type { ByteSource } from './bytes.ts';

/** One stored package header: `id` is the header number (rpm's hnum, or the NDB pkgidx). */
export interface HeaderRecord {
  id: number;
  /** The header blob, in memory or read on demand. */
  blob: Uint8Array | ByteSource;
  /** For a blob whose header does not parse: a further finding about its damage, if any. */
  explainDamage?: () => string | null;
}

/** Where a backend reports problems with single records (`id` null when none is known). */
export interface RecordProblems {
  /** Something is off, but the record is still yielded. */
  warn(id: number | null, message: string): void;
  /** The record cannot be read and is not yielded. */
  skip(id: number | null, message: string): void;
}
