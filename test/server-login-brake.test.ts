// The brake on password guessing, over real HTTP: counted before the password is checked (so
// parallel guesses cannot slip through), waits that grow, and no lockout of the real
// administrator — after the wait the right password passes, a browser that logged in before
// has a brake of its own, and `patchloop server unlock-logins` clears it.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { api, ADMIN_PASSWORD, startTestServer, type TestServer } from './support/server.ts';
import { unlockLogins } from '../src/server/http/login-brake.ts';
import { runCli } from './support/cli.ts';

let s: TestServer;
before(async () => {
  s = await startTestServer(null);
});
after(() => s.close());

const login = (password: string, headers: Record<string, string> = {}) =>
  api(s.url, '/api/v1/auth/login', { body: { username: 'admin', password }, headers });

test('60 parallel wrong passwords: only the free attempts are checked, the rest wait', async () => {
  const answers = await Promise.all(Array.from({ length: 60 }, (_, i) => login(`guess ${i}`)));
  const checked = answers.filter((a) => a.status === 401).length;
  const braked = answers.filter((a) => a.status === 429 || a.status === 503);
  assert.equal(checked + braked.length, 60);
  // Five free failures for the (address, user) pair; the fifth starts the first wait.
  assert.ok(checked <= 5, `${checked} passwords were checked`);
  const refused = braked.find((a) => a.status === 429)!;
  assert.match(refused.headers.get('retry-after') ?? '', /^\d+$/);
  assert.equal((refused.body as { error: string }).error, 'too_many_requests');

  // Inside the wait even the right password is not checked...
  assert.equal((await login(ADMIN_PASSWORD)).status, 429);
  // ...after it, it passes, and the pair's count starts again.
  s.clock.advance(2_000);
  const ok = await login(ADMIN_PASSWORD);
  assert.equal(ok.status, 200, ok.text);
  assert.equal((await login('wrong again')).status, 401);
});

test('waits double with each further failure, up to 15 minutes', async () => {
  unlockLogins(s.running.ctx.store);
  for (let i = 0; i < 5; i++) assert.equal((await login(`w${i}`)).status, 401);
  const waits: number[] = [];
  for (let i = 0; i < 14; i++) {
    const early = await login(`too soon ${i}`);
    assert.equal(early.status, 429);
    const wait = Number(early.headers.get('retry-after'));
    waits.push(wait);
    s.clock.advance(wait * 1000);
    assert.equal((await login(`again ${i}`)).status, 401, `attempt ${i} after the wait is checked`);
  }
  assert.deepEqual(waits.slice(0, 4), [1, 2, 4, 8]);
  assert.equal(Math.max(...waits), 900);
});

test('a browser that logged in before is not kept out by guesses from its address; unlock clears every brake', async () => {
  unlockLogins(s.running.ctx.store);
  const ok = await login(ADMIN_PASSWORD);
  assert.equal(ok.status, 200);
  const device = ok.headers.getSetCookie().find((c) => c.startsWith('patchloop_device='))!;
  assert.match(device, /HttpOnly/i);
  assert.match(device, /Path=\/api\/v1\/auth\/login/i);
  const deviceCookie = device.split(';')[0];

  for (let i = 0; i < 30; i++) await login(`attacker ${i}`);
  assert.equal((await login(ADMIN_PASSWORD)).status, 429, 'the address is braked');
  assert.equal((await login(ADMIN_PASSWORD, { cookie: deviceCookie })).status, 200, 'the known browser logs in');
  // A forged or other user's device cookie counts for nothing.
  assert.equal(
    (await login(ADMIN_PASSWORD, { cookie: 'patchloop_device=AAAAAAAAAAAAAAAA.' + 'B'.repeat(43) })).status,
    429,
  );

  unlockLogins(s.running.ctx.store);
  assert.equal((await login(ADMIN_PASSWORD)).status, 200, 'after unlock-logins the address may log in again');
});

test('patchloop server unlock-logins lifts the brake of the running server', { timeout: 60_000 }, async () => {
  unlockLogins(s.running.ctx.store);
  for (let i = 0; i < 6; i++) await login(`guess ${i}`);
  assert.equal((await login(ADMIN_PASSWORD)).status, 429);
  const r = await runCli(['server', 'unlock-logins', '--data-dir', s.dataDir]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /login brakes lifted/);
  assert.equal((await login(ADMIN_PASSWORD)).status, 200);
});
