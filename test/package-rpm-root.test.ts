// The .rpm installed with the real rpm into an RPM root: a copy of the cached bookworm root
// (for /bin/sh, getent, groupadd and useradd, which the scriptlets run chrooted) with an rpm
// database of its own. That database first records what a RHEL 9 base provides for the
// package's requirements (glibc 2.34's symbol versions, libstdc++ 11's, libgcc, shadow-utils),
// built by rpmbuild as metadata-only packages, so rpm's own dependency check decides; then the
// package is installed (its %pre creates the user), verified with rpm -V, run, and erased
// (a changed configuration saved as .rpmsave, the state directory with data kept).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import {
  appendFileSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  builtFile,
  inRoot,
  missingRootTools,
  mountsBelow,
  unpackBookwormRoot,
  VERSION,
  type Run,
} from './support/packages.ts';
import { BOOKWORM_ROOT } from './support/fixtures.ts';

const missing = missingRootTools();
const skip =
  process.getuid?.() !== 0
    ? 'needs root (chroot, mounts, rpm --root)'
    : missing.length
      ? `missing ${missing.join(', ')} (scripts/test-debian-packages)`
      : false;

/** The symbol versions a RHEL 9 system's libraries provide (glibc 2.34, libstdc++ of GCC 11). */
function rhel9Provides(): Record<string, string[]> {
  const glibc = [
    '2.2.5',
    '2.2.6',
    '2.3',
    '2.3.2',
    '2.3.3',
    '2.3.4',
    '2.4',
    '2.5',
    ...Array.from({ length: 34 - 6 + 1 }, (_, i) => `2.${i + 6}`),
  ];
  const glibcxx = Array.from({ length: 30 }, (_, i) => (i === 0 ? '3.4' : `3.4.${i}`));
  return {
    glibc: [
      'libc.so.6()(64bit)',
      ...glibc.map((v) => `libc.so.6(GLIBC_${v})(64bit)`),
      'libm.so.6()(64bit)',
      'libdl.so.2()(64bit)',
      'libpthread.so.0()(64bit)',
    ],
    libstdcxx: ['libstdc++.so.6()(64bit)', ...glibcxx.map((v) => `libstdc++.so.6(GLIBCXX_${v})(64bit)`)],
    libgcc: ['libgcc_s.so.1()(64bit)'],
    'shadow-utils': [],
  };
}

function rpm(root: string, args: string[]): Run {
  const r = spawnSync('rpm', ['--root', root, '--dbpath', '/var/lib/rpm', '--define', '_db_backend sqlite', ...args], {
    encoding: 'utf8',
    timeout: 300_000,
  });
  // rpm on Debian warns that it should not install packages there; the warning is not news here.
  return {
    code: r.status,
    stdout: r.stdout,
    stderr: r.stderr.replace(/^rpm: (RPM should not be used directly|However assuming).*\n/gm, ''),
  };
}

