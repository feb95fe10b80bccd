// Shared by the policy tests (never imported by product code): a three-ring policy with a
// weekday night window in Berlin, and patch-run evidence for ring gates.
import type { RunEvidence } from '../../src/core/policy/rings.ts';
import { parsePolicy } from '../../src/core/policy/schema.ts';

export const at = (iso: string): number => Date.parse(iso);

export const rings = parsePolicy({
  name: 'web',
  version: 7,
  group: 'web',
  schedule: {
    windows: [{ days: ['mon', 'tue', 'wed', 'thu', 'fri'], start: '01:00', end: '04:00', time_zone: 'Europe/Berlin' }],
  },
  rings: [
    { name: 'canary', hosts: ['web-canary-*'], tags: ['canary'] },
    { name: 'early', hosts: ['web-0*'], soak_hours: 24 },
    { name: 'rest', soak_hours: 48 },
  ],
  reboot: { mode: 'when_required', max_concurrent: 2, lease_ttl_minutes: 20 },
});

export const run = (
  finished_at: string,
  outcome: RunEvidence['outcome'],
  reboot?: RunEvidence['reboot'],
): RunEvidence => ({ finished_at, outcome, reboot });
