// End to end on a real Debian bookworm root (scripts/build-test-root: mmdebstrap from the plain
// bookworm suite, cached; bookworm-security and a local repository whose canary packages
// always have an update): patchloop scans it, patches it through the real unattended-upgrades
// inside the root, and scans again.
//
// The vulnerability feed: no copy of the Debian tracker is reachable from here, so the test
// writes one in the tracker's schema for this root, after the dry run has shown what is
// pending: one placeholder id (CVE-2099-1xxx) per source package with a pending update,
// fixed in the version the update brings, plus two that no update fixes (an open one for
// bash, and one whose fixed version is not published). The findings before and after, and
// the ids the runs report as closed, all come from the real scanner and the real upgrade.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile, appendFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { runCli } from './support/cli.ts';
import { REPO_ROOT } from './support/paths.ts';
import { rootArgv } from '../src/patch/exec.ts';
import { readInventory } from '../src/inventory/index.ts';
import type { PatchRun } from '../src/patch/types.ts';
import type { Finding } from '../src/core/types.ts';

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

async function cli(args: string[]): Promise<{ code: number | null; run: PatchRun; stderr: string }> {
  const r = await runCli([...args, '--format', 'json']);
  let run: PatchRun;
  try {
    run = JSON.parse(r.stdout) as PatchRun;
  } catch {
    throw new Error(`patchloop ${args.join(' ')} exited ${r.code} without JSON:\n${r.stderr}`);
  }
  return { code: r.code, run, stderr: r.stderr };
}

async function scan(root: string, dataDir: string): Promise<Finding[]> {
  const r = await runCli(['scan', '--root', root, '--data-dir', dataDir, '--format', 'json']);
  assert.equal(r.code, 0, r.stderr);
  return (JSON.parse(r.stdout) as { findings: Finding[] }).findings;
}

/** Everything a dry run must leave alone: file contents and times below these directories. */
function fingerprint(root: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (rel: string) => {
    const abs = path.join(root, rel);
    if (!existsSync(abs)) return;
    for (const name of readdirSync(abs)) {
      const r = path.join(rel, name);
      const st = statSync(path.join(root, r));
      if (st.isDirectory()) walk(r);
      else out.set(r, `${st.size}:${st.mtimeMs}`);
    }
  };
  for (const d of [
    'var/log',
    'var/lib/apt/periodic',
    'var/lib/unattended-upgrades',
    'var/cache/apt/archives',
    'etc/apt',
    'run',
  ])
    walk(d);
  out.set(
    'var/lib/dpkg/status',
    createHash('sha256')
      .update(readFileSync(path.join(root, 'var/lib/dpkg/status')))
      .digest('hex'),
  );
  return out;
}

function mountsBelow(dir: string): string[] {
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((l) => l.split(' ')[4])
    .filter((m) => m && (m === dir || m.startsWith(`${dir}/`)));
}

