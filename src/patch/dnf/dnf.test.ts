import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parsePolicy } from '../../core/policy/schema.ts';
import { fixture } from '../../../test/support/patch-logs.ts';
import { dnfAutomaticConf, dnfTimerDropIn } from './conf.ts';
import { parseDnfCheckUpdate, parseDnfHistoryInfo, parseDnfHistoryList, parseNevra } from './history.ts';

// The dnf texts are written for these tests in dnf 4's formats (see test/fixtures/patch/README.md).

test('NEVRA to name, [E:]V-R and arch', () => {
  assert.deepEqual(parseNevra('openssl-libs-1:3.0.7-27.el9.x86_64'), {
    name: 'openssl-libs',
    version: '1:3.0.7-27.el9',
    arch: 'x86_64',
  });
  assert.deepEqual(parseNevra('tzdata-0:2026a-1.el9.noarch'), {
    name: 'tzdata',
    version: '2026a-1.el9',
    arch: 'noarch',
  });
  assert.throws(() => parseNevra('openssl'), /not a package NEVRA/);
});

test('dnf history list and info: transactions, upgrade pairs, installs and removals', () => {
  const rows = parseDnfHistoryList(fixture('dnf/history-list.txt'));
  assert.deepEqual(
    rows.map((r) => [r.id, r.altered]),
    [
      [14, 5],
      [13, 2],
      [12, 3],
    ],
  );
  const t = parseDnfHistoryInfo(fixture('dnf/history-info-14.txt'));
  assert.equal(t.id, 14);
  assert.equal(t.return_code, 'Success');
  assert.equal(t.end, 'Thu 14 May 2026 02:13:40 AM UTC');
  assert.deepEqual(
    t.changes.map((c) => [c.action, c.name, c.from, c.to]),
    [
      ['install', 'kernel', null, '5.14.0-427.16.1.el9_4'],
      ['install', 'kernel-core', null, '5.14.0-427.16.1.el9_4'],
      ['upgrade', 'openssl', '1:3.0.7-25.el9_3', '1:3.0.7-27.el9'],
      ['upgrade', 'openssl-libs', '1:3.0.7-25.el9_3', '1:3.0.7-27.el9'],
      ['upgrade', 'tzdata', '2025c-1.el9', '2026a-1.el9'],
      ['remove', 'kernel', '5.14.0-362.8.1.el9_3', null],
    ],
  );
  assert.deepEqual(t.errors, []);
});

test('a failed transaction marks its changes and reports the return code', () => {
  const t = parseDnfHistoryInfo(fixture('dnf/history-info-15-failed.txt'));
  assert.deepEqual(
    t.changes.map((c) => [c.name, c.from, c.to, c.ok]),
    [['httpd', '2.4.57-5.el9', '2.4.57-8.el9', false]],
  );
  assert.equal(t.errors[0].message, 'transaction 15: Failure: 1');
  assert.throws(() => parseDnfHistoryInfo('Begin time : x\n', 'info'), /info: no "Transaction ID" line/);
  assert.throws(
    () => parseDnfHistoryList('ID | Command line | Date | Action(s) | Altered\nbroken row\n', 'list'),
    /list:2: not a history row/,
  );
  // A transaction id too long for an exact number would make the runner read another transaction.
  assert.throws(
    () =>
      parseDnfHistoryList(
        'ID | Command line | Date | Action(s) | Altered\n99999999999999999999 | dnf | d | U | 1\n',
        'list',
      ),
    /list:2: not a history row/,
  );
  assert.throws(
    () => parseDnfHistoryInfo('Transaction ID : 99999999999999999999\n', 'info'),
    /info: no "Transaction ID" line/,
  );
});

test('history info fields: keys padded with spaces or tabs before the colon, however many', () => {
  const t = parseDnfHistoryInfo(
    `Transaction ID \t: 16\nBegin time${' '.repeat(50_000)}: Fri 15 May 2026\nReturn-Code : Success\nEnd time: x (1 s)\nBad key! : y\n`,
  );
  assert.equal(t.id, 16);
  assert.equal(t.begin, 'Fri 15 May 2026');
  assert.equal(t.return_code, 'Success');
  assert.equal(t.end, 'x');
  // The end time loses its "(duration)" only: spaces without one stay, however many.
  const spaces = ' '.repeat(50_000);
  assert.equal(parseDnfHistoryInfo(`Transaction ID : 16\nEnd time : Fri 15 May${spaces}\n`).end, `Fri 15 May${spaces}`);
  assert.equal(
    parseDnfHistoryInfo(`Transaction ID : 16\nEnd time : Fri 15 May${spaces}(4 seconds)\n`).end,
    'Fri 15 May',
  );
});

test('a package state that is no dnf state alters no package, even one every JavaScript object has', () => {
  const t = parseDnfHistoryInfo(
    'Transaction ID : 17\nPackages Altered:\n    constructor openssl-1:3.0.7-27.el9.x86_64 @baseos\n    toString    tzdata-2026a-1.el9.noarch      @baseos\n    Install     kernel-5.14.0-427.16.1.el9_4.x86_64 @baseos\n',
  );
  assert.deepEqual(
    t.changes.map((c) => [c.action, c.name]),
    [['install', 'kernel']],
  );
});

test('dnf check-update rows for the dry run', () => {
  assert.deepEqual(parseDnfCheckUpdate(fixture('dnf/check-update.txt')), [
    { name: 'openssl', arch: 'x86_64', version: '1:3.0.7-27.el9', repo: 'baseos' },
    { name: 'openssl-libs', arch: 'x86_64', version: '1:3.0.7-27.el9', repo: 'baseos' },
    { name: 'tzdata', arch: 'noarch', version: '2026a-1.el9', repo: 'baseos' },
  ]);
});

test('dnf-automatic configuration from the policy', () => {
  const policy = parsePolicy({
    name: 'rhel',
    version: 2,
    group: 'db',
    install: { blocklist: ['kernel*', 'postgresql16-server'], allowlist: ['openssl*'] },
    schedule: {
      runner: 'timer',
      windows: [{ days: ['sun'], start: '03:00', end: '05:00', time_zone: 'Europe/Paris' }],
    },
  });
  const { text, warnings } = dnfAutomaticConf(policy);
  assert.match(text, /^upgrade_type = security$/m);
  assert.match(text, /^apply_updates = yes$/m);
  assert.match(text, /^reboot = never$/m);
  assert.match(text, /^excludepkgs = kernel\* postgresql16-server$/m);
  assert.match(text, /^includepkgs = openssl\*$/m);
  assert.equal(warnings.length, 1, 'a non-strict allowlist cannot be expressed');
  assert.match(dnfTimerDropIn(policy) ?? '', /^OnCalendar=Sun \*-\*-\* 03:00:00 Europe\/Paris$/m);
});
