// Locations of the real logs the patch tests read: the patchlab artefacts (a real
// unattended-upgrades run in a bookworm root, ../shared/reference/patchlab/artifacts) and the
// failure-mode captures in test/fixtures/patch (made with test/fixtures/patch/capture.sh).
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const PATCHLAB = fileURLToPath(new URL('../../../shared/reference/patchlab/artifacts/', import.meta.url));
export const FIXTURES = fileURLToPath(new URL('../../test/fixtures/patch/', import.meta.url));

export function patchlab(name: string): string {
  return readFileSync(PATCHLAB + name, 'utf8');
}

export function fixture(name: string): string {
  return readFileSync(FIXTURES + name, 'utf8');
}
