// RHEL family feeds on real data: Rocky OSV, Red Hat CSAF advisories and Security Data API
// documents, and a CSAF VEX document written here in Red Hat's layout for the unfixed statuses.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { matchInventory } from '../src/core/match.ts';
import type { AdvisoryEntry } from '../src/core/types.ts';
import { loadFeed } from '../src/feeds/registry.ts';
import { VulnDb } from '../src/vulndb/reader.ts';
import { replaceFeed } from '../src/vulndb/writer.ts';

const data = (p: string): string => fileURLToPath(new URL(`../../shared/data/feeds/${p}`, import.meta.url));

async function load(feed: string, inputs: string[]): Promise<{ db: VulnDb; warnings: string[]; cleanup: () => void }> {
  const dir = mkdtempSync(join(tmpdir(), `patchloop-${feed}-`));
  const warnings: string[] = [];
  const source = await loadFeed(feed);
  await replaceFeed(dir, feed, async (writer) => {
    await source.import(inputs, { writer, warn: (m) => warnings.push(m) });
  });
  const db = VulnDb.open(dir);
  return { db, warnings, cleanup: () => (db.close(), rmSync(dir, { recursive: true, force: true })) };
}

const brief = (e: AdvisoryEntry) => ({
  vuln: e.vuln_id,
  key: e.key_kind,
  status: e.status,
  raw: e.raw_status,
  fixed: e.fixed_version,
  sev: e.severity,
  ids: e.advisory_ids,
  stream: e.module_stream,
  arches: e.arches,
});

test('Rocky OSV: source packages, full E:V-R, module stream and severity from the summary', async (t) => {
  const { db, cleanup } = await load('rocky', [data('rocky')]);
  t.after(cleanup);
  // The advisory names three CVEs: an entry for each, found by its CVE, the advisory beside it.
  const ruby33 = {
    key: 'source',
    status: 'fixed',
    raw: 'fixed',
    fixed: '3.3.1-2.module+el9.4.0+20787+4c237fd3',
    sev: 'medium',
    ids: ['RLSA-2024:3671'],
    stream: 'ruby:3.3',
    arches: [],
  };
  assert.deepEqual(
    db.entries('rocky', '9', 'ruby').map(brief),
    ['CVE-2024-27280', 'CVE-2024-27281', 'CVE-2024-27282'].map((vuln) => ({ vuln, ...ruby33 })),
  );
  assert.deepEqual(
    [
      ...new Set(
        db.entries('rocky', '8', 'java-11-openjdk').map((e) => `${e.fixed_version} ${e.severity} ${e.raw_severity}`),
      ),
    ],
    ['1:11.0.13.0.8-1.el8_4 high Important'],
  );
  assert.deepEqual(
    [...new Set(db.entries('rocky', '8', 'firefox').map((e) => `${e.fixed_version} ${e.module_stream}`))],
    ['102.11.0-2.el8_7 null'],
  );
  assert.equal(db.vulnerability('RLSA-2024:3671'), null);
  assert.deepEqual(db.vulnerability('CVE-2024-27281')?.aliases, ['RLSA-2024:3671']);

  // Through the matcher: a binary of the `ruby` source in the ruby:3.3 stream, older and fixed.
  const host = (version: string) => ({
    os: { id: 'rocky', version_id: '9.4', codename: '', pretty_name: 'Rocky Linux 9.4 (Blue Onyx)' },
    kernel: null,
    packages: [
      {
        name: 'ruby-libs',
        version,
        arch: 'x86_64',
        source: 'ruby',
        source_version: version,
        format: 'rpm' as const,
        modularity_label: 'ruby:3.3:9040020240423083203:9',
      },
    ],
  });
  const older = matchInventory(host('3.3.0-1.module+el9.4.0+19001+1f3a2e20'), db).findings.map((f) => [
    f.package.name,
    f.id,
    f.fixed_version,
    f.advisory_ids,
  ]);
  assert.deepEqual(
    older,
    ['CVE-2024-27280', 'CVE-2024-27281', 'CVE-2024-27282'].map((id) => [
      'ruby-libs',
      id,
      '3.3.1-2.module+el9.4.0+20787+4c237fd3',
      ['RLSA-2024:3671'],
    ]),
  );
  assert.deepEqual(matchInventory(host('3.3.1-2.module+el9.4.0+20787+4c237fd3'), db).findings, []);
});

