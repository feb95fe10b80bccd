import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  compact,
  ecsVulnerabilityStatus,
  enumeration,
  findingDocument,
  findingId,
  findingItem,
  hostSummaryDocument,
  hostSummaryItem,
  patchRunDocument,
  vulnerabilityEventDocument,
  vulnerabilityEventId,
  vulnerabilityEventItem,
} from './ecs.ts';
import { exportNames } from './names.ts';
import { findingRecordSchema, parseRecord, type FindingRecord } from './records.ts';
import { findingRecordsFromScan } from './scan-records.ts';
import type { Finding } from '../core/types.ts';

// A finding in the shape the server hands over (a Debian 12 host; values for illustration).
const record: FindingRecord = {
  host: {
    id: 'b1946ac92492d2347c6235b4d2611184',
    name: 'web-01',
    os: { id: 'debian', version_id: '12', codename: 'bookworm', pretty_name: 'Debian GNU/Linux 12 (bookworm)' },
    kernel: '6.1.0-40-amd64',
    arch: 'x86_64',
    group: 'web',
    tags: ['prod'],
  },
  agent: { id: 'b1946ac92492d2347c6235b4d2611184', version: '0.1.0' },
  package: {
    name: 'libssl3',
    version: '3.0.13-1~deb12u1',
    arch: 'amd64',
    source: 'openssl',
    source_version: '3.0.13-1~deb12u1',
    format: 'deb',
  },
  vulnerability: {
    id: 'CVE-2024-6119',
    aliases: [],
    severity: 'high',
    raw_severity: 'medium',
    description: 'Possible denial of service in X.509 name checks',
  },
  status: 'fixed',
  raw_status: 'resolved',
  fixed_version: '3.0.14-1~deb12u2',
  feed: 'debian',
  advisory_ids: ['DSA-5764-1'],
  state: 'open',
  first_seen: '2026-03-02T06:00:00Z',
  last_seen: '2026-03-04T06:00:00Z',
  fixed_at: null,
  sla_due: '2026-04-01T06:00:00Z',
  updated_at: '2026-03-04T06:00:00Z',
};

test("a finding's id depends on host, package, architecture and vulnerability only", () => {
  const id = findingId(record.host.id, record.package.name, record.package.arch, record.vulnerability.id);
  assert.match(id, /^[0-9a-f]{64}$/);
  const names = exportNames();
  fc.assert(
    fc.property(
      fc.record({
        version: fc.string({ minLength: 1 }),
        severity: fc.constantFrom('critical', 'high', 'low', 'unknown' as const),
        state: fc.constantFrom('open', 'resolved', 'stale', 'reopened' as const),
        last_seen: fc.date({ min: new Date('2020-01-01'), max: new Date('2030-01-01'), noInvalidDate: true }),
      }),
      (change) => {
        const changed: FindingRecord = {
          ...record,
          package: { ...record.package, version: change.version },
          vulnerability: { ...record.vulnerability, severity: change.severity },
          state: change.state,
          last_seen: change.last_seen.toISOString(),
        };
        assert.equal(findingItem(changed, names).id, id);
      },
    ),
  );
  assert.notEqual(findingId('other-host', 'libssl3', 'amd64', 'CVE-2024-6119'), id);
  assert.notEqual(findingId(record.host.id, 'openssl', 'amd64', 'CVE-2024-6119'), id);
  assert.notEqual(findingId(record.host.id, 'libssl3', 'i386', 'CVE-2024-6119'), id);
  assert.notEqual(findingId(record.host.id, 'libssl3', 'amd64', 'CVE-2024-5535'), id);
  // No separator games: the parts are kept apart.
  assert.notEqual(findingId('a|b', 'c', 'd', 'e'), findingId('a', 'b|c', 'd', 'e'));
});

