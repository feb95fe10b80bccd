// A fresh scratch directory for one test, removed when the test ends.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

export function scratchDir(t: { after(fn: () => void): void }): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'patchloop-inventory-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}
