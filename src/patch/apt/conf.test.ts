import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { nextWindow, parsePolicy } from '../../core/policy/index.ts';
import { aptConfSnippet, distroOrigins, namePatternRegex, originPattern, timerDropIn } from './conf.ts';

const policy = parsePolicy({
  name: 'web',
  version: 4,
  group: 'web',
  install: {
    blocklist: ['libc6', 'libstdc++6', 'perl-modules-5.36', 'linux-image-*'],
    allowlist: [],
    extra_apt_origins: [
      { origin: 'nginx', codename: 'bookworm' },
      { site: 'repo.example.com', label: 'Internal, signed' },
    ],
  },
  schedule: {
    windows: [
      { days: ['tue', 'thu'], start: '01:30', end: '03:30', time_zone: 'Europe/Berlin' },
      { start: '22:00', end: '02:00', time_zone: 'America/New_York' },
    ],
  },
});
const bookworm = { id: 'debian', codename: 'bookworm' };

test('package patterns become end-anchored, escaped regexes', () => {
  assert.equal(namePatternRegex('libc6'), 'libc6$');
  assert.equal(namePatternRegex('libstdc++6'), 'libstdc\\+\\+6$');
  assert.equal(namePatternRegex('perl-modules-5.36'), 'perl-modules-5\\.36$');
  assert.equal(namePatternRegex('linux-image-*'), 'linux-image-.*$');
  assert.throws(() => namePatternRegex('a b'), /not a package name pattern/);
});

const PYTHON = '/usr/bin/python3';

test(
  'unattended-upgrades (Python re.match) reads the patterns as exact names',
  { skip: !existsSync(PYTHON) && 'python3 is not installed' },
  () => {
    // u-u applies Package-Blacklist entries with re.match: check with Python itself.
    const name = fc.stringMatching(/^[a-z0-9][a-z0-9+.-]{1,20}$/);
    const cases = fc.sample(fc.tuple(name, fc.constantFrom('', '-dev', '1', '.1', '+b1', 'x')), 300);
    const probes = cases.flatMap(([n, suffix]) => [
      { regex: namePatternRegex(n), name: n + suffix, expect: suffix === '' },
      // a dot in the name must not match another character
      { regex: namePatternRegex(n), name: n.replace('.', 'x'), expect: !n.includes('.') },
    ]);
    const out = execFileSync(
      PYTHON,
      [
        '-c',
        'import json,re,sys\nprint(json.dumps([re.match(p["regex"], p["name"]) is not None for p in json.load(sys.stdin)]))',
      ],
      { input: JSON.stringify(probes), encoding: 'utf8' },
    );
    const got = JSON.parse(out) as boolean[];
    probes.forEach((p, i) => assert.equal(got[i], p.expect, `${p.regex} against ${p.name}`));
  },
);

test('origins by codename for Debian and Ubuntu, and extra origins with escaped commas', () => {
  assert.deepEqual(distroOrigins('debian', 'bookworm', 'security').map(originPattern), [
    'origin=Debian,label=Debian-Security,codename=bookworm-security',
    'origin=Debian,label=Debian-Security,codename=bookworm',
  ]);
  assert.equal(distroOrigins('debian', 'bookworm', 'all').length, 4);
  assert.ok(
    distroOrigins('ubuntu', 'noble', 'security')
      .map(originPattern)
      .includes('origin=UbuntuESM,codename=noble-infra-security'),
  );
  assert.equal(
    originPattern({ site: 'repo.example.com', label: 'Internal, signed' }),
    'label=Internal\\, signed,site=repo.example.com',
  );
  assert.throws(() => distroOrigins('debian', '', 'security'), /missing codename/);
  assert.throws(
    () =>
      aptConfSnippet({
        policy: parsePolicy({ name: 'a', version: 1, group: 'g' }),
        os: { id: 'gentoo', codename: 'x' },
      }),
    /no apt origins for gentoo/,
  );
  assert.match(
    aptConfSnippet({ policy, os: { id: 'gentoo', codename: 'x' } }),
    /origin=nginx/,
    'extra origins alone are enough',
  );
  assert.match(
    aptConfSnippet({ policy, os: { id: 'raspbian', codename: 'bookworm', id_like: ['debian'] } }),
    /codename=bookworm-security/,
  );
});