test('the state document: ECS fields, package.fixed_version, patchloop lifecycle, no nulls', () => {
  const doc = findingDocument(record) as Record<string, Record<string, unknown>>;
  assert.equal(doc['@timestamp'], record.last_seen);
  assert.deepEqual(doc.event, {
    kind: 'state',
    category: ['vulnerability'],
    type: ['info'],
    dataset: 'patchloop.finding',
    module: 'patchloop',
    created: record.updated_at,
  });
  assert.deepEqual(doc.package, {
    name: 'libssl3',
    version: '3.0.13-1~deb12u1',
    architecture: 'amd64',
    type: 'deb',
    fixed_version: '3.0.14-1~deb12u2',
  });
  assert.deepEqual(doc.vulnerability, {
    id: 'CVE-2024-6119',
    enumeration: 'CVE',
    severity: 'high',
    description: 'Possible denial of service in X.509 name checks',
    category: ['Packages'],
    scanner: { vendor: 'patchloop' },
    status: 'open',
  });
  assert.deepEqual(doc.host, {
    id: record.host.id,
    name: 'web-01',
    hostname: 'web-01',
    architecture: 'x86_64',
    os: {
      type: 'linux',
      platform: 'debian',
      family: 'debian',
      full: 'Debian GNU/Linux 12 (bookworm)',
      version: '12',
      kernel: '6.1.0-40-amd64',
    },
  });
  assert.deepEqual(doc.agent, { id: record.agent?.id, type: 'patchloop', version: '0.1.0' });
  const p = doc.patchloop;
  assert.deepEqual(
    [p.state, p.status, p.first_seen, p.sla_due, p.fix_available, p.severity_rank, p.feed],
    ['open', 'fixed', record.first_seen, record.sla_due, true, 4, 'debian'],
  );
  assert.ok(!('fixed_at' in p), 'absent facts are absent fields');
  assert.ok(!JSON.stringify(doc).includes('null'));

  const resolved = findingDocument({
    ...record,
    state: 'resolved',
    fixed_at: '2026-03-05T06:00:00Z',
    fixed_version: null,
  });
  assert.equal(resolved['@timestamp'], '2026-03-05T06:00:00Z');
  assert.equal((resolved.vulnerability as { status: string }).status, 'fixed');
  assert.equal((resolved.patchloop as { fix_available: boolean }).fix_available, false);
  assert.ok(!('fixed_version' in (resolved.package as object)));
});

test("state index items carry the record's updated_at as external version; a bad one is refused", () => {
  const item = findingItem(record, exportNames('acme'));
  assert.deepEqual(
    [item.action, item.index, item.version],
    ['index', 'acme-findings', Date.parse('2026-03-04T06:00:00Z')],
  );
  assert.throws(
    () => findingItem({ ...record, updated_at: 'yesterday' }, exportNames()),
    /updated_at "yesterday" is not a timestamp/,
  );
});

test('vulnerability events: create items, time open as event.duration, SLA kept or missed, one id per instant', () => {
  const names = exportNames();
  const resolvedAt = '2026-04-03T06:00:00Z';
  const event = {
    action: 'resolved' as const,
    at: resolvedAt,
    finding: { ...record, state: 'resolved' as const, fixed_at: resolvedAt },
  };
  const doc = vulnerabilityEventDocument(event) as Record<string, Record<string, unknown>>;
  assert.equal(doc.event.action, 'vulnerability-resolved');
  assert.equal(doc.event.kind, 'event');
  assert.equal(doc.event.duration, 32 * 86_400 * 1e9);
  assert.equal(doc.patchloop.sla_missed, true, 'due 1 April, fixed 3 April');
  assert.equal(doc.event.id, vulnerabilityEventId(event));
  const item = vulnerabilityEventItem(event, names);
  assert.deepEqual([item.action, item.index], ['create', 'patchloop-events-vulnerability']);
  assert.equal(vulnerabilityEventId({ ...event, at: '2026-04-03T08:00:00+02:00' }), vulnerabilityEventId(event));
  assert.notEqual(vulnerabilityEventId({ ...event, action: 'reopened' }), vulnerabilityEventId(event));
  const detected = vulnerabilityEventDocument({ action: 'detected', at: record.first_seen, finding: record }) as Record<
    string,
    Record<string, unknown>
  >;
  assert.ok(!('duration' in detected.event));
  assert.ok(!('sla_missed' in detected.patchloop));
});

test('patch runs: event.category package, types from the package actions, outcome and duration', () => {
  const doc = patchRunDocument({
    id: '42',
    host: record.host,
    tool: 'unattended-upgrades',
    started_at: '2026-03-03T02:00:00Z',
    ended_at: '2026-03-03T02:01:30Z',
    outcome: 'failure',
    packages: [
      { name: 'libssl3', from_version: '3.0.13-1~deb12u1', to_version: '3.0.14-1~deb12u2', action: 'upgrade' },
      { name: 'linux-image-6.1.0-41-amd64', from_version: null, to_version: '6.1.158-1', action: 'install' },
    ],
    reboot_required: true,
    error: 'dpkg: error processing package openssl',
  }) as Record<string, Record<string, unknown>>;
  assert.deepEqual(doc.event.category, ['package']);
  assert.deepEqual(doc.event.type, ['change', 'installation']);
  assert.equal(doc.event.outcome, 'failure');
  assert.equal(doc.event.duration, 90e9);
  assert.equal(doc['@timestamp'], '2026-03-03T02:01:30Z');
  assert.deepEqual(doc.package, { name: ['libssl3', 'linux-image-6.1.0-41-amd64'] });
  assert.deepEqual(doc.error, { message: 'dpkg: error processing package openssl' });
  assert.equal((doc.patchloop.patch as { package_count: number }).package_count, 2);
});

