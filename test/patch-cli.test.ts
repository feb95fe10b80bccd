// `patchloop patch` as a user runs it: policy errors, the outlook, a system it cannot patch.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from './support/cli.ts';
import { SHARED_DATA } from './support/paths.ts';

const dir = mkdtempSync(join(tmpdir(), 'patchloop-patch-cli-'));
const policy = join(dir, 'web.yaml');
writeFileSync(
  policy,
  `name: web
version: 5
group: web
schedule:
  windows:
    - { days: [mon, tue, wed, thu, fri], start: "01:00", end: "04:00", time_zone: Europe/Berlin }
rings:
  - { name: canary, hosts: ["web-canary-*"] }
  - { name: rest, soak_hours: 24 }
reboot: { mode: when_required, max_concurrent: 3 }
`,
);

test('an invalid policy is a usage error naming file, field and line', async () => {
  const bad = join(dir, 'bad.yaml');
  writeFileSync(
    bad,
    'name: web\nversion: 1\ngroup: web\nschedule:\n  windows:\n    - { start: "25:00", end: "04:00", time_zone: Mars/Olympus }\n',
  );
  const r = await runCli(['patch', '--policy', bad, '--dry-run']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /bad\.yaml: invalid policy:/);
  assert.match(r.stderr, /schedule\.windows\[0\]\.start \(line 6\): expected HH:MM/);
  assert.match(r.stderr, /schedule\.windows\[0\]\.time_zone \(line 6\): unknown time zone "Mars\/Olympus"/);
  const missing = await runCli(['patch', '--policy', join(dir, 'nope.yaml'), '--dry-run']);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /nope\.yaml: ENOENT/);
});

test('--explain: what will happen tonight, and why', async () => {
  // Tuesday 2 June 2026, 15:00 in Berlin
  const canary = await runCli([
    'patch',
    '--policy',
    policy,
    '--explain',
    '--host',
    'web-canary-1',
    '--at',
    '2026-06-02T13:00:00Z',
  ]);
  assert.equal(canary.code, 0, canary.stderr);
  assert.match(canary.stdout, /^Policy web v5 for group web\.$/m);
  assert.match(canary.stdout, /web-canary-1 is in ring canary \(1 of 2\)/);
  assert.match(
    canary.stdout,
    /Next maintenance window: 2026-06-03 01:00 Europe\/Berlin \(2026-06-02T23:00:00\.000Z\) until 04:00/,
  );
  assert.match(canary.stdout, /at most 3 hosts of web at once/);
  const json = await runCli([
    'patch',
    '--policy',
    policy,
    '--explain',
    '--host',
    'db-1',
    '--at',
    '2026-06-05T13:00:00Z',
    '--format',
    'json',
  ]);
  const outlook = JSON.parse(json.stdout) as { ring: { name: string }; will_patch: boolean; lines: string[] };
  assert.equal(outlook.ring.name, 'rest');
  assert.equal(outlook.will_patch, false, 'Friday afternoon: the next window is on Monday');
  const bad = await runCli(['patch', '--policy', policy, '--explain', '--at', 'tonight']);
  assert.equal(bad.code, 2);
});

test('a root without unattended-upgrades cannot be patched, with a clear message', async () => {
  const r = await runCli(['patch', '--root', join(SHARED_DATA, 'pkgdb/dpkg/bookworm-host'), '--dry-run']);
  assert.equal(r.code, 3);
  assert.match(
    r.stderr,
    /unattended-upgrades is not installed in .*bookworm-host \(apt-get install unattended-upgrades\)/,
  );
  // a directory with no os-release: no distribution, no backend
  const empty = await runCli(['patch', '--root', dir, '--dry-run']);
  assert.equal(empty.code, 3);
  assert.match(empty.stderr, /cannot patch .*: no backend for this distribution/);
});
