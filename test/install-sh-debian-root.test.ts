// The fleet rollout and the self-update loop, end to end in a fresh Debian bookworm root (the
// cached base of scripts/build-test-root): a real server process on loopback publishes the
// packages `npm run package` built (v1); install.sh, fetched from it and run with dash inside
// the root, installs v1 through apt with the repository key pinned, enrols and enables the
// timers; then the server publishes v2 (`patchloop server publish`), the agent's patch run
// drives the real unattended-upgrades in the root (the policy's default origins include
// patchloop's repository), and the agent's next report shows v2.
//
// v2 is `npm run package` run on a copy of this checkout whose package.json (and changelog)
// say a later version: its executable reports that version. It is built once per v1 package
// and cached under .cache/install-e2e/. The server runs over plain http with
// --insecure-http given explicitly (TLS and the refusal without the flag: install-sh.test.ts).
// The root has no systemd at first: install.sh must refuse before changing anything; the test
// then installs Debian's systemd package into the root (from the host's Debian mirror, as
// scripts/build-test-root does) so that `systemctl enable` works there.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  appendFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  renameSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from './support/cli.ts';
import {
  builtFile,
  inRoot,
  missingRootTools,
  mountsBelow,
  unpackBookwormRoot,
  VERSION,
  type Run,
} from './support/packages.ts';
import { REPO_ROOT } from './support/paths.ts';
import { startServerProcess, type ServerProcess } from './support/server-process.ts';

const missing = missingRootTools();
const skip =
  process.getuid?.() !== 0
    ? 'needs root (chroot, mounts)'
    : missing.length
      ? `missing ${missing.join(', ')} (scripts/test-debian-packages)`
      : false;
const V2 = `${VERSION}.1`;

function ok(r: Run, what: string): string {
  assert.equal(r.code, 0, `${what} failed (${r.code}):\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

/**
 * The amd64 .deb of version V2: `npm run package` on a copy of this checkout (git archive of
 * HEAD) with package.json and the changelog at V2, its tools (nfpm, the arm64 node) taken from
 * this checkout's package cache. Cached by the v1 package it follows.
 */
function laterVersionDeb(): string {
  const v1 = readFileSync(builtFile('deb', 'x64'));
  const cacheDir = join(REPO_ROOT, '.cache/install-e2e', createHash('sha256').update(v1).digest('hex').slice(0, 16));
  const deb = join(cacheDir, `patchloop_${V2}_amd64.deb`);
  if (existsSync(deb)) return deb;
  const work = mkdtempSync(join(tmpdir(), 'patchloop-v2-'));
  try {
    const src = join(work, 'src');
    const cache = join(work, 'cache');
    mkdirSync(src);
    mkdirSync(cache);
    const archive = spawnSync('sh', ['-c', 'git -C "$0" archive HEAD | tar -x -C "$1"', REPO_ROOT, src], {
      encoding: 'utf8',
    });
    assert.equal(archive.status, 0, archive.stderr);
    symlinkSync(join(REPO_ROOT, 'node_modules'), join(src, 'node_modules'));
    for (const shared of ['tools', 'node']) symlinkSync(join(REPO_ROOT, '.cache/package', shared), join(cache, shared));
    const pkg = join(src, 'package.json');
    writeFileSync(pkg, readFileSync(pkg, 'utf8').replace(`"version": "${VERSION}"`, `"version": "${V2}"`));
    const changelog = join(src, 'deploy/packaging/changelog.yml');
    const text = readFileSync(changelog, 'utf8');
    const first = text.indexOf('- semver:');
    const entry = `- semver: "${V2}-1"\n  date: "2026-12-07T00:00:00Z"\n  packager: "patchloop maintainers <maintainers@patchloop.invalid>"\n  deb:\n    urgency: medium\n    distributions: [stable]\n  changes:\n    - note: "A later version, built by the install end-to-end test."\n`;
    writeFileSync(changelog, text.slice(0, first) + entry + text.slice(first));
    const built = spawnSync('sh', ['scripts/package'], {
      cwd: src,
      encoding: 'utf8',
      env: { ...process.env, PATCHLOOP_PACKAGE_CACHE: cache },
      timeout: 20 * 60_000,
    });
    assert.equal(built.status, 0, `npm run package at ${V2} failed:\n${built.stderr.slice(-4000)}`);
    mkdirSync(cacheDir, { recursive: true });
    renameSync(join(src, 'dist', `patchloop_${V2}_amd64.deb`), `${deb}.tmp`);
    renameSync(`${deb}.tmp`, deb);
    return deb;
  } finally {
    spawnSync('rm', ['-rf', work]);
  }
}

/** The admin's session cookie, with the password the server's first start printed. */
async function login(server: ServerProcess): Promise<string> {
  const password = /with the password\s+(\S+)/.exec(server.stderr())?.[1];
  assert.ok(password, 'the first start prints the admin password');
  const res = await fetch(`${server.url}/api/v1/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: 'admin', password }),
  });
  assert.equal(res.status, 200);
  const body = (await res.json()) as { csrf_token: string };
  return JSON.stringify({
    cookie: res.headers
      .getSetCookie()
      .map((c) => c.split(';')[0])
      .join('; '),
    csrf: body.csrf_token,
  });
}

