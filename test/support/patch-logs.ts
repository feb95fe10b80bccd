// Locations of the real logs the patch tests read: the patchlab artefacts (a real
// unattended-upgrades run in a bookworm root, ../shared/reference/patchlab/artifacts) and the
// failure-mode captures in test/fixtures/patch (made with test/fixtures/patch/capture.sh).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT, SHARED_DATA } from './paths.ts';

export const PATCHLAB = join(SHARED_DATA, '../reference/patchlab/artifacts/');
export const FIXTURES = join(REPO_ROOT, 'test/fixtures/patch/');

export function patchlab(name: string): string {
  return readFileSync(PATCHLAB + name, 'utf8');
}

export function fixture(name: string): string {
  return readFileSync(FIXTURES + name, 'utf8');
}
