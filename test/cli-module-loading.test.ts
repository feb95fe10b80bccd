// Each command loads only its own layers: the agent never loads the server; a scan loads neither the server, the
// agent nor the exporter. Checked on the real CLI process, from the TypeScript sources, by recording every module it
// loads.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLI, REPO_ROOT } from './support/paths.ts';

function loadedBy(args: string[]): string[] {
  const dir = mkdtempSync(join(tmpdir(), 'patchloop-loads-'));
  const log = join(dir, 'loaded');
  spawnSync(process.execPath, ['--import', join(REPO_ROOT, 'test/support/record-module-loads.ts'), CLI, ...args], {
    env: { ...process.env, PATCHLOOP_LOADED_LOG: log, PATCHLOOP_HOME: dir },
    encoding: 'utf8',
  });
  return readFileSync(log, 'utf8')
    .split('\n')
    .filter((u) => u.startsWith(`file://${REPO_ROOT}src/`))
    .map((u) => u.slice(`file://${REPO_ROOT}`.length));
}

test('patchloop agent run loads no server code', () => {
  const loaded = loadedBy(['agent', 'run', '--state-dir', mkdtempSync(join(tmpdir(), 'patchloop-agent-'))]);
  assert.ok(
    loaded.some((m) => m.startsWith('src/agent/')),
    'the agent was loaded',
  );
  assert.deepEqual(
    loaded.filter((m) => m.startsWith('src/server/')),
    [],
  );
});

test('patchloop scan loads neither the server, the agent nor the exporter', () => {
  const loaded = loadedBy(['scan', '--root', '/nonexistent']);
  assert.ok(
    loaded.some((m) => m.startsWith('src/inventory/')),
    'the inventory readers were loaded',
  );
  assert.deepEqual(
    loaded.filter((m) => /^src\/(server|agent|export)\//.test(m)),
    [],
  );
});
