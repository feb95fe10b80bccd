// The example Ansible role (deploy/ansible): ansible-playbook --syntax-check of the example play
// with ansible-core from PyPI, installed once into a virtual environment under .cache/ansible
// (Debian's python3 with venv). The role's steps are install.sh's, which
// test/install-sh-debian-root.test.ts runs for real.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from './support/paths.ts';

const VENV = join(REPO_ROOT, '.cache/ansible');
const ANSIBLE_CORE = 'ansible-core==2.18.*';
const PYTHON = '/usr/bin/python3';

/** ansible-playbook from the cached virtual environment, installed first when missing. */
function ansiblePlaybook(): string {
  const bin = join(VENV, 'bin/ansible-playbook');
  if (!existsSync(bin)) {
    const venv = spawnSync(PYTHON, ['-m', 'venv', VENV], { encoding: 'utf8' });
    assert.equal(venv.status, 0, `python3 -m venv: ${venv.stderr}`);
    const pip = spawnSync(join(VENV, 'bin/pip'), ['install', '--quiet', ANSIBLE_CORE], {
      encoding: 'utf8',
      timeout: 10 * 60_000,
    });
    assert.equal(pip.status, 0, `pip install ${ANSIBLE_CORE}: ${pip.stderr}`);
  }
  return bin;
}

test(
  'the example Ansible role passes ansible-playbook --syntax-check',
  { skip: !existsSync(PYTHON) && 'no /usr/bin/python3', timeout: 15 * 60_000 },
  async (t) => {
    const playbook = ansiblePlaybook();
    const work = mkdtempSync(join(tmpdir(), 'patchloop-ansible-'));
    t.after(() => rm(work, { recursive: true, force: true }));
    const inventory = join(work, 'inventory.ini');
    writeFileSync(inventory, '[patchloop_agents]\nweb-1 ansible_host=192.0.2.10\n');
    const env = {
      ...process.env,
      ANSIBLE_ROLES_PATH: join(REPO_ROOT, 'deploy/ansible/roles'),
      ANSIBLE_LOCAL_TEMP: work,
      ANSIBLE_HOME: work,
      ANSIBLE_NOCOLOR: '1',
    };
    const check = spawnSync(playbook, ['--syntax-check', '-i', inventory, join(REPO_ROOT, 'deploy/ansible/site.yml')], {
      encoding: 'utf8',
      env,
    });
    assert.equal(check.status, 0, check.stdout + check.stderr);
    assert.match(check.stdout, /playbook: .*site\.yml/);

    // A broken role is caught: the check is not vacuous.
    const broken = join(work, 'roles/patchloop_agent/tasks');
    spawnSync('mkdir', ['-p', broken]);
    writeFileSync(
      join(broken, 'main.yml'),
      '- name: two actions in one task\n  ansible.builtin.command: "true"\n  ansible.builtin.shell: "true"\n',
    );
    // (The roles/ beside a playbook come first: the play is copied beside the broken role.)
    copyFileSync(join(REPO_ROOT, 'deploy/ansible/site.yml'), join(work, 'site.yml'));
    const bad = spawnSync(playbook, ['--syntax-check', '-i', inventory, join(work, 'site.yml')], {
      encoding: 'utf8',
      env: { ...env, ANSIBLE_ROLES_PATH: join(work, 'roles') },
    });
    assert.notEqual(bad.status, 0, 'a task with two actions fails the check');
    assert.match(bad.stdout + bad.stderr, /conflicting action statements/);
  },
);
