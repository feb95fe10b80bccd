import { test } from 'node:test';
import assert from 'node:assert/strict';
import { UuLogError, parseKeptBack, parseUuLog } from './uu-log.ts';
import { fixture, patchlab } from '../../../test/support/patch-logs.ts';

test('patchlab real run: origins, the upgrade list, success', () => {
  const runs = parseUuLog(patchlab('uu.log'), 'uu.log');
  assert.equal(runs.length, 1);
  const [r] = runs;
  assert.equal(r.result, 'all_installed');
  assert.equal(r.dry_run, false);
  assert.deepEqual(r.allowed_origins, [
    'origin=Debian,codename=bookworm,label=Debian',
    'origin=Debian,codename=bookworm,label=Debian-Security',
    'origin=Debian,codename=bookworm-security,label=Debian-Security',
  ]);
  assert.deepEqual(r.blacklist, []);
  assert.equal(r.whitelist_strict, false);
  assert.equal(r.to_upgrade.length, 25);
  assert.ok(r.to_upgrade.includes('linux-image-amd64'));
  assert.deepEqual(r.errors, []);
  assert.equal(r.started_at, '2026-11-27 03:00:27,099');
  assert.equal(r.ended_at, '2026-11-27 03:00:54,015');
});

test('patchlab dry run with -d: multi-line debug records, the dry-run marker', () => {
  const [r] = parseUuLog(patchlab('uu-dryrun.log'), 'uu-dryrun.log');
  assert.equal(r.dry_run, true);
  assert.equal(r.result, 'all_installed');
  const multi = r.records.find((x) => x.message.startsWith('pkgs that look like they should be upgraded:'));
  assert.ok(multi);
  assert.equal(multi.message.split('\n').length, 25, 'the package list continues on lines without a timestamp');
  assert.equal(r.to_upgrade.length, 25);
});

test('lock held by another package manager', () => {
  const [r] = parseUuLog(fixture('lock-held/unattended-upgrades.log'), 'u.log');
  assert.equal(r.result, 'lock_failed');
  assert.equal(r.errors.length, 1);
  assert.equal(r.errors[0].line, 4);
});

test('blocklist and conffile prompt: u-u calls both "blacklisted"; the prompt is the real reason', () => {
  const [r] = parseUuLog(fixture('blocklist-and-conffile/unattended-upgrades.log'), 'u.log');
  assert.deepEqual(r.blacklist, ['patchloop-canary$']);
  assert.deepEqual(r.conffile_prompts, ['patchloop-canary-conf']);
  assert.ok(r.to_upgrade.includes('patchloop-canary-conf'), 'still announced, although it will not be upgraded');
  assert.deepEqual(
    r.kept_back.map((k) => [k.name, k.reason]),
    [
      ['patchloop-canary', 'blocklist'],
      ['patchloop-canary-conf', 'config_prompt'],
    ],
  );
  // the conffile package stays in the list and is never installed: u-u ends without "All upgrades installed"
  assert.equal(r.result, 'unfinished');
  assert.deepEqual(r.errors, []);
});

test('broken dpkg: traceback continuation lines stay with their record', () => {
  const [r] = parseUuLog(fixture('broken-dpkg/unattended-upgrades.log'), 'u.log');
  assert.equal(r.result, 'install_failed');
  const tb = r.errors.find((e) => e.message.includes('Traceback'));
  assert.ok(tb);
  assert.match(tb.message, /SystemError: installArchives\(\) failed$/);
  assert.deepEqual(
    r.kept_back.map((k) => [k.name, k.reason]),
    [
      ['patchloop-broken', 'dependency'],
      ['patchloop-canary-conf', 'config_prompt'],
    ],
  );
  const [next] = parseUuLog(fixture('broken-dpkg-next-run/unattended-upgrades.log'), 'u.log');
  assert.equal(next.result, 'nothing_to_do', 'the half-configured package goes unnoticed by the next run');
});

test('interrupted by SIGTERM, nothing to do, not an update day', () => {
  const [stopped] = parseUuLog(fixture('interrupted/unattended-upgrades.log'), 'u.log');
  assert.equal(stopped.result, 'interrupted');
  assert.ok(stopped.errors.some((e) => e.message === 'SIGTERM received, will stop'));
  const [idle] = parseUuLog(fixture('nothing-to-do/unattended-upgrades.log'), 'u.log');
  assert.equal(idle.result, 'nothing_to_do');
  assert.deepEqual(parseKeptBack(fixture('nothing-to-do/kept-back')), ['patchloop-canary-conf']);
  const [day] = parseUuLog(fixture('not-update-day/unattended-upgrades.log'), 'u.log');
  assert.equal(day.result, 'not_update_day');
  assert.equal(day.to_upgrade.length, 0);
});

test('a log holding many runs is split at each run', () => {
  const names = [
    'interrupted',
    'lock-held',
    'blocklist-and-conffile',
    'not-update-day',
    'broken-dpkg',
    'nothing-to-do',
  ];
  const text = names.map((n) => fixture(`${n}/unattended-upgrades.log`)).join('');
  const runs = parseUuLog(text, 'u.log');
  assert.deepEqual(
    runs.map((r) => r.result),
    ['interrupted', 'lock_failed', 'unfinished', 'not_update_day', 'install_failed', 'nothing_to_do'],
  );
  // line numbers count from the start of the whole text
  assert.equal(runs[1].line, fixture('interrupted/unattended-upgrades.log').split('\n').length);
  // and from the offset given when parsing a tail of the file
  assert.equal(parseUuLog(fixture('lock-held/unattended-upgrades.log'), 'u.log', 101)[0].errors[0].line, 104);
});

test('something that is not a u-u log is rejected with file and line', () => {
  assert.throws(
    () => parseUuLog('\nStart-Date: 2026-11-27  03:00:21\n', 'x.log'),
    (e: unknown) => e instanceof UuLogError && e.message.startsWith('x.log:2: not an unattended-upgrades log line'),
  );
  assert.deepEqual(parseUuLog('', 'x.log'), []);
});
