// End to end, agent and server: the real agent (`patchloop agent run`, a separate process)
// reports a real Debian bookworm root (scripts/build-test-root, cached) to a real server on
// loopback, pulls the server's policy, patches the root through the real unattended-upgrades
// inside it, reports the patch run and the inventory after it. The server then shows the run,
// the vulnerability the upgrade closed (from its own before/after findings) and that the host
// needs a reboot — which the agent does not do: the root is not the running system.
//
// The feed: the local repository of the test root always has patchloop-canary 1.0+deb12u1
// pending (its postinst flags /run/reboot-required), so the feed, in the Debian tracker's
// schema, says CVE-2099-2001 of source patchloop-canary is fixed in 1.0+deb12u1, plus one for
// bash that no update fixes. The policy allows only the canary, which keeps the run short.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { runCli } from './support/cli.ts';
import { REPO_ROOT } from './support/paths.ts';
import { api, startTestServer } from './support/server.ts';

const BUILD = path.join(REPO_ROOT, 'scripts/build-test-root');
const missing = ['mmdebstrap', 'zstd', 'apt-ftparchive', 'unshare', 'dpkg-deb'].filter(
  (t) => spawnSync('sh', ['-c', `command -v ${t}`]).status !== 0,
);
const skip =
  process.getuid?.() !== 0
    ? 'needs root (mmdebstrap, chroot, mounts)'
    : missing.length > 0
      ? `missing ${missing.join(', ')} (scripts/test-debian-packages)`
      : false;

function mountsBelow(dir: string): string[] {
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((l) => l.split(' ')[4])
    .filter((m) => m && (m === dir || m.startsWith(`${dir}/`)));
}

const feed = {
  'patchloop-canary': {
    'CVE-2099-2001': {
      description: 'placeholder: fixed by the pending canary update',
      scope: 'local',
      releases: {
        bookworm: {
          status: 'resolved',
          repositories: { bookworm: '1.0' },
          fixed_version: '1.0+deb12u1',
          urgency: 'high',
        },
      },
    },
  },
  bash: {
    'CVE-2099-2002': {
      description: 'open, no fix',
      scope: 'local',
      releases: { bookworm: { status: 'open', repositories: { bookworm: '5.2.15-2+b2' }, urgency: 'low' } },
    },
  },
};