test('Rocky updateinfo.xml: binary rpms with arches and module streams; bug-fix updates and broken XML skipped', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'patchloop-updateinfo-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'broken-updateinfo.xml'), '<updates><update type="security"><id>RLSA-1:1</id></updates>');
  const { db, warnings, cleanup } = await load('rocky', [data('rocky/updateinfo'), dir]);
  t.after(cleanup);
  assert.deepEqual(db.entries('rocky', '8', 'lz4').map(brief), [
    {
      vuln: 'CVE-2021-3520',
      key: 'binary',
      status: 'fixed',
      raw: 'fixed',
      fixed: '1.8.3-3.el8_4',
      sev: 'medium',
      ids: ['RLSA-2021:2575'],
      stream: null,
      arches: ['x86_64'],
    },
  ]);
  // Three CVEs: an entry each, with the advisory as their advisory id and alias.
  assert.deepEqual(
    db
      .entries('rocky', '8', 'kernel')
      .map((e) => [e.vuln_id, e.fixed_version, e.severity, e.advisory_ids])
      .sort(),
    [
      ['CVE-2021-22543', '4.18.0-305.12.1.el8_4', 'high', ['RLSA-2021:3057']],
      ['CVE-2021-22555', '4.18.0-305.12.1.el8_4', 'high', ['RLSA-2021:3057']],
      ['CVE-2021-3609', '4.18.0-305.12.1.el8_4', 'high', ['RLSA-2021:3057']],
    ],
  );
  assert.deepEqual(db.vulnerability('CVE-2021-3609')?.aliases, ['RLSA-2021:3057']);
  // The collection's <module> gives the stream; noarch builds fit any arch.
  assert.deepEqual(
    [...new Set(db.entries('rocky', '8', 'rubygem-bson').map((e) => JSON.stringify([e.module_stream, e.arches])))],
    ['["ruby:2.6",["x86_64"]]'],
  );
  assert.deepEqual(
    [...new Set(db.entries('rocky', '8', 'rubygem-abrt').map((e) => JSON.stringify([e.module_stream, e.arches])))],
    ['["ruby:2.6",[]]'],
  );
  assert.deepEqual(db.entries('rocky', '8', 'firewalld'), [], 'RLBA-2021:2580 fixes no CVE');
  assert.ok(warnings.some((w) => w.includes('updateinfo.xml: skipped 1 bug-fix/enhancement updates')));
  assert.ok(
    warnings.some((w) => w.includes('broken-updateinfo.xml') && /not well-formed XML/.test(w)),
    warnings.join('\n'),
  );
});

test('Red Hat CSAF advisories: binary rpms per mainline RHEL release, module streams, arches, impact', async (t) => {
  const { db, warnings, cleanup } = await load('redhat', [
    data('redhat/csaf/advisories'),
    data('redhat/csaf-osv-pairs/CSAF'),
  ]);
  t.after(cleanup);
  // RHSA-2025:23414: RHEL 6 ELS bind; its EUS/AUS products for RHEL 8 are not mainline.
  // Two CVEs, each with its own Red Hat impact (Moderate, Important).
  const arches = ['i686', 's390', 's390x', 'x86_64'];
  assert.deepEqual(
    db
      .entries('rhel', '6', 'bind-libs')
      .map(brief)
      .sort((a, b) => a.vuln.localeCompare(b.vuln)),
    [
      {
        vuln: 'CVE-2021-25220',
        key: 'binary',
        status: 'fixed',
        raw: 'fixed',
        fixed: '32:9.8.2-0.68.rc1.el6_10.17',
        sev: 'medium',
        ids: ['RHSA-2025:23414'],
        stream: null,
        arches,
      },
      {
        vuln: 'CVE-2025-40778',
        key: 'binary',
        status: 'fixed',
        raw: 'fixed',
        fixed: '32:9.8.2-0.68.rc1.el6_10.17',
        sev: 'high',
        ids: ['RHSA-2025:23414'],
        stream: null,
        arches,
      },
    ],
  );
  // ruby in three RHEL 8 module streams, one advisory each.
  const ruby = db
    .entries('rhel', '8', 'ruby')
    .filter((e) => e.vuln_id === 'CVE-2021-33621' && e.key_kind === 'binary')
    .map((e) => [e.module_stream, e.fixed_version, e.advisory_ids[0]]);
  assert.deepEqual(ruby.sort(), [
    ['ruby:2.5', '2.5.9-111.module+el8.9.0+19193+435404ae', 'RHSA-2023:7025'],
    ['ruby:2.7', '2.7.8-139.module+el8.8.0+18745+f1bef313', 'RHSA-2023:3821'],
    ['ruby:3.1', '3.1.4-142.module+el8.9.0+21471+7d1e4a35', 'RHSA-2024:1431'],
  ]);
  // Beside the binaries, each advisory's source rpm: its name, full E:V-R and stream.
  const rubySource = db
    .entries('rhel', '8', 'ruby')
    .filter((e) => e.vuln_id === 'CVE-2021-33621' && e.key_kind === 'source')
    .map((e) => [e.module_stream, e.fixed_version]);
  assert.deepEqual(rubySource.sort(), [
    ['ruby:2.5', '2.5.9-111.module+el8.9.0+19193+435404ae'],
    ['ruby:2.7', '2.7.8-139.module+el8.8.0+18745+f1bef313'],
    ['ruby:3.1', '3.1.4-142.module+el8.9.0+21471+7d1e4a35'],
  ]);
  // RHSA-2024:6220 (python39:3.9) is for 8.6 AUS/E4S/TUS only.
  assert.deepEqual(db.entries('rhel', '8', 'PyYAML'), []);
  assert.ok(warnings.some((w) => /skipped \d+ product statuses for other platforms/.test(w)));
});

