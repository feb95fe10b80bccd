import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { AdvisoryEntry } from '../../core/types.ts';
import { convertRecord, rawStatusOf, severityOf, statusOf, type RecordResult } from './tracker.ts';

const SAMPLE = JSON.parse(
  readFileSync(
    new URL('../../../../shared/data/feeds/debian/tracker-json-sample/debian.json', import.meta.url),
    'utf8',
  ),
) as Record<string, Record<string, unknown>>;

const place = { file: 'debian.json', line: 7 };
const noAdvisories = () => [];

function convert(pkg: string, id: string, raw: unknown, advisories: (r: string, v: string) => string[] = noAdvisories) {
  const warnings: string[] = [];
  const result = convertRecord(pkg, id, raw, place, (m) => warnings.push(m), advisories);
  return { result, warnings };
}

function byRelease(
  result: RecordResult | null,
): Record<string, Pick<AdvisoryEntry, 'status' | 'fixed_version' | 'severity' | 'raw_status' | 'raw_severity'>> {
  assert.ok(result);
  return Object.fromEntries(
    result.entries.map((e) => [
      e.release,
      {
        status: e.status,
        fixed_version: e.fixed_version,
        severity: e.severity,
        raw_status: e.raw_status,
        raw_severity: e.raw_severity,
      },
    ]),
  );
}

test('chromium CVE-2022-0456 (sample): fixed where resolved, end_of_life where open with urgency end-of-life', () => {
  const { result, warnings } = convert('chromium', 'CVE-2022-0456', SAMPLE.chromium['CVE-2022-0456']);
  assert.deepEqual(warnings, []);
  assert.deepEqual(byRelease(result), {
    bookworm: {
      status: 'fixed',
      fixed_version: '98.0.4758.80-1',
      severity: 'unknown',
      raw_status: 'resolved',
      raw_severity: 'not yet assigned',
    },
    bullseye: {
      status: 'fixed',
      fixed_version: '98.0.4758.80-1~deb11u1',
      severity: 'unknown',
      raw_status: 'resolved',
      raw_severity: 'not yet assigned',
    },
    buster: {
      status: 'end_of_life',
      fixed_version: null,
      severity: 'unknown',
      raw_status: 'open',
      raw_severity: 'end-of-life',
    },
    sid: {
      status: 'fixed',
      fixed_version: '98.0.4758.80-1',
      severity: 'unknown',
      raw_status: 'resolved',
      raw_severity: 'not yet assigned',
    },
    stretch: {
      status: 'end_of_life',
      fixed_version: null,
      severity: 'unknown',
      raw_status: 'open',
      raw_severity: 'end-of-life',
    },
  });
  assert.equal(result?.description, '');
  const e = result?.entries[0];
  assert.deepEqual(
    {
      feed: e?.feed,
      distro: e?.distro,
      package: e?.package,
      key_kind: e?.key_kind,
      scheme: e?.scheme,
      vuln_id: e?.vuln_id,
    },
    {
      feed: 'debian',
      distro: 'debian',
      package: 'chromium',
      key_kind: 'source',
      scheme: 'deb',
      vuln_id: 'CVE-2022-0456',
    },
  );
});

test('prototypejs CVE-2007-2383 (sample): resolved in version 0 everywhere gives no entries', () => {
  const { result } = convert('prototypejs', 'CVE-2007-2383', SAMPLE.prototypejs['CVE-2007-2383']);
  assert.deepEqual(result?.entries, []);
  assert.equal(result?.notAffected, 4);
  assert.match(result?.description ?? '', /^The Prototype \(prototypejs\) framework before 1\.5\.1 RC3/);
  assert.equal(result?.debianbug, 555217);
});

test('sample urgencies map to severities: high** → high, low** → low, medium → medium', () => {
  assert.equal(
    convert('prototypejs', 'CVE-2008-7220', SAMPLE.prototypejs['CVE-2008-7220']).result?.entries[0].severity,
    'high',
  );
  const txt2man = convert('txt2man', 'CVE-2013-1444', SAMPLE.txt2man['CVE-2013-1444']).result;
  assert.deepEqual(
    txt2man?.entries.map((e) => [e.release, e.severity, e.raw_severity, e.fixed_version]),
    [
      ['stretch', 'low', 'low**', '1.5.5-4.1'],
      ['jessie', 'low', 'low**', '1.5.5-4.1'],
      ['buster', 'low', 'low**', '1.5.5-4.1'],
      ['sid', 'low', 'low**', '1.5.5-4.1'],
    ],
  );
  const backupninja = convert('backupninja', 'CVE-2005-3111', SAMPLE.backupninja['CVE-2005-3111']).result;
  assert.deepEqual(new Set(backupninja?.entries.map((e) => e.severity)), new Set(['medium']));
  assert.equal(backupninja?.debianbug, null);
});

test('advisory ids are looked up by release and fixed version', () => {
  const seen: string[] = [];
  const { result } = convert('sope', 'CVE-2025-53603', SAMPLE.sope['CVE-2025-53603'], (release, fixed) => {
    seen.push(`${release} ${fixed}`);
    return release === 'bookworm' ? ['DSA-5970-1'] : [];
  });
  assert.deepEqual(seen, ['bookworm 5.8.0-1+deb12u1', 'bullseye 5.0.1-2+deb11u1', 'sid 5.12.1-2', 'trixie 5.12.1-2']);
  assert.deepEqual(
    result?.entries.map((e) => [e.release, e.advisory_ids]),
    [
      ['bookworm', ['DSA-5970-1']],
      ['bullseye', []],
      ['sid', []],
      ['trixie', []],
    ],
  );
});

