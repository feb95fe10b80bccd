// `patchloop inventory` end to end: the real CLI on the real bookworm-host root.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runCli } from './support/cli.ts';
import { SHARED_DATA } from './support/paths.ts';

const ROOT = path.join(SHARED_DATA, 'pkgdb/dpkg/bookworm-host');

function scratchRoot(t: { after(fn: () => void): void }, files: Record<string, string>): string {
  const root = mkdtempSync(path.join(os.tmpdir(), 'patchloop-inventory-cli-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  for (const [rel, from] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
    copyFileSync(from, path.join(root, rel));
  }
  return root;
}

test('JSON: exactly the contract fields, every package dpkg-query lists, in name order', async () => {
  const r = await runCli(['inventory', '--root', ROOT]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stderr, '');
  const doc = JSON.parse(r.stdout);
  assert.deepEqual(Object.keys(doc), ['os', 'kernel', 'packages', 'warnings']);
  assert.deepEqual(doc.os, {
    id: 'debian',
    version_id: '12',
    codename: 'bookworm',
    pretty_name: 'Debian GNU/Linux 12 (bookworm)',
    id_like: [],
  });
  assert.equal(doc.kernel, null);
  assert.deepEqual(doc.warnings, []);
  for (const p of doc.packages)
    assert.deepEqual(Object.keys(p), ['name', 'version', 'arch', 'source', 'source_version', 'format']);
  const names = doc.packages.map((p: { name: string }) => p.name);
  assert.deepEqual(names, [...names].sort());

  let reference: string[];
  try {
    reference = execFileSync(
      'dpkg-query',
      [
        '--admindir',
        path.join(ROOT, 'var/lib/dpkg'),
        '-W',
        '-f',
        '${Package} ${Version} ${source:Package} ${source:Version}\n',
      ],
      { encoding: 'utf8' },
    )
      .split('\n')
      .filter((l) => l !== '')
      .sort();
  } catch {
    // Without dpkg-query, the fixture's own count (grep -c '^Package:') stands in.
    assert.equal(doc.packages.length, 729);
    return;
  }
  const ours = doc.packages
    .map((p: Record<string, string>) => `${p.name} ${p.version} ${p.source} ${p.source_version}`)
    .sort();
  assert.deepEqual(ours, reference);
});

test('--kernel is reported as given; an invalid one is a usage error', async () => {
  const r = await runCli(['inventory', '--root', ROOT, '--kernel', '6.1.0-18-amd64']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(JSON.parse(r.stdout).kernel, '6.1.0-18-amd64');
  const bad = await runCli(['inventory', '--root', ROOT, '--kernel', 'a b']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /invalid kernel release "a b"/);
});

test('table: a summary, then aligned columns sorted by name', async () => {
  const r = await runCli(['inventory', '--root', ROOT, '--format', 'table']);
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.trimEnd().split('\n');
  assert.equal(lines[0], 'OS:       Debian GNU/Linux 12 (bookworm) [id debian, version 12, codename bookworm]');
  assert.equal(lines[1], 'Kernel:   unknown');
  assert.equal(lines[2], 'Packages: 729');
  const table = lines.slice(4);
  assert.equal(table.length, 1 + 729);
  assert.match(table[0], /^NAME +VERSION +ARCH +SOURCE +SOURCE VERSION +FORMAT$/);
  // Every column starts where its header does.
  const starts = ['VERSION', 'ARCH', 'SOURCE', 'SOURCE VERSION', 'FORMAT'].map((h) => table[0].indexOf(h));
  for (const row of table.slice(1)) {
    for (const s of starts) assert.ok(row[s - 1] === ' ' && row[s - 2] === ' ' && row[s] !== ' ', row);
  }
  const names = table.slice(1).map((row) => row.split(/ +/)[0]);
  assert.deepEqual(names, [...names].sort());
  assert.match(
    table.find((row) => row.startsWith('bsdutils ')) ?? '',
    /^bsdutils +1:2\.38\.1-5\+deb12u3 +amd64 +util-linux +2\.38\.1-5\+deb12u3 +deb$/,
  );
});

test('warnings go to stderr and into the JSON; the exit status stays 0', async () => {
  const r = await runCli(['inventory', '--root', path.join(SHARED_DATA, 'pkgdb/dpkg/syft-image-dpkg')]);
  assert.equal(r.code, 0, r.stderr);
  const doc = JSON.parse(r.stdout);
  const status = path.join(SHARED_DATA, 'pkgdb/dpkg/syft-image-dpkg/var/lib/dpkg/status');
  assert.deepEqual(doc.warnings, [`${status}:1: record skipped: empty Package field`]);
  assert.equal(r.stderr, `patchloop: warning: ${status}:1: record skipped: empty Package field\n`);
  assert.deepEqual(
    doc.packages.map((p: { name: string }) => p.name),
    ['libpam-runtime'],
  );
});

test('unreadable or missing package database: a message on stderr, exit 1, no stack trace', async (t) => {
  const broken = scratchRoot(t, { 'var/lib/dpkg/status': path.join(SHARED_DATA, 'pkgdb/dpkg/scalibr/invalid') });
  const r = await runCli(['inventory', '--root', broken]);
  assert.equal(r.code, 1);
  assert.equal(r.stdout, '');
  assert.match(
    r.stderr,
    new RegExp(
      `^patchloop: inventory: ${broken}/var/lib/dpkg/status: no valid package record, 2 corrupt; first: .*:1: record skipped`,
    ),
  );
  assert.doesNotMatch(r.stderr, /\n\s+at /);

  const none = scratchRoot(t, {});
  const n = await runCli(['inventory', '--root', none]);
  assert.equal(n.code, 1);
  assert.equal(
    n.stderr,
    `patchloop: inventory: ${none}: no package database found (looked for deb, rpm, apk: e.g. var/lib/dpkg/status, lib/apk/db/installed, var/lib/rpm)\n`,
  );

  const usage = await runCli(['inventory', '--format', 'xml']);
  assert.equal(usage.code, 2);
});

test('--help describes the options', async () => {
  const r = await runCli(['inventory', '--help']);
  assert.equal(r.code, 0);
  for (const opt of ['--root <dir>', '--kernel <release>', '--format <format>']) assert.ok(r.stdout.includes(opt), opt);
});
