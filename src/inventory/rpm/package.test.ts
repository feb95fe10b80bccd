import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { RpmHeaderFields } from './header.ts';
import { formatEvr, parseSourceRpm, toInstalledPackage } from './package.ts';

test('parseSourceRpm keeps hyphens that belong to the name', () => {
  assert.deepEqual(parseSourceRpm('util-linux-2.32.1-42.el8_8.src.rpm'), {
    name: 'util-linux',
    version: '2.32.1',
    release: '42.el8_8',
  });
  assert.deepEqual(parseSourceRpm('python-setuptools-wheel-53.0.0-12.el9.src.rpm'), {
    name: 'python-setuptools-wheel',
    version: '53.0.0',
    release: '12.el9',
  });
  assert.deepEqual(parseSourceRpm('glibc-2.34-2.cm2.src.rpm'), { name: 'glibc', version: '2.34', release: '2.cm2' });
});

test('parseSourceRpm accepts .nosrc.rpm and keeps dots and tildes in version and release', () => {
  assert.deepEqual(parseSourceRpm('acroread-9.5.5-1.nosrc.rpm'), { name: 'acroread', version: '9.5.5', release: '1' });
  assert.deepEqual(parseSourceRpm('kernel-5.14.0~rc1-70.13.1.el9_0.src.rpm'), {
    name: 'kernel',
    version: '5.14.0~rc1',
    release: '70.13.1.el9_0',
  });
  assert.deepEqual(parseSourceRpm('a-1-2.src.rpm'), { name: 'a', version: '1', release: '2' });
});

test('parseSourceRpm rejects names that are not name-version-release.src.rpm', () => {
  for (const bad of [
    '',
    'glibc-2.34-2.cm2.rpm', // a binary rpm name
    'glibc-2.34-2.cm2.x86_64.rpm',
    'glibc-2.34-2.cm2',
    'glibc-2.34.src.rpm', // only one hyphen
    'glibc.src.rpm',
    '-2.34-2.src.rpm', // empty name
    'glibc--2.src.rpm', // empty version
    'glibc-2.34-.src.rpm', // empty release
    '.src.rpm',
  ]) {
    assert.equal(parseSourceRpm(bad), null, bad);
  }
});

test('parseSourceRpm inverts name-version-release.src.rpm for any hyphenated name', () => {
  const part = fc.stringMatching(/^[A-Za-z0-9._+~^]{1,12}$/);
  const name = fc.stringMatching(/^[A-Za-z0-9._+][A-Za-z0-9._+-]{0,20}$/);
  fc.assert(
    fc.property(name, part, part, fc.boolean(), (n, v, r, nosrc) => {
      const parsed = parseSourceRpm(`${n}-${v}-${r}.${nosrc ? 'nosrc' : 'src'}.rpm`);
      assert.deepEqual(parsed, { name: n, version: v, release: r });
    }),
  );
});

test('formatEvr shows the epoch only when the header has one, 0 included', () => {
  assert.equal(formatEvr(null, '1.2', '3.el9'), '1.2-3.el9');
  assert.equal(formatEvr(0, '1.2', '3.el9'), '0:1.2-3.el9');
  assert.equal(formatEvr(2, '1.2', '3.el9'), '2:1.2-3.el9');
});

const base: RpmHeaderFields = {
  name: 'libuuid',
  version: '2.32.1',
  release: '42.el8_8',
  epoch: null,
  arch: 'x86_64',
  sourceRpm: 'util-linux-2.32.1-42.el8_8.src.rpm',
  vendor: 'Red Hat, Inc.',
  modularityLabel: null,
};

test('toInstalledPackage takes the source name from SOURCERPM and the epoch from the binary', () => {
  const warnings: string[] = [];
  const pkg = toInstalledPackage({ ...base, epoch: 1 }, (m) => warnings.push(m));
  assert.deepEqual(pkg, {
    name: 'libuuid',
    version: '1:2.32.1-42.el8_8',
    arch: 'x86_64',
    source: 'util-linux',
    source_version: '1:2.32.1-42.el8_8',
    format: 'rpm',
    epoch: 1,
    vendor: 'Red Hat, Inc.',
  });
  assert.deepEqual(warnings, []);
});

test('toInstalledPackage keeps the modularity label and leaves out absent or empty optional fields', () => {
  const pkg = toInstalledPackage({ ...base, vendor: '', modularityLabel: 'nodejs:18:9020020230601:rhel9' }, () => {});
  assert.equal(pkg?.modularity_label, 'nodejs:18:9020020230601:rhel9');
  assert.equal(pkg !== null && 'vendor' in pkg, false);
  assert.equal(pkg !== null && 'epoch' in pkg, false);
});

test('toInstalledPackage skips gpg-pubkey pseudo packages', () => {
  assert.equal(
    toInstalledPackage({ ...base, name: 'gpg-pubkey', sourceRpm: null, arch: null }, () => {}),
    null,
  );
});

test('toInstalledPackage falls back to the binary itself, with a warning, for a malformed SOURCERPM', () => {
  const warnings: string[] = [];
  const pkg = toInstalledPackage({ ...base, sourceRpm: 'not-a-source-rpm' }, (m) => warnings.push(m));
  assert.equal(pkg?.source, 'libuuid');
  assert.equal(pkg?.source_version, '2.32.1-42.el8_8');
  assert.equal(warnings.length, 1);
  assert.match(warnings[0], /libuuid: SOURCERPM "not-a-source-rpm"/);
});

test('toInstalledPackage uses the binary itself, silently, when there is no SOURCERPM', () => {
  const warnings: string[] = [];
  const pkg = toInstalledPackage({ ...base, sourceRpm: null, arch: null }, (m) => warnings.push(m));
  assert.equal(pkg?.source, 'libuuid');
  assert.equal(pkg?.arch, '');
  assert.deepEqual(warnings, []);
});
