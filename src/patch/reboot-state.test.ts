import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import {
  compareKernelReleases,
  installedKernels,
  kernelState,
  parseNeedrestartBatch,
  readRebootFlag,
} from './reboot-state.ts';
import { patchlab } from '../../test/support/patch-logs.ts';

test('needrestart -b from the patchlab root after a kernel upgrade', () => {
  const nr = parseNeedrestartBatch(patchlab('needrestart-b.txt'));
  assert.equal(nr.version, '3.6');
  assert.equal(nr.kernel_current, '6.18.44-fc-v657');
  assert.equal(nr.kernel_expected, '6.1.0-56-amd64');
  assert.equal(nr.kernel_status, 3);
  assert.equal(nr.microcode_status, 1);
  assert.deepEqual(nr.services, []);
});

test('needrestart -b with services, containers and sessions', () => {
  // Written for this test in needrestart's batch format (apt-dater protocol, needrestart 3.6).
  const nr = parseNeedrestartBatch(
    [
      'NEEDRESTART-VER: 3.6',
      'NEEDRESTART-KCUR: 6.1.0-50-amd64',
      'NEEDRESTART-KEXP: 6.1.0-56-amd64',
      'NEEDRESTART-KSTA: 3',
      'NEEDRESTART-SVC: nginx.service',
      'NEEDRESTART-SVC: ssh.service',
      'NEEDRESTART-CONT: LXC web1',
      'NEEDRESTART-SESS: alice @ session #3',
      'NEEDRESTART-NEWKEY: later versions add keys',
      '',
    ].join('\n'),
  );
  assert.deepEqual(nr.services, ['nginx.service', 'ssh.service']);
  assert.deepEqual(nr.containers, ['LXC web1']);
  assert.deepEqual(nr.sessions, ['alice @ session #3']);
  assert.throws(() => parseNeedrestartBatch('NEEDRESTART-KSTA: three\n', 'nr.txt'), /nr\.txt:1: KSTA is not a number/);
  assert.throws(
    () => parseNeedrestartBatch('Pending kernel upgrade!\n', 'nr.txt'),
    /nr\.txt:1: not needrestart batch output/,
  );
});

test(
  'needrestart -b on this machine agrees with uname -r',
  { skip: !existsSync('/usr/sbin/needrestart') && 'needrestart is not installed' },
  () => {
    const out = execFileSync('/usr/sbin/needrestart', ['-b'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    const nr = parseNeedrestartBatch(out);
    assert.match(nr.version ?? '', /^\d/);
    assert.equal(nr.kernel_current, os.release());
    assert.ok(nr.kernel_status !== null && nr.kernel_status >= 0 && nr.kernel_status <= 3);
  },
);

test('reboot-required flag and its package list, and installed kernels, from a root', async () => {
  const root = await mkdtemp(path.join(os.tmpdir(), 'patchloop-reboot-'));
  try {
    assert.deepEqual(await readRebootFlag(root), { required: false, packages: [] });
    assert.deepEqual(await installedKernels(root), []);
    await mkdir(path.join(root, 'run'));
    await writeFile(path.join(root, 'run/reboot-required'), '*** System restart required ***\n');
    // the patchlab root's list, with the duplicate a second postinst run would append
    await writeFile(
      path.join(root, 'run/reboot-required.pkgs'),
      `${patchlab('reboot-required.pkgs')}linux-image-6.1.0-56-amd64\n`,
    );
    assert.deepEqual(await readRebootFlag(root), {
      required: true,
      packages: ['linux-image-6.1.0-56-amd64', 'patchlab-canary'],
    });
    await mkdir(path.join(root, 'boot'));
    for (const k of ['6.1.0-9-amd64', '6.1.0-56-amd64', '6.1.0-10-amd64'])
      await writeFile(path.join(root, 'boot', `vmlinuz-${k}`), '');
    await writeFile(path.join(root, 'boot', 'config-6.1.0-56-amd64'), '');
    assert.deepEqual(await installedKernels(root), ['6.1.0-9-amd64', '6.1.0-10-amd64', '6.1.0-56-amd64']);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});

test('running against installed kernels', () => {
  const installed = ['6.1.0-50-amd64', '6.1.0-56-amd64'];
  assert.equal(kernelState('6.1.0-50-amd64', installed, null).reboot_needed, true);
  assert.equal(kernelState('6.1.0-56-amd64', installed, null).reboot_needed, false);
  assert.equal(
    kernelState('6.18.44-custom', installed, null).reboot_needed,
    null,
    'a kernel not installed from packages',
  );
  const other = kernelState(null, installed, parseNeedrestartBatch(patchlab('needrestart-b.txt')));
  assert.equal(other.reboot_needed, null);
  assert.equal(other.needrestart_status, null, 'needrestart in another root reports on the host kernel');
  assert.equal(other.newest_installed, '6.1.0-56-amd64');
  assert.ok(compareKernelReleases('6.1.0-9-amd64', '6.1.0-10-amd64') < 0);
});
