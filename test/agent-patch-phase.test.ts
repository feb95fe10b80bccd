// `agent run` with patching, in process against a real server on loopback: what the patch
// phase decides from agent.yaml and the server's answer — off unless opted in, nothing without
// a policy, nothing while the ring gate is closed — always after the inventory report went out.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { enroll, runOnce, type AgentDeps } from '../src/agent/agent.ts';
import { resolveAgentConfig, type AgentConfig } from '../src/agent/config.ts';
import { api, startTestServer, type TestServer } from './support/server.ts';
import { BOOKWORM_ROOT, trackerFeedV1 } from './support/fixtures.ts';

const deps = (): AgentDeps => ({
  log: pino({ level: 'silent' }),
  version: 'test',
  sleep: async () => {},
  random: () => 0.5,
});

async function enrolled(
  s: TestServer,
  dirs: string[],
  hostname: string,
  group: string,
  patch?: object,
): Promise<AgentConfig> {
  const state = mkdtempSync(join(tmpdir(), 'patchloop-agent-'));
  dirs.push(state);
  const config = resolveAgentConfig({
    state_dir: state,
    data_dir: join(state, 'data'),
    root: BOOKWORM_ROOT,
    kernel: '6.1.0-40-amd64',
    hostname,
    retry: { attempts: 1 },
    ...(patch ? { patch } : {}),
  });
  const t = await api(s.url, '/api/v1/enrollment-tokens', { token: s.adminToken, body: { name: hostname, group } });
  await enroll(config, { server: s.url, token: (t.body as { token: string }).token }, deps());
  return config;
}

test('the patch phase of agent run: opt-in, no policy, closed ring gate', async (t) => {
  const s = await startTestServer(trackerFeedV1());
  const dirs: string[] = [];
  t.after(async () => {
    await s.close();
    for (const d of [...dirs, s.dataDir]) rmSync(d, { recursive: true, force: true });
  });
  const put = await api(s.url, '/api/v1/policies/app', {
    method: 'PUT',
    token: s.adminToken,
    body: { group: 'app', rings: [{ name: 'canary', hosts: ['app-canary'] }, { name: 'rest' }] },
  });
  assert.equal(put.status, 201, put.text);

  const off = await runOnce(await enrolled(s, dirs, 'app-off', 'app'), deps());
  assert.equal(off.sent, 1);
  assert.equal(off.patch, undefined, 'patching is off unless agent.yaml enables it');

  const lone = await runOnce(await enrolled(s, dirs, 'lone', 'nogroup', { enabled: true }), deps());
  assert.equal(lone.sent, 1);
  assert.deepEqual(lone.patch, { state: 'no_policy', run_id: null, outcome: null });

  // app-2 is in ring "rest"; the canary has not patched yet, so the gate is closed.
  await enrolled(s, dirs, 'app-canary', 'app');
  const rest = await runOnce(await enrolled(s, dirs, 'app-2', 'app', { enabled: true, dry_run: true }), deps());
  assert.equal(rest.sent, 1, 'the inventory went out first');
  assert.deepEqual(rest.patch, { state: 'gate', run_id: null, outcome: null });
  const runs = (await api(s.url, '/api/v1/patch-runs', { token: s.adminToken })).body as { total: number };
  assert.equal(runs.total, 0, 'nothing ran, nothing reported');
});
