// The server's package repositories checked by the tools that consume them: a real server on
// loopback publishes the packages `npm run package` built (dist/), and
// - apt: gpgv and sqv verify InRelease and Release.gpg with /repo/key.asc; Release lists the
//   indexes with their real sizes and digests; each Packages stanza is the .deb's own control
//   file (dpkg-deb -f) plus the digest of the file the server serves;
// - dnf: createrepo_c indexes the same .rpm files and its primary.xml says what ours says
//   (NEVRA, checksum, sizes, header range, provides, requires, files); dnf itself (Debian's
//   package) reads the repository with repo_gpgcheck=1 and the pinned key, and refuses it with
//   another key;
// - apk: the APKINDEX signature verifies with openssl over the bytes apk-tools digests (the
//   index member after the signature member), and each `C:` is the SHA-1 of the package's
//   control member, split out by Python's zlib. apk-tools itself is not available on Debian:
//   this is as far as the Alpine repository is checked here;
// - `patchloop server publish` adds a version (the running server re-signs at the next
//   request) and refuses a package that is not patchloop's.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { linkSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { runCli } from './support/cli.ts';
import { builtFile } from './support/packages.ts';
import { api, startTestServer, type TestServer } from './support/server.ts';
import { startServerProcess } from './support/server-process.ts';

const have = (tool: string) => spawnSync('sh', ['-c', `command -v ${tool}`]).status === 0;
const missing = ['gpgv', 'sqv', 'dpkg-deb', 'createrepo_c', 'openssl', 'python3'].filter((t) => !have(t));
const skip = missing.length ? `missing ${missing.join(', ')} (scripts/test-debian-packages)` : false;

function run(
  argv: string[],
  o: { cwd?: string; input?: string } = {},
): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(argv[0], argv.slice(1), { encoding: 'utf8', cwd: o.cwd, input: o.input });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Runs a command without blocking this process, whose event loop serves the in-process server the command talks to. */
function runAsync(argv: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0], argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

function sha256(b: Buffer): string {
  return createHash('sha256').update(b).digest('hex');
}

async function download(url: string, file: string): Promise<Buffer> {
  const res = await fetch(url);
  assert.equal(res.status, 200, `${url}: ${res.status}`);
  const body = Buffer.from(await res.arrayBuffer());
  writeFileSync(file, body);
  return body;
}

/** The packages dir the server publishes: hard links to the built files (no 100 MB copies). */
function packagesDir(work: string): string {
  const dir = join(work, 'packages');
  mkdirSync(dir);
  for (const kind of ['deb', 'rpm', 'apk'] as const) {
    for (const arch of ['x64', 'arm64'] as const) {
      const f = builtFile(kind, arch);
      linkSync(f, join(dir, basename(f)));
    }
  }
  return dir;
}

