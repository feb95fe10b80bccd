import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compareLead, groupExposures } from './exposure.ts';
import type { Finding, FindingStatus, Severity } from './types.ts';

const K13 = '5.14.0-427.13.1.el9_4';
const K18 = '5.14.0-427.18.1.el9_4';

function finding(
  name: string,
  version: string,
  source: string,
  id: string,
  severity: Severity,
  status: FindingStatus,
  notRunning = false,
): Finding {
  const f: Finding = {
    id,
    aliases: [],
    package: { name, version, arch: 'x86_64', source, source_version: version },
    status,
    raw_status: status,
    fixed_version: status === 'fixed' ? '9' : null,
    severity,
    raw_severity: severity,
    feed: 'almalinux',
    advisory_ids: [],
    reason: '',
  };
  if (notRunning) f.kernel_not_running = true;
  return f;
}

const brief = (findings: Finding[]) =>
  groupExposures(findings).map((e) => [
    e.id,
    e.source,
    e.lead.package.name,
    e.findings.map((f) => `${f.package.name} ${f.package.version}`),
    e.dormant,
  ]);

test('binaries of one source are one exposure per vulnerability, led by the most severe, a fixable one first, then by name', () => {
  assert.deepEqual(
    brief([
      finding('openssl', '1', 'openssl', 'CVE-1', 'medium', 'fixed'),
      finding('libssl3', '1', 'openssl', 'CVE-1', 'high', 'affected'),
      finding('libssl-dev', '1', 'openssl', 'CVE-1', 'high', 'fixed'),
      finding('openssl', '1', 'openssl', 'CVE-2', 'low', 'affected'),
      finding('curl', '1', 'curl', 'CVE-1', 'low', 'affected'),
    ]),
    [
      ['CVE-1', 'openssl', 'libssl-dev', ['openssl 1', 'libssl3 1', 'libssl-dev 1'], false],
      ['CVE-2', 'openssl', 'openssl', ['openssl 1'], false],
      ['CVE-1', 'curl', 'curl', ['curl 1'], false],
    ],
  );
  const facts = { severity: 1, fixable: false, name: 'b', arch: 'x86_64' };
  assert.ok(compareLead({ ...facts, severity: 0 }, facts) < 0);
  assert.ok(compareLead({ ...facts, fixable: true }, facts) < 0);
  assert.ok(compareLead({ ...facts, name: 'a' }, facts) < 0);
  assert.ok(compareLead({ ...facts, arch: 'aarch64' }, facts) < 0);
});

test("a kernel that is not running: its CVE is the running kernel's exposure when that has it too, else dormant", () => {
  const running = (id: string) =>
    ['kernel', 'kernel-core'].map((p) => finding(p, K13, 'kernel', id, 'medium', 'fixed'));
  const idle = (id: string) =>
    ['kernel', 'kernel-core'].map((p) => finding(p, K18, 'kernel', id, 'medium', 'fixed', true));
  // The idle kernel's findings come first: the running kernel's still make the exposure.
  assert.deepEqual(brief([...idle('CVE-A'), ...running('CVE-A'), ...idle('CVE-B')]), [
    ['CVE-A', 'kernel', 'kernel', [`kernel ${K13}`, `kernel-core ${K13}`], false],
    ['CVE-B', 'kernel', 'kernel', [`kernel ${K18}`, `kernel-core ${K18}`], true],
  ]);
});