test(
  'the agent patches a real bookworm root under the server policy; the server shows the run, the CVE it closed and the pending reboot',
  { skip, timeout: 30 * 60_000 },
  async (t) => {
    const work = await mkdtemp(path.join(os.tmpdir(), 'patchloop-e2e-server-'));
    const root = path.join(work, 'root');
    const s = await startTestServer(feed);
    t.after(async () => {
      await s.close();
      assert.deepEqual(mountsBelow(root), [], 'mounts left below the test root');
      await rm(work, { recursive: true, force: true });
      await rm(s.dataDir, { recursive: true, force: true });
    });
    const restore = spawnSync(BUILD, ['restore', root], { encoding: 'utf8', timeout: 20 * 60_000 });
    assert.equal(restore.status, 0, `build-test-root restore failed:\n${restore.stderr}`);

    const put = await api(s.url, '/api/v1/policies/e2e', {
      method: 'PUT',
      token: s.adminToken,
      body: {
        group: 'e2e',
        install: { allowlist: ['patchloop-canary'], allowlist_strict: true },
        schedule: { lock_timeout_seconds: 30 },
        reboot: { mode: 'when_required' },
      },
    });
    assert.equal(put.status, 201, put.text);

    const token = (
      await api(s.url, '/api/v1/enrollment-tokens', { token: s.adminToken, body: { name: 'e2e', group: 'e2e' } })
    ).body as { token: string };
    const stateDir = path.join(work, 'agent');
    const config = path.join(work, 'agent.yaml');
    const oldestKernel = readdirSync(path.join(root, 'boot'))
      .filter((f) => f.startsWith('vmlinuz-'))
      .map((f) => f.slice('vmlinuz-'.length))
      .sort()[0];
    await writeFile(
      config,
      [
        `root: ${root}`,
        `state_dir: ${stateDir}`,
        `data_dir: ${path.join(work, 'data')}`,
        'hostname: bookworm-e2e',
        ...(oldestKernel ? [`kernel: ${oldestKernel}`] : []),
        'retry: { attempts: 1 }',
        'patch:',
        '  enabled: true',
        '  refresh_lists: false',
        '  allow: { reboot: true }',
        '',
      ].join('\n'),
    );
    const enrolled = await runCli(['agent', 'enroll', '--config', config, '--server', s.url, '--token', token.token]);
    assert.equal(enrolled.code, 0, enrolled.stderr);

    const run = await runCli(['agent', 'run', '--config', config], { env: { PATCHLOOP_LOG_LEVEL: 'info' } });
    assert.equal(run.code, 0, run.stderr);
    const logs = run.stderr
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as { msg: string; state?: string; outcome?: string });
    assert.ok(
      logs.some((l) => l.msg === 'patch run finished' && l.outcome === 'success'),
      run.stderr,
    );
    assert.ok(
      logs.some((l) => /policy narrowed: the patched root is not the running system: no reboots/.test(l.msg)),
      'a root is never rebooted',
    );
    assert.equal(
      logs.filter((l) => l.msg === 'inventory collected and spooled').length,
      2,
      'an inventory before the run and one after it',
    );

    const hosts = (await api(s.url, '/api/v1/hosts?search=bookworm-e2e', { token: s.adminToken })).body as {
      items: { id: number }[];
    };
    const hostId = hosts.items[0].id;
    const page = (await api(s.url, `/api/v1/patch-runs?host=${hostId}`, { token: s.adminToken })).body as {
      total: number;
      items: {
        id: string;
        outcome: string;
        policy: { name: string; version: number };
        changes: { name: string; from: string; to: string; ok: boolean }[];
        cves_closed: string[] | null;
        reboot: { status: string; required: boolean };
      }[];
    };
    assert.equal(page.total, 1);
    const item = page.items[0];
    assert.equal(item.outcome, 'success');
    assert.deepEqual(item.policy, { name: 'e2e', version: 1 });
    assert.deepEqual(
      item.changes.map((c) => [c.name, c.from, c.to, c.ok]),
      [['patchloop-canary', '1.0', '1.0+deb12u1', true]],
    );
    assert.deepEqual(
      item.cves_closed,
      ['CVE-2099-2001'],
      'closed according to the server: found before, resolved by the inventory after',
    );
    assert.equal(item.reboot.required, true);
    assert.equal(item.reboot.status, 'policy_never');

    const host = (await api(s.url, `/api/v1/hosts/${hostId}`, { token: s.adminToken })).body as {
      reboot_pending: boolean;
      reboot_required: boolean;
    };
    assert.equal(host.reboot_pending, true);
    assert.equal(host.reboot_required, true, 'the root has /run/reboot-required');
    const findings = (await api(s.url, `/api/v1/findings?host=${hostId}`, { token: s.adminToken })).body as {
      items: { id?: string; vuln?: { id: string } }[];
    };
    assert.ok(JSON.stringify(findings).includes('CVE-2099-2002'), 'the finding no update fixes is still open');
    const full = (await api(s.url, `/api/v1/patch-runs/${item.id}`, { token: s.adminToken })).body as {
      record: { reboot: { packages: string[] } };
    };
    assert.ok(full.record.reboot.packages.includes('patchloop-canary'));
    assert.ok(existsSync(path.join(root, 'run/reboot-required')));

    // The next agent run: nothing left to install; the pending reboot stays reported, not done.
    const again = await runCli(['agent', 'run', '--config', config]);
    assert.equal(again.code, 0, again.stderr);
    const page2 = (await api(s.url, `/api/v1/patch-runs?host=${hostId}`, { token: s.adminToken })).body as {
      total: number;
      items: { outcome: string }[];
    };
    assert.equal(page2.total, 2);
    assert.equal(page2.items[0].outcome, 'nothing_to_do');
  },
);