test('Red Hat CSAF advisories that list only a source rpm (RHSA-2024:6163, RHSA-2024:9371): source-keyed fixes', async (t) => {
  const { db, cleanup } = await load('redhat', [data('redhat/csaf/advisories/2024')]);
  t.after(cleanup);
  assert.deepEqual(
    db.entries('rhel', '9', 'python3.9').map((e) => ({ ...brief(e), introduced: e.introduced })),
    [
      {
        vuln: 'CVE-2024-8088',
        key: 'source',
        status: 'fixed',
        raw: 'fixed',
        fixed: '3.9.18-3.el9_4.5',
        sev: 'medium',
        ids: ['RHSA-2024:6163'],
        stream: null,
        arches: [],
        introduced: null,
      },
      {
        vuln: 'CVE-2024-8088',
        key: 'source',
        status: 'fixed',
        raw: 'fixed',
        fixed: '3.9.19-8.el9',
        sev: 'medium',
        ids: ['RHSA-2024:9371'],
        stream: null,
        arches: [],
        introduced: '3.9.19',
      },
    ],
  );
  // Through the matcher: every binary built from python3.9, by its SOURCERPM version.
  const host = (version: string) => ({
    os: { id: 'rhel', version_id: '9.4', codename: '', pretty_name: 'Red Hat Enterprise Linux 9.4 (Plow)' },
    kernel: null,
    packages: ['python3', 'python3-libs', 'python3-tkinter'].map((name) => ({
      name,
      version,
      arch: 'x86_64',
      source: 'python3.9',
      source_version: version,
      format: 'rpm' as const,
    })),
  });
  const found = (version: string) =>
    matchInventory(host(version), db).findings.map((f) => [f.package.name, f.fixed_version, f.advisory_ids]);
  // Below both fixes: the lowest fix, and both advisories (the later one names the CVE again).
  assert.deepEqual(
    found('3.9.18-3.el9'),
    ['python3', 'python3-libs', 'python3-tkinter'].map((p) => [
      p,
      '3.9.18-3.el9_4.5',
      ['RHSA-2024:6163', 'RHSA-2024:9371'],
    ]),
  );
  assert.deepEqual(
    found('3.9.19-7.el9'),
    ['python3', 'python3-libs', 'python3-tkinter'].map((p) => [p, '3.9.19-8.el9', ['RHSA-2024:9371']]),
  );
  assert.deepEqual(found('3.9.18-3.el9_4.5'), []);
  assert.deepEqual(found('3.9.19-8.el9'), []);
});

