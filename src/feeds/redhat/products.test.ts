import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseRpmPurl, ProductTree } from './products.ts';

test('rpm purls: percent-encoding decoded; malformed percent-encoding is no purl (found by the fuzz suite)', () => {
  assert.deepEqual(parseRpmPurl('pkg:rpm/redhat/libstdc%2B%2B@11.4.1-3.el9?arch=x86_64&epoch=1'), {
    name: 'libstdc++',
    evr: '1:11.4.1-3.el9',
    arch: 'x86_64',
    moduleStream: null,
  });
  assert.equal(parseRpmPurl('pkg:rpm/redhat/%ZZ@1.0-1.el9?arch=x86_64'), null);
  assert.equal(parseRpmPurl('pkg:rpm/redhat/bind@9.16%E0-5.el9_1?arch=x86_64'), null);
});

test('a product tree resolves around a component or module whose purl is malformed', () => {
  const platform = {
    category: 'product_name',
    product: {
      name: 'RHEL 9',
      product_id: 'AppStream-9',
      product_identification_helper: { cpe: 'cpe:/a:redhat:enterprise_linux:9::appstream' },
    },
  };
  const component = (id: string, purl: string) => ({
    category: 'product_version',
    product: { name: id, product_id: id, product_identification_helper: { purl } },
  });
  const tree = new ProductTree(
    [
      platform,
      component('bad', 'pkg:rpm/redhat/%ZZ@1.0-1.el9?arch=x86_64'),
      component('good', 'pkg:rpm/redhat/bind@9.16.23-5.el9_1?arch=x86_64'),
      component('mod', 'pkg:rpmmod/redhat/%ZZ@18:9040020240606'),
    ],
    [
      {
        full_product_name: { product_id: 'AppStream-9:bad' },
        product_reference: 'bad',
        relates_to_product_reference: 'AppStream-9',
      },
      {
        full_product_name: { product_id: 'AppStream-9:mod' },
        product_reference: 'mod',
        relates_to_product_reference: 'AppStream-9',
      },
      {
        full_product_name: { product_id: 'AppStream-9:mod:good' },
        product_reference: 'good',
        relates_to_product_reference: 'AppStream-9:mod',
      },
    ],
  );
  assert.equal(tree.resolve('AppStream-9:bad'), null);
  assert.deepEqual(tree.resolve('AppStream-9:mod:good'), {
    platformCpe: 'cpe:/a:redhat:enterprise_linux:9::appstream',
    moduleStream: null,
    name: 'bind',
    evr: '9.16.23-5.el9_1',
    arch: 'x86_64',
  });
});
