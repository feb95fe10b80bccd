// GET /install.sh as a host gets it: shellcheck finds nothing in the script a real server
// serves; the server's address and keys are in it (the key a host pins is /repo/key.asc); a
// Host header that is not a plain host name gets no script; and the script's first checks,
// run for real with dash, refuse plain http without --insecure-http and a malformed token
// before anything else happens. (It is installed for real in test/install-sh-debian-root.test.ts.)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestServer } from './support/server.ts';

const have = (tool: string) => spawnSync('sh', ['-c', `command -v ${tool}`]).status === 0;

/** A GET with a Host header of our choosing (fetch does not let a caller set it). */
function getWithHost(url: string, host: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers: { host } }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

test(
  'install.sh: shellcheck-clean, made for this server, refusing plain http and bad tokens before any change',
  { timeout: 120_000 },
  async (t) => {
    const work = mkdtempSync(join(tmpdir(), 'patchloop-install-sh-'));
    const s = await startTestServer(null, { repo: { packages_dir: join(work, 'none') } });
    t.after(async () => {
      await s.close();
      await rm(work, { recursive: true, force: true });
      await rm(s.dataDir, { recursive: true, force: true });
    });
    const res = await fetch(`${s.url}/install.sh`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/x-shellscript/);
    const script = await res.text();
    const file = join(work, 'install.sh');
    writeFileSync(file, script);

    await t.test(
      'shellcheck (POSIX sh) reports nothing',
      { skip: !have('shellcheck') && 'shellcheck is not installed (scripts/test-debian-packages)' },
      () => {
        const r = spawnSync('shellcheck', ['--shell=sh', '--severity=style', file], { encoding: 'utf8' });
        assert.equal(r.status, 0, r.stdout + r.stderr);
      },
    );

    await t.test('the server address and the keys it serves are in the script', async () => {
      assert.ok(script.includes(`SERVER='${s.url}'`), 'the address the script was fetched from');
      const key = await (await fetch(`${s.url}/repo/key.asc`)).text();
      assert.ok(script.includes(key.trim()), 'the OpenPGP key served at /repo/key.asc');
      assert.match(script, /-----BEGIN PUBLIC KEY-----/, 'the apk key');
      assert.match(script, /APK_KEY_NAME='patchloop-[0-9a-f]{12}\.rsa\.pub'/);
    });

    await t.test(
      'a Host header that is not a plain host name gets no script; repo.public_url wins over the header',
      async () => {
        const bad = await getWithHost(`${s.url}/install.sh`, "evil';rm -rf /;'");
        assert.equal(bad.status, 400);
        assert.doesNotMatch(bad.body, /rm -rf/);
        const other = await startTestServer(null, {
          repo: { packages_dir: join(work, 'none'), public_url: 'https://central.example:8443/' },
        });
        try {
          const viaHeader = await getWithHost(`${other.url}/install.sh`, 'somewhere.else:1');
          assert.equal(viaHeader.status, 200);
          assert.match(viaHeader.body, /^SERVER='https:\/\/central\.example:8443'$/m);
        } finally {
          await other.close();
          await rm(other.dataDir, { recursive: true, force: true });
        }
      },
    );

    await t.test('/repo/ answers only the canonical path of a file it publishes', async () => {
      const status = (path: string) =>
        new Promise<number>((resolve, reject) => {
          // Raw paths: fetch would normalise them before sending.
          const req = request(`${s.url}${path}`, { path }, (res) => {
            res.resume();
            resolve(res.statusCode ?? 0);
          });
          req.on('error', reject);
          req.end();
        });
      assert.equal(await status('/repo/key.asc'), 200);
      assert.equal(await status('/repo/apt/dists/stable/InRelease'), 200);
      for (const p of [
        '/repo',
        '/repo/',
        '/repo/key.asc/',
        '/repo//key.asc',
        '/repo/./key.asc',
        '/repo/apt/../key.asc',
        '/repo/%6Bey.asc',
        '/repo/nope',
        '/repo/apt/dists/stable',
        '/repo/repo-keys/openpgp-private.asc',
      ]) {
        assert.equal(await status(p), 404, p);
      }
    });

    await t.test(
      'run with dash: plain http is refused without --insecure-http, a malformed token always, before any other check',
      { skip: process.getuid?.() !== 0 && 'the script checks for root first' },
      () => {
        const runScript = (...args: string[]) =>
          spawnSync('dash', [file, ...args], { encoding: 'utf8', env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin' } });
        const http = runScript('--token', 'ple_abc');
        assert.equal(http.status, 1);
        assert.match(http.stderr, /is plain http: .* pass --insecure-http/);
        const token = runScript('--insecure-http', '--token', 'ple_x;reboot');
        assert.equal(token.status, 1);
        assert.match(token.stderr, /--token: not an enrolment token/);
        const unknown = runScript('--frobnicate');
        assert.equal(unknown.status, 1);
        assert.match(unknown.stderr, /unknown argument: --frobnicate/);
        const help = runScript('--help');
        assert.equal(help.status, 0);
        assert.match(help.stdout, /--insecure-http/);
      },
    );
  },
);