test(
  'the snippet, read by the real apt-config after the distribution defaults, replaces their lists',
  { skip: !existsSync('/usr/bin/apt-config') && 'apt-config is not installed' },
  async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'patchloop-aptconf-'));
    try {
      const file = path.join(dir, '51patchloop');
      await writeFile(file, aptConfSnippet({ policy, os: bookworm }));
      // -c reads the file after /etc/apt/apt.conf.d, as 51patchloop comes after 50unattended-upgrades
      const dump = execFileSync('apt-config', ['-c', file, 'dump'], { encoding: 'utf8' });
      const values = (key: string) =>
        dump
          .split('\n')
          .filter((l) => l.toLowerCase().startsWith(`${key.toLowerCase()}:: `))
          .map(
            (l) =>
              JSON.parse(
                l
                  .slice(key.length + 3)
                  .replace(/;$/, '')
                  .replace(/\\/g, '\\\\'),
              ) as string,
          );
      assert.deepEqual(values('Unattended-Upgrade::Origins-Pattern'), [
        'origin=Debian,label=Debian-Security,codename=bookworm-security',
        'origin=Debian,label=Debian-Security,codename=bookworm',
        'origin=patchloop,label=patchloop',
        'origin=nginx,codename=bookworm',
        'label=Internal\\, signed,site=repo.example.com',
      ]);
      assert.deepEqual(values('Unattended-Upgrade::Package-Blacklist'), [
        'libc6$',
        'libstdc\\+\\+6$',
        'perl-modules-5\\.36$',
        'linux-image-.*$',
      ]);
      assert.deepEqual(values('Unattended-Upgrade::Package-Whitelist'), []);
      assert.deepEqual(values('Dpkg::Options'), ['--force-confdef', '--force-confold']);
      assert.match(dump, /^Unattended-Upgrade::Automatic-Reboot "false";$/m);
      assert.match(dump, /^APT::Periodic::Unattended-Upgrade "0";$/m);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  },
);

test('skip_package leaves Dpkg::Options out, so u-u skips conffile prompts; the timer runner enables the timer', () => {
  const p = parsePolicy({
    name: 'db',
    version: 1,
    group: 'db',
    install: { config_files: 'skip_package' },
    schedule: { runner: 'timer' },
  });
  const text = aptConfSnippet({ policy: p, os: bookworm });
  assert.doesNotMatch(text, /Dpkg::Options|--force-conf(old|new|def)"/);
  assert.match(text, /^APT::Periodic::Unattended-Upgrade "1";$/m);
});

test('timer drop-in: one OnCalendar per window in its zone, no catch-up at boot', () => {
  const text = timerDropIn(policy);
  assert.ok(text);
  assert.match(text, /^OnCalendar=$/m, 'clears the distribution schedule first');
  assert.match(text, /^OnCalendar=Tue,Thu \*-\*-\* 01:30:00 Europe\/Berlin$/m);
  assert.match(text, /^OnCalendar=\*-\*-\* 22:00:00 America\/New_York$/m);
  assert.match(text, /^RandomizedDelaySec=30m$/m);
  assert.match(text, /^Persistent=false$/m);
  assert.equal(timerDropIn(parsePolicy({ name: 'a', version: 1, group: 'g' })), null);
});

test(
  'systemd accepts the calendar expressions',
  { skip: !existsSync('/usr/bin/systemd-analyze') && 'systemd-analyze is not installed' },
  () => {
    const text = timerDropIn(policy) ?? '';
    for (const line of text.split('\n').filter((l) => /^OnCalendar=./.test(l))) {
      const spec = line.slice('OnCalendar='.length);
      const out = execFileSync('systemd-analyze', ['calendar', spec], { encoding: 'utf8' });
      assert.match(out, /Normalized form: /, spec);
    }
  },
);

test(
  'window starts agree with systemd calendar arithmetic across DST changes',
  { skip: !existsSync('/usr/bin/systemd-analyze') && 'systemd-analyze is not installed' },
  () => {
    // Start times outside DST gaps: systemd skips a time that does not exist, patchloop moves it
    // forward (see zonedToInstant); for every other time, including doubled ones, both agree.
    const cases = [
      { start: '01:30', end: '02:30', time_zone: 'Europe/Berlin', base: '2026-03-25 12:00' },
      { start: '01:30', end: '03:00', time_zone: 'America/New_York', base: '2026-10-28 12:00' },
      { start: '03:00', end: '04:00', time_zone: 'Australia/Lord_Howe', base: '2026-09-29 12:00' },
      { start: '23:15', end: '00:15', time_zone: 'Asia/Kolkata', base: '2026-06-01 12:00' },
    ];
    for (const c of cases) {
      const p = parsePolicy({
        name: 'a',
        version: 1,
        group: 'g',
        schedule: {
          windows: [{ days: ['mon', 'wed', 'fri', 'sat', 'sun'], start: c.start, end: c.end, time_zone: c.time_zone }],
        },
      });
      const spec =
        (timerDropIn(p) ?? '')
          .split('\n')
          .find((l) => /^OnCalendar=./.test(l))
          ?.slice('OnCalendar='.length) ?? '';
      const out = execFileSync('systemd-analyze', ['calendar', '--iterations=10', `--base-time=${c.base} UTC`, spec], {
        encoding: 'utf8',
        env: { ...process.env, TZ: 'UTC' },
      });
      const systemd = [...out.matchAll(/(?:Next elapse|Iter\. #\d+): \w+ (\d{4}-\d\d-\d\d \d\d:\d\d:\d\d) UTC/g)].map(
        (m) => `${m[1].replace(' ', 'T')}.000Z`,
      );
      const ours: string[] = [];
      let t = Date.parse(`${c.base.replace(' ', 'T')}:00Z`);
      while (ours.length < 10) {
        const occ = nextWindow(p.schedule.windows, t);
        assert.ok(occ);
        ours.push(new Date(occ.start).toISOString());
        t = occ.end;
      }
      assert.deepEqual(ours, systemd, `${spec} from ${c.base}`);
    }
  },
);
