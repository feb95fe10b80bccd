import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { distroProfile, SUPPORTED_DISTROS } from '../core/distros.ts';
import type { OsInfo } from '../core/types.ts';
import { readOsInfo } from '../inventory/os-release.ts';
import { PKGDB } from '../../test/support/paths.ts';
import { startReport } from './backend.ts';
import { backendFor, backendForFormat, patchableDistributions, patchBackends } from './backends.ts';
import type { PackageChange } from './types.ts';

const os = (id: string, id_like: string[] = []): OsInfo => ({
  id,
  id_like,
  version_id: '',
  codename: '',
  pretty_name: '',
});

test('every package format of the distribution table has exactly one backend', () => {
  const formats = new Set(SUPPORTED_DISTROS.map((id) => distroProfile(id)?.format));
  for (const format of formats) assert.ok(format && backendForFormat(format), `no backend for ${format}`);
  assert.equal(new Set(patchBackends.map((b) => b.format)).size, patchBackends.length, 'one backend per format');
  assert.equal(new Set(patchBackends.map((b) => b.name)).size, patchBackends.length);
  assert.deepEqual(
    patchableDistributions(),
    SUPPORTED_DISTROS.map((id) => distroProfile(id)?.name),
  );
});

test("a host gets the backend of its distribution's package format; a derivative that of the first ID_LIKE the table knows", async () => {
  // os-release of a real Debian 12 root
  const bookworm = await readOsInfo(path.join(PKGDB, 'dpkg/bookworm-host'));
  assert.equal(backendFor(bookworm.os)?.name, 'unattended-upgrades');
  const cases: [OsInfo, string | undefined][] = [
    [os('ubuntu', ['debian']), 'unattended-upgrades'],
    [os('raspbian', ['debian']), 'unattended-upgrades'],
    [os('linuxmint', ['ubuntu', 'debian']), 'unattended-upgrades'],
    [os('rhel', ['fedora']), 'dnf-automatic'],
    [os('almalinux', ['rhel', 'centos', 'fedora']), 'dnf-automatic'],
    [os('rocky', ['rhel', 'centos', 'fedora']), 'dnf-automatic'],
    [os('centos', ['rhel', 'fedora']), 'dnf-automatic'],
    [os('alpine'), 'apk'],
    [os('postmarketos', ['alpine']), 'apk'],
    // the table knows neither the distribution nor what it is like
    [os('arch'), undefined],
    [os('opensuse-leap', ['suse', 'opensuse']), undefined],
    [os(''), undefined],
  ];
  for (const [info, name] of cases)
    assert.equal(backendFor(info)?.name, name, `${info.id} (like ${info.id_like?.join(' ')})`);
});

test('the shared report builder: outcome from what was applied and what failed unless the backend says; times from the clock', () => {
  let t = Date.parse('2026-06-02T01:00:00Z');
  const clock = () => t;
  const change = (name: string, ok: boolean): PackageChange => ({
    name,
    arch: null,
    action: 'upgrade',
    from: '1',
    to: '2',
    automatic: false,
    ok,
  });

  const ok = startReport(clock);
  t += 60_000;
  const done = ok.finish({ changes: [change('a', true)], exit_code: 0 });
  assert.deepEqual(
    {
      outcome: done.outcome,
      started_at: done.started_at,
      finished_at: done.finished_at,
      skip_reason: done.skip_reason,
      held_back: done.held_back,
      errors: done.errors,
    },
    {
      outcome: 'success',
      started_at: '2026-06-02T01:00:00.000Z',
      finished_at: '2026-06-02T01:01:00.000Z',
      skip_reason: null,
      held_back: [],
      errors: [],
    },
  );

  const partial = startReport(clock);
  partial.errors.push({ kind: 'apk', where: null, package: 'b', message: 'b failed' });
  partial.warnings.push('w');
  const r = partial.finish({ changes: [change('a', true), change('b', false)] });
  assert.equal(r.outcome, 'partial');
  assert.deepEqual(r.warnings, ['w']);
  assert.equal(startReport(clock).finish().outcome, 'nothing_to_do');
  const failed = startReport(clock);
  failed.errors.push({ kind: 'exit', where: null, package: null, message: 'exited 1' });
  assert.equal(failed.finish().outcome, 'failed');
  assert.equal(failed.finish({ outcome: 'skipped', skip_reason: 'locked' }).skip_reason, 'locked');
});
