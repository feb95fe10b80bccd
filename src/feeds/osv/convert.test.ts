// RHEL-family advisory summaries → module streams and impact, on real AlmaLinux 8 records:
// every stream a summary names is kept, and a modular fix becomes one entry per named stream.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { convertRecord, newStats, parseRhSummary, type ConvertedRecord } from './convert.ts';
import { osvRecordSchema } from './schema.ts';

const ALMA8 = new URL('../../../../shared/data/feeds/almalinux/osv/almalinux8/', import.meta.url);

function convert(id: string): ConvertedRecord {
  const file = fileURLToPath(new URL(`./${id}.json`, ALMA8));
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
  return converted;
}

/** The module streams of a package's entries, sorted. */
function streamsOf(c: ConvertedRecord, pkg: string): (string | null)[] {
  return [
    ...new Set(c.entries.filter((e) => e.entry.package === pkg).map((e) => e.entry.module_stream ?? null)),
  ].sort();
}

test('summaries: every module stream named, the impact before the title or after it', () => {
  const summaryOf = (id: string): string =>
    (JSON.parse(readFileSync(fileURLToPath(new URL(`./${id}.json`, ALMA8)), 'utf8')) as { summary: string }).summary;
  const cases: [string, { impact: string | null; streams: string[] }][] = [
    ['ALSA-2024:3061', { impact: 'Moderate', streams: ['pki-core:10.6', 'pki-deps:10.6'] }], // "Moderate: pki-core:10.6 and pki-deps:10.6 security update"
    ['ALSA-2021:4160', { impact: 'Moderate', streams: ['python39:3.9', 'python39-devel:3.9'] }],
    ['ALSA-2022:7581', { impact: 'Moderate', streams: ['python38:3.8', 'python38-devel:3.8'] }],
    ['ALSA-2021:1242', { impact: 'Important', streams: ['mariadb:10.3', 'mariadb-devel:10.3'] }],
    ['ALSA-2020:4670', { impact: 'Moderate', streams: ['idm:DL1', 'idm:client'] }],
    ['ALSA-2023:6938', { impact: 'Moderate', streams: ['container-tools:4.0'] }],
    // "ALSA-2022:5468: php:8.0 security update (Important)": the advisory id is not a stream.
    ['ALSA-2022:5468', { impact: 'Important', streams: ['php:8.0'] }],
    // "Moderate: httpd:2.4/httpd security update": the module's stream, then its component.
    ['ALSA-2024:4197', { impact: 'Moderate', streams: ['httpd:2.4'] }],
    ['ALSA-2024:4235', { impact: 'Important', streams: [] }], // "Important: 389-ds security update"
  ];
  for (const [id, expected] of cases)
    assert.deepEqual(parseRhSummary(summaryOf(id)), expected, `${id}: ${summaryOf(id)}`);
  assert.deepEqual(parseRhSummary(undefined), { impact: null, streams: [] });
});

test("pki-core:10.6 and pki-deps:10.6 (ALSA-2024:3061): the record cannot tell a package's module, so each modular fix is filed under both streams", () => {
  const c = convert('ALSA-2024:3061');
  for (const pkg of ['jackson-databind', 'slf4j', 'pki-servlet-engine'])
    assert.deepEqual(streamsOf(c, pkg), ['pki-core:10.6', 'pki-deps:10.6'], pkg);
  const jackson = c.entries
    .filter((e) => e.entry.package === 'jackson-databind')
    .map((e) => [e.entry.vuln_id, e.entry.fixed_version, e.entry.module_stream, e.entry.severity]);
  assert.deepEqual(jackson, [
    ['CVE-2020-36518', '2.14.2-1.module_el8.10.0+3791+e0637953', 'pki-core:10.6', 'medium'],
    ['CVE-2020-36518', '2.14.2-1.module_el8.10.0+3791+e0637953', 'pki-deps:10.6', 'medium'],
  ]);
});

test('a single-stream summary keeps one stream; a summary in the "ID: title (Impact)" form is read too', () => {
  assert.deepEqual(streamsOf(convert('ALSA-2023:6938'), 'podman'), ['container-tools:4.0']);
  const php = convert('ALSA-2022:5468');
  assert.deepEqual(streamsOf(php, 'libzip'), ['php:8.0']);
  assert.deepEqual(php.entries.map((e) => [e.entry.severity, e.entry.raw_severity])[0], ['high', 'Important']);
  assert.deepEqual(streamsOf(convert('ALSA-2024:4197'), 'httpd'), ['httpd:2.4']);
});

test('a USN record takes its priority from cves_map; nulls and odd shapes there are passed over (found by the fuzz suite)', () => {
  const file = fileURLToPath(new URL('../../../../shared/data/feeds/ubuntu/osv/usn/USN-5614-1.json', import.meta.url));
  const raw = JSON.parse(readFileSync(file, 'utf8')) as {
    affected: { database_specific: { cves_map: { cves: unknown[] } } }[];
  };
  const severities = (doc: unknown): string[] => {
    const rec = osvRecordSchema.parse(doc);
    const c = convertRecord(rec, file, { feed: 'ubuntu', acceptTarget: () => true, warn: () => {}, stats: newStats() });
    return [...new Set(c?.entries.map((e) => `${e.entry.severity} (${e.entry.raw_severity})`))];
  };
  assert.deepEqual(severities(raw), ['medium (medium)']);
  const cves = raw.affected[0].database_specific.cves_map.cves as { severity: unknown[] }[];
  cves[0].severity.unshift(null, 7, { type: null });
  cves.unshift(null as never, 'CVE-2021-3782' as never);
  assert.deepEqual(severities(raw), ['medium (medium)']);
  for (const a of raw.affected) a.database_specific.cves_map = { cves: 5 } as never;
  assert.deepEqual(severities(raw), ['unknown ()']);
});
