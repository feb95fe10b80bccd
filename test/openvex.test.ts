// OpenVEX in and out (core/exceptions-openvex.ts) on Canonical's real documents
// (../shared/data/feeds/ubuntu/vex): they pass the schema; their not_affected statements become
// false-positive rules for exactly the builds they name (a package and version each, the
// architectures of one build one rule); affected and fixed statements are skipped with the
// reason; the fleet's rules export as a document the same schema accepts, and what was imported
// comes back as the same statements.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ExceptionScopeSchema, scopeMatches } from '../src/core/exceptions.ts';
import {
  OpenVexSchema,
  openVexOf,
  packageOfProduct,
  rulesFromOpenVex,
  type OpenVexDocument,
} from '../src/core/exceptions-openvex.ts';
import { SHARED_DATA } from './support/paths.ts';

const vex = (cve: string): OpenVexDocument =>
  OpenVexSchema.parse(
    JSON.parse(readFileSync(join(SHARED_DATA, `feeds/ubuntu/vex/cve/${cve.slice(4, 8)}/${cve}.json`), 'utf8')),
  );

test('package URLs name a package and its version', () => {
  assert.deepEqual(packageOfProduct('pkg:deb/ubuntu/curl@7.81.0-1ubuntu1.24?arch=amd64&distro=jammy'), {
    name: 'curl',
    version: '7.81.0-1ubuntu1.24',
  });
  assert.deepEqual(packageOfProduct('pkg:deb/ubuntu/zabbix@1%3A6.0.25%2Bdfsg-1?arch=source'), {
    name: 'zabbix',
    version: '1:6.0.25+dfsg-1',
  });
  assert.deepEqual(packageOfProduct('pkg:rpm/redhat/openssl-libs'), { name: 'openssl-libs' });
  assert.equal(packageOfProduct('https://example.org/product/1'), null);
  assert.equal(packageOfProduct('pkg:deb/ubuntu/bad%ZZname@1'), null);
});

test("Canonical's CVE-2023-38545: the not_affected builds of curl become rules, the others are skipped", () => {
  const doc = vex('CVE-2023-38545');
  const statement = doc.statements.find((s) => s.status === 'not_affected')!;
  const builds = new Set(
    statement.products!.map((p) => {
      const pkg = packageOfProduct(p['@id']!)!;
      return `${pkg.name}@${pkg.version}`;
    }),
  );
  const { rules, skipped } = rulesFromOpenVex(doc);
  assert.deepEqual(
    skipped.map((s) => s.status),
    ['fixed', 'affected'],
  );
  assert.equal(rules.length, builds.size);
  assert.ok(rules.length < statement.products!.length, 'the architectures of one build make one rule');
  for (const r of rules) {
    assert.equal(ExceptionScopeSchema.safeParse(r.scope).success, true, JSON.stringify(r.scope));
    assert.equal(r.scope.vulnerability, 'CVE-2023-38545');
    assert.ok(builds.has(`${r.scope.package}@${r.scope.version}`));
    assert.equal(r.kind, 'false_positive');
    assert.match(r.justification, /^vulnerable_code_not_present: This package/);
  }
  // A rule about trusty's curl says nothing of jammy's, which the document calls affected.
  const trusty = rules.find((r) => r.scope.package === 'curl' && r.scope.version === '7.35.0-1ubuntu2.20+esm19')!;
  const target = (version: string) => ({
    vulnIds: ['CVE-2023-38545'],
    packages: [
      { name: 'curl', version },
      { name: 'curl', version },
    ],
    hostname: 'h',
    group: '',
    tags: [],
  });
  assert.equal(scopeMatches(trusty.scope, target('7.35.0-1ubuntu2.20+esm19')), true);
  assert.equal(scopeMatches(trusty.scope, target('7.81.0-1ubuntu1.24')), false);
});

test("Canonical's CVE-2016-20013: component_not_present for zabbix's builds; the 3,679 affected products are skipped", () => {
  const { rules, skipped } = rulesFromOpenVex(vex('CVE-2016-20013'));
  assert.deepEqual(
    skipped.map((s) => [s.status, s.reason]),
    [['affected', 'only not_affected statements become rules']],
  );
  assert.ok(rules.length > 0);
  assert.ok(rules.every((r) => r.justification.startsWith('component_not_present')));
  assert.ok(rules.some((r) => r.scope.package === 'zabbix' && r.scope.version === '1:6.0.25+dfsg-1'));
});

test('the schema holds statements to what OpenVEX requires of them', () => {
  const base = vex('CVE-2023-38545');
  const withStatement = (s: unknown) => OpenVexSchema.safeParse({ ...base, statements: [s] });
  assert.equal(withStatement({ vulnerability: { name: 'CVE-1' }, status: 'not_affected' }).success, false);
  assert.equal(withStatement({ vulnerability: { name: 'CVE-1' }, status: 'affected' }).success, false);
  assert.equal(
    withStatement({ vulnerability: { name: 'CVE-1' }, status: 'not_affected', justification: 'made_up' }).success,
    false,
  );
  assert.equal(
    withStatement({ vulnerability: { name: 'CVE-1' }, status: 'not_affected', impact_statement: 'x' }).success,
    true,
  );
  assert.equal(OpenVexSchema.safeParse({ ...base, '@context': 'https://example.org/ns' }).success, false);
});

test('export: rules in force as statements; an imported statement comes back as it was', () => {
  const imported = rulesFromOpenVex(vex('CVE-2023-38545')).rules[0];
  const doc = openVexOf(
    [
      { id: 1, ...imported, created_at: '2026-11-01T00:00:00.000Z', expires_at: null },
      {
        id: 2,
        scope: { vulnerability: 'CVE-2024-6387', group: 'web' },
        kind: 'accepted_risk',
        justification: 'sshd on the management network only',
        created_at: '2026-11-02T00:00:00.000Z',
        expires_at: '2026-12-31T23:59:59.999Z',
      },
      {
        id: 3,
        scope: { package: 'tar' },
        kind: 'mitigated',
        justification: 'no vulnerability named: not a statement',
        created_at: '2026-11-03T00:00:00.000Z',
        expires_at: null,
      },
    ],
    {
      id: 'https://patchloop.example.org/api/v1/exceptions/openvex#1',
      author: 'patchloop',
      timestamp: '2026-11-04T00:00:00Z',
    },
  );
  assert.equal(OpenVexSchema.safeParse(doc).success, true);
  assert.equal(doc.statements.length, 2);
  const [fp, risk] = doc.statements;
  assert.equal(fp.status, 'not_affected');
  assert.equal(fp.justification, 'vulnerable_code_not_present');
  assert.match(fp.impact_statement!, /^This package/);
  assert.deepEqual(
    rulesFromOpenVex({ ...doc, statements: [fp] }).rules.map((r) => r.scope),
    [imported.scope],
  );
  assert.equal(risk.status, 'affected');
  assert.equal(risk.action_statement, 'sshd on the management network only');
  assert.match(risk.status_notes!, /accepted_risk.*group web.*expires 2026-12-31/);
});
