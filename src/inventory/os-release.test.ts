import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { alpineBranch, branchOfRelease, codenameInVersion, parseOsRelease, readOsInfo } from './os-release.ts';
import { pkgdb } from '../../test/support/paths.ts';
import { scratchDir } from '../../test/support/scratch-dir.ts';

type T = { after(fn: () => void): void };

/** A scratch root holding `files` (path relative to the root → content). */
function makeRoot(t: T, files: Record<string, string>): string {
  const root = scratchDir(t);
  for (const [rel, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
    writeFileSync(path.join(root, rel), text);
  }
  return root;
}

test('bookworm-host: the fixture os-release as written', async () => {
  for (const name of ['bookworm-host', 'syft-image-dpkg']) {
    const root = pkgdb(`dpkg/${name}`);
    const r = await readOsInfo(root);
    assert.deepEqual(r.os, {
      id: 'debian',
      version_id: '12',
      codename: 'bookworm',
      pretty_name: 'Debian GNU/Linux 12 (bookworm)',
      id_like: [],
    });
    assert.equal(r.file, path.join(root, 'etc/os-release'));
    assert.deepEqual(r.warnings, []);
  }
});

test('parseOsRelease: double, single and unquoted words, escapes, comments; bad lines warn with their line', () => {
  const text = [
    '# a comment',
    'A="say \\"hi\\" \\$HOME \\\\ \\n"',
    "B='single $x \\n'",
    'C=unquoted\\ value',
    'D="a"\'b\'c',
    'E="unterminated',
    'F=two words',
    'not an assignment',
    'G=x # trailing comment',
    '  H=indented',
    'A=again',
    '',
  ].join('\n');
  const r = parseOsRelease(text, 'F');
  assert.deepEqual(Object.fromEntries(r.fields), {
    A: 'again',
    B: 'single $x \\n',
    C: 'unquoted value',
    D: 'abc',
    G: 'x',
    H: 'indented',
  });
  assert.deepEqual(r.warnings, [
    'F:6: E: unterminated double quote; ignored',
    'F:7: F: text after the value ("words"); quote values with spaces; ignored',
    'F:8: not a KEY=value assignment; ignored',
  ]);
  assert.equal(parseOsRelease('A="say \\"hi\\" \\$HOME \\\\ \\n"', 'F').fields.get('A'), 'say "hi" $HOME \\ \\n');
});

test('falls back to /usr/lib/os-release; an absolute link resolves inside the root, not on this host', async (t) => {
  const fallback = makeRoot(t, { 'usr/lib/os-release': 'ID=testos\nVERSION_ID=7\n' });
  const a = await readOsInfo(fallback);
  assert.equal(a.file, path.join(fallback, 'usr/lib/os-release'));
  assert.equal(a.os.id, 'testos');

  const linked = makeRoot(t, { 'usr/lib/os-release': 'ID=linkedos\nPRETTY_NAME="Linked OS"\n' });
  mkdirSync(path.join(linked, 'etc'));
  symlinkSync('/usr/lib/os-release', path.join(linked, 'etc/os-release'));
  const b = await readOsInfo(linked);
  assert.equal(b.os.id, 'linkedos');
  assert.equal(b.os.pretty_name, 'Linked OS');
  assert.equal(b.file, path.join(linked, 'usr/lib/os-release'));
});

test('no os-release: empty fields and a warning', async (t) => {
  const root = makeRoot(t, {});
  const r = await readOsInfo(root);
  assert.deepEqual(r.os, { id: '', version_id: '', codename: '', pretty_name: '', id_like: [] });
  assert.equal(r.file, null);
  assert.match(
    r.warnings.join('\n'),
    /no os-release under .* \(looked for \/etc\/os-release, \/usr\/lib\/os-release\)/,
  );
});

test('codename: VERSION_CODENAME, UBUNTU_CODENAME, then the word in VERSION for the Debian family only', async (t) => {
  const cases: [string, string][] = [
    ['ID=ubuntu\nID_LIKE=debian\nVERSION_ID="22.04"\nVERSION_CODENAME=jammy\nUBUNTU_CODENAME=jammy\n', 'jammy'],
    ['ID=linuxmint\nID_LIKE="ubuntu debian"\nVERSION_CODENAME=vera\nUBUNTU_CODENAME=jammy\n', 'vera'],
    ['ID=pop\nID_LIKE="ubuntu debian"\nUBUNTU_CODENAME=jammy\n', 'jammy'],
    ['ID=ubuntu\nID_LIKE=debian\nVERSION="14.04.6 LTS, Trusty Tahr"\nVERSION_ID="14.04"\n', 'trusty'],
    ['ID=ubuntu\nVERSION="16.04.7 LTS (Xenial Xerus)"\n', 'xenial'],
    ['ID=debian\nVERSION_ID="8"\nVERSION="8 (jessie)"\n', 'jessie'],
    ['ID=fedora\nVERSION="39 (Container Image)"\nVERSION_ID=39\n', ''],
    ['ID=rocky\nID_LIKE="rhel centos fedora"\nVERSION="9.3 (Blue Onyx)"\n', ''],
  ];
  for (const [text, codename] of cases) {
    const r = await readOsInfo(makeRoot(t, { 'etc/os-release': text }));
    assert.equal(r.os.codename, codename, text);
  }
  const mint = await readOsInfo(makeRoot(t, { 'etc/os-release': 'ID=linuxmint\nID_LIKE="ubuntu debian"\n' }));
  assert.deepEqual(mint.os.id_like, ['ubuntu', 'debian']);
  assert.equal(codenameInVersion('12 (bookworm)'), 'bookworm');
});

test('Debian testing/sid without VERSION_ID: codename from /etc/debian_version', async (t) => {
  const testing = 'PRETTY_NAME="Debian GNU/Linux trixie/sid"\nNAME="Debian GNU/Linux"\nID=debian\n';
  const a = await readOsInfo(makeRoot(t, { 'etc/os-release': testing, 'etc/debian_version': 'trixie/sid\n' }));
  assert.deepEqual(a.os, {
    id: 'debian',
    version_id: '',
    codename: 'trixie',
    pretty_name: 'Debian GNU/Linux trixie/sid',
    id_like: [],
  });
  const b = await readOsInfo(
    makeRoot(t, { 'etc/os-release': `${testing}VERSION_CODENAME=forky\n`, 'etc/debian_version': 'trixie/sid\n' }),
  );
  assert.equal(b.os.codename, 'forky');
  const stable = await readOsInfo(makeRoot(t, { 'etc/os-release': 'ID=debian\n', 'etc/debian_version': '12.5\n' }));
  assert.equal(stable.os.codename, '');
});

const ALPINE_OS = 'NAME="Alpine Linux"\nID=alpine\nVERSION_ID=3.18.4\nPRETTY_NAME="Alpine Linux v3.18"\n';
const CDN = 'https://dl-cdn.alpinelinux.org/alpine';

test('Alpine: the branch from the repositories, agreeing with alpine-release', async (t) => {
  const root = makeRoot(t, {
    'etc/os-release': ALPINE_OS,
    'etc/alpine-release': '3.18.4\n',
    'etc/apk/repositories': `${CDN}/v3.18/main\n${CDN}/v3.18/community\n`,
  });
  assert.deepEqual(await alpineBranch(root), { branch: '3.18', fromRepositories: true, mixed: false, warnings: [] });
  const r = await readOsInfo(root);
  assert.deepEqual(r.os, {
    id: 'alpine',
    version_id: '3.18.4',
    codename: '3.18',
    pretty_name: 'Alpine Linux v3.18',
    id_like: [],
  });
  assert.deepEqual(r.warnings, []);
});

test('Alpine: repositories naming another branch win over alpine-release, with a warning', async (t) => {
  const root = makeRoot(t, {
    'etc/os-release': ALPINE_OS,
    'etc/alpine-release': '3.18.4\n',
    'etc/apk/repositories': `# upgraded\n${CDN}/v3.19/main\n${CDN}/v3.19/community\n`,
  });
  const b = await alpineBranch(root);
  assert.equal(b.branch, '3.19');
  assert.equal(b.fromRepositories, true);
  assert.equal(b.mixed, false);
  assert.deepEqual(b.warnings, [
    `${path.join(root, 'etc/alpine-release')} says 3.18.4 (branch 3.18) but the repositories use branch 3.19; using 3.19`,
  ]);
  assert.equal((await readOsInfo(root)).os.codename, '3.19');
});

test('Alpine: mixed branches (a tagged edge repository) warn; the first untagged repository decides', async (t) => {
  const root = makeRoot(t, {
    'etc/alpine-release': '3.18.4\n',
    'etc/apk/repositories': `/media/cdrom/apks\n${CDN}/v3.18/main\n@testing ${CDN}/edge/testing\n`,
    'etc/apk/repositories.d/extra.list': `${CDN}/v3.18/community\n`,
  });
  const b = await alpineBranch(root);
  assert.equal(b.branch, '3.18');
  assert.equal(b.mixed, true);
  const repos = path.join(root, 'etc/apk/repositories');
  assert.deepEqual(b.warnings, [
    `repositories name several Alpine branches: 3.18 at ${repos}:2, edge (tagged) at ${repos}:3, 3.18 at ${path.join(root, 'etc/apk/repositories.d/extra.list')}:1`,
  ]);
});

test('Alpine: edge, and the fallbacks when repositories name no branch', async (t) => {
  const edge = makeRoot(t, {
    'etc/alpine-release': '3.22_alpha20250108\n',
    'etc/apk/repositories': `${CDN}/edge/main\n`,
  });
  assert.deepEqual(await alpineBranch(edge), { branch: 'edge', fromRepositories: true, mixed: false, warnings: [] });

  const latest = makeRoot(t, {
    'etc/alpine-release': '3.20.3\n',
    'etc/apk/repositories': `${CDN}/latest-stable/main\n`,
  });
  assert.deepEqual(await alpineBranch(latest), { branch: '3.20', fromRepositories: false, mixed: false, warnings: [] });

  const osOnly = makeRoot(t, { 'etc/os-release': ALPINE_OS });
  assert.equal((await readOsInfo(osOnly)).os.codename, '3.18');

  const nothing = makeRoot(t, { 'etc/alpine-release': 'garbage\n' });
  const n = await alpineBranch(nothing);
  assert.equal(n.branch, null);
  assert.equal(n.warnings.length, 2);
  assert.match(n.warnings[0], /alpine-release: unrecognised release "garbage"/);
  assert.match(n.warnings[1], /cannot tell the Alpine branch/);
});

test('branchOfRelease', () => {
  assert.equal(branchOfRelease('3.18.4'), '3.18');
  assert.equal(branchOfRelease('3.9.0'), '3.9');
  assert.equal(branchOfRelease('3.21'), '3.21');
  assert.equal(branchOfRelease('3.21_alpha20240807'), 'edge');
  assert.equal(branchOfRelease('3.19.0_rc1'), '3.19');
  assert.equal(branchOfRelease('edge'), null);
});
