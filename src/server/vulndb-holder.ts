// The vulnerability DB the server matches with. Feed files are replaced by rename, so the open
// handles keep reading the old data until reload() opens the new files.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { VulnDb } from '../vulndb/reader.ts';
import { vulnDbDir } from '../vulndb/paths.ts';

export class VulnDbHolder {
  private db: VulnDb;
  private readonly dataDir: string;
  /** The fingerprint of the files `db` was opened from (taken before opening them). */
  private opened: string;

  constructor(dataDir: string) {
    this.dataDir = dataDir;
    this.opened = this.fingerprint();
    this.db = VulnDb.open(dataDir);
  }

  current(): VulnDb {
    return this.db;
  }

  /** Opens the files now on disk; the previous handles are closed. */
  reload(): VulnDb {
    const opened = this.fingerprint();
    const next = VulnDb.open(this.dataDir);
    const old = this.db;
    this.db = next;
    this.opened = opened;
    old.close();
    return next;
  }

  /**
   * Identifies the data current() reads: the files as they were when it was opened. Between a
   * refresh's rename of a new file and its reload() this differs from fingerprint(): what is
   * derived from the open data must be keyed by this one, or it would be taken for the new data.
   */
  currentFingerprint(): string {
    return this.opened;
  }

  /** Identifies the feed files on disk (name, inode, size, mtime): changes when any is replaced. */
  fingerprint(): string {
    const dir = vulnDbDir(this.dataDir);
    if (!existsSync(dir)) return '';
    return readdirSync(dir)
      .filter((f) => f.endsWith('.sqlite'))
      .sort()
      .map((f) => {
        const s = statSync(join(dir, f));
        return `${f}:${s.ino}:${s.size}:${s.mtimeMs}`;
      })
      .join(';');
  }

  close(): void {
    this.db.close();
  }
}
