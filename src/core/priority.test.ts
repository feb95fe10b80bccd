import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  DEFAULT_PRIORITY_CONFIG,
  enrichFinding,
  formatEpss,
  priorityOf,
  PriorityConfigSchema,
  type PriorityFacts,
} from './priority.ts';

const KEV = { date_added: '2024-07-01', due_date: '2024-07-22', ransomware: null };

function p(f: PriorityFacts): string {
  const r = priorityOf(f);
  return `${r.level}: ${r.reason}`;
}

test('known exploited with a fix is P1 and says so, on the running kernel too', () => {
  assert.equal(
    p({ severity: 'high', status: 'fixed', kev: KEV, running_kernel: true }),
    'P1: known exploited, fix available, running kernel',
  );
  assert.equal(
    p({ severity: 'unknown', status: 'affected', kev: { ...KEV, ransomware: true } }),
    'P1: known exploited (ransomware), no fix yet',
  );
});

test('a kernel image that is not running is P4 even when known exploited', () => {
  assert.equal(
    p({ severity: 'critical', status: 'fixed', kev: KEV, kernel_not_running: true }),
    'P4: known exploited, fix available, kernel installed but not running',
  );
});

test('severity gives the level; EPSS raises it; no fix lowers it', () => {
  assert.equal(priorityOf({ severity: 'critical', status: 'fixed' }).level, 'P2');
  assert.equal(priorityOf({ severity: 'medium', status: 'fixed' }).level, 'P3');
  assert.equal(priorityOf({ severity: 'low', status: 'fixed' }).level, 'P4');
  assert.equal(priorityOf({ severity: 'high', status: 'affected' }).level, 'P3');
  // EPSS at or above 0.5: one level up; at or above 0.1: at least P2.
  assert.equal(
    p({ severity: 'high', status: 'fixed', epss: { score: 0.62, percentile: 0.985 } }),
    'P1: high, EPSS 0.62 (top 2 %), fix available',
  );
  assert.equal(priorityOf({ severity: 'low', status: 'fixed', epss: { score: 0.12, percentile: 0.95 } }).level, 'P2');
  // Low EPSS is not worth a word.
  assert.equal(
    p({ severity: 'medium', status: 'fixed', epss: { score: 0.001, percentile: 0.2 } }),
    'P3: medium, fix available',
  );
});

test('will not fix and out of support are explicit', () => {
  assert.equal(p({ severity: 'critical', status: 'will_not_fix' }), 'P4: critical, will not be fixed');
  assert.equal(p({ severity: 'low', status: 'end_of_life' }), 'P3: low, out of support, no fix will come');
  assert.equal(priorityOf({ severity: 'critical', status: 'end_of_life' }).level, 'P2');
});

test('the configuration has defaults, is validated, and changes the rule', () => {
  assert.deepEqual(PriorityConfigSchema.parse({}), DEFAULT_PRIORITY_CONFIG);
  assert.equal(DEFAULT_PRIORITY_CONFIG.severity.critical, 'P2');
  const strict = PriorityConfigSchema.parse({ severity: { critical: 'P1' }, epss_p2: 0.05 });
  assert.equal(strict.severity.high, 'P2');
  assert.equal(priorityOf({ severity: 'critical', status: 'fixed' }, strict).level, 'P1');
  assert.equal(
    priorityOf({ severity: 'low', status: 'fixed', epss: { score: 0.06, percentile: 0.9 } }, strict).level,
    'P2',
  );
  assert.throws(() => PriorityConfigSchema.parse({ epss_raise: 2 }));
  assert.throws(() => PriorityConfigSchema.parse({ kev: 'P0' }));
  assert.throws(() => PriorityConfigSchema.parse({ unknown_knob: true }));
});

test('EPSS in words', () => {
  assert.equal(formatEpss({ score: 0.97231, percentile: 0.99821 }), '0.97 (top 0.2 %)');
  assert.equal(formatEpss({ score: 0.2, percentile: 0.9 }), '0.20 (top 10 %)');
});

test('a finding enriched: KEV and EPSS copied, severity from CVSS only when the distribution rates nothing', () => {
  const f = {
    id: 'CVE-2024-0001',
    aliases: [],
    package: { name: 'musl', version: '1.2.4-r1', arch: 'x86_64', source: 'musl', source_version: '1.2.4-r1' },
    status: 'fixed' as const,
    raw_status: 'fixed',
    fixed_version: '1.2.4-r2',
    severity: 'unknown' as const,
    raw_severity: '',
    feed: 'alpine',
    advisory_ids: [],
    reason: 'r',
  };
  const cvss = [
    { version: '3.1' as const, score: 5.3, vector: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:L/I:N/A:N', source: 'nvd' },
    {
      version: '4.0' as const,
      score: 8.7,
      vector: 'CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:N/VA:N/SC:N/SI:N/SA:N',
      source: 'osv',
    },
  ];
  const e = enrichFinding(f, { cvss, epss: { score: 0.2, percentile: 0.96, date: '2026-11-01' } });
  assert.equal(e.severity, 'high');
  assert.equal(e.severity_source, 'cvss');
  assert.deepEqual(e.epss, { score: 0.2, percentile: 0.96, date: '2026-11-01' });
  assert.deepEqual(e.priority, { level: 'P2', reason: 'high, EPSS 0.20 (top 4 %), fix available' });
  assert.equal(f.severity, 'unknown', 'the finding given is not changed');
  const rated = enrichFinding({ ...f, severity: 'low', raw_severity: 'low' }, { cvss });
  assert.equal(rated.severity, 'low');
  assert.equal(rated.severity_source, undefined);
  assert.deepEqual(enrichFinding(f, null).priority, { level: 'P3', reason: 'severity unknown, fix available' });
});
