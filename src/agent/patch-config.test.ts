import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parsePolicy } from '../core/policy/schema.ts';
import { narrowPolicy } from './patch-config.ts';
import { ConfigError } from '../config/load.ts';
import { loadAgentConfig, resolveAgentConfig } from './config.ts';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** The patch section as agent.yaml would give it. */
const localConfig = (patch?: object) => resolveAgentConfig(patch ? { patch } : {}).patch;

const wide = parsePolicy({
  name: 'wide',
  version: 4,
  group: 'web',
  install: {
    updates: 'all',
    blocklist: ['nginx'],
    allowlist: ['openssl', 'libssl*', 'curl'],
    extra_apt_origins: [{ origin: 'vendor' }],
  },
  reboot: { mode: 'when_required', max_concurrent: 3 },
  restart: { services: 'restart' },
});

test('patching is off unless agent.yaml opts in, and the defaults allow the least', () => {
  const c = localConfig();
  assert.equal(c.enabled, false);
  assert.deepEqual(c.allow, { updates: 'security', reboot: false, restart_services: false, extra_apt_origins: false });
  const { policy, notes } = narrowPolicy(wide, localConfig({ enabled: true }), { runningSystem: true });
  assert.equal(policy.install.updates, 'security');
  assert.deepEqual(policy.install.extra_apt_origins, []);
  assert.equal(policy.reboot.mode, 'never');
  assert.equal(policy.restart.services, 'report');
  assert.equal(notes.length, 4, notes.join('\n'));
  assert.equal(policy.version, 4, 'still recorded as the server policy version');
});

test('the server policy can only narrow what the host allows', () => {
  const local = localConfig({
    enabled: true,
    allow: { updates: 'all', reboot: true, restart_services: true, extra_apt_origins: true },
    blocklist: ['linux-image-*'],
    allowlist: ['libssl*', 'openssl', 'zlib1g'],
  });
  const { policy } = narrowPolicy(wide, local, { runningSystem: true });
  assert.equal(policy.install.updates, 'all');
  assert.deepEqual(policy.install.blocklist, ['nginx', 'linux-image-*']);
  assert.deepEqual(
    policy.install.allowlist,
    ['openssl', 'libssl*'],
    'curl is outside the local allowlist; zlib1g is not in the policy',
  );
  assert.equal(policy.install.allowlist_strict, true);
  assert.equal(policy.reboot.mode, 'when_required');
  assert.equal(policy.restart.services, 'restart');
  // a root that is not the running system is never rebooted
  assert.equal(narrowPolicy(wide, local, { runningSystem: false }).policy.reboot.mode, 'never');
  // an allowlist narrowed to nothing allows nothing (it does not become "everything")
  const none = narrowPolicy(wide, localConfig({ enabled: true, allowlist: ['bash'] }), { runningSystem: true });
  assert.equal(none.nothingAllowed, true);
});

test('a bad patch section is a configuration error naming the key', () => {
  const dir = mkdtempSync(join(tmpdir(), 'patchloop-agent-conf-'));
  try {
    const file = join(dir, 'agent.yaml');
    writeFileSync(file, 'patch:\n  enabled: yes please\n  allow: { reboot: true, shutdown: true }\n');
    assert.throws(
      () => loadAgentConfig(file),
      (err: Error) =>
        err instanceof ConfigError &&
        err.message.includes(`${file}:2: patch.enabled: `) &&
        err.message.includes(`${file}:3: patch.allow: Unrecognized key: "shutdown"`),
    );
    writeFileSync(file, 'patch:\n  enabled: true\n  blocklist: ["bad name!"]\n');
    assert.throws(() => loadAgentConfig(file), new RegExp(`${file}:3: patch\\.blocklist\\.0: expected a package name`));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
