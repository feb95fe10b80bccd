import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compareVersions } from '../core/version/index.ts';
import type { Finding } from '../core/types.ts';
import { remediationSteps } from './remediation.ts';

const deb = (a: string, b: string): number => compareVersions('deb', a, b);

function finding(id: string, name: string, fixed: string | null, over: Partial<Finding> = {}): Finding {
  return {
    id,
    aliases: [],
    package: {
      name,
      version: '3.0.11-1~deb12u2',
      arch: 'amd64',
      source: 'openssl',
      source_version: '3.0.11-1~deb12u2',
    },
    status: fixed ? 'fixed' : 'affected',
    raw_status: '',
    fixed_version: fixed,
    severity: 'high',
    raw_severity: 'high',
    feed: 'debian',
    advisory_ids: [],
    reason: '',
    priority: { level: 'P2', reason: 'high, fix available' },
    ...over,
  };
}

const KEV = { date_added: '2024-01-01', due_date: '2024-01-22', ransomware: null };

test('one step per source and fixed version, each closing what it and older fixes close, in exposures', () => {
  const steps = remediationSteps(
    [
      // Three CVEs of openssl over two binaries (one exposure each), fixed in two versions.
      finding('CVE-2024-0001', 'libssl3', '3.0.13-1~deb12u1'),
      finding('CVE-2024-0001', 'openssl', '3.0.13-1~deb12u1'),
      finding('CVE-2024-0002', 'libssl3', '3.0.15-1~deb12u1', {
        kev: KEV,
        priority: { level: 'P1', reason: 'known exploited, fix available' },
      }),
      finding('CVE-2024-0003', 'libssl3', '3.0.13-1~deb12u1'),
      // No fix: no step.
      finding('CVE-2024-0004', 'libssl3', null),
      // Another source.
      finding('CVE-2024-0005', 'curl', '7.88.1-10+deb12u8', {
        package: { name: 'curl', version: '7.88.1-10', arch: 'amd64', source: 'curl', source_version: '7.88.1-10' },
        priority: { level: 'P3', reason: 'medium, fix available' },
      }),
    ],
    deb,
  );
  assert.deepEqual(
    steps.map((s) => [s.source, s.fixed_version, s.closes, s.known_exploited, s.binaries, s.priority?.level]),
    [
      [
        'openssl',
        '3.0.15-1~deb12u1',
        ['CVE-2024-0001', 'CVE-2024-0002', 'CVE-2024-0003'],
        ['CVE-2024-0002'],
        ['libssl3', 'openssl'],
        'P1',
      ],
      ['openssl', '3.0.13-1~deb12u1', ['CVE-2024-0001', 'CVE-2024-0003'], [], ['libssl3', 'openssl'], 'P2'],
      ['curl', '7.88.1-10+deb12u8', ['CVE-2024-0005'], [], ['curl'], 'P3'],
    ],
  );
});

test('kernels installed but not running are closed by removing them, not by an upgrade', () => {
  const kernel = {
    name: 'linux-image-6.1.0-9-amd64',
    version: '6.1.27-1',
    arch: 'amd64',
    source: 'linux',
    source_version: '6.1.27-1',
  };
  const steps = remediationSteps(
    [finding('CVE-2024-0010', kernel.name, '6.1.30-1', { package: kernel, kernel_not_running: true })],
    deb,
  );
  assert.deepEqual(steps, []);
});
