// EntryBuffer on real AlmaLinux 9 advisories that fix one CVE on two upstream version lines,
// judged through the matcher: each line keeps its own lowest fix, and a build is only held to
// the fix of its own line (or of the lowest line, when it is older than every line).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { AdvisoryLookup } from '../../core/lookup.ts';
import { matchInventory } from '../../core/match.ts';
import type { AdvisoryEntry, InstalledPackage } from '../../core/types.ts';
import { convertRecord, newStats } from '../osv/convert.ts';
import { EntryBuffer } from './entries.ts';
import { osvRecordSchema } from '../osv/schema.ts';

const ALMA9 = new URL('../../../../shared/data/feeds/almalinux/osv/almalinux9/', import.meta.url);

/** The entries the buffer keeps for the given real ALSA records, in the order given. */
function buffered(ids: readonly string[]): AdvisoryEntry[] {
  const buffer = new EntryBuffer();
  for (const id of ids) {
    const file = fileURLToPath(new URL(`./${id}.json`, ALMA9));
    const rec = osvRecordSchema.parse(JSON.parse(readFileSync(file, 'utf8')));
    const warnings: string[] = [];
    const converted = convertRecord(rec, file, {
      feed: 'almalinux',
      acceptTarget: (t) => t.distro === 'almalinux',
      warn: (m) => warnings.push(m),
      stats: newStats(),
    });
    assert.deepEqual(warnings, []);
    assert.ok(converted, id);
    for (const c of converted.entries) buffer.add(c.entry);
  }
  return [...buffer.values()];
}

function lookupOf(entries: AdvisoryEntry[]): AdvisoryLookup {
  return {
    entries: (distro, release, key) =>
      entries.filter((e) => e.distro === distro && e.release === release && e.package === key),
    vulnerability: () => null,
    support: () => null,
  };
}

/** [fixed version, advisory ids] of each finding of `name` at `version`. */
function findings(entries: AdvisoryEntry[], name: string, version: string): [string | null, string[]][] {
  const pkg: InstalledPackage = { name, version, arch: 'x86_64', source: name, source_version: version, format: 'rpm' };
  const os = { id: 'almalinux', version_id: '9.6', codename: '', pretty_name: 'AlmaLinux 9.6' };
  return matchInventory({ os, kernel: null, packages: [pkg] }, lookupOf(entries)).findings.map((f) => [
    f.fixed_version,
    f.advisory_ids,
  ]);
}

test('CVE-2025-2487 fixed in 389-ds-base 2.5.2-9.el9_5 and 2.6.1-8.el9_6: each line is held to its own fix', () => {
  // Either import order gives the same entries.
  for (const order of [
    ['ALSA-2025:4491', 'ALSA-2025:7395'],
    ['ALSA-2025:7395', 'ALSA-2025:4491'],
  ]) {
    const entries = buffered(order);
    const ds = entries.filter((e) => e.package === '389-ds-base');
    assert.deepEqual(
      ds.map((e) => [e.vuln_id, e.introduced, e.fixed_version, e.advisory_ids]),
      [
        ['CVE-2025-2487', null, '2.5.2-9.el9_5', ['ALSA-2025:4491']],
        ['CVE-2025-2487', '2.6.1', '2.6.1-8.el9_6', ['ALSA-2025:7395']],
      ],
    );
    const fixed2618: [string, string[]] = ['2.6.1-8.el9_6', ['ALSA-2025:7395']];
    // Older than every line: the lowest fix, and both advisories (neither fix is installed).
    const both: [string, string[]] = ['2.5.2-9.el9_5', ['ALSA-2025:4491', 'ALSA-2025:7395']];
    assert.deepEqual(
      findings(entries, '389-ds-base', '2.4.5-5.el9_4'),
      [both],
      'older than every line: the lowest fix',
    );
    assert.deepEqual(findings(entries, '389-ds-base', '2.5.2-8.el9_5'), [both]);
    assert.deepEqual(findings(entries, '389-ds-base', '2.5.2-9.el9_5'), []);
    assert.deepEqual(
      findings(entries, '389-ds-base', '2.5.2-10.el9_5'),
      [],
      'a later z-stream build of the older line has the fix',
    );
    assert.deepEqual(findings(entries, '389-ds-base-libs', '2.6.1-7.el9_6'), [fixed2618]);
    assert.deepEqual(findings(entries, '389-ds-base', '2.6.1-8.el9_6'), []);
    assert.deepEqual(findings(entries, '389-ds-base', '2.7.0-1.el9_7'), []);
    // The line starts below every build of 2.6.1, whatever its release looks like.
    for (const release of ['0.1.el9', 'alpha1.el9', '~rc1', '']) {
      assert.deepEqual(findings(entries, '389-ds-base', `2.6.1-${release}`), [fixed2618], `2.6.1-${release}`);
    }
  }
});

test("lines carry the fix's epoch: containernetworking-plugins 1:1.4.0-6.el9_4 and 1:1.5.1-3.el9_5 (CVE-2024-34156)", () => {
  const entries = buffered(['ALSA-2024:11216', 'ALSA-2024:8110']);
  const cni = entries.filter((e) => e.package === 'containernetworking-plugins' && e.vuln_id === 'CVE-2024-34156');
  assert.deepEqual(
    cni.map((e) => [e.introduced, e.fixed_version]),
    [
      [null, '1:1.4.0-6.el9_4'],
      ['1:1.5.1', '1:1.5.1-3.el9_5'],
    ],
  );
  const fixedIn = (v: string) => findings(entries, 'containernetworking-plugins', v).map(([f]) => f);
  assert.deepEqual(fixedIn('1:1.4.0-5.el9_4'), ['1:1.4.0-6.el9_4']);
  assert.deepEqual(fixedIn('1:1.4.0-7.el9_4'), []);
  assert.deepEqual(fixedIn('1:1.5.1-2.el9_5'), ['1:1.5.1-3.el9_5']);
  assert.deepEqual(fixedIn('1:1.5.1-3.el9_5'), []);
  // Epoch 0 builds are older than anything of epoch 1: the lowest fix applies.
  assert.deepEqual(fixedIn('1.5.1-9.el9_5'), ['1:1.4.0-6.el9_4']);
});

test('fixes on one line still fold into the lowest, with every advisory and the most severe rating', () => {
  const e = buffered(['ALSA-2025:4491'])[0];
  const buffer = new EntryBuffer();
  buffer.add({
    ...e,
    fixed_version: '2.5.2-11.el9_5',
    advisory_ids: ['ALSA-X'],
    severity: 'high',
    raw_severity: 'Important',
  });
  buffer.add(e);
  assert.deepEqual(
    [...buffer.values()].map((x) => [x.introduced, x.fixed_version, x.advisory_ids, x.severity]),
    [[null, '2.5.2-9.el9_5', ['ALSA-X', 'ALSA-2025:4491'], 'high']],
  );
  assert.equal(buffer.size, 1);
});
