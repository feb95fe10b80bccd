// CVSS where the feeds carry it — Red Hat CSAF scores and Red Hat CVE documents, Canonical's OSV
// records (beside Ubuntu's priority), any OSV record — stored per vulnerability with version,
// base score and vector; and the severity rule for findings the distribution rates nothing
// (Alpine's secdb gives no severity): the band of the leading CVSS score, marked as such.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { VulnDb } from '../src/vulndb/reader.ts';
import { ESTATE, FEEDS, importFeed, removeTemporaries, scanJson, temporary } from './support/estate.ts';

after(removeTemporaries);

function enrichment(dataDir: string, ids: string[]): Map<string, unknown> {
  const db = VulnDb.open(dataDir);
  try {
    return new Map([...db.enrichMany(ids)].map(([id, e]) => [id, e.cvss]));
  } finally {
    db.close();
  }
}

test("Red Hat CSAF and CVE documents: Red Hat's CVSS v3.1 scores, recomputed from their vectors", async () => {
  const dataDir = await importFeed('redhat', [join(FEEDS, 'redhat/csaf')]);
  const got = enrichment(dataDir, ['CVE-2021-33621', 'CVE-2021-25220']);
  // rhsa-2023_3821.json (CSAF) and cve-2021-25220.json (CVE document), as Red Hat scored them.
  assert.deepEqual(got.get('CVE-2021-33621'), [
    { version: '3.1', score: 8.8, vector: 'CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H', source: 'redhat' },
  ]);
  assert.deepEqual(got.get('CVE-2021-25220'), [
    { version: '3.1', score: 6.8, vector: 'CVSS:3.1/AV:N/AC:L/PR:H/UI:N/S:C/C:N/I:H/A:N', source: 'redhat' },
  ]);
});

test("Canonical's OSV records: the CVSS score stored, Ubuntu's priority stays the severity", async () => {
  const dataDir = await importFeed('ubuntu', [join(FEEDS, 'ubuntu/osv')]);
  assert.deepEqual(enrichment(dataDir, ['CVE-2021-3782']).get('CVE-2021-3782'), [
    { version: '3.1', score: 6.6, vector: 'CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:L/I:L/A:H', source: 'ubuntu' },
  ]);
  const db = VulnDb.open(dataDir);
  try {
    const severities = new Set(
      ['16.04', '18.04', '20.04', '22.04']
        .flatMap((release) => [...db.allEntries('ubuntu', release)])
        .filter((e) => e.vuln_id === 'CVE-2021-3782')
        .map((e) => `${e.severity}/${e.raw_severity}`),
    );
    assert.deepEqual([...severities], ['medium/medium']);
  } finally {
    db.close();
  }
});

test('Alpine: a finding the distribution rates nothing takes the band of a CVSS score another feed carries', async () => {
  const root = temporary('alpine-3.15');
  cpSync(join(ESTATE, 'alpine', 'etc-3.15'), join(root, 'etc'), { recursive: true });
  mkdirSync(join(root, 'lib/apk/db'), { recursive: true });
  cpSync(join(ESTATE, 'alpine/installed-3.15'), join(root, 'lib/apk/db/installed'));
  const dataDir = await importFeed('alpine', [join(FEEDS, 'alpine/secdb-json'), join(FEEDS, 'alpine/secdb-yaml')]);

  const before = await scanJson(root, dataDir);
  const zlib = () => before.findings.find((f) => f.id === 'CVE-2022-37434')!;
  assert.equal(zlib().severity, 'unknown');

  // An OSV record (the schema's shape) scoring zlib's CVE-2022-37434 with NVD's v3.1 vector, and
  // CVE-2022-1271 (xz) with a v4.0 one.
  const osvDir = temporary('osv');
  const record = (id: string, cve: string, pkg: string, fixed: string, type: string, vector: string): void =>
    writeFileSync(
      join(osvDir, `${id}.json`),
      JSON.stringify({
        schema_version: '1.6.0',
        id,
        modified: '2024-01-01T00:00:00Z',
        upstream: [cve],
        severity: [{ type, score: vector }],
        affected: [
          {
            package: { ecosystem: 'Debian:12', name: pkg },
            ranges: [{ type: 'ECOSYSTEM', events: [{ introduced: '0' }, { fixed }] }],
          },
        ],
      }),
    );
  record(
    'DEBIAN-CVE-2022-37434',
    'CVE-2022-37434',
    'zlib',
    '1:1.2.13.dfsg-1',
    'CVSS_V3',
    'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H',
  );
  record(
    'DEBIAN-CVE-2022-1271',
    'CVE-2022-1271',
    'xz-utils',
    '5.2.5-2.1',
    'CVSS_V4',
    'CVSS:4.0/AV:L/AC:L/AT:N/PR:L/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N',
  );
  await importFeed('osv', [osvDir], dataDir);

  const after = await scanJson(root, dataDir);
  const z = after.findings.find((f) => f.id === 'CVE-2022-37434') as unknown as Record<string, unknown>;
  assert.equal(z.severity, 'critical');
  assert.equal(z.severity_source, 'cvss');
  assert.equal(z.raw_severity, '');
  assert.deepEqual(z.cvss, [
    { version: '3.1', score: 9.8, vector: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H', source: 'osv' },
  ]);
  const xz = after.findings.filter((f) => f.id === 'CVE-2022-1271') as unknown as Record<string, unknown>[];
  assert.deepEqual(
    xz.map((f) => [f.severity, f.severity_source]),
    [
      ['high', 'cvss'],
      ['high', 'cvss'],
    ],
  );
  // What no feed scores stays unknown, from the distribution.
  const zsh = after.findings.find((f) => f.id === 'CVE-2021-45444') as unknown as Record<string, unknown>;
  assert.deepEqual([zsh.severity, zsh.severity_source], ['unknown', undefined]);
  assert.equal(after.summary.by_severity.critical, 1);
});