test(
  'the package repositories, read and verified by gpgv, sqv, dpkg-deb, createrepo_c, dnf and openssl',
  { skip, timeout: 10 * 60_000 },
  async (t) => {
    const work = mkdtempSync(join(tmpdir(), 'patchloop-repo-'));
    const s: TestServer = await startTestServer(null, { repo: { packages_dir: packagesDir(work) } });
    t.after(async () => {
      await s.close();
      await rm(work, { recursive: true, force: true });
      await rm(s.dataDir, { recursive: true, force: true });
    });
    const repo = `${s.url}/repo`;
    const keyAsc = join(work, 'key.asc');
    const armored = await download(`${repo}/key.asc`, keyAsc);
    const keyring = join(work, 'key.gpg');
    assert.equal(run(['sh', '-c', 'gpg --dearmor < "$0" > "$1"', keyAsc, keyring]).code, 0);

    await t.test('the private keys are 0600 in the data directory; key.asc is their public half', () => {
      const dir = join(s.dataDir, 'repo-keys');
      for (const f of readdirSync(dir).filter((f) => f.includes('private')))
        assert.equal(statSync(join(dir, f)).mode & 0o777, 0o600, f);
      assert.equal(readFileSync(join(dir, 'openpgp-public.asc'), 'utf8'), armored.toString());
      assert.match(armored.toString(), /^-----BEGIN PGP PUBLIC KEY BLOCK-----/);
    });

    await t.test(
      'apt: InRelease and Release.gpg verify with gpgv and sqv; the Release digests are the indexes served',
      async () => {
        const dists = join(work, 'dists');
        mkdirSync(dists);
        const release = await download(`${repo}/apt/dists/stable/Release`, join(dists, 'Release'));
        await download(`${repo}/apt/dists/stable/Release.gpg`, join(dists, 'Release.gpg'));
        const inRelease = await download(`${repo}/apt/dists/stable/InRelease`, join(dists, 'InRelease'));
        const gpgv = run(['gpgv', '--keyring', keyring, join(dists, 'InRelease')]);
        assert.equal(gpgv.code, 0, gpgv.stderr);
        assert.match(gpgv.stderr, /Good signature from "patchloop package repository"/);
        assert.equal(run(['gpgv', '--keyring', keyring, join(dists, 'Release.gpg'), join(dists, 'Release')]).code, 0);
        const sqv = run(['sqv', '--keyring', keyAsc, join(dists, 'Release.gpg'), join(dists, 'Release')]);
        assert.equal(sqv.code, 0, sqv.stderr);
        assert.ok(inRelease.toString().includes(release.toString().trim()), 'InRelease carries the Release text');

        // A changed byte breaks the signature.
        writeFileSync(join(dists, 'Release'), release.toString().replace('Label: patchloop', 'Label: patchlooq'));
        assert.notEqual(
          run(['gpgv', '--keyring', keyring, join(dists, 'Release.gpg'), join(dists, 'Release')]).code,
          0,
        );

        const text = release.toString();
        assert.match(text, /^Origin: patchloop$/m);
        assert.match(text, /^Label: patchloop$/m);
        assert.match(text, /^Suite: stable$/m);
        assert.match(text, /^Architectures: amd64 arm64$/m);
        const listed = [...text.matchAll(/^ ([0-9a-f]{64}) +(\d+) (\S+)$/gm)].map((m) => ({
          sha: m[1],
          size: Number(m[2]),
          path: m[3],
        }));
        assert.deepEqual(listed.map((l) => l.path).sort(), [
          'main/binary-amd64/Packages',
          'main/binary-amd64/Packages.gz',
          'main/binary-arm64/Packages',
          'main/binary-arm64/Packages.gz',
        ]);
        for (const l of listed) {
          const body = Buffer.from(await (await fetch(`${repo}/apt/dists/stable/${l.path}`)).arrayBuffer());
          assert.equal(body.length, l.size, l.path);
          assert.equal(sha256(body), l.sha, l.path);
        }
      },
    );

    await t.test(
      'apt: each Packages stanza is the .deb control file plus the served file and its SHA-256',
      async () => {
        for (const [arch, nodeArch] of [
          ['amd64', 'x64'],
          ['arm64', 'arm64'],
        ] as const) {
          const packages = await (await fetch(`${repo}/apt/dists/stable/main/binary-${arch}/Packages`)).text();
          const deb = builtFile('deb', nodeArch);
          const control = run(['dpkg-deb', '-f', deb]).stdout.trimEnd();
          assert.ok(packages.startsWith(`${control}\n`), `the ${arch} stanza starts with the control file`);
          const filename = /^Filename: (.*)$/m.exec(packages)![1];
          const served = await download(`${repo}/apt/${filename}`, join(work, basename(filename)));
          assert.deepEqual(served, readFileSync(deb), 'the pool serves the built file');
          assert.match(packages, new RegExp(`^SHA256: ${sha256(served)}$`, 'm'));
          assert.match(packages, new RegExp(`^Size: ${served.length}$`, 'm'));
        }
      },
    );

    await t.test(
      'dnf: primary.xml says what createrepo_c says of the same files; repomd.xml.asc verifies',
      async () => {
        const rpmDir = join(work, 'rpm');
        mkdirSync(join(rpmDir, 'repodata'), { recursive: true });
        const repomd = await download(`${repo}/rpm/repodata/repomd.xml`, join(rpmDir, 'repodata/repomd.xml'));
        await download(`${repo}/rpm/repodata/repomd.xml.asc`, join(rpmDir, 'repodata/repomd.xml.asc'));
        assert.equal(
          run([
            'gpgv',
            '--keyring',
            keyring,
            join(rpmDir, 'repodata/repomd.xml.asc'),
            join(rpmDir, 'repodata/repomd.xml'),
          ]).code,
          0,
        );
        for (const m of repomd.toString().matchAll(/<location href="(repodata\/[^"]+)"\/>/g))
          await download(`${repo}/rpm/${m[1]}`, join(rpmDir, m[1]));

        const reference = join(work, 'createrepo');
        mkdirSync(reference);
        for (const arch of ['x64', 'arm64'] as const)
          linkSync(builtFile('rpm', arch), join(reference, basename(builtFile('rpm', arch))));
        const cr = run(['createrepo_c', '--quiet', '--no-database', reference]);
        assert.equal(cr.code, 0, cr.stderr);
        // The fields dnf resolves and downloads by, from both primary.xml files (the hrefs differ by design).
        const extract = String.raw`
import glob, gzip, json, sys, xml.etree.ElementTree as ET
ns = {'c': 'http://linux.duke.edu/metadata/common', 'rpm': 'http://linux.duke.edu/metadata/rpm'}
def deps(fmt, kind):
    return sorted(json.dumps(e.attrib, sort_keys=True) for e in fmt.findall('rpm:%s/rpm:entry' % kind, ns))
out = []
for p in ET.parse(gzip.open(glob.glob(sys.argv[1] + '/repodata/*-primary.xml.gz')[0])).getroot().findall('c:package', ns):
    fmt = p.find('c:format', ns)
    size = p.find('c:size', ns).attrib
    out.append({'name': p.findtext('c:name', None, ns), 'arch': p.findtext('c:arch', None, ns), 'version': p.find('c:version', ns).attrib,
                'checksum': p.findtext('c:checksum', None, ns), 'size': size, 'summary': p.findtext('c:summary', None, ns),
                'header_range': fmt.find('rpm:header-range', ns).attrib, 'license': fmt.findtext('rpm:license', None, ns),
                'provides': deps(fmt, 'provides'), 'requires': deps(fmt, 'requires'), 'files': sorted(f.text for f in fmt.findall('c:file', ns))})
print(json.dumps(sorted(out, key=lambda p: p['arch'])))
`;
        const ours = run(['python3', '-c', extract, rpmDir]);
        const theirs = run(['python3', '-c', extract, reference]);
        assert.equal(ours.code, 0, ours.stderr);
        assert.equal(theirs.code, 0, theirs.stderr);
        const parsed = JSON.parse(ours.stdout) as { arch: string }[];
        assert.deepEqual(
          parsed.map((p) => p.arch),
          ['aarch64', 'x86_64'],
        );
        assert.deepEqual(parsed, JSON.parse(theirs.stdout));
      },
    );

    await t.test(
      "dnf (Debian's) reads the repository with repo_gpgcheck=1 and the pinned key, and refuses another key",
      { skip: !have('dnf') && 'dnf is not installed' },
      async () => {
        const dnf = (root: string, key: string) => {
          mkdirSync(join(root, 'repos'), { recursive: true });
          writeFileSync(
            join(root, 'repos/patchloop.repo'),
            `[patchloop]\nname=patchloop\nbaseurl=${repo}/rpm\nrepo_gpgcheck=1\ngpgcheck=0\ngpgkey=file://${key}\n`,
          );
          return runAsync([
            'dnf',
            '-y',
            '-q',
            `--installroot=${root}`,
            '--releasever=9',
            `--setopt=reposdir=${join(root, 'repos')}`,
            '--forcearch=x86_64',
            'repoquery',
            '--queryformat',
            '%{name} %{version}-%{release} %{arch}',
            'patchloop',
          ]);
        };
        const good = await dnf(join(work, 'dnf-good'), keyAsc);
        assert.equal(good.code, 0, good.stderr);
        assert.deepEqual(good.stdout.trim().split('\n').sort(), [
          `patchloop ${builtVersion()}-1 aarch64`,
          `patchloop ${builtVersion()}-1 x86_64`,
        ]);
        // Another key: the metadata signature does not verify, dnf reads nothing.
        const other = join(work, 'other.asc');
        const gen = run([
          'sh',
          '-c',
          `export GNUPGHOME=$(mktemp -d) && gpg --batch --quiet --passphrase '' --quick-gen-key other-key rsa3072 sign never && gpg --armor --export other-key > "$0"`,
          other,
        ]);
        assert.equal(gen.code, 0, gen.stderr);
        const bad = await dnf(join(work, 'dnf-bad'), other);
        assert.equal(bad.stdout.trim(), '', 'nothing read with a key that did not sign the metadata');
        assert.match(bad.stderr, /GPG|signature|verif/i);
      },
    );

    await t.test(
      "apk: the index signature verifies as apk-tools checks it; C: is each package's control member SHA-1",
      async () => {
        const keyName = (await (
          await api(s.url, '/api/v1/repo', { token: s.adminToken })
        ).body) as { fingerprint: string };
        assert.match(keyName.fingerprint, /^[0-9A-F]{40}$/);
        const fingerprint = run(['gpg', '--with-colons', '--show-keys', keyAsc]).stdout;
        assert.ok(fingerprint.includes(`fpr:::::::::${keyName.fingerprint}:`), 'GET /api/v1/repo names the key served');
        for (const [arch, nodeArch] of [
          ['x86_64', 'x64'],
          ['aarch64', 'arm64'],
        ] as const) {
          const dir = join(work, `apk-${arch}`);
          mkdirSync(dir);
          await download(`${repo}/apk/${arch}/APKINDEX.tar.gz`, join(dir, 'APKINDEX.tar.gz'));
          const apk = builtFile('apk', nodeArch);
          // Python splits the gzip members: the signature tar (cut), the index; and the package's control member.
          const split = String.raw`
import hashlib, base64, json, sys, zlib, tarfile, io, gzip
def members(b):
    out = []
    while b:
        d = zlib.decompressobj(16 + 15)
        data = d.decompress(b)
        used = len(b) - len(d.unused_data)
        out.append((b[:used], data))
        b = d.unused_data
    return out
idx = members(open(sys.argv[1] + '/APKINDEX.tar.gz', 'rb').read())
sig_tar = idx[0][1]
name = sig_tar[:100].rstrip(b'\0').decode()
size = int(sig_tar[124:136].rstrip(b'\0 ').decode(), 8)
open(sys.argv[1] + '/sig', 'wb').write(sig_tar[512:512 + size])
open(sys.argv[1] + '/index.gz', 'wb').write(idx[1][0])
index = tarfile.open(fileobj=io.BytesIO(idx[1][1])).extractfile('APKINDEX').read().decode()
control = members(open(sys.argv[2], 'rb').read())[0][0]
print(json.dumps({'signature_file': name, 'members': len(idx), 'index': index, 'control_sha1': 'Q1' + base64.b64encode(hashlib.sha1(control).digest()).decode()}))
`;
          const r = run(['python3', '-c', split, dir, apk]);
          assert.equal(r.code, 0, r.stderr);
          const got = JSON.parse(r.stdout) as {
            signature_file: string;
            members: number;
            index: string;
            control_sha1: string;
          };
          assert.equal(got.members, 2, 'a signature member, then the index member');
          const keyFile = got.signature_file.replace(/^\.SIGN\.RSA256\./, '');
          assert.match(keyFile, /^patchloop-[0-9a-f]{12}\.rsa\.pub$/);
          await download(`${repo}/apk/${keyFile}`, join(dir, keyFile));
          const verify = run([
            'openssl',
            'dgst',
            '-sha256',
            '-verify',
            join(dir, keyFile),
            '-signature',
            join(dir, 'sig'),
            join(dir, 'index.gz'),
          ]);
          assert.equal(verify.code, 0, verify.stdout + verify.stderr);
          assert.match(got.index, new RegExp(`^C:${got.control_sha1.replace(/[+/]/g, '\\$&')}$`, 'm'));
          assert.match(got.index, /^P:patchloop$/m);
          assert.match(got.index, new RegExp(`^A:${arch}$`, 'm'));
          assert.match(got.index, new RegExp(`^S:${statSync(apk).size}$`, 'm'));
          const version = /^V:(.*)$/m.exec(got.index)![1];
          const served = await (await fetch(`${repo}/apk/${arch}/patchloop-${version}.apk`)).arrayBuffer();
          assert.deepEqual(Buffer.from(served), readFileSync(apk));
        }
      },
    );

    await t.test(
      'patchloop server publish: a new version appears at the next request, signed; anything but a patchloop package is refused',
      async () => {
        // The same .deb as another version: its control file says so (dpkg-deb rebuild, gzip members).
        const unpacked = join(work, 'v2');
        assert.equal(run(['dpkg-deb', '-R', builtFile('deb', 'x64'), unpacked]).code, 0);
        const control = join(unpacked, 'DEBIAN/control');
        writeFileSync(
          control,
          readFileSync(control, 'utf8').replace(/^Version: .*$/m, `Version: ${builtVersion()}.1-1`),
        );
        const v2 = join(work, 'patchloop-v2.deb');
        assert.equal(run(['dpkg-deb', '-Zgzip', '-z1', '-b', unpacked, v2]).code, 0);
        const config = join(work, 'server.yaml');
        writeFileSync(config, `data_dir: ${s.dataDir}\nrepo:\n  packages_dir: ${join(work, 'packages')}\n`);
        const published = await runCli(['server', 'publish', '--config', config, v2]);
        assert.equal(published.code, 0, published.stderr);
        assert.match(
          published.stdout,
          new RegExp(`deb patchloop ${builtVersion()}\\.1-1 amd64 → .*patchloop_${builtVersion()}\\.1-1_amd64\\.deb`),
        );
        const packages = await (await fetch(`${repo}/apt/dists/stable/main/binary-amd64/Packages`)).text();
        assert.deepEqual([...packages.matchAll(/^Version: (.*)$/gm)].map((m) => m[1]).sort(), [
          `${builtVersion()}-1`,
          `${builtVersion()}.1-1`,
        ]);
        const dists = join(work, 'dists2');
        mkdirSync(dists);
        await download(`${repo}/apt/dists/stable/InRelease`, join(dists, 'InRelease'));
        assert.equal(run(['gpgv', '--keyring', keyring, join(dists, 'InRelease')]).code, 0);
        assert.ok(
          readFileSync(join(dists, 'InRelease'), 'utf8').includes(sha256(Buffer.from(packages))),
          'the new Packages is in the signed Release',
        );
        const versions = (await api(s.url, '/api/v1/stats/agent-versions', { token: s.adminToken })).body as {
          latest: string;
        };
        assert.equal(versions.latest, `${builtVersion()}.1`, 'the newest version published');

        // Not patchloop: refused, nothing copied.
        const other = join(work, 'other');
        mkdirSync(join(other, 'DEBIAN'), { recursive: true });
        writeFileSync(
          join(other, 'DEBIAN/control'),
          'Package: other\nVersion: 1.0\nArchitecture: amd64\nMaintainer: x <x@example.invalid>\nDescription: not patchloop\n',
        );
        assert.equal(run(['dpkg-deb', '-Zgzip', '-b', other, join(work, 'other.deb')]).code, 0);
        const before = readdirSync(join(work, 'packages')).sort();
        const refused = await runCli(['server', 'publish', '--config', config, join(work, 'other.deb')]);
        assert.equal(refused.code, 2);
        assert.match(refused.stderr, /package "other": only patchloop packages are published/);
        assert.deepEqual(readdirSync(join(work, 'packages')).sort(), before);
      },
    );
  },
);

