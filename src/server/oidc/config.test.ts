import { test } from 'node:test';
import assert from 'node:assert/strict';
import { OidcConfigSchema } from './config.ts';

const good = {
  issuer: 'https://id.example.net/realms/ops',
  client_id: 'patchloop',
  redirect_uri: 'https://patchloop.example.net/api/v1/auth/oidc/callback',
};

test('an oidc section whose addresses are not URLs is refused field by field, never with a bare "Invalid URL"', () => {
  for (const field of ['issuer', 'redirect_uri'] as const) {
    const r = OidcConfigSchema.safeParse({ ...good, [field]: 'not a url' });
    assert.equal(r.success, false, field);
    assert.deepEqual([...new Set(r.error!.issues.map((i) => i.path.join('.')))], [field]);
    assert.match(r.error!.issues[0].message, /http\(s\) URL/);
  }
});

test('the redirect URI must end with the callback path', () => {
  const r = OidcConfigSchema.safeParse({ ...good, redirect_uri: 'https://patchloop.example.net/callback' });
  assert.equal(r.success, false);
  assert.match(r.error!.issues[0].message, /\/api\/v1\/auth\/oidc\/callback/);
  assert.equal(OidcConfigSchema.safeParse(good).success, true);
});
