import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseAptPolicy } from './apt-policy.ts';
import { parseDpkgAudit } from './dpkg-audit.ts';
import { parseDpkgLog } from './dpkg-log.ts';
import { parseHistoryLog } from './history-log.ts';
import { interpretAptRun, type AptEvidence } from './interpret.ts';
import { parseKeptBack, parseUuLog } from './uu-log.ts';
import { fixture, patchlab } from '../../../test/support/patch-logs.ts';

const files = { uuLog: 'unattended-upgrades.log', history: 'history.log', dpkgLog: 'unattended-upgrades-dpkg.log' };

/** The evidence of one captured scenario directory, as the runner gathers it. */
function scenario(dir: string): AptEvidence {
  const read = (f: string) => {
    try {
      return fixture(`${dir}/${f}`);
    } catch {
      return null;
    }
  };
  return {
    runs: parseUuLog(read('unattended-upgrades.log') ?? '', files.uuLog),
    history: parseHistoryLog(read('history.log') ?? '', files.history).entries,
    dpkg: parseDpkgLog(read('unattended-upgrades-dpkg.log') ?? '', files.dpkgLog),
    keptBack: read('kept-back') === null ? null : parseKeptBack(read('kept-back') ?? ''),
    exitCode: Number(read('exit-code')),
    dryRun: false,
    files,
  };
}

test('patchlab: a complete real run, and its dry run, from logs that hold both', () => {
  const history = parseHistoryLog(patchlab('apt-history.log'), files.history).entries;
  const real = interpretAptRun({
    runs: parseUuLog(patchlab('uu.log'), files.uuLog),
    history,
    dpkg: parseDpkgLog(patchlab('uu-dpkg.log'), files.dpkgLog),
    keptBack: null,
    exitCode: 0,
    dryRun: false,
    files,
  });
  assert.equal(real.outcome, 'success');
  assert.equal(real.changes.length, 26);
  assert.ok(real.changes.every((c) => c.ok));
  assert.deepEqual(real.errors, []);
  assert.deepEqual(real.held_back, []);
  // the dry-run stanzas in the same history.log are not counted as changes of the real run
  assert.equal(real.changes.filter((c) => c.name === 'libssl3').length, 1);

  const dry = interpretAptRun({
    runs: parseUuLog(patchlab('uu-dryrun.log'), files.uuLog),
    history,
    dpkg: [],
    keptBack: null,
    exitCode: 0,
    dryRun: true,
    files,
  });
  assert.equal(dry.outcome, 'dry_run');
  assert.deepEqual(
    dry.changes.map((c) => `${c.name}=${c.to}`).sort(),
    real.changes.map((c) => `${c.name}=${c.to}`).sort(),
  );
});

test('lock held: nothing changed, the run counts as skipped with a lock error', () => {
  const r = interpretAptRun(scenario('lock-held'));
  assert.equal(r.outcome, 'skipped');
  assert.equal(r.lock_failed, true);
  assert.match(r.skip_reason ?? '', /dpkg lock/);
  assert.deepEqual(
    r.errors.map((e) => [e.kind, e.where]),
    [['lock', 'unattended-upgrades.log:4']],
  );
});

test('blocklist and conffile prompt: held back with their reasons, the rest installed, exit 1 is no failure', () => {
  const ev = scenario('blocklist-and-conffile');
  assert.equal(ev.exitCode, 1);
  const r = interpretAptRun(ev);
  assert.equal(r.outcome, 'success');
  assert.deepEqual(r.errors, []);
  assert.deepEqual(
    r.held_back.map((h) => [h.name, h.reason]),
    [
      ['patchloop-canary', 'blocklist'],
      ['patchloop-canary-conf', 'config_prompt'],
    ],
  );
  assert.ok(r.changes.length > 10 && r.changes.every((c) => c.ok));
  assert.ok(!r.changes.some((c) => c.name.startsWith('patchloop-canary')));
});

test('broken dpkg: the failing package is named, the other set went in: partial', () => {
  const r = interpretAptRun(scenario('broken-dpkg'));
  assert.equal(r.outcome, 'partial');
  assert.deepEqual(
    r.changes.map((c) => [c.name, c.ok]),
    [
      ['patchloop-canary', true],
      ['patchloop-broken', false],
    ],
  );
  assert.deepEqual(
    r.errors.map((e) => [e.kind, e.package, e.where]),
    [['dpkg', 'patchloop-broken', 'unattended-upgrades-dpkg.log:38']],
  );
  assert.match(r.errors[0].message, /post-installation script subprocess returned error exit status 1/);
  assert.deepEqual(
    r.held_back.map((h) => [h.name, h.reason]),
    [['patchloop-canary-conf', 'config_prompt']],
    'the failed package is an error, not held back',
  );
});

