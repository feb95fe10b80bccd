// The generic OSV feed on real records: the OSV linter samples (valid and invalid ones),
// Red Hat OSV, Ubuntu's withdrawn records, and inputs that are not OSV at all.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { rangeIntervals } from '../src/feeds/osv/convert.ts';
import { mapEcosystem } from '../src/feeds/osv/ecosystems.ts';
import { osvFeed } from '../src/feeds/osv/index.ts';
import { cvss3BaseScore } from '../src/feeds/common/severity.ts';
import { VulnDb } from '../src/vulndb/reader.ts';
import { replaceFeed } from '../src/vulndb/writer.ts';

const data = (p: string): string => fileURLToPath(new URL(`../../shared/data/feeds/${p}`, import.meta.url));

async function importOsvInto(inputs: string[]): Promise<{ dir: string; warnings: string[] }> {
  const dir = mkdtempSync(join(tmpdir(), 'patchloop-osv-'));
  const warnings: string[] = [];
  try {
    await replaceFeed(dir, 'osv', async (writer) => {
      await osvFeed.import(inputs, { writer, warn: (m) => warnings.push(m) });
    });
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  return { dir, warnings };
}

test('OSV linter samples: Alpine ranges imported per branch, invalid records skipped with warnings naming file and id', async (t) => {
  const { dir, warnings } = await importOsvInto([data('osv/linter-samples')]);
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const db = VulnDb.open(dir);
  t.after(() => db.close());
  for (const branch of ['3.3', '3.4', '3.5', '3.6', '3.7', '3.8']) {
    const [e, ...more] = db.entries('alpine', branch, 'openssl');
    assert.equal(more.length, 0);
    assert.equal(e.vuln_id, 'CVE-2018-5407');
    assert.equal(e.key_kind, 'source');
    assert.equal(e.scheme, 'apk');
    assert.equal(e.introduced, null, 'introduced "0" is the start of time');
    assert.equal(e.fixed_version, '1.0.2q-r0');
    assert.equal(e.status, 'fixed');
    // CVSS:3.1/AV:L/AC:H/PR:L/UI:N/S:U/C:H/I:N/A:N scores 4.7 (NVD): medium.
    assert.equal(e.severity, 'medium');
    assert.equal(e.raw_severity, 'CVSS:3.1/AV:L/AC:H/PR:L/UI:N/S:U/C:H/I:N/A:N');
  }
  assert.deepEqual(db.entries('alpine', '3.9', 'openssl'), []);
  const nointro = warnings.find((w) => w.includes('nointroduced-CVE-2023-41045.json'));
  assert.ok(nointro?.includes('CVE-2023-41045') && nointro.includes('introduced'), nointro);
  assert.ok(warnings.some((w) => w.includes('nondistinct-CVE-2018-5407.json') && w.includes('differs')));
  assert.ok(
    warnings.some((w) => /outside patchloop's scope: PyPI \(3\), Go \(2\)/.test(w)),
    warnings.join('\n'),
  );
  assert.equal(
    db.vulnerability('CVE-2018-5407')?.references.includes('https://security.alpinelinux.org/vuln/CVE-2018-5407'),
    true,
  );
});

test('Red Hat OSV: only mainline RHEL streams are imported; minor-pinned streams are skipped, leaving nothing here', async () => {
  await assert.rejects(importOsvInto([data('redhat/csaf-osv-pairs/OSV')]), /no advisory entries/);
  assert.deepEqual(mapEcosystem('Red Hat:enterprise_linux:9::appstream'), {
    distro: 'rhel',
    release: '9',
    scheme: 'rpm',
    key_kind: 'binary',
  });
  assert.deepEqual(mapEcosystem('Red Hat:rhel_aus:8.6::appstream'), {
    skip: 'Red Hat:rhel_aus:8.6::appstream (not a mainline RHEL stream)',
  });
  assert.deepEqual(mapEcosystem('Ubuntu:Pro:16.04:LTS'), {
    distro: 'ubuntu',
    release: '16.04',
    scheme: 'deb',
    key_kind: 'source',
    pro: true,
  });
  assert.deepEqual(mapEcosystem('Debian:12'), {
    distro: 'debian',
    release: 'bookworm',
    scheme: 'deb',
    key_kind: 'source',
  });
  assert.deepEqual(mapEcosystem('Alpine:v3.18'), {
    distro: 'alpine',
    release: '3.18',
    scheme: 'apk',
    key_kind: 'source',
  });
  assert.equal(mapEcosystem('PyPI'), null);
});

test('withdrawn records are skipped; the rest of a directory still imports', async (t) => {
  const { dir } = await importOsvInto([data('ubuntu/osv/cve')]);
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const db = VulnDb.open(dir);
  t.after(() => db.close());
  // UBUNTU-CVE-2013-2208 (tpp, 14.04) and UBUNTU-CVE-2020-36325 (jansson) are withdrawn.
  assert.deepEqual(db.entries('ubuntu', '14.04', 'tpp'), []);
  assert.deepEqual(db.entries('ubuntu', '14.04', 'jansson'), []);
  const wayland = db.entries('ubuntu', '22.04', 'wayland');
  assert.deepEqual(
    wayland.map((e) => [e.vuln_id, e.fixed_version, e.severity, e.advisory_ids]),
    [['CVE-2021-3782', '1.20.0-1ubuntu0.1', 'medium', ['USN-5614-1', 'USN-5614-2']]],
  );
});

test('inputs that are not OSV data are an error, not an empty database', async () => {
  await assert.rejects(
    importOsvInto([data('alpine/secdb-json')]),
    /not osv OSV data \(6 file\(s\), none of them a valid OSV record\)/,
  );
  await assert.rejects(importOsvInto([data('debian/security-support-lists')]), /no JSON files/);
});

test('event lists become intervals in version order, whatever order they are written in', () => {
  const range = {
    type: 'ECOSYSTEM' as const,
    events: [{ fixed: '1.2-r0' }, { introduced: '2.0-r0' }, { introduced: '0' }, { last_affected: '2.1-r3' }],
  };
  assert.deepEqual(rangeIntervals(range, 'apk'), [
    { introduced: null, fixed: '1.2-r0', last_affected: null },
    { introduced: '2.0-r0', fixed: null, last_affected: '2.1-r3' },
  ]);
  assert.deepEqual(rangeIntervals({ type: 'ECOSYSTEM', events: [{ introduced: '1:2.0-1' }] }, 'deb'), [
    { introduced: '1:2.0-1', fixed: null, last_affected: null },
  ]);
});

test('CVSS v3 base scores follow the specification', () => {
  assert.equal(cvss3BaseScore('CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H'), 9.8);
  assert.equal(cvss3BaseScore('CVSS:3.1/AV:N/AC:L/PR:H/UI:N/S:C/C:N/I:H/A:N'), 6.8);
  assert.equal(cvss3BaseScore('CVSS:3.0/AV:L/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:L'), 4.0);
  assert.equal(cvss3BaseScore('CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:N'), 0);
  assert.equal(cvss3BaseScore('CVSS:3.1/AV:N/AC:L'), null);
});