test(
  'patching a real bookworm root: lock, dry run, blocklist and conffile, the rest, reboot state, findings closed',
  { skip, timeout: 30 * 60_000 },
  async (t) => {
    const work = await mkdtemp(path.join(os.tmpdir(), 'patchloop-e2e-'));
    const root = path.join(work, 'root');
    t.after(async () => {
      // nothing may stay mounted below the root: only then is deleting it safe
      const left = mountsBelow(root);
      assert.deepEqual(left, [], 'mounts left below the test root');
      await rm(work, { recursive: true, force: true });
    });
    const restore = spawnSync(BUILD, ['restore', root], { encoding: 'utf8', timeout: 20 * 60_000 });
    assert.equal(restore.status, 0, `build-test-root restore failed:\n${restore.stderr}`);
    const policyFile = async (name: string, doc: object) => {
      const file = path.join(work, `${name}.json`);
      await writeFile(file, JSON.stringify(doc));
      return file;
    };
    const base = { version: 1, group: 'e2e', schedule: { lock_timeout_seconds: 2 } };

    await t.test('a held dpkg lock is waited for, reported, and never broken', async () => {
      const argv = rootArgv(root, [
        'python3',
        '-c',
        "import apt_pkg, signal, sys, time\nsignal.signal(signal.SIGTERM, lambda *a: sys.exit(0))\napt_pkg.init()\napt_pkg.pkgsystem_lock()\nprint('locked', flush=True)\ntime.sleep(120)",
      ]);
      const holder: ChildProcess = spawn(argv[0], argv.slice(1), { stdio: ['ignore', 'pipe', 'inherit'] });
      try {
        const [chunk] = (await once(holder.stdout!, 'data')) as [Buffer];
        assert.equal(chunk.toString().trim(), 'locked');
        const { code, run } = await cli([
          'patch',
          '--root',
          root,
          '--policy',
          await policyFile('lock', { ...base, name: 'lock' }),
          '--no-refresh',
        ]);
        assert.equal(code, 1);
        assert.equal(run.outcome, 'skipped');
        assert.deepEqual(run.changes, []);
        assert.equal(run.exit_code, null, 'unattended-upgrade was not started');
        assert.equal(run.errors[0].kind, 'lock');
        assert.match(run.errors[0].message, /var\/lib\/dpkg\/lock-frontend held by process \d+ \(python3\)/);
      } finally {
        // unshare ignores SIGTERM; killing it hands SIGTERM to the holder inside (--kill-child)
        const exited = once(holder, 'exit');
        holder.kill('SIGKILL');
        await exited;
      }
    });

    let pending: PatchRun['changes'] = [];
    await t.test('dry run: what would change, and nothing changed', async () => {
      const before = fingerprint(root);
      const { code, run } = await cli(['patch', '--root', root, '--dry-run']);
      assert.equal(code, 0);
      assert.equal(run.outcome, 'dry_run');
      assert.equal(run.mode, 'dry_run');
      pending = run.changes;
      assert.ok(pending.some((c) => c.name === 'patchloop-canary' && c.from === '1.0' && c.to === '1.0+deb12u1'));
      assert.ok(pending.some((c) => c.name === 'patchloop-canary-conf'));
      assert.ok(
        pending.filter((c) => !c.name.startsWith('patchloop-')).length > 0,
        'real security updates are pending from bookworm-security',
      );
      assert.deepEqual(
        [...fingerprint(root)].filter(([f, v]) => before.get(f) !== v),
        [],
        'files the dry run changed',
      );
      assert.deepEqual(
        [...before.keys()].filter((f) => !fingerprint(root).has(f)),
        [],
        'files the dry run removed',
      );
    });

    // The feed for this root (see the comment at the top).
    const dataDir = path.join(work, 'data');
    const inventory = await readInventory(root);
    const sourceOf = new Map(inventory.packages.map((p) => [p.name, p.source]));
    const tracker: Record<string, Record<string, object>> = {};
    const fixedBy = new Map<string, string>(); // CVE -> source
    let n = 1000;
    for (const c of pending) {
      const source = sourceOf.get(c.name);
      if (!source || !c.to || c.action !== 'upgrade' || Object.hasOwn(tracker, source)) continue;
      const id = `CVE-2099-${n++}`;
      tracker[source] = {
        [id]: {
          description: `placeholder for the pending update of ${source}`,
          scope: 'remote',
          releases: {
            bookworm: {
              status: 'resolved',
              repositories: { bookworm: c.to },
              fixed_version: c.to.replace(/\+b\d+$/, ''),
              urgency: 'high',
            },
          },
        },
      };
      fixedBy.set(id, source);
    }
    tracker.bash = {
      'CVE-2099-0001': {
        description: 'open, no fix',
        scope: 'local',
        releases: { bookworm: { status: 'open', repositories: { bookworm: '5.2.15-2+b2' }, urgency: 'low' } },
      },
    };
    tracker.glibc = {
      'CVE-2099-0002': {
        description: 'fixed in a version not published',
        scope: 'remote',
        releases: {
          bookworm: {
            status: 'resolved',
            repositories: { bookworm: '2.36-9+deb12u13' },
            fixed_version: '2.36-9+deb12u999',
            urgency: 'medium',
          },
        },
      },
    };
    const trackerFile = path.join(work, 'tracker.json');
    await writeFile(trackerFile, JSON.stringify(tracker));
    const db = await runCli(['db', 'update', '--source', 'debian', '--from', trackerFile, '--data-dir', dataDir]);
    assert.equal(db.code, 0, db.stderr);

    const findingsBefore = await scan(root, dataDir);
    const ids = (fs: Finding[]) => new Set(fs.filter((f) => !f.kernel_not_running).map((f) => f.id));
    await t.test('before: a finding with a fix for every pending update, and the two no update fixes', () => {
      const open = ids(findingsBefore);
      for (const id of fixedBy.keys()) {
        const src = fixedBy.get(id);
        if (src?.startsWith('linux')) continue; // kernel findings depend on the running kernel
        assert.ok(open.has(id), `${id} (${src}) is found before patching`);
      }
      assert.ok(open.has('CVE-2099-0001') && open.has('CVE-2099-0002'));
      assert.ok(findingsBefore.filter((f) => fixedBy.has(f.id)).every((f) => f.status === 'fixed' && f.fixed_version));
    });

    const closed = new Set<string>();
    await t.test(
      'run 1: blocklisted canary and a changed conffile are held back, the security updates go in',
      async () => {
        await appendFile(path.join(root, 'etc/patchloop-canary-conf.conf'), 'setting = changed locally\n');
        const policy = await policyFile('first', {
          ...base,
          name: 'first',
          install: { blocklist: ['patchloop-canary'], config_files: 'skip_package' },
          reboot: { mode: 'when_required' },
        });
        const { code, run } = await cli(['patch', '--root', root, '--policy', policy, '--scan', '--data-dir', dataDir]);
        assert.equal(code, 0);
        assert.equal(run.outcome, 'success');
        assert.deepEqual(run.errors, []);
        assert.deepEqual(
          run.held_back.map((h) => [h.name, h.reason]),
          [
            ['patchloop-canary', 'blocklist'],
            ['patchloop-canary-conf', 'config_prompt'],
          ],
        );
        const expected = pending
          .filter((c) => !c.name.startsWith('patchloop-'))
          .map((c) => `${c.name} ${c.to}`)
          .sort();
        assert.deepEqual(
          run.changes.map((c) => `${c.name} ${c.to}`).sort(),
          expected,
          'exactly what the dry run announced, minus the held-back canaries',
        );
        assert.ok(run.changes.every((c) => c.ok));
        const conf = await readFile(path.join(root, 'etc/apt/apt.conf.d/51patchloop'), 'utf8');
        assert.match(conf, /"patchloop-canary\$";/);
        assert.doesNotMatch(conf, /Dpkg::Options/);
        assert.ok(run.cves_closed && run.cves_closed.length > 0);
        for (const id of run.cves_closed) {
          assert.ok(fixedBy.has(id), `${id} closed`);
          closed.add(id);
        }
        assert.ok(!run.cves_closed.some((id) => fixedBy.get(id)?.startsWith('patchloop-')));
      },
    );

    await t.test('run 2: the canaries go in, the local config file is kept, a reboot is required', async () => {
      const policy = await policyFile('second', {
        ...base,
        name: 'second',
        version: 2,
        reboot: { mode: 'when_required', max_concurrent: 2 },
      });
      const oldest = readdirSync(path.join(root, 'boot'))
        .filter((f) => f.startsWith('vmlinuz-'))
        .map((f) => f.slice('vmlinuz-'.length))
        .sort()[0];
      const args = [
        'patch',
        '--root',
        root,
        '--policy',
        policy,
        '--scan',
        '--data-dir',
        dataDir,
        ...(oldest ? ['--kernel', oldest] : []),
      ];
      const { code, run } = await cli(args);
      assert.equal(code, 0);
      assert.equal(run.outcome, 'success');
      assert.deepEqual(run.changes.map((c) => [c.name, c.from, c.to, c.ok]).sort(), [
        ['patchloop-canary', '1.0', '1.0+deb12u1', true],
        ['patchloop-canary-conf', '1.0', '1.0+deb12u1', true],
      ]);
      assert.deepEqual(run.held_back, []);
      assert.match(
        await readFile(path.join(root, 'etc/patchloop-canary-conf.conf'), 'utf8'),
        /changed locally/,
        'keep_local kept the local file',
      );
      assert.equal(run.reboot.required, true);
      assert.ok(run.reboot.packages.includes('patchloop-canary'));
      assert.ok(run.reboot.because.includes('reboot-required'));
      if (oldest && run.reboot.kernel.newest_installed !== oldest)
        assert.ok(run.reboot.because.includes('kernel'), 'an older running kernel than the newest installed');
      assert.equal(
        run.reboot.status,
        'pending_lease',
        'no windows: a reboot may happen now, once the server grants a lease',
      );
      assert.equal(run.policy.version, 2);
      for (const id of run.cves_closed ?? []) closed.add(id);
      assert.ok((run.cves_closed ?? []).every((id) => fixedBy.get(id)?.startsWith('patchloop-')));
    });

    await t.test('after: the findings the updates fixed are gone, the others are still there', async () => {
      const after = ids(await scan(root, dataDir));
      const before = ids(findingsBefore);
      assert.ok(after.has('CVE-2099-0001') && after.has('CVE-2099-0002'));
      for (const id of before) {
        if (fixedBy.has(id)) assert.ok(!after.has(id), `${id} (${fixedBy.get(id)}) is gone`);
      }
      assert.deepEqual(
        [...before].filter((id) => fixedBy.has(id)).sort(),
        [...closed].sort(),
        'the runs reported exactly the findings that went away as closed',
      );
      const upgradable = spawnSync(
        rootArgv(root, ['apt', 'list', '--upgradable'])[0],
        rootArgv(root, ['apt', 'list', '--upgradable']).slice(1),
        { encoding: 'utf8' },
      );
      assert.deepEqual(
        upgradable.stdout.split('\n').filter((l) => l.includes('-security')),
        [],
        'nothing pending from -security',
      );
    });
  },
);