test('the next run after a broken postinst says nothing to do; dpkg --audit shows the half-configured package', () => {
  const r = interpretAptRun(scenario('broken-dpkg-next-run'));
  assert.equal(r.outcome, 'nothing_to_do');
  assert.deepEqual(parseDpkgAudit(fixture('broken-dpkg-next-run/dpkg-audit')), [
    { package: 'patchloop-broken', state: 'is only half configured' },
  ]);
});

test('interrupted by SIGTERM: what went in is reported, the rest held back as interrupted', () => {
  const r = interpretAptRun(scenario('interrupted'));
  assert.equal(r.outcome, 'partial');
  assert.equal(r.errors.length, 1);
  assert.equal(r.errors[0].kind, 'interrupted');
  assert.equal(r.errors[0].message, 'SIGTERM received, will stop');
  assert.ok(r.changes.length >= 1 && r.changes.every((c) => c.ok));
  // the capture kept the canaries out with a blacklist entry
  const [blocked, stopped] = [
    r.held_back.filter((h) => h.name.startsWith('patchloop-')),
    r.held_back.filter((h) => !h.name.startsWith('patchloop-')),
  ];
  assert.deepEqual(
    blocked.map((h) => h.reason),
    ['blocklist', 'blocklist'],
  );
  assert.ok(stopped.length > 5 && stopped.every((h) => h.reason === 'interrupted'));
});

test('nothing to do, not an update day, and a conffile kept locally', () => {
  const idle = interpretAptRun(scenario('nothing-to-do'));
  assert.equal(idle.outcome, 'nothing_to_do');
  assert.deepEqual(
    idle.held_back.map((h) => [h.name, h.reason]),
    [['patchloop-canary-conf', 'config_prompt']],
  );
  const day = interpretAptRun(scenario('not-update-day'));
  assert.equal(day.outcome, 'skipped');
  assert.match(day.skip_reason ?? '', /not an update day/);
  const kept = interpretAptRun(scenario('conffile-kept-local'));
  assert.equal(kept.outcome, 'success');
  assert.deepEqual(
    kept.changes.map((c) => [c.name, c.from, c.to]),
    [['patchloop-canary-conf', '1.0', '1.0+deb12u1']],
  );
});

test('a phased update is told apart from other kept-back packages by apt-cache policy', () => {
  const ev = scenario('interrupted');
  const policy = parseAptPolicy(fixture('apt-cache-policy.txt'));
  assert.equal(policy.get('patchloop-phased')?.candidate_phased_percent, 0);
  assert.equal(policy.get('openssl')?.candidate_phased_percent, null);
  // a run that was not interrupted, holding back the phased package with u-u's generic excuse
  const run = ev.runs[0];
  const generic = {
    ...run,
    result: 'all_installed' as const,
    kept_back: [
      {
        name: 'patchloop-phased',
        reason: 'dependency' as const,
        detail:
          'Package patchloop-phased is kept back because a related package is kept back or due to local apt_preferences(5).',
        line: 1,
      },
    ],
  };
  const r = interpretAptRun({ ...ev, runs: [generic], aptPolicy: policy, exitCode: 0 });
  assert.deepEqual(
    r.held_back.map((h) => [h.name, h.reason]),
    [['patchloop-phased', 'phased']],
  );
  assert.match(r.held_back[0].detail, /phased in \(0% of machines so far\)/);
});

test('an exit status with no log at all is an error, never a silent success', () => {
  const r = interpretAptRun({ runs: [], history: [], dpkg: [], keptBack: null, exitCode: 1, dryRun: false, files });
  assert.equal(r.outcome, 'failed');
  assert.match(r.errors[0].message, /exited 1 and wrote nothing/);
  // a history stanza that failed while the dpkg log is missing: changes are not confirmed
  const history = parseHistoryLog(fixture('broken-dpkg/history.log'), files.history).entries;
  const noDpkg = interpretAptRun({ runs: [], history, dpkg: [], keptBack: null, exitCode: null, dryRun: false, files });
  assert.deepEqual(
    noDpkg.changes.map((c) => [c.name, c.ok]),
    [
      ['patchloop-canary', true],
      ['patchloop-broken', false],
    ],
  );
  assert.equal(noDpkg.outcome, 'partial');
  assert.equal(noDpkg.warnings.length, 1);
});
