// `patchloop agent install` writes units systemd accepts, and the agent configuration file is
// validated with messages that name the file, line and key.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadAgentConfig } from '../src/agent/config.ts';
import { ConfigError } from '../src/config/load.ts';
import { CLI } from './support/paths.ts';

test('install writes the service, a randomised daily timer and the flush timer, with hardening', () => {
  const dir = mkdtempSync(join(tmpdir(), 'patchloop-install-'));
  const unitDir = join(dir, 'units');
  const config = join(dir, 'etc/agent.yaml');
  const state = join(dir, 'state');
  const out = execFileSync(
    process.execPath,
    [
      CLI,
      'agent',
      'install',
      '--unit-dir',
      unitDir,
      '--config',
      config,
      '--state-dir',
      state,
      '--no-enable',
      '--server',
      'https://pl.example:8080',
    ],
    {
      encoding: 'utf8',
    },
  );
  assert.match(out, /not enabled/);
  const service = readFileSync(join(unitDir, 'patchloop-agent.service'), 'utf8');
  assert.match(service, new RegExp(`^ExecStart=\\S+/bin/patchloop agent run --config ${config}$`, 'm'));
  assert.match(service, /^ProtectSystem=strict$/m);
  assert.match(service, /^CapabilityBoundingSet=$/m);
  assert.match(service, new RegExp(`^ReadWritePaths=${state} `, 'm'));
  const timer = readFileSync(join(unitDir, 'patchloop-agent.timer'), 'utf8');
  assert.match(timer, /^OnCalendar=daily$/m);
  assert.match(timer, /^RandomizedDelaySec=4h$/m);
  assert.ok(existsSync(join(unitDir, 'patchloop-agent-flush.timer')));
  assert.ok(existsSync(state));
  // The documented default configuration is written once and is itself valid.
  assert.match(readFileSync(config, 'utf8'), /^server: https:\/\/pl\.example:8080$/m);
  assert.equal(loadAgentConfig(config).server, 'https://pl.example:8080');

  // systemd's own checker, where the machine has it.
  const verify = spawnSync(
    'systemd-analyze',
    [
      'verify',
      ...[
        'patchloop-agent.service',
        'patchloop-agent.timer',
        'patchloop-agent-flush.service',
        'patchloop-agent-flush.timer',
      ].map((u) => join(unitDir, u)),
    ],
    {
      encoding: 'utf8',
    },
  );
  if (verify.error) return;
  assert.equal(verify.status, 0, verify.stderr);
  assert.equal(verify.stderr.trim(), '');
});

test('the agent configuration is validated: YAML errors name the line, unknown keys are refused', () => {
  const dir = mkdtempSync(join(tmpdir(), 'patchloop-agentconf-'));
  const bad = join(dir, 'bad.yaml');
  writeFileSync(bad, 'server: https://x.example\nspool:\n  max_reports: [\n');
  assert.throws(
    () => loadAgentConfig(bad),
    (e: Error) => e instanceof ConfigError && e.message.startsWith(`${bad}:`) && /:\d+:\d+/.test(e.message),
  );
  const typo = join(dir, 'typo.yaml');
  writeFileSync(typo, 'server: https://x.example\nretyr:\n  attempts: 3\n');
  assert.throws(() => loadAgentConfig(typo), /retyr|Unrecognized key/);
  const wrong = join(dir, 'wrong.yaml');
  writeFileSync(wrong, 'server: ftp://x.example\nretry:\n  base_delay: soon\n');
  assert.throws(
    () => loadAgentConfig(wrong),
    (e: Error) => /server/.test(e.message) && /retry\.base_delay: invalid duration/.test(e.message),
  );
  assert.throws(() => loadAgentConfig(join(dir, 'missing.yaml')), /cannot read .*missing\.yaml: ENOENT/);
});
