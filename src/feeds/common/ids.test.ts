import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cveOf, normaliseVulnId } from '../../core/vuln-id.ts';
import { idsOfItem } from './ids.ts';

test('an id with a suffix names its CVE; other ids are kept as written', () => {
  assert.equal(cveOf('CVE-2017-17434-1'), 'CVE-2017-17434');
  assert.equal(cveOf('CVE-2017-17434-2'), 'CVE-2017-17434');
  assert.equal(cveOf('CVE-2019-19451.patch'), 'CVE-2019-19451');
  assert.equal(cveOf('cve-2021-1234567'), 'CVE-2021-1234567');
  assert.equal(cveOf('CVE-2021-123'), null, 'a CVE number has four digits or more');
  assert.equal(cveOf('XSA-295'), null);
  assert.equal(cveOf('GHSA-xxxx-CVE-2021-1234'), null, 'only an id that starts with a CVE names it');
  assert.equal(normaliseVulnId('XSA-295'), 'XSA-295');
  assert.equal(normaliseVulnId('CVE-2018-1000001_1'), 'CVE-2018-1000001');
  // Characters no id has are no suffix: an id followed by a space or a NUL is not that id.
  for (const other of ['CVE-2018-1000001 ', 'CVE-2018-1000001\u0000', ' CVE-2018-1000001'])
    assert.equal(normaliseVulnId(other), other);
});

test('a written item: the CVE is the id, the other ids its aliases, notes passed over', () => {
  assert.deepEqual(idsOfItem('CVE-2019-17340 XSA-284'), { id: 'CVE-2019-17340', aliases: ['XSA-284'] });
  assert.deepEqual(idsOfItem('XSA-295 CVE-2019-17349'), { id: 'CVE-2019-17349', aliases: ['XSA-295'] });
  assert.deepEqual(idsOfItem('XSA-295'), { id: 'XSA-295', aliases: [] });
  assert.deepEqual(idsOfItem('CVE-2017-1000376 (not in musl)'), { id: 'CVE-2017-1000376', aliases: [] });
  assert.deepEqual(idsOfItem('CVE-2019-19451.patch'), { id: 'CVE-2019-19451', aliases: [] });
  assert.deepEqual(idsOfItem('CVE-2020-1000 CVE-2020-1000-2'), { id: 'CVE-2020-1000', aliases: [] });
  assert.equal(idsOfItem('fixed the build'), null);
  assert.equal(idsOfItem(''), null);
});
