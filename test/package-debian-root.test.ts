// The .deb installed with the real dpkg into a fresh Debian bookworm root (a copy of the cached
// base of scripts/build-test-root): the previous version first, then the upgrade over it keeping
// the administrator's conffile, the installed executable scanning the root and its agent
// reporting to the packaged server (run as user patchloop) on loopback, then removal (state and configuration kept) and
// purge
// (all gone). The "previous version" is the built package with a lower version and one changed
// line in its shipped agent.yaml, rebuilt by dpkg-deb: upgrades run with unattended-upgrades'
// choice for conffiles (--force-confdef --force-confold).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import {
  appendFileSync,
  copyFileSync,
  existsSync,
  lstatSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { builtFile, inRoot, missingRootTools, mountsBelow, unpackBookwormRoot, VERSION } from './support/packages.ts';
import { REPO_ROOT } from './support/paths.ts';
import { until } from './support/until.ts';

const missing = missingRootTools();
const skip =
  process.getuid?.() !== 0
    ? 'needs root (chroot, mounts, dpkg --root)'
    : missing.length
      ? `missing ${missing.join(', ')} (scripts/test-debian-packages)`
      : false;

/** A Debian tracker feed for the root: bash has an open vulnerability whatever its version. */
const feed = {
  bash: {
    'CVE-2099-3001': {
      description: 'open, no fix',
      scope: 'local',
      releases: { bookworm: { status: 'open', repositories: { bookworm: 'x' }, urgency: 'medium' } },
    },
  },
};

