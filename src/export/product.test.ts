import { test } from 'node:test';
import assert from 'node:assert/strict';
import { detectProduct, lifecycleKind, mediaTypes } from './product.ts';

// `GET /` banners in the shapes the products send (version numbers are examples).
const elasticsearch8 = {
  name: 'es01',
  cluster_name: 'docker-cluster',
  version: { number: '8.15.2', build_flavor: 'default', build_type: 'docker', lucene_version: '9.11.1' },
  tagline: 'You Know, for Search',
};
const elasticsearch9 = { ...elasticsearch8, version: { ...elasticsearch8.version, number: '9.1.0' } };
const serverless = { ...elasticsearch8, version: { number: '8.11.0', build_flavor: 'serverless' } };
const opensearch2 = {
  name: 'os01',
  version: { distribution: 'opensearch', number: '2.19.6', build_type: 'tar', lucene_version: '9.12.3' },
  tagline: 'The OpenSearch Project: https://opensearch.org/',
};
// OpenSearch with compatibility.override_main_response_version: an Elasticsearch number, but
// still its own distribution.
const opensearchCompat = { ...opensearch2, version: { ...opensearch2.version, number: '7.10.2' } };

test('OpenSearch is recognised by version.distribution, Elasticsearch by header or tagline', () => {
  assert.deepEqual(detectProduct(opensearch2, {}), {
    kind: 'opensearch',
    version: '2.19.6',
    major: 2,
    serverless: false,
  });
  assert.deepEqual(
    detectProduct({ ...opensearch2, version: { ...opensearch2.version, number: '3.1.0' } }, {}).kind,
    'opensearch',
  );
  assert.deepEqual(detectProduct(elasticsearch8, { 'X-Elastic-Product': 'Elasticsearch' }), {
    kind: 'elasticsearch',
    version: '8.15.2',
    major: 8,
    serverless: false,
  });
  // Header alone (a proxy rewrote the body's tagline) is enough, in any letter case.
  assert.equal(
    detectProduct({ version: { number: '9.1.0' } }, { 'x-elastic-product': 'Elasticsearch' }).kind,
    'elasticsearch',
  );
  assert.equal(detectProduct(elasticsearch9, {}).major, 9);
  assert.equal(detectProduct(serverless, { 'x-elastic-product': 'Elasticsearch' }).serverless, true);
});

test('unsupported versions and non-search answers are clear errors', () => {
  assert.throws(
    () => detectProduct(opensearchCompat, {}),
    /OpenSearch 7\.10\.2 is not supported; patchloop exports to OpenSearch 2 or 3/,
  );
  assert.throws(
    () => detectProduct({ ...opensearch2, version: { ...opensearch2.version, number: '1.3.19' } }, {}),
    /OpenSearch 1\.3\.19 is not supported/,
  );
  assert.throws(
    () => detectProduct({ ...elasticsearch8, version: { number: '7.17.29' } }, {}),
    /Elasticsearch 7\.17\.29 is not supported; patchloop exports to Elasticsearch 8 or 9/,
  );
  assert.throws(() => detectProduct({ status: 'ok' }, {}), /no version\.number/);
  assert.throws(() => detectProduct('<html>proxy login</html>', {}), /no version\.number/);
  assert.throws(
    () => detectProduct({ version: { number: '8.1.0' }, tagline: 'something else' }, {}),
    /neither as OpenSearch .* nor as Elasticsearch/,
  );
});

test('media types: versioned for Elasticsearch (its own major), plain for OpenSearch and before detection', () => {
  const es8 = detectProduct(elasticsearch8, {});
  const es9 = detectProduct(elasticsearch9, {});
  assert.deepEqual(mediaTypes(es8), {
    json: 'application/vnd.elasticsearch+json; compatible-with=8',
    ndjson: 'application/vnd.elasticsearch+x-ndjson; compatible-with=8',
  });
  assert.equal(mediaTypes(es9).ndjson, 'application/vnd.elasticsearch+x-ndjson; compatible-with=9');
  assert.deepEqual(mediaTypes(detectProduct(opensearch2, {})), {
    json: 'application/json',
    ndjson: 'application/x-ndjson',
  });
  assert.deepEqual(mediaTypes(null), { json: 'application/json', ndjson: 'application/x-ndjson' });
});

test('lifecycle: ILM on Elasticsearch, ISM on OpenSearch, data stream lifecycle on Serverless', () => {
  assert.equal(lifecycleKind(detectProduct(elasticsearch8, {})), 'ilm');
  assert.equal(lifecycleKind(detectProduct(elasticsearch9, {})), 'ilm');
  assert.equal(lifecycleKind(detectProduct(opensearch2, {})), 'ism');
  assert.equal(lifecycleKind(detectProduct(serverless, {})), 'data_stream_lifecycle');
});
