import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { AdvisoryIndex, parseAdvisoryList } from './advisory-list.ts';

const DATA = new URL('../../../../shared/data/feeds/debian/', import.meta.url);
const read = (rel: string) => ({ path: new URL(rel, DATA).pathname, text: readFileSync(new URL(rel, DATA), 'utf8') });

test('the DSA list excerpt: fixes with their CVEs; advisories without CVEs or fixes give none', () => {
  const { path, text } = read('tracker-json-sample/DSA-list-excerpt');
  const warnings: string[] = [];
  const fixes = parseAdvisoryList(text, path, (m) => warnings.push(m));
  assert.deepEqual(warnings, []);
  assert.deepEqual(
    fixes.map((f) => `${f.advisory} ${f.release} ${f.package} ${f.version} ${f.cves.join(',')}`),
    [
      'DSA-141 woody mpack 1.5-7woody2 CVE-2002-1425',
      'DSA-140 woody libpng 1.0.12-3.woody.2 CVE-2002-0660,CVE-2002-0728',
      'DSA-140 woody libpng3 1.2.1-1.1.woody.2 CVE-2002-0660,CVE-2002-0728',
      'DSA-139 woody super 3.16.1-1.2 CVE-2002-0817',
      'DSA-138 woody gallery 1.2.5-7 CVE-2002-1412',
      'DSA-2808-2 squeeze openjpeg 1.3+dfsg-4+squeeze3 ',
      'DSA-2808-2 wheezy openjpeg 1.3+dfsg-4.8 ',
      'DSA-4323-1 stretch drupal7 7.52-2+deb9u5 ',
      'DSA-5970-1 bookworm sope 5.8.0-1+deb12u1 CVE-2025-53603',
    ],
  );
});

test('tracker-lists excerpts: a malformed header is a warning and its lines are skipped; a missing final newline is fine', () => {
  const dla = read('tracker-lists/data/DLA/list');
  const warnings: string[] = [];
  const fixes = parseAdvisoryList(dla.text, dla.path, (m) => warnings.push(m));
  assert.deepEqual(
    fixes.map((f) => [f.advisory, f.release, f.package, f.version, f.cves.length]),
    [['DLA-2711-1', 'stretch', 'thunderbird', '1:78.12.0-1~deb9u1', 4]],
  );
  assert.equal(warnings.length, 1);
  assert.match(
    warnings[0],
    /tracker-lists\/data\/DLA\/list:4: not an advisory header, skipped with its lines: \[19 Jul 2021\] MALFORMED HEADER/,
  );

  const dsa = read('tracker-lists/data/DSA/list');
  assert.deepEqual(
    parseAdvisoryList(dsa.text, dsa.path, () => assert.fail('no warnings expected')).map((f) => [f.release, f.version]),
    [
      ['stretch', '3:3.2.6-3+deb9u3'],
      ['buster', '5:5.0.3-4+deb10u1'],
    ],
  );
});

test('the full 2023 DSA and DLA lists parse without warnings and index real fixes', () => {
  const index = new AdvisoryIndex();
  for (const list of ['DSA', 'DLA']) {
    const { path, text } = read(`tracker-lists-2023/${list}/list`);
    index.add(parseAdvisoryList(text, path, (m) => assert.fail(m)));
  }
  // DSA-5380-1 and DLA-3372-1 fixed CVE-2023-1393 in xorg-server for bullseye and buster.
  assert.deepEqual(index.lookup('bullseye', 'xorg-server', 'CVE-2023-1393', '2:1.20.11-1+deb11u6'), ['DSA-5380-1']);
  assert.deepEqual(index.lookup('buster', 'xorg-server', 'CVE-2023-1393', '2:1.20.4-1+deb10u9'), ['DLA-3372-1']);
  // Same CVE and release, another version: no advisory shipped that one.
  assert.deepEqual(index.lookup('bullseye', 'xorg-server', 'CVE-2023-1393', '2:1.20.11-1+deb11u5'), []);
  // Firefox and Thunderbird share CVEs; each advisory attaches to its own package only.
  assert.deepEqual(index.lookup('bullseye', 'firefox-esr', 'CVE-2023-25751', '102.9.0esr-1~deb11u1'), ['DSA-5374-1']);
  assert.deepEqual(index.lookup('bullseye', 'thunderbird', 'CVE-2023-25751', '1:102.9.0-1~deb11u1'), ['DSA-5375-1']);
  assert.equal(index.lists, 2);
  assert.ok(index.fixes > 10_000);
});

test('pseudo-versions and notes on fix lines; unreadable lines are warnings with file and line', () => {
  const text = [
    '[01 Jan 2024] DSA-9999-1 demo - security update',
    '\t{CVE-2024-0001 CVE-2024-0002 bogus}',
    '\t[bookworm] - demo 1.0-1+deb12u1 (bug #123; medium)',
    '\t[bullseye] - demo <not-affected> (vulnerable code not present)',
    '\t[buster] demo 1.0',
    '\tNOTE: anything',
    '\t[trixie] - demo 1.1-1',
    'stray text',
    '\t[sid] - demo 1.2-1',
  ].join('\n');
  const warnings: string[] = [];
  const fixes = parseAdvisoryList(text, 'list', (m) => warnings.push(m));
  assert.deepEqual(
    fixes.map((f) => [f.release, f.version, f.cves]),
    [
      ['bookworm', '1.0-1+deb12u1', ['CVE-2024-0001', 'CVE-2024-0002']],
      ['trixie', '1.1-1', ['CVE-2024-0001', 'CVE-2024-0002']],
    ],
  );
  assert.deepEqual(warnings, [
    'list:2: DSA-9999-1: not a CVE id: bogus',
    'list:5: DSA-9999-1: unreadable fix line, skipped: [buster] demo 1.0',
    'list:8: not an advisory header, skipped with its lines: stray text',
  ]);
});
