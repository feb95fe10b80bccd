import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parsePublicUrl, requestOrigin } from './public-url.ts';

test('a public URL is an http(s) origin and nothing more', () => {
  assert.equal(parsePublicUrl('https://central.example:8443'), 'https://central.example:8443');
  assert.equal(parsePublicUrl('https://central.example:443/'), 'https://central.example');
  assert.equal(parsePublicUrl('http://[::1]:8080'), 'http://[::1]:8080');
  for (const bad of [
    'ftp://central.example',
    'https://user:pw@central.example',
    'https://central.example/repo',
    'https://central.example?x=1',
    'https://central.example#f',
    'central.example',
    "https://a'b.example",
  ]) {
    assert.equal(parsePublicUrl(bad), null, bad);
  }
});

test('the request origin: the configured one, else the scheme and a Host header that is a plain host', () => {
  assert.equal(requestOrigin('https://central.example', false, 'evil.example'), 'https://central.example');
  assert.equal(requestOrigin(undefined, true, 'central.example:8443'), 'https://central.example:8443');
  assert.equal(requestOrigin(undefined, false, '127.0.0.1:8080'), 'http://127.0.0.1:8080');
  for (const host of [
    undefined,
    '',
    "x';reboot;'",
    'a b',
    'central.example/path',
    'user@central.example',
    '$(id)',
    'central.example:8443:1',
  ]) {
    assert.equal(requestOrigin(undefined, true, host), null, String(host));
  }
});
