// The interface every package-database reader implements (one per package format).
import type { InstalledPackage, PackageFormat } from '../core/types.ts';
import { PatchloopError } from '../core/errors.ts';

export interface ReadResult {
  packages: InstalledPackage[];
  /** Non-fatal problems, each naming the file (and line or record where known). */
  warnings: string[];
}

export interface InventoryReader {
  readonly format: PackageFormat;
  /** The database path found under `root`, or null when this format is not present there. */
  detect(root: string): Promise<string | null>;
  /**
   * Reads every installed package. Throws InventoryError for a database that cannot be read
   * at all (corrupt, truncated, unreadable): never returns an empty list for a broken file.
   */
  read(root: string, dbPath: string): Promise<ReadResult>;
}

/** A package database that cannot be read; the message names the file. */
export class InventoryError extends PatchloopError {
  readonly file: string;
  constructor(file: string, message: string) {
    super('PL_E_INVENTORY', `${file}: ${message}`);
    this.file = file;
  }
}