function ok(r: { code: number | null; stdout: string; stderr: string }, what: string): string {
  assert.equal(r.code, 0, `${what} failed (${r.code}):\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

/** The administrator's enablement links of patchloop's units, if any. */
function enabledUnits(root: string): string[] {
  const dir = join(root, 'etc/systemd/system');
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((d) => d.endsWith('.wants'))
    .flatMap((d) => readdirSync(join(dir, d)).filter((f) => f.startsWith('patchloop')));
}

/**
 * Starts a long-running command in the root (the server), returning once it logs that it
 * listens, with its address and the admin password its first start prints.
 */
async function startInRoot(
  root: string,
  argv: string[],
): Promise<{ url: string; adminPassword: string; stop: () => Promise<void> }> {
  const child = spawn(
    join(REPO_ROOT, 'scripts/build-test-root'),
    ['run', root, 'env', '-i', 'PATH=/usr/sbin:/usr/bin:/sbin:/bin', ...argv],
    { stdio: ['ignore', 'pipe', 'pipe'], detached: true },
  );
  let out = '';
  let err = '';
  child.stdout.setEncoding('utf8').on('data', (c: string) => (out += c));
  child.stderr.setEncoding('utf8').on('data', (c: string) => (err += c));
  const exited = once(child, 'exit');
  const stop = async () => {
    // The script's process group holds unshare, whose --kill-child ends what runs inside.
    if (child.exitCode === null && child.signalCode === null) process.kill(-child.pid!, 'SIGKILL');
    await exited;
  };
  try {
    await until(
      () => /"msg":"patchloop server listening"/.test(out) || child.exitCode !== null,
      'the server in the root listening',
    );
  } catch (e) {
    await stop();
    throw e;
  }
  const url = /"address":"(http[^"]+)"/.exec(out)?.[1];
  const adminPassword = /with the password\s+(\S+)/.exec(err)?.[1];
  if (!url || !adminPassword) {
    await stop();
    throw new Error(`the server in the root did not start as expected:\n${out}\n${err}`);
  }
  return { url, adminPassword, stop };
}

function owner(root: string, path: string): string {
  const st = statSync(join(root, path));
  const name = (file: string, id: number) =>
    readFileSync(join(root, file), 'utf8')
      .split('\n')
      .find((l) => l.split(':')[2] === String(id))
      ?.split(':')[0];
  return `${name('etc/passwd', st.uid)}:${name('etc/group', st.gid)} ${(st.mode & 0o7777).toString(8).padStart(4, '0')}`;
}

test(
  'the .deb in a fresh bookworm root: install, upgrade keeping a changed conffile, scan, agent run against a real server, remove, purge',
  { skip, timeout: 20 * 60_000 },
  async (t) => {
    const work = mkdtempSync(join(tmpdir(), 'patchloop-deb-root-'));
    const root = join(work, 'root');
    const stops: (() => Promise<void>)[] = [];
    t.after(async () => {
      for (const stop of stops) await stop();
      assert.deepEqual(mountsBelow(root), [], 'mounts left below the test root');
      await rm(work, { recursive: true, force: true });
    });
    unpackBookwormRoot(root);
    const deb = builtFile('deb', 'x64');
    copyFileSync(deb, join(root, 'tmp/patchloop.deb'));

    // The previous version: same files, version ~prev, a different shipped agent.yaml.
    const unpacked = join(work, 'previous');
    const raw = spawnSync('dpkg-deb', ['-R', deb, unpacked], { encoding: 'utf8' });
    assert.equal(raw.status, 0, raw.stderr);
    const control = join(unpacked, 'DEBIAN/control');
    writeFileSync(control, readFileSync(control, 'utf8').replace(/^Version: .*$/m, `Version: ${VERSION}~prev-1`));
    appendFileSync(join(unpacked, 'etc/patchloop/agent.yaml'), '# (as shipped by the previous version)\n');
    const md5 = join(unpacked, 'DEBIAN/md5sums');
    if (existsSync(md5)) {
      const sum = spawnSync('md5sum', ['etc/patchloop/agent.yaml'], { cwd: unpacked, encoding: 'utf8' }).stdout.trim();
      writeFileSync(md5, readFileSync(md5, 'utf8').replace(/^\S+ {2}etc\/patchloop\/agent\.yaml$/m, sum));
    }
    const built = spawnSync('dpkg-deb', ['-Znone', '-b', unpacked, join(root, 'tmp/patchloop-previous.deb')], {
      encoding: 'utf8',
    });
    assert.equal(built.status, 0, built.stderr);

    await t.test(
      'install the previous version: the user, the directories and their modes, nothing enabled or started',
      () => {
        ok(inRoot(root, ['dpkg', '-i', '/tmp/patchloop-previous.deb']), 'dpkg -i (previous)');
        const user = ok(inRoot(root, ['getent', 'passwd', 'patchloop']), 'getent')
          .trim()
          .split(':');
        assert.equal(user[5], '/var/lib/patchloop/server');
        assert.equal(user[6], '/usr/sbin/nologin');
        assert.ok(Number(user[2]) < 1000, 'a system user');
        assert.equal(owner(root, 'var/lib/patchloop'), 'root:root 0755');
        assert.equal(owner(root, 'var/lib/patchloop/agent'), 'root:root 0700');
        assert.equal(owner(root, 'var/lib/patchloop/server'), 'patchloop:patchloop 0700');
        assert.equal(owner(root, 'etc/patchloop/server.yaml'), 'root:patchloop 0640');
        assert.equal(owner(root, 'usr/bin/patchloop'), 'root:root 0755');
        for (const unit of [
          'patchloop-agent.service',
          'patchloop-agent.timer',
          'patchloop-agent-flush.timer',
          'patchloop-server.service',
        ]) {
          assert.ok(existsSync(join(root, 'usr/lib/systemd/system', unit)), unit);
        }
        assert.deepEqual(enabledUnits(root), [], 'no unit enabled');
      },
    );

    await t.test(
      'the administrator changes agent.yaml; the upgrade keeps it, beside the new version as .dpkg-dist',
      () => {
        appendFileSync(join(root, 'etc/patchloop/agent.yaml'), 'hostname: packaged-bookworm\nretry: { attempts: 1 }\n');
        const changed = readFileSync(join(root, 'etc/patchloop/agent.yaml'), 'utf8');
        ok(
          inRoot(root, ['dpkg', '--force-confdef', '--force-confold', '-i', '/tmp/patchloop.deb']),
          'dpkg -i (upgrade)',
        );
        assert.equal(
          ok(inRoot(root, ['dpkg-query', '-W', '-f', '${Version}', 'patchloop']), 'dpkg-query'),
          `${VERSION}-1`,
        );
        assert.equal(
          readFileSync(join(root, 'etc/patchloop/agent.yaml'), 'utf8'),
          changed,
          'the changed conffile is kept',
        );
        assert.doesNotMatch(
          readFileSync(join(root, 'etc/patchloop/agent.yaml.dpkg-dist'), 'utf8'),
          /previous version/,
          'the new shipped version is beside it',
        );
        // Installing the same version again runs every maintainer script again: idempotent.
        ok(inRoot(root, ['dpkg', '-i', '/tmp/patchloop.deb']), 'dpkg -i (again)');
        assert.equal(owner(root, 'var/lib/patchloop/server'), 'patchloop:patchloop 0700');
        assert.equal(ok(inRoot(root, ['patchloop', '--version']), 'patchloop --version').trim(), VERSION);
        assert.deepEqual(enabledUnits(root), [], 'still nothing enabled');
      },
    );

    await t.test(
      'patchloop scan in the root: db update into /var/lib/patchloop, then the findings of its own packages',
      () => {
        writeFileSync(join(root, 'tmp/debian.json'), JSON.stringify(feed));
        ok(
          inRoot(root, ['patchloop', 'db', 'update', '--source', 'debian', '--from', '/tmp/debian.json']),
          'db update',
        );
        assert.ok(existsSync(join(root, 'var/lib/patchloop')), 'the default data directory as root');
        const report = JSON.parse(ok(inRoot(root, ['patchloop', 'scan', '--format', 'json']), 'scan')) as {
          host: { os: { codename: string } };
          findings: { id: string; package: { name: string }; status: string }[];
        };
        assert.equal(report.host.os.codename, 'bookworm');
        assert.deepEqual(
          report.findings.map((f) => [f.id, f.package.name, f.status]),
          [['CVE-2099-3001', 'bash', 'affected']],
        );
      },
    );

    await t.test(
      'the packaged server, as user patchloop with the packaged configuration; the agent in the root reports to it on loopback',
      async () => {
        // What the unit does (User=patchloop, PATCHLOOP_HOME=/var/lib/patchloop/server), by hand: no systemd in the
        // root.
        const asServer = [
          'runuser',
          '-u',
          'patchloop',
          '--',
          'env',
          'PATCHLOOP_HOME=/var/lib/patchloop/server',
          'patchloop',
        ];
        ok(
          inRoot(root, [...asServer, 'db', 'update', '--source', 'debian', '--from', '/tmp/debian.json']),
          'db update as patchloop',
        );
        const running = await startInRoot(root, [
          ...asServer,
          'server',
          'run',
          '--listen',
          '127.0.0.1:0',
          '--log-level',
          'info',
        ]);
        stops.push(running.stop);
        assert.equal(
          owner(root, 'var/lib/patchloop/server/server.sqlite').split(' ')[0],
          'patchloop:patchloop',
          'the store in data_dir of the packaged server.yaml',
        );
        assert.equal(
          inRoot(root, ['runuser', '-u', 'patchloop', '--', 'ls', '/var/lib/patchloop/agent']).code !== 0,
          true,
          'the server user cannot read the agent state',
        );
        const dashboard = await fetch(`${running.url}/`);
        assert.equal(dashboard.status, 200);
        assert.match(await dashboard.text(), /<html/i, 'the dashboard embedded in the executable');

        const token = ok(
          inRoot(root, [...asServer, 'server', 'enrollment-token', '--name', 'deb', '--group', 'packaged']),
          'enrollment-token',
        ).trim();
        ok(inRoot(root, ['patchloop', 'agent', 'enroll', '--server', running.url, '--token', token]), 'agent enroll');
        ok(inRoot(root, ['patchloop', 'agent', 'run']), 'agent run');
        assert.equal(owner(root, 'var/lib/patchloop/agent'), 'root:root 0700');

        const login = await fetch(`${running.url}/api/v1/auth/login`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ username: 'admin', password: running.adminPassword }),
        });
        assert.equal(login.status, 200, 'the admin password the first start printed');
        const cookie = login.headers
          .getSetCookie()
          .map((c) => c.split(';')[0])
          .join('; ');
        const hosts = (await (
          await fetch(`${running.url}/api/v1/hosts?search=packaged-bookworm`, { headers: { cookie } })
        ).json()) as { items: { id: number }[] };
        assert.equal(hosts.items.length, 1, 'the host named in the changed agent.yaml');
        const findings = await (
          await fetch(`${running.url}/api/v1/findings?host=${hosts.items[0].id}`, { headers: { cookie } })
        ).text();
        assert.match(findings, /CVE-2099-3001/);
        await running.stop();
      },
    );

    await t.test('remove keeps configuration and state; purge deletes both', () => {
      ok(inRoot(root, ['dpkg', '-r', 'patchloop']), 'dpkg -r');
      assert.equal(existsSync(join(root, 'usr/bin/patchloop')), false);
      assert.equal(existsSync(join(root, 'usr/lib/systemd/system/patchloop-agent.timer')), false);
      assert.ok(existsSync(join(root, 'etc/patchloop/agent.yaml')), 'configuration kept');
      assert.ok(
        existsSync(join(root, 'var/lib/patchloop/agent/')) &&
          existsSync(join(root, 'var/lib/patchloop/server/server.sqlite')),
        'state kept',
      );
      assert.equal(
        ok(inRoot(root, ['dpkg-query', '-W', '-f', '${db:Status-Abbrev}', 'patchloop']), 'dpkg-query').trim(),
        'rc',
      );

      ok(inRoot(root, ['dpkg', '-P', 'patchloop']), 'dpkg -P');
      assert.equal(existsSync(join(root, 'etc/patchloop')), false, 'configuration purged');
      assert.equal(existsSync(join(root, 'var/lib/patchloop')), false, 'state purged');
      assert.notEqual(inRoot(root, ['dpkg-query', '-W', 'patchloop']).code, 0, 'no trace in dpkg');
      assert.equal(lstatSync(join(root, 'usr/bin')).isDirectory(), true);
    });
  },
);