test('day summaries: stamped at the start of their UTC day, totals and compliance, one id per host and day', () => {
  const summary = {
    host: record.host,
    date: '2026-03-04',
    at: '2026-03-04T23:55:00Z',
    open: { critical: 1, high: 2, medium: 3, low: 0, negligible: 4, unknown: 0 },
    fixable: 0,
    sla_breached: 0,
    detected: 1,
    resolved: 2,
    reboot_required: null,
    last_scan_at: '2026-03-04T06:00:00Z',
  };
  const doc = hostSummaryDocument(summary) as Record<string, Record<string, Record<string, unknown>>>;
  assert.equal(doc['@timestamp'], '2026-03-04T00:00:00.000Z');
  assert.equal(doc.patchloop.summary.compliant, true);
  assert.deepEqual(doc.patchloop.summary.open, {
    critical: 1,
    high: 2,
    medium: 3,
    low: 0,
    negligible: 4,
    unknown: 0,
    total: 10,
  });
  assert.ok(!('reboot_required' in doc.patchloop.summary));
  assert.equal(
    hostSummaryItem(summary, exportNames()).id,
    hostSummaryItem({ ...summary, at: '2026-03-04T10:00:00Z', fixable: 3 }, exportNames()).id,
  );
  assert.notEqual(
    hostSummaryItem(summary, exportNames()).id,
    hostSummaryItem({ ...summary, date: '2026-03-05' }, exportNames()).id,
  );
});

test('helpers: ECS status words, id schemes, compaction', () => {
  assert.deepEqual((['open', 'reopened', 'resolved', 'stale'] as const).map(ecsVulnerabilityStatus), [
    'open',
    'reopened',
    'fixed',
    'unknown',
  ]);
  assert.deepEqual(
    ['CVE-2024-1', 'DSA-5764-1', 'ALSA-2024:6783', 'GHSA-xxxx-yyyy', 'TEMP-0000000-ABCDEF', 'weird'].map(enumeration),
    ['CVE', 'DSA', 'ALSA', 'GHSA', 'TEMP', 'OTHER'],
  );
  assert.deepEqual(compact({ a: null, b: { c: undefined, d: 0, e: '' }, f: [{ g: null, h: 1 }], i: {} }), {
    b: { d: 0, e: '' },
    f: [{ h: 1 }],
  });
});

test('records are validated with the source and field named', () => {
  assert.deepEqual(parseRecord(findingRecordSchema, record, 'store'), record);
  assert.throws(
    () => parseRecord(findingRecordSchema, { ...record, state: 'gone', first_seen: '2 March' }, 'export.ndjson:7'),
    /^Error: export\.ndjson:7: state: .*; first_seen: /,
  );
});

test("scan findings become one record per identity, the running kernel's kept", () => {
  const finding = (version: string, notRunning: boolean): Finding => ({
    id: 'CVE-2024-36971',
    aliases: [],
    package: { name: 'kernel-core', version, arch: 'x86_64', source: 'kernel', source_version: version },
    status: 'fixed',
    raw_status: 'fixed',
    fixed_version: '5.14.0-427.20.1.el9_4',
    severity: 'high',
    raw_severity: 'Important',
    feed: 'almalinux',
    advisory_ids: ['ALSA-2024:3619'],
    reason: '',
    ...(notRunning ? { kernel_not_running: true } : {}),
  });
  const scan = {
    scanned_at: '2026-03-02T07:00:00+01:00',
    host: {
      hostname: 'alma',
      os: { id: 'almalinux', version_id: '9.4', codename: '', pretty_name: 'AlmaLinux 9.4' },
      kernel: '5.14.0-427.13.1.el9_4.x86_64',
    },
    findings: [finding('5.14.0-427.18.1.el9_4', true), finding('5.14.0-427.13.1.el9_4', false)],
  };
  const records = findingRecordsFromScan(scan, { slaDays: { high: 30 } });
  assert.equal(records.length, 1);
  assert.equal(records[0].package.version, '5.14.0-427.13.1.el9_4');
  assert.deepEqual(
    [records[0].host.id, records[0].first_seen, records[0].sla_due],
    ['alma', '2026-03-02T06:00:00.000Z', '2026-04-01T06:00:00.000Z'],
  );
  assert.deepEqual(parseRecord(findingRecordSchema, records[0], 'scan'), records[0]);
  assert.throws(() => findingRecordsFromScan({ ...scan, host: { ...scan.host, hostname: null } }), /no host name/);
});
