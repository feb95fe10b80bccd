import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HistoryLogError, parseHistoryLog, unattendedEntries } from './history-log.ts';
import { fixture, patchlab } from '../../../test/support/patch-logs.ts';

test('patchlab history.log: real and dry-run stanzas of unattended-upgrade told apart', () => {
  const { entries, warnings } = parseHistoryLog(patchlab('apt-history.log'), 'apt-history.log');
  assert.deepEqual(warnings, []);
  assert.equal(entries.length, 30);
  const dry = unattendedEntries(entries, true);
  const real = unattendedEntries(entries);
  assert.equal(dry.length, 15);
  assert.equal(real.length, 15);
  assert.ok(dry.every((e) => e.commandline === '/usr/bin/unattended-upgrade --dry-run -d'));
  const changes = real.flatMap((e) => e.changes);
  assert.equal(changes.filter((c) => c.action === 'upgrade').length, 25);
  assert.deepEqual(
    changes.find((c) => c.name === 'libssl3'),
    {
      name: 'libssl3',
      arch: 'amd64',
      action: 'upgrade',
      from: '3.0.20-1~deb12u2',
      to: '3.0.22-1~deb12u2',
      automatic: false,
    },
  );
  assert.deepEqual(
    changes.find((c) => c.action === 'install'),
    {
      name: 'linux-image-6.1.0-56-amd64',
      arch: 'amd64',
      action: 'install',
      from: null,
      to: '6.1.192-2',
      automatic: true,
    },
  );
  // the dry run announced the same set of changes
  assert.deepEqual(
    dry.flatMap((e) => e.changes.map((c) => `${c.name} ${c.to}`)).sort(),
    changes.map((c) => `${c.name} ${c.to}`).sort(),
  );
  assert.equal(real[0].start, '2026-11-27  03:00:29');
  assert.equal(real[0].line, 78);
});

test('a failed dpkg run: the stanza carries the Error line', () => {
  const { entries } = parseHistoryLog(fixture('broken-dpkg/history.log'), 'history.log');
  const [ok, failed] = unattendedEntries(entries);
  assert.equal(ok.error, null);
  assert.deepEqual(
    ok.changes.map((c) => c.name),
    ['patchloop-canary'],
  );
  assert.equal(failed.error, 'Sub-process /usr/bin/dpkg returned an error code (1)');
  assert.deepEqual(
    failed.changes.map((c) => c.name),
    ['patchloop-broken'],
  );
});

test('every action apt writes, and stanzas of other frontends', () => {
  // Written for this test in apt's format (apt-pkg/deb/dpkgpm.cc WriteHistoryTag).
  const text = [
    '',
    'Start-Date: 2026-01-10  10:00:00',
    'Commandline: apt-get purge old-tool',
    'Requested-By: admin (1000)',
    'Purge: old-tool:amd64 (1.2-3), old-tool-data:all (1.2-3)',
    'Remove: libold1:amd64 (0.9-1)',
    'End-Date: 2026-01-10  10:00:02',
    '',
    'Start-Date: 2026-01-11  10:00:00',
    'Commandline: apt install --reinstall bash libfoo1=1.0-1',
    'Reinstall: bash:amd64 (5.2.15-2+b7)',
    'Downgrade: libfoo1:amd64 (1.1-1, 1.0-1)',
    'Install: libnew2:amd64 (2.0-1, automatic), tool:amd64 (3.0-1)',
    'End-Date: 2026-01-11  10:00:05',
    '',
  ].join('\n');
  const { entries } = parseHistoryLog(text, 'history.log');
  assert.equal(entries.length, 2);
  assert.equal(entries[0].requested_by, 'admin (1000)');
  assert.deepEqual(
    entries[0].changes.map((c) => [c.action, c.name, c.arch, c.from, c.to]),
    [
      ['purge', 'old-tool', 'amd64', '1.2-3', null],
      ['purge', 'old-tool-data', 'all', '1.2-3', null],
      ['remove', 'libold1', 'amd64', '0.9-1', null],
    ],
  );
  assert.deepEqual(
    entries[1].changes.map((c) => [c.action, c.name, c.from, c.to, c.automatic]),
    [
      ['reinstall', 'bash', '5.2.15-2+b7', '5.2.15-2+b7', false],
      ['downgrade', 'libfoo1', '1.1-1', '1.0-1', false],
      ['install', 'libnew2', null, '2.0-1', true],
      ['install', 'tool', null, '3.0-1', false],
    ],
  );
  assert.deepEqual(unattendedEntries(entries), []);
});

test('malformed history is an error naming file and line', () => {
  assert.throws(
    () => parseHistoryLog('Start-Date: 2026-01-10  10:00:00\nthis is not apt\n', 'h.log'),
    (e: unknown) => e instanceof HistoryLogError && /^h\.log:2: not an apt history line/.test(e.message),
  );
  assert.throws(
    () => parseHistoryLog('Upgrade: libssl3:amd64 (3.0.20-1)\n', 'h.log'),
    /h\.log:1: Upgrade of libssl3:amd64 needs "\(old, new\)"/,
  );
  assert.throws(
    () => parseHistoryLog('Install: a:amd64 (1.0), garbage\n', 'h.log'),
    /h\.log:1: cannot read the package list of Install at "garbage"/,
  );
  const { warnings } = parseHistoryLog('Start-Date: 2026-01-10  10:00:00\nFrobnicate: yes\n', 'h.log');
  assert.deepEqual(warnings, ['h.log:2: unknown history field Frobnicate']);
  // Found by the fuzz suite: an entry without a package name.
  assert.throws(
    () => parseHistoryLog('Upgrade: apt:amd64 (2.6.1, 2.6.2), : (2.6.1, 2.6.2)\n', 'h.log'),
    (e: unknown) => e instanceof HistoryLogError && e.message === 'h.log:1: Upgrade lists ":", which names no package',
  );
});

test('fields named like members of every JavaScript object are unknown fields, not actions', () => {
  const { entries, warnings } = parseHistoryLog(
    'Start-Date: 2026-01-10  10:00:00\nconstructor: foo (1.0)\ntoString: bar (2.0)\nInstall: baz:amd64 (3.0)\n',
    'h.log',
  );
  assert.deepEqual(
    entries[0].changes.map((c) => [c.action, c.name]),
    [['install', 'baz']],
  );
  assert.deepEqual(warnings, ['h.log:2: unknown history field constructor', 'h.log:3: unknown history field toString']);
});