test('Red Hat Security Data API: source fixes per release; two fixes for one CVE on two version lines keep one entry per line', async (t) => {
  const { db, cleanup } = await load('redhat', [data('redhat/csaf/hydra')]);
  t.after(cleanup);
  // 3.9.18-3.el9_4.5 (9.4 z-stream) and 3.9.19-8.el9 (9.5): the 3.9.19 line starts at 3.9.19.
  assert.deepEqual(
    db.entries('rhel', '9', 'python3.9').map((e) => ({ ...brief(e), introduced: e.introduced })),
    [
      {
        vuln: 'CVE-2024-8088',
        key: 'source',
        status: 'fixed',
        raw: 'fixed',
        fixed: '3.9.18-3.el9_4.5',
        sev: 'medium',
        ids: ['RHSA-2024:6163'],
        stream: null,
        arches: [],
        introduced: null,
      },
      {
        vuln: 'CVE-2024-8088',
        key: 'source',
        status: 'fixed',
        raw: 'fixed',
        fixed: '3.9.19-8.el9',
        sev: 'medium',
        ids: ['RHSA-2024:9371'],
        stream: null,
        arches: [],
        introduced: '3.9.19',
      },
    ],
  );
  assert.deepEqual(
    db.entries('rhel', '8', 'bind').map((e) => e.fixed_version),
    ['32:9.11.36-5.el8'],
    'the 8.6 EUS and 8.2 AUS builds are not mainline',
  );
});