test('an empty releases list (encoded as []) is a record without entries, not an error', () => {
  const { result, warnings } = convert(
    'chromium-browser',
    'CVE-2022-0358',
    SAMPLE['chromium-browser']['CVE-2022-0358'],
  );
  assert.deepEqual(warnings, []);
  assert.deepEqual(result?.entries, []);
});

test('open entries: no-dsa stays affected, ignored → will_not_fix, postponed → fix_deferred; undetermined kept', () => {
  const { result, warnings } = convert('foot', 'CVE-2023-0001', {
    description: 'x',
    releases: {
      bookworm: {
        status: 'open',
        repositories: { bookworm: '1.13.1-2' },
        urgency: 'not yet assigned',
        nodsa: 'Minor issue',
        nodsa_reason: '',
      },
      bullseye: { status: 'open', repositories: {}, urgency: 'low', nodsa: 'Minor issue', nodsa_reason: 'ignored' },
      buster: {
        status: 'open',
        repositories: {},
        urgency: 'medium',
        nodsa: 'Revisit when fixed upstream',
        nodsa_reason: 'postponed',
      },
      trixie: { status: 'open', repositories: {}, urgency: 'high' },
      sid: { status: 'undetermined', repositories: {}, urgency: 'unimportant' },
      forky: { status: 'open', repositories: {}, urgency: 'end-of-life', nodsa: 'x', nodsa_reason: 'ignored' },
    },
  });
  assert.deepEqual(warnings, []);
  assert.deepEqual(byRelease(result), {
    bookworm: {
      status: 'affected',
      fixed_version: null,
      severity: 'unknown',
      raw_status: 'open (no-dsa: Minor issue)',
      raw_severity: 'not yet assigned',
    },
    bullseye: {
      status: 'will_not_fix',
      fixed_version: null,
      severity: 'low',
      raw_status: 'open (ignored: Minor issue)',
      raw_severity: 'low',
    },
    buster: {
      status: 'fix_deferred',
      fixed_version: null,
      severity: 'medium',
      raw_status: 'open (postponed: Revisit when fixed upstream)',
      raw_severity: 'medium',
    },
    trixie: { status: 'affected', fixed_version: null, severity: 'high', raw_status: 'open', raw_severity: 'high' },
    sid: {
      status: 'undetermined',
      fixed_version: null,
      severity: 'negligible',
      raw_status: 'undetermined',
      raw_severity: 'unimportant',
    },
    forky: {
      status: 'end_of_life',
      fixed_version: null,
      severity: 'unknown',
      raw_status: 'open (ignored: x)',
      raw_severity: 'end-of-life',
    },
  });
});

test('malformed records and releases are warnings naming file, line, package and id', () => {
  const bad = convert('pkg', 'CVE-2024-1', { releases: 'none' });
  assert.equal(bad.result, null);
  assert.match(bad.warnings[0], /^debian\.json:7: pkg CVE-2024-1: malformed record, skipped: releases: /);

  const notObject = convert('pkg', 'CVE-2024-2', 'text');
  assert.equal(notObject.result, null);
  assert.match(notObject.warnings[0], /pkg CVE-2024-2: malformed record/);

  const badId = convert('pkg', 'CVE 2024', { releases: {} });
  assert.equal(badId.result, null);
  assert.match(badId.warnings[0], /pkg CVE 2024: not a vulnerability id/);

  const mixed = convert('pkg', 'CVE-2024-3', {
    releases: {
      bookworm: { status: 'resolved', fixed_version: '1.0-1', urgency: 'low' },
      bullseye: { status: 'fixed', fixed_version: '1.0-1' },
      buster: { status: 'resolved', urgency: 'low' },
      trixie: { status: 'resolved', fixed_version: '1.0 1' },
      'Sid!': { status: 'open' },
      sid: { status: 'open', repositories: { sid: 3 } },
    },
  });
  assert.deepEqual(
    mixed.result?.entries.map((e) => e.release),
    ['bookworm'],
  );
  assert.equal(mixed.warnings.length, 5);
  assert.match(mixed.warnings[0], /pkg CVE-2024-3 \(bullseye\): malformed release, skipped: status: /);
  assert.match(mixed.warnings[1], /\(buster\): resolved without a fixed_version/);
  assert.match(mixed.warnings[2], /\(trixie\): malformed release, skipped: fixed_version: contains white space/);
  assert.match(mixed.warnings[3], /release "Sid!" is not a codename/);
  assert.match(mixed.warnings[4], /\(sid\): malformed release, skipped: repositories\.sid: /);
});

test('severity, status and raw status rules (DESIGN.md table)', () => {
  const sev = (u: string | undefined) => severityOf(u);
  assert.deepEqual(
    [
      'unimportant',
      'low',
      'low*',
      'low**',
      'lowish',
      'medium',
      'medium**',
      'high',
      'high*',
      'not yet assigned',
      'end-of-life',
      '',
      undefined,
    ].map(sev),
    [
      'negligible',
      'low',
      'low',
      'low',
      'unknown',
      'medium',
      'medium',
      'high',
      'high',
      'unknown',
      'unknown',
      'unknown',
      'unknown',
    ],
  );
  assert.equal(statusOf({ status: 'resolved', fixed_version: '0' }), null);
  assert.equal(statusOf({ status: 'resolved', fixed_version: '1:2.3-4' }), 'fixed');
  assert.equal(statusOf({ status: 'open', urgency: 'end-of-life', nodsa_reason: 'postponed' }), 'end_of_life');
  assert.equal(rawStatusOf({ status: 'open', nodsa: '', nodsa_reason: 'postponed' }), 'open (postponed)');
  assert.equal(rawStatusOf({ status: 'resolved', fixed_version: '1' }), 'resolved');
});