function ok(r: Run, what: string): string {
  assert.equal(r.code, 0, `${what} failed (${r.code}):\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

test(
  'the .rpm in an RPM root: rpm checks its requirements, installs it (user from %pre), verifies it, runs it, erases it',
  { skip, timeout: 20 * 60_000 },
  async (t) => {
    const work = mkdtempSync(join(tmpdir(), 'patchloop-rpm-root-'));
    const root = join(work, 'root');
    t.after(async () => {
      assert.deepEqual(mountsBelow(root), [], 'mounts left below the test root');
      await rm(work, { recursive: true, force: true });
    });
    unpackBookwormRoot(root);
    const rpmFile = builtFile('rpm', 'x64');
    ok(rpm(root, ['--initdb']), 'rpm --initdb');

    await t.test('without the base system rpm refuses it, naming what is missing', () => {
      const r = rpm(root, ['-i', '--test', rpmFile]);
      assert.notEqual(r.code, 0);
      assert.match(r.stderr, /libc\.so\.6\(GLIBC_2\.28\)\(64bit\) is needed by patchloop/);
      assert.match(r.stderr, /shadow-utils is needed by patchloop/);
    });

    await t.test(
      'with what RHEL 9 provides recorded, it installs: the user from %pre, owners from the package, rpm -V clean',
      () => {
        const spec = join(work, 'base.spec');
        const provides = rhel9Provides();
        const lines = [
          'Name: glibc',
          'Version: 2.34',
          'Release: 100.el9',
          'Summary: recorded for the patchloop rpm test',
          'License: LGPL-2.1-or-later',
          ...provides.glibc.map((p) => `Provides: ${p}`),
          '%description',
          'Metadata only.',
          '%files',
        ];
        for (const [name, list] of [
          ['libstdc++', provides.libstdcxx],
          ['libgcc', provides.libgcc],
          ['shadow-utils', provides['shadow-utils']],
        ] as const) {
          lines.push(
            `%package -n ${name}`,
            'Summary: recorded for the patchloop rpm test',
            ...list.map((p) => `Provides: ${p}`),
            `%description -n ${name}`,
            'Metadata only.',
            `%files -n ${name}`,
          );
        }
        writeFileSync(spec, `${lines.join('\n')}\n`);
        mkdirSync(join(work, 'top'));
        const built = spawnSync(
          'rpmbuild',
          [
            '-bb',
            '--quiet',
            '--target',
            'x86_64',
            '--define',
            `_topdir ${join(work, 'top')}`,
            '--define',
            'debug_package %{nil}',
            '--define',
            '_build_id_links none',
            spec,
          ],
          { encoding: 'utf8' },
        );
        assert.equal(built.status, 0, built.stderr);
        const base = spawnSync('sh', ['-c', 'ls "$0"/RPMS/x86_64/*.rpm', join(work, 'top')], { encoding: 'utf8' })
          .stdout.trim()
          .split('\n');
        ok(
          rpm(root, ['-i', '--justdb', '--nodeps', '--noscripts', '--ignorearch', '--ignoreos', ...base]),
          'recording the base',
        );

        copyFileSync(rpmFile, join(root, 'tmp/patchloop.rpm'));
        ok(rpm(root, ['-i', rpmFile]), 'rpm -i');
        assert.equal(
          ok(rpm(root, ['-q', '--qf', '%{NAME}-%{VERSION}-%{RELEASE}', 'patchloop']), 'rpm -q'),
          `patchloop-${VERSION}-1`,
        );
        const user = ok(inRoot(root, ['getent', 'passwd', 'patchloop']), 'getent')
          .trim()
          .split(':');
        assert.equal(user[5], '/var/lib/patchloop/server');
        const st = statSync(join(root, 'var/lib/patchloop/server'));
        assert.equal(st.uid, Number(user[2]), 'the package gives the server directory to patchloop');
        assert.equal(st.mode & 0o777, 0o700);
        assert.equal(statSync(join(root, 'etc/patchloop/server.yaml')).gid, Number(user[3]));
        assert.equal(ok(rpm(root, ['-V', 'patchloop']), 'rpm -V'), '', 'every file as the package says');
      },
    );

    await t.test(
      'the installed executable runs in the root: version, inventory of the root, scan of a real host',
      () => {
        assert.equal(ok(inRoot(root, ['/usr/bin/patchloop', '--version']), '--version').trim(), VERSION);
        const inventory = JSON.parse(ok(inRoot(root, ['patchloop', 'inventory', '--format', 'json']), 'inventory')) as {
          os: { id: string };
          packages: { format: string }[];
        };
        assert.equal(inventory.os.id, 'debian');
        assert.ok(inventory.packages.length > 100);
        // The state directory gets data: erase must leave it.
        mkdirSync(join(root, 'tmp/host'), { recursive: true });
        spawnSync('cp', ['-a', `${BOOKWORM_ROOT}/.`, join(root, 'tmp/host')]);
        writeFileSync(
          join(root, 'tmp/debian.json'),
          readFileSync(new URL('./fixtures/debian/bookworm-host-tracker.json', import.meta.url)),
        );
        ok(
          inRoot(root, ['patchloop', 'db', 'update', '--source', 'debian', '--from', '/tmp/debian.json']),
          'db update',
        );
        const scan = JSON.parse(
          ok(inRoot(root, ['patchloop', 'scan', '--root', '/tmp/host', '--format', 'json']), 'scan'),
        ) as { findings: unknown[] };
        assert.ok(scan.findings.length > 0);
      },
    );

    await t.test('erase: files gone, a changed configuration saved as .rpmsave, the state with data kept', () => {
      appendFileSync(join(root, 'etc/patchloop/agent.yaml'), 'hostname: rpm-host\n');
      const state = readdirSync(join(root, 'var/lib/patchloop')).filter((f) => f !== 'agent' && f !== 'server');
      assert.ok(state.length > 0, 'db update wrote the vulnerability DB into /var/lib/patchloop');
      ok(rpm(root, ['-e', 'patchloop']), 'rpm -e');
      assert.equal(existsSync(join(root, 'usr/bin/patchloop')), false);
      assert.equal(existsSync(join(root, 'usr/lib/systemd/system/patchloop-server.service')), false);
      assert.match(readFileSync(join(root, 'etc/patchloop/agent.yaml.rpmsave'), 'utf8'), /hostname: rpm-host/);
      assert.equal(existsSync(join(root, 'etc/patchloop/server.yaml')), false, 'an unchanged configuration goes');
      for (const f of state) assert.ok(existsSync(join(root, 'var/lib/patchloop', f)), `the state stays: ${f}`);
      assert.notEqual(rpm(root, ['-q', 'patchloop']).code, 0);
    });
  },
);