test('Red Hat CSAF VEX: known_affected with remediations, under_investigation and known_not_affected components', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'patchloop-vex-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const platform = {
    category: 'product_name',
    name: 'Red Hat Enterprise Linux 9',
    product: {
      name: 'Red Hat Enterprise Linux 9',
      product_id: 'red_hat_enterprise_linux_9',
      product_identification_helper: { cpe: 'cpe:/o:redhat:enterprise_linux:9' },
    },
  };
  const eus = {
    category: 'product_name',
    name: 'Red Hat Enterprise Linux 9.2 EUS',
    product: {
      name: 'Red Hat Enterprise Linux 9.2 EUS',
      product_id: 'rhel_eus_9.2',
      product_identification_helper: { cpe: 'cpe:/a:redhat:rhel_eus:9.2::appstream' },
    },
  };
  const component = (name: string, purl: string) => ({
    category: 'product_version',
    name,
    product: { name, product_id: name, product_identification_helper: { purl } },
  });
  const components = [
    component('openssh', 'pkg:rpm/redhat/openssh?arch=src'),
    component('libssh', 'pkg:rpm/redhat/libssh?arch=src'),
    component('glibc', 'pkg:rpm/redhat/glibc?arch=src'),
    component('vim', 'pkg:rpm/redhat/vim?arch=src'),
    component('curl', 'pkg:rpm/redhat/curl?arch=src'),
    component('nodejs', 'pkg:rpm/redhat/nodejs?arch=src&rpmmod=nodejs:18:9040020240101:abcdef12'),
    component('openssl-1:3.0.7-27.el9.x86_64', 'pkg:rpm/redhat/openssl@3.0.7-27.el9?arch=x86_64&epoch=1'),
  ];
  const rel = (c: string, p = 'red_hat_enterprise_linux_9') => ({
    category: 'default_component_of',
    full_product_name: { name: `${c} as a component of ${p}`, product_id: `${p}:${c}` },
    product_reference: c,
    relates_to_product_reference: p,
  });
  const vex = {
    document: {
      category: 'csaf_vex',
      csaf_version: '2.0',
      title: 'openssh: example',
      tracking: { id: 'CVE-2099-0001', current_release_date: '2099-01-02T00:00:00+00:00' },
    },
    product_tree: {
      branches: [
        {
          category: 'vendor',
          name: 'Red Hat',
          branches: [
            { category: 'product_family', name: 'Red Hat Enterprise Linux', branches: [platform, eus] },
            { category: 'architecture', name: 'src', branches: components },
          ],
        },
      ],
      relationships: [
        ...['openssh', 'libssh', 'glibc', 'vim', 'curl', 'nodejs', 'openssl-1:3.0.7-27.el9.x86_64'].map((c) => rel(c)),
        rel('openssh', 'rhel_eus_9.2'),
      ],
    },
    vulnerabilities: [
      {
        cve: 'CVE-2099-0001',
        notes: [{ category: 'description', text: 'An example flaw.' }],
        product_status: {
          fixed: ['red_hat_enterprise_linux_9:openssl-1:3.0.7-27.el9.x86_64'],
          known_affected: [
            'red_hat_enterprise_linux_9:openssh',
            'red_hat_enterprise_linux_9:libssh',
            'red_hat_enterprise_linux_9:glibc',
            'red_hat_enterprise_linux_9:nodejs',
            'rhel_eus_9.2:openssh',
          ],
          known_not_affected: ['red_hat_enterprise_linux_9:curl'],
          under_investigation: ['red_hat_enterprise_linux_9:vim'],
        },
        remediations: [
          {
            category: 'vendor_fix',
            details: 'apply the update',
            url: 'https://access.redhat.com/errata/RHSA-2099:1234',
            product_ids: ['red_hat_enterprise_linux_9:openssl-1:3.0.7-27.el9.x86_64'],
          },
          { category: 'no_fix_planned', details: 'Will not fix', product_ids: ['red_hat_enterprise_linux_9:openssh'] },
          {
            category: 'no_fix_planned',
            details: 'Out of support scope',
            product_ids: ['red_hat_enterprise_linux_9:libssh'],
          },
          { category: 'none_available', details: 'Deferred', product_ids: ['red_hat_enterprise_linux_9:glibc'] },
          { category: 'none_available', details: 'Affected', product_ids: ['red_hat_enterprise_linux_9:nodejs'] },
          { category: 'workaround', details: 'do not use it', product_ids: ['red_hat_enterprise_linux_9:openssh'] },
        ],
        threats: [{ category: 'impact', details: 'Important' }],
      },
    ],
  };
  writeFileSync(join(dir, 'cve-2099-0001.json'), JSON.stringify(vex));
  const { db, cleanup } = await load('redhat', [dir]);
  t.after(cleanup);
  const one = (pkg: string) =>
    db
      .entries('rhel', '9', pkg)
      .map((e) => [e.key_kind, e.status, e.raw_status, e.fixed_version, e.severity, e.module_stream, e.advisory_ids]);
  assert.deepEqual(one('openssh'), [['source', 'will_not_fix', 'Will not fix', null, 'high', null, []]]);
  assert.deepEqual(one('libssh'), [['source', 'end_of_life', 'Out of support scope', null, 'high', null, []]]);
  assert.deepEqual(one('glibc'), [['source', 'fix_deferred', 'Deferred', null, 'high', null, []]]);
  assert.deepEqual(one('nodejs'), [['source', 'affected', 'Affected', null, 'high', 'nodejs:18', []]]);
  assert.deepEqual(one('vim'), [['source', 'under_investigation', 'Under investigation', null, 'high', null, []]]);
  assert.deepEqual(one('curl'), [['source', 'not_affected', 'Not affected', null, 'high', null, []]]);
  assert.deepEqual(one('openssl'), [['binary', 'fixed', 'fixed', '1:3.0.7-27.el9', 'high', null, ['RHSA-2099:1234']]]);
  assert.equal(db.vulnerability('CVE-2099-0001')?.description, 'An example flaw.');

  // Through the matcher: binaries of the unfixed sources carry the component's status.
  const rpmPkg = (name: string, source: string, version: string) => ({
    name,
    version,
    arch: 'x86_64',
    source,
    source_version: version,
    format: 'rpm' as const,
  });
  const result = matchInventory(
    {
      os: { id: 'rhel', version_id: '9.4', codename: '', pretty_name: 'Red Hat Enterprise Linux 9.4 (Plow)' },
      kernel: null,
      packages: [
        rpmPkg('openssh-server', 'openssh', '8.7p1-38.el9'),
        rpmPkg('curl', 'curl', '7.76.1-29.el9'),
        rpmPkg('vim-minimal', 'vim', '2:8.2.2637-20.el9'),
        rpmPkg('openssl', 'openssl', '1:3.0.7-24.el9'),
      ],
    },
    db,
  );
  assert.deepEqual(
    result.findings.map((f) => [f.package.name, f.status, f.raw_status, f.fixed_version, f.severity]).sort(),
    [
      ['openssh-server', 'will_not_fix', 'Will not fix', null, 'high'],
      ['openssl', 'fixed', 'fixed', '1:3.0.7-27.el9', 'high'],
    ],
  );
});

test('a Red Hat import of something else is an error', async () => {
  await assert.rejects(load('redhat', [data('rocky')]), /not Red Hat CSAF data/);
});