function builtVersion(): string {
  return (JSON.parse(readFileSync(join(builtFile('deb', 'x64'), '../packages.json'), 'utf8')) as { version: string })
    .version;
}

test(
  'the single executable (dist/patchloop-linux-x64) serves the signed repository and install.sh',
  { skip: skip || (!have('gpgv') && 'gpgv is missing'), timeout: 120_000 },
  async (t) => {
    const work = mkdtempSync(join(tmpdir(), 'patchloop-repo-sea-'));
    const config = join(work, 'server.yaml');
    writeFileSync(
      config,
      `data_dir: ${join(work, 'data')}\nfeeds: { refresh_interval: 0 }\nrepo:\n  packages_dir: ${packagesDir(work)}\n`,
    );
    const server = await startServerProcess(
      ['--config', config],
      '127.0.0.1:0',
      {},
      { executable: builtFile('executable', 'x64') },
    );
    t.after(async () => {
      await server.stop();
      await rm(work, { recursive: true, force: true });
    });
    await download(`${server.url}/repo/key.asc`, join(work, 'key.asc'));
    await download(`${server.url}/repo/apt/dists/stable/InRelease`, join(work, 'InRelease'));
    assert.equal(
      run(['sh', '-c', 'gpg --dearmor < "$0" > "$1"', join(work, 'key.asc'), join(work, 'key.gpg')]).code,
      0,
    );
    const gpgv = run(['gpgv', '--keyring', join(work, 'key.gpg'), join(work, 'InRelease')]);
    assert.equal(gpgv.code, 0, gpgv.stderr);
    const script = await (await fetch(`${server.url}/install.sh`)).text();
    assert.match(
      script,
      /^#!\/bin\/sh\n# patchloop agent installation from the patchloop server at http:\/\/127\.0\.0\.1:\d+$/m,
    );
  },
);