async function adminApi(
  server: ServerProcess,
  session: string,
  path: string,
  init: { method?: string; body?: unknown } = {},
): Promise<{ status: number; body: unknown }> {
  const s = JSON.parse(session) as { cookie: string; csrf: string };
  const res = await fetch(`${server.url}${path}`, {
    method: init.method ?? 'GET',
    headers: { cookie: s.cookie, 'x-csrf-token': s.csrf, ...(init.body ? { 'content-type': 'application/json' } : {}) },
    body: init.body ? JSON.stringify(init.body) : undefined,
  });
  return { status: res.status, body: await res.json() };
}

/** Files install.sh writes for apt, and the package: none of them may be left by a refused or failed run. */
function traces(root: string): string[] {
  const files = [
    'etc/apt/keyrings/patchloop.asc',
    'etc/apt/sources.list.d/patchloop.sources',
    'usr/bin/patchloop',
  ].filter((f) => existsSync(join(root, f)));
  const dpkg = inRoot(root, ['dpkg-query', '-W', '-f', '${db:Status-Abbrev}', 'patchloop']);
  return dpkg.code === 0 && dpkg.stdout.trim() !== '' ? [...files, `dpkg: ${dpkg.stdout.trim()}`] : files;
}

test(
  "install.sh in a fresh bookworm root: v1 from the server's repository, enrolled, timers enabled; v2 published and installed by unattended-upgrades; the next report shows v2",
  { skip, timeout: 40 * 60_000 },
  async (t) => {
    const v2deb = laterVersionDeb();
    const work = mkdtempSync(join(tmpdir(), 'patchloop-install-e2e-'));
    const root = join(work, 'root');
    const packages = join(work, 'packages');
    mkdirSync(packages);
    spawnSync('ln', [builtFile('deb', 'x64'), packages]);
    const config = join(work, 'server.yaml');
    writeFileSync(
      config,
      `data_dir: ${join(work, 'server')}\nfeeds: { refresh_interval: 0 }\nrepo:\n  packages_dir: ${packages}\n`,
    );
    const server = await startServerProcess(['--config', config]);
    t.after(async () => {
      await server.stop();
      assert.deepEqual(mountsBelow(root), [], 'mounts left below the test root');
      await rm(work, { recursive: true, force: true });
    });
    unpackBookwormRoot(root);
    const session = await login(server);
    const tokenRun = await runCli([
      'server',
      'enrollment-token',
      '--config',
      config,
      '--name',
      'rollout',
      '--group',
      'fleet',
      '--uses',
      '5',
    ]);
    assert.equal(tokenRun.code, 0, tokenRun.stderr);
    const token = tokenRun.stdout.trim();
    const script = await (await fetch(`${server.url}/install.sh`)).text();
    writeFileSync(join(root, 'tmp/install.sh'), script);
    const install = (...args: string[]) => inRoot(root, ['dash', '/tmp/install.sh', ...args]);

    await t.test('no systemd in the root: refused by the checks, nothing changed', () => {
      const r = install('--token', token, '--insecure-http');
      assert.equal(r.code, 1, r.stdout + r.stderr);
      assert.match(r.stderr, /no systemd \(systemctl\) to run the agent daily/);
      assert.deepEqual(traces(root), []);
    });

    await t.test("Debian's systemd goes into the root (for systemctl enable, no running systemd)", () => {
      ok(inRoot(root, ['apt-get', 'update', '-qq']), 'apt-get update (Debian mirror)');
      ok(
        inRoot(root, ['apt-get', 'install', '-y', '-qq', '--no-install-recommends', 'systemd']),
        'apt-get install systemd',
      );
    });

    await t.test(
      'a token the server refuses: the run fails at enrolment and undoes the package and the repository files',
      () => {
        const r = install('--token', 'ple_this-token-does-not-exist', '--insecure-http');
        assert.equal(r.code, 1, r.stdout + r.stderr);
        assert.match(r.stderr, /enrolment with .* failed/);
        assert.match(r.stdout, /failed: undoing what this run changed/);
        assert.deepEqual(traces(root), [], 'nothing left: no package, no key, no source');
      },
    );

    await t.test(
      'install.sh installs v1 from the repository with the key pinned, enrols, enables the timers and says what it did',
      async () => {
        const r = install('--token', token, '--insecure-http');
        assert.equal(r.code, 0, r.stdout + r.stderr);
        assert.match(
          r.stdout,
          /Debian GNU\/Linux 12 \(bookworm\), x86_64: the apt repository of http:\/\/127\.0\.0\.1:\d+/,
        );
        assert.match(r.stdout, /wrote \/etc\/apt\/keyrings\/patchloop\.asc/);
        assert.match(r.stdout, new RegExp(`patchloop ${VERSION.replace(/\./g, '\\.')} installed`));
        assert.match(r.stdout, /enrolled with http:\/\/127\.0\.0\.1:\d+ as host \d+/);
        assert.match(r.stdout, /enabled patchloop-agent\.timer \(daily run\)/);
        assert.equal(
          readFileSync(join(root, 'etc/apt/keyrings/patchloop.asc'), 'utf8').trim(),
          (await (await fetch(`${server.url}/repo/key.asc`)).text()).trim(),
          'the served key, pinned',
        );
        assert.match(
          readFileSync(join(root, 'etc/apt/sources.list.d/patchloop.sources'), 'utf8'),
          /^Signed-By: \/etc\/apt\/keyrings\/patchloop\.asc$/m,
        );
        assert.equal(
          ok(inRoot(root, ['dpkg-query', '-W', '-f', '${Version}', 'patchloop']), 'dpkg-query'),
          `${VERSION}-1`,
        );
        const wants = readdirSync(join(root, 'etc/systemd/system/timers.target.wants'));
        assert.ok(
          wants.includes('patchloop-agent.timer') && wants.includes('patchloop-agent-flush.timer'),
          wants.join(' '),
        );
        // apt itself verified the repository's signature with the pinned key (no [trusted=yes] anywhere).
        const policy = ok(inRoot(root, ['apt-cache', 'policy']), 'apt-cache policy');
        assert.match(
          policy,
          /500 http:\/\/127\.0\.0\.1:\d+\/repo\/apt stable\/main amd64 Packages\n\s+release o=patchloop,a=stable,n=stable,l=patchloop,c=main,b=amd64/,
        );
      },
    );

    await t.test('running install.sh again changes nothing and needs no token', () => {
      const r = install('--insecure-http');
      assert.equal(r.code, 0, r.stdout + r.stderr);
      assert.match(r.stdout, /\/etc\/apt\/keyrings\/patchloop\.asc is in place/);
      assert.match(r.stdout, /already enrolled with/);
      assert.doesNotMatch(r.stdout, /wrote /);
    });

    let hostId = 0;
    await t.test(
      "the agent reports with its version, v1; the dashboard's figures say 1 host of 1 on the latest",
      async () => {
        ok(inRoot(root, ['patchloop', 'agent', 'run']), 'agent run');
        const hosts = (await adminApi(server, session, '/api/v1/hosts?group=fleet')).body as {
          items: { id: number; agent_version: string }[];
        };
        assert.equal(hosts.items.length, 1);
        hostId = hosts.items[0].id;
        assert.equal(
          ((await adminApi(server, session, `/api/v1/hosts/${hostId}`)).body as { agent_version: string })
            .agent_version,
          VERSION,
        );
        const versions = (await adminApi(server, session, '/api/v1/stats/agent-versions')).body as {
          latest: string;
          on_latest: number;
          hosts: number;
        };
        assert.deepEqual([versions.latest, versions.on_latest, versions.hosts], [VERSION, 1, 1]);
      },
    );

    await t.test(
      "v2 published; the agent's patch run has unattended-upgrades install it; the next report shows v2",
      async () => {
        const published = await runCli(['server', 'publish', '--config', config, v2deb]);
        assert.equal(published.code, 0, published.stderr);
        const outdated = (await adminApi(server, session, '/api/v1/stats/agent-versions')).body as {
          latest: string;
          outdated: number;
        };
        assert.deepEqual(
          [outdated.latest, outdated.outdated],
          [V2, 1],
          'the host runs an older agent than the one published',
        );

        // The group's policy lets only patchloop change (keeps the run short); the origins are the defaults.
        const put = await adminApi(server, session, '/api/v1/policies/fleet', {
          method: 'PUT',
          body: {
            group: 'fleet',
            install: { allowlist: ['patchloop'], allowlist_strict: true },
            reboot: { mode: 'never' },
          },
        });
        assert.equal(put.status, 201, JSON.stringify(put.body));
        // The administrator opts this host in to patching (the package ships agent.yaml with patching off).
        appendFileSync(join(root, 'etc/patchloop/agent.yaml'), 'patch:\n  enabled: true\n');

        const run = inRoot(root, ['patchloop', 'agent', 'run'], { env: { PATCHLOOP_LOG_LEVEL: 'info' } });
        ok(run, 'agent run with patching');
        assert.match(
          readFileSync(join(root, 'etc/apt/apt.conf.d/51patchloop'), 'utf8'),
          /"origin=patchloop,label=patchloop";/,
          'the default origins include the repository',
        );
        assert.equal(
          ok(inRoot(root, ['dpkg-query', '-W', '-f', '${Version}', 'patchloop']), 'dpkg-query'),
          `${V2}-1`,
          'unattended-upgrades installed v2',
        );
        assert.match(
          readFileSync(join(root, 'var/log/unattended-upgrades/unattended-upgrades.log'), 'utf8'),
          /Packages that will be upgraded: patchloop/,
        );
        assert.equal(ok(inRoot(root, ['patchloop', '--version']), 'patchloop --version').trim(), V2);
        const runs = (await adminApi(server, session, `/api/v1/patch-runs?host=${hostId}`)).body as {
          items: { outcome: string; changes: { name: string; from: string; to: string }[] }[];
        };
        assert.deepEqual(
          runs.items[0].changes.map((c) => [c.name, c.from, c.to]),
          [['patchloop', `${VERSION}-1`, `${V2}-1`]],
        );

        ok(inRoot(root, ['patchloop', 'agent', 'run']), 'the next agent run (v2)');
        assert.equal(
          ((await adminApi(server, session, `/api/v1/hosts/${hostId}`)).body as { agent_version: string })
            .agent_version,
          V2,
        );
        const versions = (await adminApi(server, session, '/api/v1/stats/agent-versions')).body as {
          latest: string;
          on_latest: number;
          outdated: number;
        };
        assert.deepEqual([versions.latest, versions.on_latest, versions.outdated], [V2, 1, 0]);
      },
    );
  },
);
